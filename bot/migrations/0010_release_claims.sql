-- Release radar: claims on queued announcements, for several processes on one database.
--
-- A drain claims a page of pending deliveries before posting them: `claimed_by` is the
-- claiming process (`bot.cluster.Cluster.node_id`), `claimed_until` when the claim lapses
-- (Unix seconds). The claim is committed before anything is posted, and on PostgreSQL it is
-- taken with `FOR UPDATE SKIP LOCKED`, so two processes never claim the same row. A claimer
-- that dies leaves its rows pending; once the lease lapses another process claims them and
-- posts them with the same deterministic nonce (Discord returns the message already posted
-- if the dead one got that far). A process takes its own claims back at once.

ALTER TABLE release_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE release_deliveries ADD COLUMN claimed_until REAL;
