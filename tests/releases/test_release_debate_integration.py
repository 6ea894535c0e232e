"""The radar's "Debate this release" button with the real debates feature loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import client
from bot.database_target import DatabaseTarget
from tests.fakes.feeds import atom_feed
from tests.harness import message_text, wait_stored
from tests.releases.test_e2e_releases import Env, buttons, feed_entry, make_env

ALL_COGS = client.cog_extensions()


@pytest.fixture
async def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_target: DatabaseTarget
) -> AsyncIterator[Env]:
    async for value in make_env(tmp_path, monkeypatch, database_target):
        monkeypatch.setattr(client, "cog_extensions", lambda: ALL_COGS)
        await value.h.restart()
        yield value


async def test_debate_this_release_starts_a_quick_debate(env: Env) -> None:
    h = env.h
    env.feeds.set_feed("/lab.atom", atom_feed([feed_entry(1)]))
    await env.follow(f"feed:{env.feeds.url}/lab.atom")
    await env.radar.run_cycle_once()  # baseline
    env.feeds.set_feed(
        "/lab.atom", atom_feed([feed_entry(1), feed_entry(2, "Open-Model 70B weights")])
    )
    await env.radar.run_cycle_once()
    [announcement] = env.posts(env.channel())
    custom_id = buttons(announcement)["Debate this release"]

    click = await h.emu.click(h.guild.id, h.member, int(announcement["id"]), custom_id)
    await click.response(timeout=10)

    def debate_posted() -> dict | None:
        for message in env.posts(env.channel()):
            if "Should Open-Model 70B weights have been released this openly?" in (
                message_text(message)
            ):
                return message
        return None

    debate = await h.wait_for(debate_posted, within=10)
    assert debate["id"] != announcement["id"]
    assert any("Strongly share" in label for label in buttons(debate)), buttons(debate)
    await wait_stored(h)  # the debate's message id is stored right after it is posted
    rows = await h.running_bot.db.fetch_all("SELECT source, format FROM debates")
    assert [tuple(r) for r in rows] == [("release", "quick")]
