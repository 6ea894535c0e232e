-- Stances (issue 5): privacy choices, opinion-map statements and their votes.
-- Every table carries guild_id so the community purge (which deletes from every table with a
-- guild_id column) covers it without a list to keep up to date.

-- A member's choice of who may see their stance; no row means private (the default).
CREATE TABLE stance_visibility (
    guild_id    INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    visibility  TEXT    NOT NULL CHECK (visibility IN ('public', 'private')),
    updated_at  REAL    NOT NULL,               -- Unix seconds, UTC
    PRIMARY KEY (guild_id, member_id)
) WITHOUT ROWID;

-- Opinion-map statements. `number` is what members see and type (per community, from 1);
-- `author_id` becomes NULL when the author uses /stance forget (the text stays: others voted
-- on it); `removed` hides a statement removed by a manager (its votes stay out of the map).
CREATE TABLE stance_statements (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    author_id   INTEGER,
    text        TEXT    NOT NULL CHECK (length(text) BETWEEN 1 AND 400),
    created_at  REAL    NOT NULL,
    removed     INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
    UNIQUE (guild_id, number)
);
CREATE INDEX stance_statements_author ON stance_statements (guild_id, author_id);

-- One vote per member and statement: +1 agree, -1 disagree, 0 pass.
CREATE TABLE stance_statement_votes (
    statement_id INTEGER NOT NULL REFERENCES stance_statements (id) ON DELETE CASCADE,
    guild_id     INTEGER NOT NULL,
    member_id    INTEGER NOT NULL,
    value        INTEGER NOT NULL CHECK (value IN (-1, 0, 1)),
    voted_at     REAL    NOT NULL,
    PRIMARY KEY (statement_id, member_id)
) WITHOUT ROWID;
-- Covers the map's vote-matrix query (all votes of a community) and a member's export/forget.
CREATE INDEX stance_statement_votes_guild_member
    ON stance_statement_votes (guild_id, member_id, statement_id, value);

-- /stance community reads (member_id, value, observed_at) of one community and topic in time
-- order: a covering index answers it from the index alone, without a lookup per row.
CREATE INDEX stance_observations_community_cover
    ON stance_observations (guild_id, topic, observed_at, member_id, value);
-- The covering index starts with the same columns, so it serves every query the older
-- (guild_id, topic, observed_at) index served; keeping both only slows writes, and SQLite's
-- planner (without ANALYZE statistics) would pick the older one and look up every row.
DROP INDEX stance_observations_guild_time;
