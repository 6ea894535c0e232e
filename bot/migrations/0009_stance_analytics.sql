-- Stance analytics kept up to date with every write (issue 9), so /stance community reads
-- O(members + days) rows and /stance map one row per member, never every observation or vote.
-- Triggers (at the end) update these tables in the same statement, hence the same transaction,
-- as the observation or vote they derive from, whoever writes it (a declared stance, a debate
-- vote in a batch, an import); deleting an observation or vote (forget, purge) takes its share
-- out the same way. This migration fills them from the rows already stored, so an upgraded
-- database gives the same answers.
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
-- quotient rounded up to the next day (the triggers below and bot.stances.trend.day_of too).
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

-- Triggers. An observation o of a member on a topic, between their previous observation p and
-- their next one n (by observed_at, then id; either may be missing):
--   inserted: day(o) gains +1 at o's value and -1 at p's; day(n), which moved the member from
--             p to n, now moves them from o to n: +1 at p's value, -1 at o's;
--   deleted:  the opposite (`sign` -1).
-- Both cases go through one INSTEAD OF trigger on the view below (a view holds no rows: it
-- only names the columns the two triggers hand over). The position is then the latest
-- observation left. A purge deletes the analytics first: the delete trigger then finds no
-- position and does nothing (WHEN); on a delete, only day rows that still exist are changed,
-- so the core's sweep of every guild_id table, in whatever order, leaves nothing behind.
CREATE VIEW stance_observation_change AS
SELECT guild_id, member_id, topic, value, observed_at, id, 1 AS sign
FROM stance_observations WHERE 0;

CREATE TRIGGER stance_observation_changed INSTEAD OF INSERT ON stance_observation_change
BEGIN
    INSERT INTO stance_daily_changes
        (guild_id, topic, day, change_m2, change_m1, change_0, change_p1, change_p2)
    SELECT new.guild_id, coalesce(new.topic, ''), c.day,
        c.sign * ((new.value = -2) - coalesce(c.previous = -2, 0)),
        c.sign * ((new.value = -1) - coalesce(c.previous = -1, 0)),
        c.sign * ((new.value = 0) - coalesce(c.previous = 0, 0)),
        c.sign * ((new.value = 1) - coalesce(c.previous = 1, 0)),
        c.sign * ((new.value = 2) - coalesce(c.previous = 2, 0))
    FROM (
        SELECT sign, previous,
            CAST(at / 86400 AS INTEGER) - (CAST(at / 86400 AS INTEGER) * 86400.0 > at) AS day
        FROM (
            SELECT new.sign * (2 * k.first - 1) AS sign, x.previous,
                CASE k.first WHEN 1 THEN new.observed_at ELSE x.next_at END AS at
            FROM (
                SELECT
                    (SELECT value FROM stance_observations o
                     WHERE o.guild_id = new.guild_id AND o.member_id = new.member_id
                       AND o.topic IS new.topic AND (o.observed_at < new.observed_at
                         OR (o.observed_at = new.observed_at AND o.id < new.id))
                     ORDER BY o.observed_at DESC, o.id DESC LIMIT 1) AS previous,
                    (SELECT observed_at FROM stance_observations o
                     WHERE o.guild_id = new.guild_id AND o.member_id = new.member_id
                       AND o.topic IS new.topic AND (o.observed_at > new.observed_at
                         OR (o.observed_at = new.observed_at AND o.id > new.id))
                     ORDER BY o.observed_at, o.id LIMIT 1) AS next_at
            ) x
            JOIN (SELECT 1 AS first UNION ALL SELECT 0) k ON k.first = 1 OR x.next_at IS NOT NULL
        )
    ) c
    WHERE new.sign = 1 OR EXISTS (
        SELECT 1 FROM stance_daily_changes d
        WHERE d.guild_id = new.guild_id AND d.topic = coalesce(new.topic, '') AND d.day = c.day
    )
    ON CONFLICT (guild_id, topic, day) DO UPDATE SET
        change_m2 = change_m2 + excluded.change_m2, change_m1 = change_m1 + excluded.change_m1,
        change_0 = change_0 + excluded.change_0, change_p1 = change_p1 + excluded.change_p1,
        change_p2 = change_p2 + excluded.change_p2;
    DELETE FROM stance_positions
    WHERE guild_id = new.guild_id AND topic = coalesce(new.topic, '')
      AND member_id = new.member_id;
    INSERT INTO stance_positions (guild_id, topic, member_id, value, observed_at, observation_id)
    SELECT guild_id, coalesce(topic, ''), member_id, value, observed_at, id
    FROM stance_observations
    WHERE guild_id = new.guild_id AND member_id = new.member_id AND topic IS new.topic
    ORDER BY observed_at DESC, id DESC LIMIT 1;
END;

CREATE TRIGGER stance_observation_inserted AFTER INSERT ON stance_observations
BEGIN
    INSERT INTO stance_observation_change
    VALUES (new.guild_id, new.member_id, new.topic, new.value, new.observed_at, new.id, 1);
END;

CREATE TRIGGER stance_observation_deleted AFTER DELETE ON stance_observations
WHEN EXISTS (
    SELECT 1 FROM stance_positions
    WHERE guild_id = old.guild_id AND topic = coalesce(old.topic, '') AND member_id = old.member_id
)
BEGIN
    INSERT INTO stance_observation_change
    VALUES (old.guild_id, old.member_id, old.topic, old.value, old.observed_at, old.id, -1);
END;

-- A vote sets the member's character for the statement's number (padding with '0' up to it);
-- a deleted vote sets it back to '0', and the row goes with the member's last vote.
CREATE TRIGGER stance_vote_inserted AFTER INSERT ON stance_statement_votes
BEGIN
    INSERT INTO stance_vote_rows (guild_id, member_id, votes)
    SELECT new.guild_id, new.member_id, substr(hex(zeroblob(s.number)), 1, s.number - 1)
        || (new.value + 2)
    FROM stance_statements s WHERE s.id = new.statement_id
    ON CONFLICT (guild_id, member_id) DO UPDATE SET votes =
        substr(votes || substr(excluded.votes, 1, length(excluded.votes) - 1), 1,
            length(excluded.votes) - 1)
        || substr(excluded.votes, -1) || substr(votes, length(excluded.votes) + 1);
END;

CREATE TRIGGER stance_vote_changed AFTER UPDATE OF value ON stance_statement_votes
BEGIN
    UPDATE stance_vote_rows SET votes =
        substr(votes, 1, s.number - 1) || (new.value + 2) || substr(votes, s.number + 1)
    FROM (SELECT number FROM stance_statements WHERE id = new.statement_id) s
    WHERE guild_id = new.guild_id AND member_id = new.member_id;
END;

CREATE TRIGGER stance_vote_deleted AFTER DELETE ON stance_statement_votes
BEGIN
    UPDATE stance_vote_rows SET votes =
        substr(votes, 1, s.number - 1) || '0' || substr(votes, s.number + 1)
    FROM (SELECT number FROM stance_statements WHERE id = old.statement_id) s
    WHERE guild_id = old.guild_id AND member_id = old.member_id;
    DELETE FROM stance_vote_rows
    WHERE guild_id = old.guild_id AND member_id = old.member_id AND NOT EXISTS (
        SELECT 1 FROM stance_statement_votes
        WHERE guild_id = old.guild_id AND member_id = old.member_id
    );
END;
