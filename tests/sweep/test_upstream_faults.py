"""Upstream faults: the Hub and feeds answer 429, 500, hang, garbage or a huge body while a
radar cycle runs; members' commands are answered meanwhile; afterwards the failing sources
back off and the healthy one was announced.

No timing is asserted: the emulator refuses an interaction callback later than 3 s (like
Discord), so every `response()` that returns proves the 3-second window was kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.database_target import DatabaseTarget
from bot.settings import Settings
from cogs.releases.delivery import ReleaseDelivery
from tests.fakes.feeds import Fault, FeedServer, atom_feed, feed_entry
from tests.fakes.hub import FakeHub
from tests.harness import AgoraHarness, message_text, serving
from tests.releases.helpers import radar_of
from tests.sweep.support import pinging, settled, short_radar_limits

FEED_FAULTS: tuple[Fault, ...] = ("429", "500", "hang", "garbage", "huge")


@dataclasses.dataclass
class HugeHub(FakeHub):
    """The fake Hub, plus a fault it lacks: a huge 200 body (5 MB of unterminated JSON)."""

    huge_pending: int = 0

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        if self.huge_pending:
            self.huge_pending -= 1
            self.requests_by_author[request.query.get("author", "")] += 1
            body = b"[" + b'{"id": "org/padding", "tags": ["x"]},' * 140_000
            return web.Response(body=body, content_type="application/json")
        return await super()._list_models(request)


@dataclasses.dataclass
class Env:
    h: AgoraHarness
    hub: HugeHub
    feeds: FeedServer
    channel: int

    @property
    def radar(self) -> ReleaseDelivery:
        return radar_of(self.h.running_bot)

    def posts(self) -> list[dict[str, Any]]:
        bot_id = self.h.emu.bot.id
        return [
            m
            for m in self.h.emu.messages[self.channel]
            if int(m["author"]["id"]) == bot_id and not m.get("deleted")
        ]


@pytest.fixture
async def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_target: DatabaseTarget
) -> AsyncIterator[Env]:
    monkeypatch.setattr(Settings, "radar_config", short_radar_limits(Settings.radar_config))
    hub, feeds = HugeHub(), FeedServer(hang_seconds=10.0)
    await hub.start()
    await feeds.start()
    h = AgoraHarness(
        tmp_path,
        database=database_target,
        hf_endpoint=hub.url,
        agora_github_base=feeds.url,
        agora_release_poll_seconds=3600,
    )
    async with serving(h, hub, feeds):
        await h.start_emulator(guild_count=1)
        channel = h.emu.add_channel(h.guild.id, "releases")
        bot = await h.start_bot()
        await h.wait_for(lambda: bot.get_channel(channel) is not None)
        yield Env(h, hub, feeds, channel)


async def commands_while(env: Env, cycle: asyncio.Task[Any]) -> int:
    """Members use the bot until the cycle ends; every command must be answered in time."""
    h = env.h
    rounds = 0
    while not cycle.done() or rounds == 0:
        about = await h.slash("about", user=h.member)
        assert "Version" in message_text(about.message or {})
        poll = await h.slash(
            "poll create", {"question": f"Still here? {rounds}", "options": "yes|no"}
        )
        assert not poll.ephemeral and "Still here?" in message_text(poll.message or {})
        me = await h.slash("stance me", user=h.member)
        await settled(h, me)
        assert me.ephemeral
        rounds += 1
    return rounds


async def test_feed_and_hub_faults_during_a_cycle(env: Env) -> None:
    h, hub, feeds = env.h, env.hub, env.feeds
    hub.add_model("org/base", created_at="2024-01-01T00:00:00.000Z")
    sources = {"ok": f"feed:{feeds.url}/ok.atom", "hf": "hf:org"}
    for kind in FEED_FAULTS:
        sources[kind] = f"feed:{feeds.url}/{kind}.atom"
    for key, source in sources.items():
        if source.startswith("feed:"):
            feeds.set_feed(f"/{key}.atom", atom_feed([feed_entry(1)]))
        follow = await h.slash(
            "releases follow", {"source": source, "channel": env.channel}, user=h.manager
        )
        await settled(h, follow)
        assert "Now following" in message_text(follow.followups[0]), source
    baseline = await env.radar.run_cycle_once()
    assert sorted(baseline.fetched) == sorted(sources.values()) and baseline.queued == 0

    # Faults everywhere but /ok.atom, which has a new entry; the Hub hangs.
    feeds.set_feed("/ok.atom", atom_feed([feed_entry(1), feed_entry(2)]))
    for kind in FEED_FAULTS:
        feeds.fault(f"/{kind}.atom", kind)
    hub.hang(5)
    cycle = asyncio.create_task(env.radar.run_cycle_once())
    rounds = await commands_while(env, cycle)
    report = await cycle
    hub.hang(0)
    assert rounds >= 1
    assert report.fetched == [sources["ok"]]
    assert report.failed == {
        sources["429"]: "rate_limited",
        sources["500"]: "server_error",
        sources["hang"]: "timeout",
        sources["garbage"]: "malformed",
        sources["huge"]: "too_large",
        sources["hf"]: "timeout",
    }
    assert [message_text(p).splitlines()[0] for p in env.posts()] == ["Post 2"]

    # The failing sources back off: a normal cycle does not fetch them again.
    counts = {k: feeds.requests[f"/{k}.atom"] for k in FEED_FAULTS}
    hub_requests = hub.total_requests
    for name in (*FEED_FAULTS, "hf"):
        status = await env.radar.parts.outbox.source_status(sources[name])
        assert status is not None and status.failures == 1 and status.next_attempt_at > 0
        assert not status.paused
    again = await env.radar.run_cycle_once()
    assert again.fetched == [sources["ok"]] and again.failed == {}
    assert {k: feeds.requests[f"/{k}.atom"] for k in FEED_FAULTS} == counts
    assert hub.total_requests == hub_requests

    # The Hub's other faults, one cycle each, with commands answered meanwhile.
    hub.add_model("org/new", created_at="2024-03-01T00:00:00.000Z")
    kinds = []
    for inject in (
        lambda: hub.fail_next(429),
        lambda: hub.fail_next(500),
        lambda: hub.malformed_next(),
        lambda: setattr(hub, "huge_pending", 1),
    ):
        inject()
        cycle = asyncio.create_task(env.radar.run_cycle_once(ignore_backoff=True))
        await commands_while(env, cycle)
        report = await cycle
        kinds.append(report.failed.get(sources["hf"]))
        assert sources["ok"] in report.fetched, "the healthy source is still fetched"
    assert kinds[:3] == ["rate_limited", "server_error", "malformed"]
    assert kinds[3] in ("malformed", "too_large"), kinds
    status = await env.radar.parts.outbox.source_status(sources["hf"])
    assert status is not None and status.failures == 5 and status.paused
    assert not any("org/new" in message_text(p) for p in env.posts())
    [notice] = [p for p in env.posts() if "paused" in p["content"]]
    assert "/releases resume" in notice["content"]
    resumed = await h.slash("releases resume", {"source": sources["hf"]}, user=h.manager)
    assert resumed.ephemeral and "was paused" in message_text(resumed.message or {})

    # Healthy again: the Hub's new model is announced once, the feeds' new entries too.
    for kind in FEED_FAULTS:
        feeds.set_feed(f"/{kind}.atom", atom_feed([feed_entry(1), feed_entry(3)]))
    recovered = await env.radar.run_cycle_once(ignore_backoff=True)
    assert not recovered.failed, recovered.failed
    titles = [message_text(p).splitlines()[0] for p in env.posts()]
    assert titles.count("Post 2") == 1 and titles.count("Post 3") == len(FEED_FAULTS)
    assert sum("org/new" in t for t in titles) == 1
    assert pinging(h) == []
