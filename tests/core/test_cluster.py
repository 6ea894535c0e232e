"""Cluster mode (bot/cluster.py): the shard filter, leadership and IDENTIFY spacing through
advisory locks on a real PostgreSQL server, and leader-only jobs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from bot.cluster import (
    HOLD_OFF_RETRIES,
    IDENTIFY_SPACE,
    LOCK_SPACE,
    AdvisoryLeadership,
    IdentifyGate,
    Shards,
    SoleLeader,
    shard_of,
)
from bot.features import Job, JobRunner
from tests.debates.helpers import wait_until
from tests.engines import create_postgres, drop_postgres


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database of the test's own (advisory locks are per database)."""
    target = await create_postgres(migrated=False)
    try:
        yield target.url
    finally:
        await drop_postgres(target)


def connector(url: str) -> Any:
    async def connect() -> asyncpg.Connection[Any]:
        return await asyncpg.connect(url)

    return connect


async def lock_holder(url: str, key: tuple[int, int]) -> int | None:
    """The backend pid holding the advisory lock ``key`` in that database, or None."""
    conn = await asyncpg.connect(url)
    try:
        pid: int | None = await conn.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2",
            key[0],
            key[1],
        )
        return pid
    finally:
        await conn.close()


async def terminate(url: str, pid: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def eventually(predicate: Any, within: float = 10.0) -> None:
    async def condition() -> bool:
        return bool(predicate())

    await wait_until(condition, within)


# -- shards -----------------------------------------------------------------------------------


def test_a_community_belongs_to_the_shard_discord_sends_it_to() -> None:
    guild = (1234 << 22) | 99  # the timestamp part decides
    assert shard_of(guild, 2) == 0 and shard_of(guild, 5) == 1234 % 5
    odd = Shards.of(2, [1])
    assert not odd.holds(guild) and odd.holds(guild + (1 << 22))
    assert odd.only_held([guild, guild + (1 << 22)]) == [guild + (1 << 22)]
    assert odd.holds_shard(1) and not odd.holds_shard(0)


def test_without_shard_settings_a_process_holds_every_community() -> None:
    alone = Shards.of(None, None)
    assert alone.holds(1 << 22) and alone.holds(2 << 22) and alone.holds_shard(7)
    assert Shards.of(3, None).ids == frozenset({0, 1, 2})  # a count alone: all its shards


def test_records_are_filtered_by_their_community() -> None:
    class Row:
        def __init__(self, guild_id: int) -> None:
            self.guild_id = guild_id

    rows = [Row(n << 22) for n in range(6)]
    assert [r.guild_id >> 22 for r in Shards.of(3, [0, 2]).held(rows)] == [0, 2, 3, 5]
    assert Shards().held(rows) == rows


# -- leadership -------------------------------------------------------------------------------


async def test_sqlite_has_one_process_and_it_always_leads() -> None:
    sole = SoleLeader()
    await sole.start()
    assert sole.is_leader
    await sole.close()
    assert sole.is_leader


@pytest.fixture
async def pair(pg_url: str) -> AsyncIterator[tuple[AdvisoryLeadership, AdvisoryLeadership]]:
    """Two processes' leaderships on one database, the first started first."""
    first = AdvisoryLeadership(connector(pg_url), retry_seconds=0.2)
    second = AdvisoryLeadership(connector(pg_url), retry_seconds=0.2)
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_one_process_leads_and_another_takes_over_when_its_connection_dies(
    pg_url: str, pair: tuple[AdvisoryLeadership, AdvisoryLeadership]
) -> None:
    first, second = pair
    assert first.is_leader and not second.is_leader
    holder = await lock_holder(pg_url, (LOCK_SPACE, 0))
    assert holder is not None
    # The leader's session ends (server restart, network, pg_terminate_backend): its lock goes
    # with it, the leader knows it has lost, the other takes over.
    await terminate(pg_url, holder)
    await asyncio.wait_for(second.wait_until_leader(), timeout=10)
    await asyncio.wait_for(first.wait_until_lost(), timeout=10)
    assert not first.is_leader
    # The old leader reconnects and follows: never two leaders.
    tries = first.attempts
    await eventually(lambda: first.attempts >= tries + HOLD_OFF_RETRIES + 3)
    assert second.is_leader and not first.is_leader
    assert await lock_holder(pg_url, (LOCK_SPACE, 0)) not in (None, holder)


async def test_a_leader_that_stops_hands_over(
    pair: tuple[AdvisoryLeadership, AdvisoryLeadership],
) -> None:
    first, second = pair
    assert first.is_leader and not second.is_leader
    await first.close()
    await asyncio.wait_for(second.wait_until_leader(), timeout=10)


async def test_a_killed_leader_process_frees_the_lock(pg_url: str) -> None:
    """kill -9 of the process holding the lock: the server ends its session and the lock."""
    script = (
        "import asyncio, asyncpg, sys\n"
        "async def main():\n"
        f"    conn = await asyncpg.connect({pg_url!r})\n"
        f"    assert await conn.fetchval('SELECT pg_try_advisory_lock($1, 0)', {LOCK_SPACE})\n"
        "    print('leading', flush=True)\n"
        "    await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    follower = AdvisoryLeadership(connector(pg_url), retry_seconds=0.2)
    try:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), timeout=30) == b"leading\n"
        await follower.start()
        assert not follower.is_leader
        process.kill()
        await process.wait()
        await asyncio.wait_for(follower.wait_until_leader(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await follower.close()


async def test_no_leader_while_the_server_cannot_be_reached() -> None:
    async def refused() -> asyncpg.Connection[Any]:
        raise OSError("connection refused")

    leadership = AdvisoryLeadership(refused, retry_seconds=0.05)
    await leadership.start()
    try:
        await eventually(lambda: leadership.attempts >= 4)  # each one refused
        assert not leadership.is_leader
    finally:
        await leadership.close()


# -- leader-only jobs -------------------------------------------------------------------------


async def ready() -> None:
    return None


async def test_a_once_per_cluster_job_runs_in_the_leader_only_and_stops_when_it_loses(
    pg_url: str, pair: tuple[AdvisoryLeadership, AdvisoryLeadership]
) -> None:
    runs: list[str] = []
    running = {"first": asyncio.Event(), "second": asyncio.Event()}
    never = asyncio.Event()

    def job(name: str) -> Job:
        async def run() -> None:
            runs.append(name)
            running[name].set()
            await never.wait()  # a long fan-out

        return Job("releases.radar", 0.05, run, once_per_cluster=True)

    first, second = pair
    runners = JobRunner(ready, first), JobRunner(ready, second)
    try:
        runners[0].start(job("first"))
        runners[1].start(job("second"))
        await asyncio.wait_for(running["first"].wait(), timeout=10)
        assert runs == ["first"]
        holder = await lock_holder(pg_url, (LOCK_SPACE, 0))
        assert holder is not None
        await terminate(pg_url, holder)
        await asyncio.wait_for(running["second"].wait(), timeout=10)
        # The old leader's run was cancelled, not left running beside the new one.
        await eventually(lambda: runners[0].status["releases.radar"].runs == 1)
        assert runs == ["first", "second"] and not first.is_leader
    finally:
        for runner in runners:
            await runner.stop_all()


async def test_other_jobs_run_everywhere(
    pair: tuple[AdvisoryLeadership, AdvisoryLeadership],
) -> None:
    follower_runs = 0

    async def run() -> None:
        nonlocal follower_runs
        follower_runs += 1

    _, follower = pair
    runner = JobRunner(ready, follower)
    try:
        assert not follower.is_leader
        runner.start(Job("debates-deadlines", 0.01, run))
        await eventually(lambda: follower_runs >= 3)
    finally:
        await runner.stop_all()


# -- IDENTIFY spacing -------------------------------------------------------------------------


async def test_identify_waits_for_its_bucket_across_processes(pg_url: str) -> None:
    first = IdentifyGate(connector(pg_url), interval=3600, poll=0.02)
    second = IdentifyGate(connector(pg_url), interval=3600, poll=0.02)
    first.max_concurrency = second.max_concurrency = 2
    try:
        await first.before_identify(0)  # bucket 0, held for the interval
        assert await lock_holder(pg_url, (IDENTIFY_SPACE, 0)) is not None
        waiting = asyncio.create_task(second.before_identify(2))  # bucket 0 too
        await eventually(lambda: second.waits >= 3)
        assert not waiting.done()
        await asyncio.wait_for(second.before_identify(1), timeout=10)  # bucket 1 is free
        await first.close()  # its session ends: the bucket is free
        await asyncio.wait_for(waiting, timeout=10)
    finally:
        await first.close()
        await second.close()


async def test_identify_releases_its_bucket_after_the_interval(pg_url: str) -> None:
    gate = IdentifyGate(connector(pg_url), interval=0.1, poll=0.02)
    other = IdentifyGate(connector(pg_url), interval=0.1, poll=0.02)
    try:
        await gate.before_identify(0)
        await asyncio.wait_for(other.before_identify(0), timeout=10)
        assert other.waits >= 1  # it had to wait for the first one's interval
        # Two IDENTIFYs of one process in one bucket are spaced too (a session may take its
        # own advisory lock twice: the local lock keeps them apart).
        await gate.before_identify(0)
        second = asyncio.create_task(gate.before_identify(0))
        await asyncio.sleep(0)
        assert not second.done()
        await asyncio.wait_for(second, timeout=10)
    finally:
        await gate.close()
        await other.close()
