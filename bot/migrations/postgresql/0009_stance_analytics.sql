-- PostgreSQL twin of bot/migrations/0009_stance_analytics.sql: the same three analytics tables
-- and index, filled from the rows already stored, and kept up to date by triggers with the
-- same effect as SQLite's (see that file for the model: day changes, positions, vote rows).
--
-- The observation triggers are BEFORE row triggers: PostgreSQL runs AFTER row triggers at the
-- end of the statement, when every row of a multi-row INSERT or DELETE is already there or
-- gone, whereas the model takes the rows one at a time (as SQLite's triggers do). A BEFORE
-- trigger sees the rows the statement already handled, not yet its own row.

CREATE TABLE stance_positions (
    guild_id       BIGINT NOT NULL,
    topic          TEXT   NOT NULL,
    member_id      BIGINT NOT NULL,
    value          BIGINT NOT NULL CHECK (value BETWEEN -2 AND 2),
    observed_at    DOUBLE PRECISION NOT NULL,
    observation_id BIGINT NOT NULL,
    PRIMARY KEY (guild_id, topic, member_id)
);
CREATE INDEX stance_positions_member ON stance_positions (guild_id, member_id);

CREATE TABLE stance_daily_changes (
    guild_id  BIGINT NOT NULL,
    topic     TEXT   NOT NULL,
    day       BIGINT NOT NULL,
    change_m2 BIGINT NOT NULL DEFAULT 0,
    change_m1 BIGINT NOT NULL DEFAULT 0,
    change_0  BIGINT NOT NULL DEFAULT 0,
    change_p1 BIGINT NOT NULL DEFAULT 0,
    change_p2 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, topic, day)
);

CREATE TABLE stance_vote_rows (
    guild_id  BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    votes     TEXT   NOT NULL,
    PRIMARY KEY (guild_id, member_id)
);

-- The UTC day of a time: the floor of the quotient, minus one where the floating-point
-- quotient rounded up to the next day (as in SQLite's migration and bot.stances.trend.day_of).
CREATE FUNCTION stance_day(at DOUBLE PRECISION) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$
    SELECT floor(at / 86400)::BIGINT - (floor(at / 86400) * 86400.0 > at)::INTEGER
$$;

-- Backfill.
INSERT INTO stance_positions (guild_id, topic, member_id, value, observed_at, observation_id)
SELECT guild_id, coalesce(topic, ''), member_id, value, observed_at, id FROM (
    SELECT *, row_number() OVER (
        PARTITION BY guild_id, topic, member_id ORDER BY observed_at DESC, id DESC
    ) AS newest
    FROM stance_observations
) o WHERE newest = 1;

INSERT INTO stance_daily_changes
    (guild_id, topic, day, change_m2, change_m1, change_0, change_p1, change_p2)
SELECT guild_id, topic, day,
    sum((value = -2)::INTEGER - coalesce((previous = -2)::INTEGER, 0)),
    sum((value = -1)::INTEGER - coalesce((previous = -1)::INTEGER, 0)),
    sum((value = 0)::INTEGER - coalesce((previous = 0)::INTEGER, 0)),
    sum((value = 1)::INTEGER - coalesce((previous = 1)::INTEGER, 0)),
    sum((value = 2)::INTEGER - coalesce((previous = 2)::INTEGER, 0))
FROM (
    SELECT guild_id, coalesce(topic, '') AS topic, value, stance_day(observed_at) AS day,
        lag(value) OVER (
            PARTITION BY guild_id, topic, member_id ORDER BY observed_at, id
        ) AS previous
    FROM stance_observations
) o
GROUP BY guild_id, topic, day;

INSERT INTO stance_vote_rows (guild_id, member_id, votes)
SELECT v.guild_id, v.member_id, string_agg(coalesce(
    (SELECT (x.value + 2)::TEXT FROM stance_statements s
     JOIN stance_statement_votes x ON x.statement_id = s.id AND x.member_id = v.member_id
     WHERE s.guild_id = v.guild_id AND s.number = n), '0'), '' ORDER BY n)
FROM (
    SELECT v.guild_id, v.member_id, max(s.number) AS last
    FROM stance_statement_votes v JOIN stance_statements s ON s.id = v.statement_id
    GROUP BY v.guild_id, v.member_id
) v, generate_series(1, v.last) n
GROUP BY v.guild_id, v.member_id;

-- Add ``sign`` times the change of a member from ``previous`` to ``value`` to a day's row;
-- on a deletion (``only_existing``) only a day row that still exists is changed.
CREATE FUNCTION stance_add_change(
    g BIGINT, t TEXT, d BIGINT, sign INTEGER, value BIGINT, previous BIGINT,
    only_existing BOOLEAN
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m2 BIGINT := sign * ((value = -2)::INTEGER - coalesce((previous = -2)::INTEGER, 0));
    m1 BIGINT := sign * ((value = -1)::INTEGER - coalesce((previous = -1)::INTEGER, 0));
    z  BIGINT := sign * ((value = 0)::INTEGER - coalesce((previous = 0)::INTEGER, 0));
    p1 BIGINT := sign * ((value = 1)::INTEGER - coalesce((previous = 1)::INTEGER, 0));
    p2 BIGINT := sign * ((value = 2)::INTEGER - coalesce((previous = 2)::INTEGER, 0));
BEGIN
    IF only_existing THEN
        UPDATE stance_daily_changes SET change_m2 = change_m2 + m2,
            change_m1 = change_m1 + m1, change_0 = change_0 + z,
            change_p1 = change_p1 + p1, change_p2 = change_p2 + p2
        WHERE guild_id = g AND topic = t AND day = d;
    ELSE
        INSERT INTO stance_daily_changes AS c
            (guild_id, topic, day, change_m2, change_m1, change_0, change_p1, change_p2)
        VALUES (g, t, d, m2, m1, z, p1, p2)
        ON CONFLICT (guild_id, topic, day) DO UPDATE SET
            change_m2 = c.change_m2 + excluded.change_m2,
            change_m1 = c.change_m1 + excluded.change_m1,
            change_0 = c.change_0 + excluded.change_0,
            change_p1 = c.change_p1 + excluded.change_p1,
            change_p2 = c.change_p2 + excluded.change_p2;
    END IF;
END;
$$;

-- An observation o inserted (sign 1) or deleted (sign -1), between the member's previous
-- observation p and next one n: day(o) changes by sign * (o - p); day(n) by -sign * (o - p).
-- The position is then the latest observation, without o when it is being deleted.
CREATE FUNCTION stance_observation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o stance_observations%ROWTYPE;
    sign INTEGER;
    t TEXT;
    previous BIGINT;
    next_at DOUBLE PRECISION;
BEGIN
    IF TG_OP = 'INSERT' THEN
        o := NEW;
        sign := 1;
    ELSE
        o := OLD;
        sign := -1;
    END IF;
    t := coalesce(o.topic, '');
    IF sign = -1 AND NOT EXISTS (
        SELECT 1 FROM stance_positions
        WHERE guild_id = o.guild_id AND topic = t AND member_id = o.member_id
    ) THEN
        RETURN OLD;  -- purged: the analytics went first
    END IF;
    SELECT x.value INTO previous FROM stance_observations x
    WHERE x.guild_id = o.guild_id AND x.member_id = o.member_id
      AND x.topic IS NOT DISTINCT FROM o.topic AND (x.observed_at < o.observed_at
        OR (x.observed_at = o.observed_at AND x.id < o.id))
    ORDER BY x.observed_at DESC, x.id DESC LIMIT 1;
    SELECT x.observed_at INTO next_at FROM stance_observations x
    WHERE x.guild_id = o.guild_id AND x.member_id = o.member_id
      AND x.topic IS NOT DISTINCT FROM o.topic AND (x.observed_at > o.observed_at
        OR (x.observed_at = o.observed_at AND x.id > o.id))
    ORDER BY x.observed_at, x.id LIMIT 1;
    PERFORM stance_add_change(
        o.guild_id, t, stance_day(o.observed_at), sign, o.value, previous, sign = -1);
    IF next_at IS NOT NULL THEN
        PERFORM stance_add_change(
            o.guild_id, t, stance_day(next_at), -sign, o.value, previous, sign = -1);
    END IF;
    DELETE FROM stance_positions
    WHERE guild_id = o.guild_id AND topic = t AND member_id = o.member_id;
    INSERT INTO stance_positions (guild_id, topic, member_id, value, observed_at, observation_id)
    SELECT guild_id, t, member_id, value, observed_at, id FROM (
        SELECT x.guild_id, x.member_id, x.value, x.observed_at, x.id
        FROM stance_observations x
        WHERE x.guild_id = o.guild_id AND x.member_id = o.member_id
          AND x.topic IS NOT DISTINCT FROM o.topic AND (sign = 1 OR x.id <> o.id)
        UNION ALL
        SELECT o.guild_id, o.member_id, o.value, o.observed_at, o.id WHERE sign = 1
    ) c
    ORDER BY observed_at DESC, id DESC LIMIT 1;
    IF sign = 1 THEN
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER stance_observation_inserted BEFORE INSERT ON stance_observations
FOR EACH ROW EXECUTE FUNCTION stance_observation_changed();

CREATE TRIGGER stance_observation_deleted BEFORE DELETE ON stance_observations
FOR EACH ROW EXECUTE FUNCTION stance_observation_changed();

-- A vote sets the member's character for the statement's number (padding with '0' up to it);
-- a changed vote changes it; a deleted vote sets it back to '0', and the row goes with the
-- member's last vote.
CREATE FUNCTION stance_vote_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT number INTO n FROM stance_statements WHERE id = OLD.statement_id;
        IF n IS NOT NULL THEN
            UPDATE stance_vote_rows SET votes = overlay(votes PLACING '0' FROM n::INTEGER FOR 1)
            WHERE guild_id = OLD.guild_id AND member_id = OLD.member_id;
        END IF;
        DELETE FROM stance_vote_rows
        WHERE guild_id = OLD.guild_id AND member_id = OLD.member_id AND NOT EXISTS (
            SELECT 1 FROM stance_statement_votes
            WHERE guild_id = OLD.guild_id AND member_id = OLD.member_id
        );
        RETURN OLD;
    END IF;
    SELECT number INTO n FROM stance_statements WHERE id = NEW.statement_id;
    INSERT INTO stance_vote_rows AS r (guild_id, member_id, votes)
    VALUES (NEW.guild_id, NEW.member_id,
        repeat('0', (n - 1)::INTEGER) || (NEW.value + 2)::TEXT)
    ON CONFLICT (guild_id, member_id) DO UPDATE SET votes = overlay(
        rpad(r.votes, greatest(length(r.votes), n::INTEGER), '0')
        PLACING (NEW.value + 2)::TEXT FROM n::INTEGER FOR 1);
    RETURN NEW;
END;
$$;

CREATE TRIGGER stance_vote_inserted AFTER INSERT ON stance_statement_votes
FOR EACH ROW EXECUTE FUNCTION stance_vote_changed();

CREATE TRIGGER stance_vote_changed AFTER UPDATE OF value ON stance_statement_votes
FOR EACH ROW EXECUTE FUNCTION stance_vote_changed();

CREATE TRIGGER stance_vote_deleted AFTER DELETE ON stance_statement_votes
FOR EACH ROW EXECUTE FUNCTION stance_vote_changed();
