-- Release radar: claims on queued announcements (see bot/migrations/0010_release_claims.sql).

ALTER TABLE release_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE release_deliveries ADD COLUMN claimed_until DOUBLE PRECISION;
