-- PostgreSQL twin of bot/migrations/0008_release_ledger.sql: the same tables, columns and indexes
-- (INTEGER -> BIGINT for 64-bit Discord ids, REAL -> DOUBLE PRECISION, ids as identities,
-- foreign keys DEFERRABLE for the purge's deferred check).
-- Release radar: the delivery ledger, what happened to each (subscription, item), and why.
--
-- A queued announcement already has its row in `release_deliveries` (pending with its
-- attempts and `last_error`, posted with its message, failed with its reason in
-- `last_error`): the ledger reads it there rather than writing a second row per post on the
-- fan-out's hot path. What never reaches the outbox is written here:
--   `release_items`  every item a fetch found new (or listed at a source's baseline), with
--                    when: what `/releases why` recognises, autocompletes and dates;
--   `release_skips`  an item a subscription's filter left out, with the rule that did.
-- An item known to the source with no delivery and no skip for a subscription was listed
-- before that subscription's baseline. Rows older than 30 days are deleted by the feature's
-- `releases.ledger` job (deliveries stay: they carry the announcements' buttons).
--
-- `blocked` marks a subscription whose channel refused a post (missing permission, unknown
-- channel): shown by `/releases list` and cleared by the next successful post or a new
-- `/releases follow`; `blocked_notice` is 1 once the one notice about it was attempted.

CREATE TABLE release_items (
    source_key TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    title      TEXT NOT NULL,
    url        TEXT,
    seen_at    DOUBLE PRECISION NOT NULL,              -- Unix seconds, UTC: the fetch that first listed it
    PRIMARY KEY (source_key, item_id)
);
CREATE INDEX release_items_seen ON release_items (seen_at);
CREATE INDEX release_items_url ON release_items (url);

CREATE TABLE release_skips (
    subscription_id BIGINT NOT NULL REFERENCES release_subscriptions (id) ON DELETE CASCADE DEFERRABLE,
    item_id         TEXT    NOT NULL,
    rule            TEXT    NOT NULL,      -- the filter rule that left it out, e.g. exclude:*gguf*
    at              DOUBLE PRECISION    NOT NULL,
    PRIMARY KEY (subscription_id, item_id)
);
CREATE INDEX release_skips_at ON release_skips (at);

ALTER TABLE release_deliveries ADD COLUMN last_error TEXT;
ALTER TABLE release_subscriptions ADD COLUMN blocked TEXT;
ALTER TABLE release_subscriptions ADD COLUMN blocked_at DOUBLE PRECISION;
CREATE INDEX release_deliveries_item ON release_deliveries (item_id);
