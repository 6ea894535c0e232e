"""The operator endpoint end to end: the real bot against the emulator, asked over real HTTP."""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.database_target import DatabaseTarget
from cogs.debates.service import DEADLINE_JOB
from tests.debates.helpers import click, option_id
from tests.fakes.feeds import atom_feed, feed_entry
from tests.harness import AgoraHarness, reply_text, response_text, serving, wait_stored
from tests.releases.test_e2e_releases import Env, make_env

ADDRESS = "127.0.0.1:0"  # a free port, chosen by the system


@pytest.fixture
async def agora(tmp_path: Path, database_target: DatabaseTarget) -> AsyncIterator[AgoraHarness]:
    harness = AgoraHarness(tmp_path, database=database_target, agora_http_address=ADDRESS)
    await harness.start_emulator()
    await harness.start_bot()
    async with serving(harness):
        yield harness


def url(agora: AgoraHarness, path: str) -> str:
    endpoint = agora.running_bot.operator
    assert endpoint is not None, "AGORA_HTTP_ADDRESS is set: the endpoint must run"
    return f"http://127.0.0.1:{endpoint.port}{path}"


async def request(
    agora: AgoraHarness, path: str, method: str = "GET", **options: Any
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url(agora, path), **options) as response,
    ):
        return response.status, await response.text()


async def readyz(agora: AgoraHarness) -> tuple[int, dict[str, Any]]:
    status, body = await request(agora, "/readyz")
    return status, json.loads(body)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(agora: AgoraHarness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = await request(agora, "/metrics")
    assert status == 200, body
    return samples(body)


def interactions(
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], command: str, outcome: str
) -> float:
    key = ("agora_interactions_total", (("command", command), ("outcome", outcome)))
    return metrics.get(key, 0.0)


# -- health and readiness -------------------------------------------------------------------


async def test_healthz_and_readyz_when_connected(agora: AgoraHarness) -> None:
    status, body = await request(agora, "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    await agora.wait_for(lambda: _ready(agora), within=10)
    assert await readyz(agora) == (200, {"shards": {"0": "ready"}, "database": "ok"})


async def _ready(agora: AgoraHarness) -> bool:
    return (await readyz(agora))[0] == 200


async def test_readyz_is_503_during_a_gateway_drop_and_200_after_resume(
    agora: AgoraHarness,
) -> None:
    await agora.wait_for(lambda: _ready(agora), within=10)
    agora.emu.hold_gateway()  # the bot reconnects, but gets no HELLO until released
    await agora.emu.drop_gateway()
    await agora.wait_for(lambda: agora.emu.gateway.held == 1, within=10)

    async def not_ready() -> bool:
        return (await readyz(agora))[0] == 503

    await agora.wait_for(not_ready, within=10)
    assert await readyz(agora) == (503, {"shards": {"0": "reconnecting"}, "database": "ok"})
    assert (await request(agora, "/healthz"))[0] == 200, "the process itself is fine"

    agora.emu.release_gateway()
    await agora.wait_for(lambda: _ready(agora), within=10)
    assert agora.emu.resume_count == 1 and agora.emu.identify_count == 1
    assert await readyz(agora) == (200, {"shards": {"0": "ready"}, "database": "ok"})


async def test_readyz_is_503_when_the_database_refuses_writes(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await agora.wait_for(lambda: _ready(agora), within=10)

    async def read_only(key: str, value: str) -> None:
        import sqlite3

        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(agora.running_bot.meta, "set", read_only)
    status, body = await readyz(agora)
    assert status == 503
    assert body == {"shards": {"0": "ready"}, "database": "error (OperationalError)"}


# -- metrics --------------------------------------------------------------------------------


async def test_metrics_count_commands_by_outcome_and_votes(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await scrape(agora)
    assert interactions(before, "about", "ok") == 0
    assert before[("agora_guilds", ())] == 2
    assert before[("agora_votes_stored_total", ())] == 0

    assert "Version" in response_text(await agora.slash("about"))
    refused = await agora.slash(
        "agora settings", {"setting": "retention_days", "value": "7"}, validate=False
    )
    assert "Manage Server" in response_text(refused)  # a member without the permission

    async def broken(guild_id: int) -> None:
        raise RuntimeError("disk on fire")

    # The deadline job also reads settings (the weekly debate): stopped, so that only the
    # command meets the broken repository.
    await agora.running_bot.jobs.stop(DEADLINE_JOB)
    with monkeypatch.context() as patch:
        patch.setattr(agora.running_bot.guild_repo, "get_settings", broken)
        agora.expect_error_log(r"unexpected error \[[0-9A-F]{6}\]")
        assert "error code" in response_text(
            await agora.slash("agora settings", user=agora.manager)
        )

    poll = await create_poll(agora, "Open weights?")
    vote = await click(agora, agora.member, poll, option_id(poll, 0))
    assert reply_text(vote) == "Your vote: yes"

    agora.emu.request_heartbeat()  # a heartbeat ACK gives the shard a latency
    await agora.wait_for(lambda: agora.running_bot.latency < float("inf"))

    after = await scrape(agora)
    assert interactions(after, "about", "ok") == 1
    assert interactions(after, "agora settings", "refused") == 1
    assert interactions(after, "agora settings", "error") == 1
    assert interactions(after, "poll create", "ok") == 1
    assert interactions(after, "debates:vote", "ok") == 1
    assert after[("agora_votes_stored_total", ())] == 1
    latency_count = ("agora_interaction_latency_seconds_count", (("command", "about"),))
    assert after[latency_count] == 1
    assert ("agora_gateway_latency_seconds", (("shard", "0"),)) in after
    assert after[("agora_event_loop_stall_seconds_max", ())] >= 0
    assert after[("agora_pending_deliveries", ())] == 0
    assert after[("agora_sources_paused", ())] == 0


async def test_no_route_tells_anything_about_a_community(agora: AgoraHarness) -> None:
    await create_poll(agora, "Should weights be open?")
    for path in ("/healthz", "/readyz", "/metrics"):
        _, body = await request(agora, path)
        for guild in agora.guilds:
            assert str(guild.id) not in body and guild.name not in body
        assert "weights" not in body and str(agora.member) not in body


async def test_each_bot_counts_in_its_own_registry(agora: AgoraHarness, tmp_path: Path) -> None:
    other = AgoraHarness(tmp_path / "other", agora_http_address=ADDRESS)
    (tmp_path / "other").mkdir()
    await other.start_emulator(guild_count=1)
    await other.start_bot()
    async with serving(other):
        await other.slash("about")
        assert interactions(await scrape(other), "about", "ok") == 1
        assert interactions(await scrape(agora), "about", "ok") == 0


async def create_poll(agora: AgoraHarness, question: str) -> dict[str, Any]:
    created = await agora.slash("poll create", {"question": question, "options": "yes | no"})
    assert created.message is not None, reply_text(created)
    await wait_stored(agora)
    return created.message


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 404),
        ("GET", "/admin", 404),
        ("GET", "/metrics/../../etc/passwd", 404),
        ("GET", "/healthz/", 404),
        ("POST", "/healthz", 405),
        ("PUT", "/readyz", 405),
        ("DELETE", "/metrics", 405),
        ("HEAD", "/healthz", 200),
    ],
)
async def test_unknown_paths_and_wrong_methods(
    agora: AgoraHarness, method: str, path: str, status: int
) -> None:
    got, body = await request(agora, path, method)
    assert got == status, body
    assert "Traceback" not in body


async def test_oversized_and_malformed_requests_are_answered(agora: AgoraHarness) -> None:
    status, body = await request(agora, "/healthz", headers={"X-Big": "x" * 70_000})
    assert status in (400, 431) and "Traceback" not in body
    endpoint = agora.running_bot.operator
    assert endpoint is not None
    for raw in (b"GARBAGE\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"A" * 70_000):
        answer = await _raw(endpoint.port, raw)
        assert re.match(rb"HTTP/1\.[01] 4\d\d ", answer), answer[:80]
        assert b"Traceback" not in answer
    assert (await request(agora, "/healthz"))[0] == 200, "still serving"


async def _raw(port: int, payload: bytes) -> bytes:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port, family=socket.AF_INET)
    writer.write(payload + b"\r\n\r\n")
    await writer.drain()
    answer = await reader.read(4096)
    writer.close()
    await writer.wait_closed()
    return answer


# -- the release radar's counters -------------------------------------------------------------


async def test_metrics_count_announcements_fetches_and_the_backlog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_env(tmp_path, monkeypatch, agora_http_address=ADDRESS)
    async with contextlib.aclosing(cast(AsyncGenerator[Env, None], world)) as envs:
        env = await anext(envs)
        h, hub = env.h, env.hub
        hub.add_model("org/old", created_at="2024-01-01T00:00:00.000Z")
        await env.follow("hf:org")
        await env.radar.run_cycle_once()  # the baseline: nothing announced
        messages = rf"/channels/{env.channel()}/messages$"

        hub.add_model("org/One", created_at="2024-02-01T00:00:00.000Z")
        h.emu.fail_next("POST", messages, status=403)  # no access: given up
        await env.radar.run_cycle_once()
        hub.add_model("org/Two", created_at="2024-03-01T00:00:00.000Z")
        h.emu.fail_next("POST", messages, status=400)  # refused once: stays pending
        await env.radar.run_cycle_once()
        pending = await scrape(h)
        assert pending[("agora_announcements_failed_total", (("reason", "no_access"),))] == 1
        assert pending[("agora_announcements_failed_total", (("reason", "discord_400"),))] == 1
        assert pending[("agora_announcements_posted_total", ())] == 0
        assert pending[("agora_pending_deliveries", ())] == 1

        await env.radar.run_cycle_once()
        posted = await scrape(h)
        assert posted[("agora_announcements_posted_total", ())] == 1
        assert posted[("agora_pending_deliveries", ())] == 0
        announced = [p for p in env.posts(env.channel()) if p.get("embeds")]
        assert [p["embeds"][0]["title"] for p in announced] == ["org/Two"]

        env.feeds.set_feed("/lab.atom", atom_feed([feed_entry(1)]))
        source = f"feed:{env.feeds.url}/lab.atom"
        await env.follow(source)
        for _ in range(5):  # five failures in a row pause the source
            env.feeds.fault("/lab.atom", "500")
            await env.radar.run_cycle_once(ignore_backoff=True)
        final = await scrape(h)
        hf_ok = ("agora_radar_fetches_total", (("outcome", "ok"), ("source_kind", "hf")))
        feed_failed = (
            "agora_radar_fetches_total",
            (("outcome", "server_error"), ("source_kind", "feed")),
        )
        assert final[hf_ok] == 9, "fetched in each of the nine cycles"
        assert final[feed_failed] == 5
        assert final[("agora_sources_paused", ())] == 1
