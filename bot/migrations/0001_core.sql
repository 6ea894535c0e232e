-- Communities (Discord guilds) and their settings, plus small key/value metadata.
CREATE TABLE guilds (
    guild_id   INTEGER PRIMARY KEY,
    settings   TEXT    NOT NULL DEFAULT '{}',  -- JSON, validated by bot.community.GuildSettings
    joined_at  TEXT    NOT NULL,               -- ISO 8601 UTC
    left_at    TEXT                            -- set when the bot leaves; NULL while present
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
