"""Claims on the release outbox (`OutboxRepository.claim`, migration 0010): on every engine a
claimer's rows are its own until the lease lapses; on PostgreSQL two processes claiming at
once never get the same row (`FOR UPDATE SKIP LOCKED`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.database import Database
from bot.database_target import PostgresTarget
from bot.releases import SourceState
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import SubscriptionRepository
from tests.debates.helpers import wait_until
from tests.engines import create_postgres, drop_postgres

from .conftest import entry_item

KEY = "hf:org"
BASELINE = SourceState(seen_ids=("a",), baselined=True)


async def queue(db: Database, subscriptions: int, items: int) -> list[int]:
    """``subscriptions`` channels following one source, ``items`` new items queued to each;
    the queued delivery ids in queue order."""
    subs = SubscriptionRepository(db)
    ids = []
    for n in range(subscriptions):
        sub, _ = await subs.follow(
            1000 + n, 2000 + n, KEY, mention_role=None, filter_text="", created_by=1
        )
        ids.append(sub.id)
    new = [entry_item(f"i{n}", f"Item {n}") for n in range(items)]
    outbox = OutboxRepository(db)
    await outbox.record_success(
        KEY, BASELINE, next_attempt_at=0, announce=[(s, i) for i in new for s in ids], baselined=[]
    )
    return [p.id for p in await outbox.pending(limit=10_000)]


async def test_a_claim_is_the_claimers_until_its_lease_lapses(db: Database) -> None:
    queued = await queue(db, 2, 3)
    outbox = OutboxRepository(db)
    first = await outbox.claim("node-a", lease_seconds=3600, limit=4)
    assert [p.id for p in first] == queued[:4]
    assert first[0].item is not None and first[0].guild_id == 1000  # what posting needs
    # Another claimer gets what is left; the first one takes its own rows again (a retry).
    assert [p.id for p in await outbox.claim("node-b", lease_seconds=3600)] == queued[4:]
    assert await outbox.claim("node-c", lease_seconds=3600) == []
    assert [p.id for p in await outbox.claim("node-a", lease_seconds=3600)] == queued[:4]
    # Paging past what a drain has already seen.
    page = await outbox.claim("node-a", lease_seconds=3600, after_id=queued[1])
    assert [p.id for p in page] == queued[2:4]
    # Posted rows leave the queue for every claimer.
    await outbox.mark_posted([(queued[0], 900, False)])
    assert [p.id for p in await outbox.claim("node-a", lease_seconds=3600)] == queued[1:4]


async def test_a_dead_claimers_rows_are_taken_once_its_lease_lapses(db: Database) -> None:
    queued = await queue(db, 1, 3)
    outbox = OutboxRepository(db)
    assert len(await outbox.claim("dead", lease_seconds=0.3)) == 3
    assert await outbox.claim("alive", lease_seconds=3600) == []

    async def taken() -> list[int]:
        return [p.id for p in await outbox.claim("alive", lease_seconds=3600)]

    assert await wait_until(taken, within=10, what="the lease to lapse") == queued


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[Database, Database, PostgresTarget]]:
    """Two databases (two pools, as two processes have) on one PostgreSQL database."""
    target = await create_postgres()
    first = await Database.open(target)
    second = await Database.open(target)
    try:
        yield first, second, target
    finally:
        await first.close()
        await second.close()
        await drop_postgres(target)


async def test_rows_locked_by_a_claim_in_progress_are_skipped_not_waited_for(
    two_processes: tuple[Database, Database, PostgresTarget],
) -> None:
    first, second, target = two_processes
    queued = await queue(first, 2, 3)
    # A claim of another process, between its row locks and its commit.
    conn = await asyncpg.connect(target.url)
    try:
        async with conn.transaction():
            await conn.fetch(
                "SELECT id FROM release_deliveries WHERE id = ANY($1::bigint[]) FOR UPDATE",
                queued[:2],
            )
            claimed = await asyncio.wait_for(
                OutboxRepository(second).claim("node-b", lease_seconds=3600), timeout=10
            )
            assert [p.id for p in claimed] == queued[2:]
    finally:
        await conn.close()
    # The lock is gone with that transaction (it never committed a claim): the rows are free.
    assert [p.id for p in await OutboxRepository(first).claim("node-a", lease_seconds=60)] == (
        queued[:2]
    )


async def test_two_processes_claiming_at_once_never_get_the_same_row(
    two_processes: tuple[Database, Database, PostgresTarget],
) -> None:
    first, second, _ = two_processes
    queued = await queue(first, 10, 30)  # 300 deliveries
    got: dict[str, list[int]] = {"a": [], "b": []}

    async def drain(db: Database, name: str) -> None:
        outbox = OutboxRepository(db)
        after = 0
        while page := await outbox.claim(name, lease_seconds=3600, after_id=after, limit=7):
            got[name].extend(p.id for p in page)
            after = page[-1].id

    await asyncio.gather(drain(first, "a"), drain(second, "b"), drain(first, "a"))
    assert not set(got["a"]) & set(got["b"])
    assert sorted(set(got["a"]) | set(got["b"])) == queued
    assert got["a"] and got["b"]
