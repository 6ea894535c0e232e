"""Crash points in the release radar: 20 restarts, no announcement posted twice or missed.

The bot runs in-process (the harness) so a crash can land exactly between two steps of
announcing: after the fetch (nothing stored yet), after queueing (the outbox row committed,
nothing posted), after the post (the message exists, the outbox does not know it) and after
recording it. The crash is a `Killed` exception (a `BaseException`, so no `except Exception`
in the bot catches it) raised in the test's own cycle; the bot is then stopped and restarted
on the same database. Between the crash and the new start the test checks that the bot
neither posted nor wrote anything more, so the stop did nothing that `kill -9` would not.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.database import Database
from tests.fakes.feeds import atom_feed, feed_entry
from tests.harness import AgoraHarness
from tests.releases.helpers import radar_runs
from tests.releases.test_e2e_releases import Env

ROUNDS = 20
POINTS = ("after fetch", "after queue", "after post", "after record")
FEED = "/lab.atom"


class Killed(BaseException):
    """The process died here."""


def entry(n: int) -> dict[str, str]:
    return feed_entry(n, updated=f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}T00:00:00Z")


def model_created(n: int) -> str:
    return f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}T00:00:00.000Z"


async def snapshot(h: AgoraHarness) -> tuple[int, list[tuple[Any, ...]]]:
    """Bot posts made so far and the radar's stored state (sources and outbox), as committed
    (read on a connection of the test's own)."""
    posts = sum(1 for r in h.emu.requests if r.method == "POST" and r.path.endswith("/messages"))
    db = await Database.open(h.database)
    try:
        rows = [
            tuple(r)
            for r in await db.fetch_all("SELECT * FROM release_sources ORDER BY source_key")
        ]
        rows += [
            tuple(r) for r in await db.fetch_all("SELECT * FROM release_deliveries ORDER BY id")
        ]
    finally:
        await db.close()
    return posts, rows


async def radar_idle(env: Env) -> None:
    """Wait until the radar job finished its first run after a start (it drains the outbox a
    crash left behind) and sleeps: crashes are then armed only in the test's own cycles."""
    bot = env.h.running_bot
    await env.h.wait_for(lambda: radar_runs(bot) >= 1)


def crash_at(env: Env, monkeypatch: pytest.MonkeyPatch, point: str, nth: int) -> Callable[[], bool]:
    """Arm a crash at `point` (the `nth` time it is reached) in the calling task only."""
    worker = env.radar
    me = asyncio.current_task()
    calls = itertools.count(1)
    fired = False

    def due() -> bool:
        nonlocal fired
        if asyncio.current_task() is me and next(calls) == nth:
            fired = True
            return True
        return False

    def after(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            if due():
                raise Killed(point)
            return result

        return wrapper

    if point == "after fetch":
        monkeypatch.setattr(worker.parts.radar, "run_cycle", after(worker.parts.radar.run_cycle))
    elif point == "after queue":
        monkeypatch.setattr(
            worker.parts.outbox, "record_success", after(worker.parts.outbox.record_success)
        )
    elif point == "after record":
        monkeypatch.setattr(worker, "record_posted", after(worker.record_posted))
    else:
        original = worker.record_posted

        async def before_record(*args: Any, **kwargs: Any) -> None:
            if due():
                raise Killed(point)
            await original(*args, **kwargs)

        monkeypatch.setattr(worker, "record_posted", before_record)
    return lambda: fired


async def test_twenty_crash_restarts_post_each_item_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, hub, feeds = env.h, env.hub, env.feeds
    source_feed = f"feed:{feeds.url}{FEED}"
    # Two sources; community 0 follows both in one channel, 1 the Hub, 2 the feed.
    following = {
        h.guilds[0].id: ("hf:org", source_feed),
        h.guilds[1].id: ("hf:org",),
        h.guilds[2].id: (source_feed,),
    }
    hub.add_model("org/base", created_at=model_created(0))
    entries = [entry(0)]
    feeds.set_feed(FEED, atom_feed(entries))
    for guild in h.guilds:
        for source in following[guild.id]:
            await env.follow(source, guild)
    await radar_idle(env)
    report = await env.radar.run_cycle_once()
    assert report.queued == 0 and sorted(report.fetched) == sorted(["hf:org", source_feed])

    crashes: dict[str, int] = dict.fromkeys(POINTS, 0)
    new_models: list[str] = []
    new_entries: list[str] = []
    serial = itertools.count(1)
    for round_ in range(ROUNDS):
        # New releases appear upstream between restarts (1-2 models, 0-2 feed posts).
        for _ in range(1 + round_ % 2):
            n = next(serial)
            new_models.append(hub.add_model(f"org/model-{n}", created_at=model_created(n))["id"])
        for _ in range(round_ % 3):
            n = next(serial)
            entries.append(entry(n))
            new_entries.append(f"Post {n}")
        feeds.set_feed(FEED, atom_feed(entries))

        point = POINTS[round_ % len(POINTS)]
        # The fetch happens once per cycle, the recording of posts once per page of the
        # outbox (one page here); the queueing once per source.
        once = point in ("after fetch", "after post", "after record")
        nth = 1 if once else 1 + (round_ // len(POINTS)) % 2
        fired = crash_at(env, monkeypatch, point, nth)
        with pytest.raises(Killed):
            await env.radar.run_cycle_once()
        assert fired()
        crashes[point] += 1
        at_crash = await snapshot(h)
        await h.stop_bot()
        assert await snapshot(h) == at_crash, "the bot went on after its crash"
        await h.start_bot()
        await h.wait_for(lambda: all(h.running_bot.get_channel(c) for c in env.channels.values()))
        await radar_idle(env)

    # A last clean cycle after the last restart finishes whatever is left.
    await env.radar.run_cycle_once()
    assert all(n == ROUNDS // len(POINTS) for n in crashes.values()), crashes

    expected_hub = set(new_models)
    expected_feed = set(new_entries)
    for guild in h.guilds:
        posts = env.posts(env.channel(guild))
        titles = [p["embeds"][0]["title"] for p in posts]
        assert len(titles) == len(set(titles)), f"posted twice: {sorted(titles)}"
        nonces = [p["nonce"] for p in posts]
        assert len(nonces) == len(set(nonces))
        expected: set[str] = set()
        if "hf:org" in following[guild.id]:
            expected |= expected_hub
        if source_feed in following[guild.id]:
            expected |= expected_feed
        assert set(titles) == expected, (
            f"missed {sorted(expected - set(titles))}, extra {sorted(set(titles) - expected)}"
        )
        # Oldest first within each source, across all the crashes.
        hub_titles = [t for t in titles if t in expected_hub]
        assert hub_titles == [m for m in new_models if m in hub_titles]

    worker = env.radar
    recorded = 0
    for guild in h.guilds:
        posted_ids = {int(p["id"]) for p in env.posts(env.channel(guild))}
        for subscription, _ in await worker.parts.subscriptions.for_guild(guild.id):
            for delivery in await worker.parts.outbox.for_subscription(subscription.id):
                assert delivery.status == "posted", delivery
                assert delivery.message_id in posted_ids
                recorded += 1
    assert recorded == sum(len(env.posts(env.channel(g))) for g in h.guilds)
    # Each crash between post and record was repaired by Discord's nonce dedupe, not a 2nd post
    # (posts are recorded a page at a time: every post of the page was re-sent and deduplicated).
    assert h.emu.nonce_hits >= crashes["after post"] > 0
