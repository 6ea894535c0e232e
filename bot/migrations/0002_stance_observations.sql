-- Every stance a member expressed, declared or through a debate vote: the stances feature
-- reads these, the debates feature writes them. The latest observation is the current stance.
CREATE TABLE stance_observations (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    topic       TEXT,                       -- a topic bank id, or NULL for the general question
    value       INTEGER NOT NULL CHECK (value BETWEEN -2 AND 2),
    source      TEXT    NOT NULL,           -- 'declared', 'debate:<id>' or 'poll:<id>'
    observed_at REAL    NOT NULL            -- Unix seconds, UTC
);
CREATE INDEX stance_observations_guild_time
    ON stance_observations (guild_id, topic, observed_at);
CREATE INDEX stance_observations_member
    ON stance_observations (guild_id, member_id, observed_at);
