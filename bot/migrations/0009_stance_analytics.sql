-- Stance analytics kept up to date with every write (issue 9), so /stance community reads
-- O(members + days) rows and /stance map one row per member, never every observation or vote.
-- The repositories update these tables in the same transaction as the observation or vote they
-- derive from (bot/repositories/observations.py, bot/repositories/stances.py); forget and purge
-- remove a member's or a community's share in the same transaction too. This migration fills
-- them from the rows already stored, so an upgraded database gives the same answers.
--
-- `topic` is the bank topic id, or '' for the general question (stance_observations keeps
-- NULL there; a primary key needs a value that equals itself).

-- Each member's current position per topic: their latest observation by (observed_at, id),
-- the same order in which /stance me and the trend take "the most recent one".
CREATE TABLE stance_positions (
    guild_id       INTEGER NOT NULL,
    topic          TEXT    NOT NULL,
    member_id      INTEGER NOT NULL,
    value          INTEGER NOT NULL CHECK (value BETWEEN -2 AND 2),
    observed_at    REAL    NOT NULL,
    observation_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, topic, member_id)
) WITHOUT ROWID;
CREATE INDEX stance_positions_member ON stance_positions (guild_id, member_id);

-- Per community, topic and UTC day (floor(observed_at / 86400)): how many more (or fewer)
-- members hold each position at the end of that day than at the end of the day before.
-- change_m2 … change_p2 are the changes for -2 … +2. A member's first observation adds 1 to
-- its value; each later one adds 1 to the new value and takes 1 from the previous one. The
-- running sum over days is the distribution of latest positions as of each day's end, which
-- is all the trend and the current picture need.
CREATE TABLE stance_daily_changes (
    guild_id  INTEGER NOT NULL,
    topic     TEXT    NOT NULL,
    day       INTEGER NOT NULL,
    change_m2 INTEGER NOT NULL DEFAULT 0,
    change_m1 INTEGER NOT NULL DEFAULT 0,
    change_0  INTEGER NOT NULL DEFAULT 0,
    change_p1 INTEGER NOT NULL DEFAULT 0,
    change_p2 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, topic, day)
) WITHOUT ROWID;

-- The opinion map's vote matrix, one row per member: character n of `votes` is the member's
-- vote on the community's statement number n: '0' none, '1' disagree, '2' pass, '3' agree.
-- Removed statements keep their character; the map leaves their column out when it reads.
CREATE TABLE stance_vote_rows (
    guild_id  INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    votes     TEXT    NOT NULL,
    PRIMARY KEY (guild_id, member_id)
) WITHOUT ROWID;

-- Backfill. The day of a time: the integer division, minus one where the floating-point
-- quotient rounded up to the next day (the repositories compute the same).
INSERT INTO stance_positions (guild_id, topic, member_id, value, observed_at, observation_id)
SELECT guild_id, coalesce(topic, ''), member_id, value, observed_at, id FROM (
    SELECT *, row_number() OVER (
        PARTITION BY guild_id, topic, member_id ORDER BY observed_at DESC, id DESC
    ) AS newest
    FROM stance_observations
) WHERE newest = 1;

INSERT INTO stance_daily_changes
    (guild_id, topic, day, change_m2, change_m1, change_0, change_p1, change_p2)
SELECT guild_id, topic, day,
    sum((value = -2) - coalesce(previous = -2, 0)),
    sum((value = -1) - coalesce(previous = -1, 0)),
    sum((value = 0) - coalesce(previous = 0, 0)),
    sum((value = 1) - coalesce(previous = 1, 0)),
    sum((value = 2) - coalesce(previous = 2, 0))
FROM (
    SELECT guild_id, coalesce(topic, '') AS topic, value,
        CAST(observed_at / 86400 AS INTEGER)
            - (CAST(observed_at / 86400 AS INTEGER) * 86400.0 > observed_at) AS day,
        lag(value) OVER (
            PARTITION BY guild_id, topic, member_id ORDER BY observed_at, id
        ) AS previous
    FROM stance_observations
)
GROUP BY guild_id, topic, day;

INSERT INTO stance_vote_rows (guild_id, member_id, votes)
WITH RECURSIVE built (guild_id, member_id, number, last, votes) AS (
    SELECT v.guild_id, v.member_id, 0, max(s.number), ''
    FROM stance_statement_votes v JOIN stance_statements s ON s.id = v.statement_id
    GROUP BY v.guild_id, v.member_id
    UNION ALL
    SELECT b.guild_id, b.member_id, b.number + 1, b.last, b.votes || coalesce((
        SELECT v.value + 2 FROM stance_statements s
        JOIN stance_statement_votes v ON v.statement_id = s.id AND v.member_id = b.member_id
        WHERE s.guild_id = b.guild_id AND s.number = b.number + 1
    ), 0)
    FROM built b WHERE b.number < b.last
)
SELECT guild_id, member_id, votes FROM built WHERE number = last;
