-- Polls (custom button polls, native Discord polls, debate stance votes), their votes,
-- debates (quick and Oxford), arguments and upvotes, and the weekly debate's last run.
-- Times are Unix seconds (UTC), like stance_observations.

CREATE TABLE debates (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    number            INTEGER NOT NULL,           -- per community, shown in the footer
    channel_id        INTEGER NOT NULL,
    message_id        INTEGER,                    -- the debate's opening message
    thread_id         INTEGER,                    -- Oxford discussion thread
    creator_id        INTEGER NOT NULL,
    format            TEXT    NOT NULL CHECK (format IN ('quick', 'oxford')),
    phase             TEXT    NOT NULL DEFAULT 'pre_vote'
                      CHECK (phase IN ('pre_vote', 'discussion', 'post_vote', 'result')),
    topic             TEXT,                       -- topic bank id, NULL for a free motion
    motion            TEXT    NOT NULL,
    source            TEXT    NOT NULL DEFAULT 'manual',  -- 'manual', 'weekly', 'release'
    created_at        REAL    NOT NULL,
    pre_vote_end      REAL    NOT NULL,           -- quick: equals post_vote_end
    discussion_end    REAL    NOT NULL,
    post_vote_end     REAL    NOT NULL,
    pre_poll_id       INTEGER,                    -- the opening (or only) stance vote
    post_poll_id      INTEGER,                    -- Oxford closing vote, made at post_vote
    closed_at         REAL,
    result_message_id INTEGER,
    UNIQUE (guild_id, number)
);
CREATE INDEX debates_open ON debates (phase) WHERE phase <> 'result';
CREATE INDEX debates_unposted ON debates (closed_at) WHERE result_message_id IS NULL;

CREATE TABLE polls (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    number            INTEGER NOT NULL,           -- per community, shown in the footer
    channel_id        INTEGER NOT NULL,
    message_id        INTEGER,                    -- set once the message is posted
    creator_id        INTEGER NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('custom', 'native', 'debate')),
    question          TEXT    NOT NULL,
    options           TEXT    NOT NULL,           -- JSON array of option labels
    max_choices       INTEGER NOT NULL DEFAULT 1 CHECK (max_choices >= 1),
    anonymous         INTEGER NOT NULL DEFAULT 1,
    role_id           INTEGER,
    created_at        REAL    NOT NULL,
    deadline          REAL,
    closed_at         REAL,
    result_message_id INTEGER,
    debate_id         INTEGER REFERENCES debates (id) ON DELETE CASCADE,
    UNIQUE (guild_id, number)
);
CREATE INDEX polls_due ON polls (deadline) WHERE closed_at IS NULL;
CREATE INDEX polls_unposted ON polls (closed_at) WHERE result_message_id IS NULL;
CREATE INDEX polls_message ON polls (message_id);
CREATE INDEX polls_debate ON polls (debate_id);

CREATE TABLE votes (
    poll_id   INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL,
    option    INTEGER NOT NULL CHECK (option >= 0),
    voted_at  REAL    NOT NULL,
    UNIQUE (poll_id, member_id, option)
);

CREATE TABLE debate_arguments (
    id         INTEGER PRIMARY KEY,
    debate_id  INTEGER NOT NULL REFERENCES debates (id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL,
    side       INTEGER NOT NULL CHECK (side IN (-1, 1)),
    text       TEXT    NOT NULL,
    posted_at  REAL    NOT NULL,
    message_id INTEGER
);
CREATE INDEX debate_arguments_debate ON debate_arguments (debate_id, posted_at);

CREATE TABLE argument_upvotes (
    argument_id INTEGER NOT NULL REFERENCES debate_arguments (id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL,
    upvoted_at  REAL    NOT NULL,
    PRIMARY KEY (argument_id, member_id)
) WITHOUT ROWID;

CREATE TABLE weekly_debate_runs (
    guild_id  INTEGER PRIMARY KEY,
    last_slot REAL    NOT NULL                    -- the scheduled slot last handled
);
