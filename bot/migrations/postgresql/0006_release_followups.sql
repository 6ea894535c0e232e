-- PostgreSQL twin of bot/migrations/0006_release_followups.sql: the same tables, columns and indexes
-- (INTEGER -> BIGINT for 64-bit Discord ids, REAL -> DOUBLE PRECISION, ids as identities,
-- foreign keys DEFERRABLE for the purge's deferred check).
-- Release radar: follow-ups of a committed step that must survive a crash.
--
-- `notice_pending` is set in the same transaction that pauses a source and cleared once the
-- pause notice was sent to every channel following it (a crash in between re-sends it after
-- the restart). `thread_pending` is set in the same write that marks an announcement posted
-- when the community opens a thread under every announcement, and cleared once the thread
-- exists (or cannot be made); pending threads are retried whenever the outbox is drained.

ALTER TABLE release_sources
    ADD COLUMN notice_pending BIGINT NOT NULL DEFAULT 0 CHECK (notice_pending IN (0, 1));
ALTER TABLE release_deliveries
    ADD COLUMN thread_pending BIGINT NOT NULL DEFAULT 0 CHECK (thread_pending IN (0, 1));
CREATE INDEX release_deliveries_thread_pending
    ON release_deliveries (id) WHERE thread_pending = 1;
