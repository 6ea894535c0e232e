-- Release radar: subscriptions, per-source polling state and per-subscription deliveries.
--
-- Exactly once: a cycle stores the source's new state and queues one `release_deliveries`
-- row per (subscription, new item) in ONE transaction (the outbox: status 'pending').
-- The queue is then drained: post with the row's deterministic nonce, then record the
-- message id. A crash between posting and recording leaves the row pending; the next drain
-- re-sends with the same nonce and Discord (`enforce_nonce`) returns the earlier message.
-- UNIQUE (subscription_id, item_id) makes a second queueing of the same item impossible.

CREATE TABLE release_subscriptions (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    channel_id   INTEGER NOT NULL,
    source_key   TEXT    NOT NULL,          -- normalised, see bot.releases.parse_source
    mention_role INTEGER,                   -- the only thing an announcement may ping
    filter       TEXT    NOT NULL DEFAULT '',  -- ReleaseFilter.to_string()
    -- 0 until the first successful fetch after following: that fetch is the subscription's
    -- baseline and announces nothing to it; 1 at once when the source already had a baseline.
    baselined    INTEGER NOT NULL DEFAULT 0 CHECK (baselined IN (0, 1)),
    created_by   INTEGER NOT NULL,
    created_at   REAL    NOT NULL,          -- Unix seconds, UTC
    UNIQUE (guild_id, channel_id, source_key)
);
CREATE INDEX release_subscriptions_source ON release_subscriptions (source_key);

CREATE TABLE release_sources (
    source_key      TEXT PRIMARY KEY,
    state           TEXT,                   -- SourceState.to_json(); NULL before the first fetch
    failures        INTEGER NOT NULL DEFAULT 0,   -- consecutive failed fetches
    next_attempt_at REAL    NOT NULL DEFAULT 0,   -- Unix seconds; backoff after failures
    paused          INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    last_error      TEXT,                   -- "<kind>: <message>" of the last failure
    last_success_at REAL
);

CREATE TABLE release_deliveries (
    id              INTEGER PRIMARY KEY,    -- also carried by the announcement's buttons
    subscription_id INTEGER NOT NULL REFERENCES release_subscriptions (id) ON DELETE CASCADE,
    item_id         TEXT    NOT NULL,
    nonce           TEXT    NOT NULL,       -- announcement_nonce(subscription_id, item_id)
    item            TEXT,                   -- ReleaseItem JSON while pending (to rebuild the card)
    title           TEXT    NOT NULL,
    url             TEXT,
    queued_at       REAL    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- 'pending' (the outbox), 'posted', or 'failed' (given up: channel gone, no access)
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'posted', 'failed')),
    message_id      INTEGER,
    posted_at       REAL,
    UNIQUE (subscription_id, item_id)
);
CREATE INDEX release_deliveries_pending ON release_deliveries (id) WHERE status = 'pending';
CREATE INDEX release_deliveries_posted
    ON release_deliveries (subscription_id, posted_at) WHERE status = 'posted';
