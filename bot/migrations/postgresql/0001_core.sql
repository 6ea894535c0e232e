-- PostgreSQL twin of bot/migrations/0001_core.sql: the same tables, columns and indexes
-- (INTEGER -> BIGINT for 64-bit Discord ids, REAL -> DOUBLE PRECISION, ids as identities,
-- foreign keys DEFERRABLE for the purge's deferred check).
-- Communities (Discord guilds) and their settings, plus small key/value metadata.
CREATE TABLE guilds (
    guild_id   BIGINT PRIMARY KEY,
    settings   TEXT    NOT NULL DEFAULT '{}',  -- JSON, validated by bot.community.GuildSettings
    joined_at  TEXT    NOT NULL,               -- ISO 8601 UTC
    left_at    TEXT                            -- set when the bot leaves; NULL while present
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
