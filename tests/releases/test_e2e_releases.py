"""The release radar end to end: the real bot, the emulator, a fake Hub and a feed host."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import client
from bot.database_target import DatabaseTarget
from bot.features import Feature
from bot.interfaces import ReleaseDebates
from bot.releases import RadarConfig, announcement_nonce
from bot.settings import Settings
from cogs.releases.delivery import ReleaseDelivery
from tests.emulator import EmulatedInteraction, Guild
from tests.fakes.feeds import FeedServer, atom_feed, feed_entry
from tests.fakes.hub import FakeHub
from tests.harness import AgoraHarness, message_text, response_text, serving
from tests.releases.helpers import radar_of, radar_runs

ZWSP = "\u200b"


@dataclasses.dataclass
class Env:
    h: AgoraHarness
    hub: FakeHub
    feeds: FeedServer
    channels: dict[int, int]  # guild id -> the "releases" channel

    @property
    def radar(self) -> ReleaseDelivery:
        """The outbox worker of the bot running now (a restart builds a new one)."""
        return radar_of(self.h.running_bot)

    def channel(self, guild: Guild | None = None) -> int:
        return self.channels[(guild or self.h.guild).id]

    def posts(self, channel_id: int) -> list[dict[str, Any]]:
        """The bot's live messages in a channel."""
        bot_id = self.h.emu.bot.id
        return [
            m
            for m in self.h.emu.messages[channel_id]
            if int(m["author"]["id"]) == bot_id and not m.get("deleted")
        ]

    async def follow(
        self, source: str, guild: Guild | None = None, **options: Any
    ) -> dict[str, Any]:
        guild = guild or self.h.guild
        values = {"source": source, "channel": self.channels[guild.id], **options}
        interaction = await self.h.slash(
            "releases follow", values, user=self.h.managers[guild.id], guild=guild
        )
        await settled(self.h, interaction)
        assert interaction.ephemeral
        return interaction.message or {}


async def settled(h: AgoraHarness, interaction: EmulatedInteraction) -> None:
    """Wait until a deferred ("thinking") response was replaced by the real answer."""
    await h.wait_for(lambda: not interaction.loading)


async def make_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database: DatabaseTarget | None = None,
    **overrides: Any,
) -> AsyncIterator[Env]:
    hub = FakeHub()
    feeds = FeedServer(hang_seconds=10.0)
    await hub.start()
    await feeds.start()
    original = Settings.radar_config

    def short_limits(self: Settings) -> RadarConfig:
        return dataclasses.replace(original(self), hf_timeout=1.5, feed_timeout=1.5)

    monkeypatch.setattr(Settings, "radar_config", short_limits)
    # Only the cogs this feature needs: other features are built in parallel.
    monkeypatch.setattr(client, "cog_extensions", lambda: ["cogs.admin", "cogs.releases"])
    settings: dict[str, Any] = {
        "hf_endpoint": hub.url,
        "agora_github_base": feeds.url,
        "agora_release_poll_seconds": 3600,
    }
    settings.update(overrides)
    h = AgoraHarness(tmp_path, database=database, **settings)
    async with serving(h, hub, feeds):
        await h.start_emulator(guild_count=3)
        channels = {g.id: h.emu.add_channel(g.id, "releases") for g in h.guilds}
        await h.start_bot()
        bot = h.running_bot
        await h.wait_for(lambda: all(bot.get_channel(c) for c in channels.values()))
        # The radar job's first run (at start: drain, then a cycle of nothing) is over before
        # a test drives its own cycles: late, it would drain a test's half-done outbox itself.
        await h.wait_for(lambda: radar_runs(bot) >= 1)
        yield Env(h, hub, feeds, channels)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label -> custom_id of a message's buttons."""
    out = {}
    for row in message.get("components") or []:
        for component in row.get("components") or []:
            if component.get("type") == 2:
                out[component["label"]] = component["custom_id"]
    return out


# -- follow, baseline, exactly once ---------------------------------------------------------


async def test_follow_baselines_then_announces_new_models_once_oldest_first(env: Env) -> None:
    hub, h = env.hub, env.h
    hub.add_model("org/old-a", created_at="2024-01-01T00:00:00.000Z")
    hub.add_model("org/old-b", created_at="2024-01-02T00:00:00.000Z")
    reply = await env.follow("hf:org")
    assert "Now following `hf:org`" in message_text(reply)
    assert env.posts(env.channel()) == []

    report = await env.radar.run_cycle_once()
    assert report.fetched == ["hf:org"] and report.queued == 0
    assert env.posts(env.channel()) == [], "the baseline must announce nothing"

    # Added newest first: they must still be posted oldest first.
    hub.add_model(
        "org/Newer-8B",
        created_at="2024-03-02T00:00:00.000Z",
        license="llama3.1",
        gated="manual",
        params=8_030_261_248,
        card_data={"base_model": "org/Base-8B", "datasets": ["org/data"]},
    )
    hub.add_model(
        "org/Newer-1B",
        created_at="2024-03-01T00:00:00.000Z",
        license="mit",
        tags=["arxiv:2401.00001"],
    )
    report = await env.radar.run_cycle_once()
    assert report.queued == 2 and report.posted == 2
    posts = env.posts(env.channel())
    assert [p["embeds"][0]["title"] for p in posts] == ["org/Newer-1B", "org/Newer-8B"]

    big = posts[1]
    text = message_text(big)
    for expected in (
        "Openness: C · Restricted",
        "Access: Gated, manual approval",
        "Parameters: 8B",
        "Base model:",
        "Training data:",
        "Paper: unknown (none linked)",
    ):
        assert expected in text, (expected, text)
    assert big["embeds"][0]["url"].endswith("/org/Newer-8B")
    assert big["content"] == "" and big["mention_roles"] == [] and not big["mention_everyone"]
    assert "Discuss" in buttons(big)
    assert "Debate this release" not in buttons(big), "absent without the debates feature"
    # Each post carries its deterministic nonce.
    sub = (await env.radar.parts.subscriptions.for_guild(h.guild.id))[0][0]
    assert [p["nonce"] for p in posts] == [
        announcement_nonce(sub.id, "org/Newer-1B"),
        announcement_nonce(sub.id, "org/Newer-8B"),
    ]

    # Nothing new: nothing posted; a restart does not repeat anything.
    await env.radar.run_cycle_once()
    await h.restart()
    await env.radar.run_cycle_once()
    assert len(env.posts(env.channel())) == 2
    assert h.emu.nonce_hits == 0

    latest = await h.slash("releases latest", {"count": 5}, user=h.manager)
    latest_text = response_text(latest)
    assert latest_text.index("Newer-8B") < latest_text.index("Newer-1B")
    assert str(posts[0]["id"]) in latest_text

    listed = await h.slash("releases list", user=h.manager)
    assert listed.ephemeral and "`hf:org`" in response_text(listed)


async def test_one_fetch_per_cycle_for_three_communities_and_304(env: Env) -> None:
    feeds, h = env.feeds, env.h
    feeds.set_feed("/blog.atom", atom_feed([feed_entry(1)]))
    source = f"feed:{feeds.url}/blog.atom"
    for guild in h.guilds:
        await env.follow(source, guild)

    await env.radar.run_cycle_once()
    assert feeds.requests["/blog.atom"] == 1
    await env.radar.run_cycle_once()
    assert feeds.requests["/blog.atom"] == 2
    assert feeds.not_modified_sent["/blog.atom"] == 1, "the second fetch is conditional: 304"
    assert feeds.request_headers["/blog.atom"][-1].get("If-None-Match")

    hostile = "@everyone New <@&123456789012345678> release @here"
    feeds.set_feed("/blog.atom", atom_feed([feed_entry(1), feed_entry(2, hostile)]))
    report = await env.radar.run_cycle_once()
    assert feeds.requests["/blog.atom"] == 3
    assert report.queued == 3 and report.posted == 3
    for guild in h.guilds:
        posts = env.posts(env.channel(guild))
        assert len(posts) == 1
        post = posts[0]
        assert post["mention_everyone"] is False and post["mention_roles"] == []
        assert post["content"] == ""
        title = post["embeds"][0]["title"]
        assert "@everyone" not in title and f"@{ZWSP}everyone" in title
    # Three subscriptions, three distinct nonces (Discord dedupes per author, not channel).
    assert len({env.posts(env.channel(g))[0]["nonce"] for g in h.guilds}) == 3


async def test_mention_role_is_the_only_ping(env: Env) -> None:
    feeds, h = env.feeds, env.h
    role = h.emu.add_role(h.guild.id, "release-watchers")
    await h.wait_for(lambda: h.running_bot.get_guild(h.guild.id).get_role(role))  # type: ignore[union-attr]
    path = "/huggingface/transformers/releases.atom"
    feeds.set_feed(path, atom_feed([feed_entry(1, "v4.40.0")]))
    await env.follow("github:huggingface/transformers", mention_role=role)
    await env.radar.run_cycle_once()
    feeds.set_feed(path, atom_feed([feed_entry(1, "v4.40.0"), feed_entry(2, "v4.41.0 @everyone")]))
    await env.radar.run_cycle_once()
    [post] = env.posts(env.channel())
    assert post["content"] == f"<@&{role}>"
    assert post["mention_roles"] == [str(role)]
    assert post["mention_everyone"] is False and post["mentions"] == []
    assert post["embeds"][0]["title"].startswith("huggingface/transformers · v4.41.0")


async def test_crash_between_post_and_record_leaves_one_message(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, h = env.hub, env.h
    hub.add_model("org/a", created_at="2024-01-01T00:00:00.000Z")
    await env.follow("hf:org")
    await env.radar.run_cycle_once()
    hub.add_model("org/b", created_at="2024-02-01T00:00:00.000Z")
    hub.add_model("org/c", created_at="2024-02-02T00:00:00.000Z")

    async def crash(*args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(env.radar, "record_posted", crash)
    h.expect_error_log(r"recording 2 posted announcements failed")
    await env.radar.run_cycle_once()
    # Both were posted (a page is recorded at once) but not recorded: still pending.
    assert [p["embeds"][0]["title"] for p in env.posts(env.channel())] == ["org/b", "org/c"]
    sub = (await env.radar.parts.subscriptions.for_guild(h.guild.id))[0][0]
    assert [d.status for d in await env.radar.parts.outbox.for_subscription(sub.id)] == [
        "pending",
        "pending",
    ]

    # The process restarts: the job's first run drains the outbox with the same nonces.
    await h.restart()
    await h.wait_for(lambda: radar_runs(h.running_bot) >= 1)
    repo = env.radar.parts.outbox
    posts = env.posts(env.channel())
    assert [p["embeds"][0]["title"] for p in posts] == ["org/b", "org/c"]
    assert h.emu.nonce_hits == 2, "both re-sent announcements were deduplicated by their nonce"
    records = await repo.for_subscription(sub.id)
    assert [d.message_id for d in records] == [int(p["id"]) for p in posts]
    await env.radar.run_cycle_once()
    assert len(env.posts(env.channel())) == 2


# -- failures ---------------------------------------------------------------------------------


async def test_feed_failures_back_off_notify_once_pause_and_resume(env: Env) -> None:
    feeds, hub, h = env.feeds, env.hub, env.h
    feeds.set_feed("/lab.atom", atom_feed([feed_entry(1)]))
    source = f"feed:{feeds.url}/lab.atom"
    hub.add_model("org/a")
    other_guild = h.guilds[1]
    await env.follow(source)
    await env.follow(source, other_guild)
    await env.follow("hf:org")
    await env.radar.run_cycle_once()
    requests = feeds.requests["/lab.atom"]

    kinds = []
    for fault in ("500", "429", "garbage", "huge", "hang"):
        feeds.fault("/lab.atom", fault)
        report = await env.radar.run_cycle_once(ignore_backoff=True)
        kinds.append(report.failed[source])
        assert "hf:org" in report.fetched, "other sources are unaffected"
        status = await env.radar.parts.outbox.source_status(source)
        assert status is not None and status.next_attempt_at > 0
        if fault == "500":
            # Backing off: a normal cycle does not fetch it.
            before = feeds.requests["/lab.atom"]
            await env.radar.run_cycle_once()
            assert feeds.requests["/lab.atom"] == before
    assert kinds == ["server_error", "rate_limited", "malformed", "too_large", "timeout"]
    assert feeds.requests["/lab.atom"] == requests + 5

    status = await env.radar.parts.outbox.source_status(source)
    assert status is not None and status.paused and status.failures == 5
    for guild in (h.guild, other_guild):
        [notice] = env.posts(env.channel(guild))
        assert "paused" in notice["content"] and "/releases resume" in notice["content"]
        assert notice["mention_roles"] == [] and not notice["mention_everyone"]

    # Paused: never fetched, no second notice.
    await env.radar.run_cycle_once(ignore_backoff=True)
    assert feeds.requests["/lab.atom"] == requests + 5
    assert len(env.posts(env.channel())) == 1
    listed = await h.slash("releases list", user=h.manager)
    assert "**paused**" in response_text(listed)

    resumed = await h.slash("releases resume", {"source": source}, user=h.manager)
    assert resumed.ephemeral and "was paused" in response_text(resumed)
    feeds.set_feed("/lab.atom", atom_feed([feed_entry(1), feed_entry(2)]))
    report = await env.radar.run_cycle_once()
    assert source in report.fetched
    assert [message_text(p) for p in env.posts(env.channel())][1].startswith("Post 2")
    status = await env.radar.parts.outbox.source_status(source)
    assert status is not None and not status.paused and status.failures == 0


async def test_hub_failure_kinds_back_off(env: Env) -> None:
    hub = env.hub
    hub.add_model("org/a")
    await env.follow("hf:org")
    await env.radar.run_cycle_once()
    hub.fail_next(503)
    hub.fail_next(429)
    kinds = []
    for _ in range(2):
        kinds.append((await env.radar.run_cycle_once(ignore_backoff=True)).failed["hf:org"])
    hub.malformed_next()
    kinds.append((await env.radar.run_cycle_once(ignore_backoff=True)).failed["hf:org"])
    hub.hang(5)
    kinds.append((await env.radar.run_cycle_once(ignore_backoff=True)).failed["hf:org"])
    hub.hang(0)
    assert kinds == ["server_error", "rate_limited", "malformed", "timeout"]
    status = await env.radar.parts.outbox.source_status("hf:org")
    assert status is not None and status.failures == 4 and not status.paused
    report = await env.radar.run_cycle_once(ignore_backoff=True)
    assert report.fetched == ["hf:org"]
    status = await env.radar.parts.outbox.source_status("hf:org")
    assert status is not None and status.failures == 0 and status.next_attempt_at == 0


# -- commands ---------------------------------------------------------------------------------


async def test_preview_is_ephemeral_and_posts_nothing(env: Env) -> None:
    for day in range(1, 6):
        env.hub.add_model(f"org/m{day}", created_at=f"2024-05-0{day}T00:00:00.000Z")
    interaction = await env.h.slash("releases preview", {"source": "hf:org"}, user=env.h.manager)
    await settled(env.h, interaction)
    assert interaction.ephemeral
    message = interaction.message or {}
    assert [e["title"] for e in message["embeds"]] == ["org/m5", "org/m4", "org/m3"]
    assert "nothing was posted" in message["content"]
    assert all(env.posts(c) == [] for c in env.channels.values())
    assert await env.radar.parts.subscriptions.for_guild(env.h.guild.id) == []


async def test_unfollow_and_autocomplete(env: Env) -> None:
    h = env.h
    env.feeds.set_feed("/a.atom", atom_feed([feed_entry(1)]))
    await env.follow("hf:org")
    await env.follow(f"{env.feeds.url}/a.atom")  # a bare URL is a feed
    await env.follow("hf:other", h.guilds[1])
    ask = await h.emu.autocomplete(
        h.guild.id, h.manager, "releases unfollow", {"source": "hf"}, focused="source"
    )
    choices = await ask.wait_choices()
    assert [c["value"] for c in choices] == ["hf:org"]

    gone = await h.slash("releases unfollow", {"source": "hf:org"}, user=h.manager)
    assert gone.ephemeral and "Stopped following `hf:org`" in response_text(gone)
    keys = [s.source_key for s, _ in await env.radar.parts.subscriptions.for_guild(h.guild.id)]
    assert keys == [f"feed:{env.feeds.url}/a.atom"]
    assert await env.radar.parts.outbox.source_status("hf:org") is None

    again = await h.slash("releases unfollow", {"source": "hf:org"}, user=h.manager)
    assert "does not follow `hf:org`" in response_text(again)


async def test_member_without_manage_server_is_refused(env: Env) -> None:
    h = env.h
    with pytest.raises(PermissionError):
        await h.emu.slash(h.guild.id, h.member, "releases follow", {"source": "hf:org"})
    interaction = await h.slash(
        "releases follow", {"source": "hf:org", "channel": env.channel()}, validate=False
    )
    assert interaction.ephemeral and "Manage Server" in response_text(interaction)
    for name in ("releases unfollow", "releases resume"):
        refused = await h.slash(name, {"source": "hf:org"}, validate=False)
        assert "Manage Server" in response_text(refused)
    assert await env.radar.parts.subscriptions.for_guild(h.guild.id) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"source": "nonsense"}, "Invalid source"),
        ({"source": "hf:bad--name"}, "Invalid source"),
        ({"source": "feed:ftp://example.org/feed"}, "Invalid source"),
        ({"source": "hf:org", "filter": "min_params:lots"}, "Invalid filter"),
        ({"source": "hf:org", "filter": "colour:blue"}, "unknown key"),
    ],
)
async def test_invalid_input_is_refused(env: Env, options: dict[str, str], expected: str) -> None:
    values = {"channel": env.channel(), **options}
    interaction = await env.h.slash("releases follow", values, user=env.h.manager)
    await settled(env.h, interaction)
    assert interaction.ephemeral
    assert expected in response_text(interaction)
    assert await env.radar.parts.subscriptions.for_guild(env.h.guild.id) == []


async def test_everyone_role_cannot_be_the_mention(env: Env) -> None:
    h = env.h
    interaction = await h.slash(
        "releases follow",
        {"source": "hf:org", "channel": env.channel(), "mention_role": h.guild.id},
        user=h.manager,
    )
    assert "not @everyone" in response_text(interaction)


async def test_private_feed_url_refused_when_not_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for env in make_env(tmp_path, monkeypatch, agora_allow_private_urls=False):
        for url in (f"feed:{env.feeds.url}/x.atom", "feed:http://169.254.169.254/latest"):
            interaction = await env.h.slash(
                "releases follow", {"source": url, "channel": env.channel()}, user=env.h.manager
            )
            await settled(env.h, interaction)
            assert interaction.ephemeral
            assert "private, local or reserved" in response_text(interaction)
        assert await env.radar.parts.subscriptions.for_guild(env.h.guild.id) == []


# -- buttons and threads ----------------------------------------------------------------------


class FakeDebates:
    """A stand-in for the debates feature's side of :class:`ReleaseDebates`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def start_release_debate(
        self, interaction: discord.Interaction, title: str, url: str | None
    ) -> None:
        self.calls.append((title, url))
        await interaction.response.send_message("debate started", ephemeral=True)


async def offer_debates(env: Env) -> FakeDebates:
    """Load a tiny feature that offers release debates (the real one is tested elsewhere)."""
    debates = FakeDebates()
    provides: dict[type[Any], object] = {ReleaseDebates: debates}
    await env.h.running_bot.add_feature(Feature(name="fake-debates", provides=provides))
    return debates


async def announce_one(env: Env) -> dict[str, Any]:
    env.hub.add_model("org/a", created_at="2024-01-01T00:00:00.000Z")
    await env.follow("hf:org")
    await env.radar.run_cycle_once()
    env.hub.add_model("org/Fresh-7B", created_at="2024-02-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    [post] = env.posts(env.channel())
    return post


async def test_discuss_button_opens_a_thread_then_links_to_it(env: Env) -> None:
    h = env.h
    post = await announce_one(env)
    custom_id = buttons(post)["Discuss"]
    click = await h.emu.click(h.guild.id, h.member, int(post["id"]), custom_id)
    await click.response()
    thread = h.emu.channels.get(int(post["id"]))
    assert thread is not None and thread.is_thread and thread.name == "org/Fresh-7B"
    assert click.ephemeral and f"<#{thread.id}>" in response_text(click)

    await h.wait_for(lambda: h.running_bot.get_channel(thread.id))
    again = await h.emu.click(h.guild.id, h.member, int(post["id"]), custom_id)
    await again.response()
    assert f"<#{thread.id}>" in response_text(again)
    assert sum(1 for c in h.emu.channels.values() if c.is_thread) == 1

    # The button keeps working after a restart (DynamicItem).
    await h.restart()
    third = await h.emu.click(h.guild.id, h.member, int(post["id"]), custom_id)
    await third.response()
    assert f"<#{thread.id}>" in response_text(third)


async def test_debate_button_calls_the_debates_feature(env: Env) -> None:
    debates = await offer_debates(env)
    post = await announce_one(env)
    custom_id = buttons(post)["Debate this release"]
    click = await env.h.emu.click(env.h.guild.id, env.h.member, int(post["id"]), custom_id)
    await click.response()
    assert "debate started" in response_text(click)
    assert debates.calls == [("org/Fresh-7B", f"{env.hub.url}/org/Fresh-7B")]


async def test_buttons_use_one_scheme_and_todays_ids_still_work(env: Env) -> None:
    h = env.h
    await offer_debates(env)
    post = await announce_one(env)
    [delivery] = await env.radar.parts.outbox.latest_for_guild(h.guild.id, 1)
    assert buttons(post) == {
        "Discuss": f"agora:releases:discuss:{delivery.id}",
        "Debate this release": f"agora:releases:debate:{delivery.id}",
    }

    # An announcement posted by the previous version carries today's custom ids.
    def button(label: str, custom_id: str) -> dict[str, Any]:
        return {"type": 2, "style": 2, "label": label, "custom_id": custom_id}

    legacy_buttons = [
        button("Discuss", f"agora:rel:discuss:{delivery.id}"),
        button("Debate this release", f"agora:rel:debate:{delivery.id}"),
    ]
    old = h.emu.create_message(
        env.channel(),
        {"embeds": post["embeds"], "components": [{"type": 1, "components": legacy_buttons}]},
    )
    await h.restart()
    debates = await offer_debates(env)
    debate = await h.emu.click(h.guild.id, h.member, int(old["id"]), legacy_buttons[1]["custom_id"])
    await debate.response()
    assert "debate started" in response_text(debate)
    assert debates.calls == [("org/Fresh-7B", f"{env.hub.url}/org/Fresh-7B")]
    discuss = await h.emu.click(
        h.guild.id, h.member, int(old["id"]), legacy_buttons[0]["custom_id"]
    )
    await discuss.response()
    thread = h.emu.channels.get(int(old["id"]))
    assert thread is not None and thread.is_thread and thread.name == "org/Fresh-7B"
    assert discuss.ephemeral and f"<#{thread.id}>" in response_text(discuss)


async def test_announce_threads_setting_opens_a_thread_per_announcement(env: Env) -> None:
    h = env.h
    await h.slash("agora settings", {"setting": "announce_threads", "value": "on"}, user=h.manager)
    post = await announce_one(env)
    thread = h.emu.channels.get(int(post["id"]))
    assert thread is not None and thread.is_thread and thread.name == "org/Fresh-7B"


async def test_deleting_a_release_in_the_window_announces_nothing_old(env: Env) -> None:
    # GitHub's releases.atom lists the 10 newest: deleting one lets an older one slide in.
    path = "/org/tool/releases.atom"
    env.feeds.set_feed(path, atom_feed([feed_entry(n, f"v{n}") for n in range(11, 1, -1)]))
    await env.follow("github:org/tool")
    await env.radar.run_cycle_once()
    env.feeds.set_feed(path, atom_feed([feed_entry(n, f"v{n}") for n in range(10, 0, -1)]))
    report = await env.radar.run_cycle_once()
    assert report.fetched == ["github:org/tool"] and report.queued == 0
    assert env.posts(env.channel()) == []
    listing = [feed_entry(n, f"v{n}") for n in (12, *range(10, 1, -1))]
    env.feeds.set_feed(path, atom_feed(listing))
    report = await env.radar.run_cycle_once()
    assert report.queued == 1
    [post] = env.posts(env.channel())
    assert post["embeds"][0]["title"].startswith("org/tool · v12")


async def fill_subscriptions(env: Env, count: int) -> list[str]:
    """`count` subscriptions in the first community's releases channel (straight to storage)."""
    keys = [f"hf:org-with-a-longer-name-{n:02d}" for n in range(count)]
    for key in keys:
        await env.radar.parts.subscriptions.follow(
            env.h.guild.id,
            env.channel(),
            key,
            mention_role=None,
            filter_text="include:*instruct* min_params:7B",
            created_by=env.h.manager,
        )
    return keys


async def test_following_again_at_the_limit_updates_and_a_new_one_is_refused(env: Env) -> None:
    h = env.h
    keys = await fill_subscriptions(env, 50)
    reply = await env.follow(keys[0], filter="include:llama*")
    assert "Updated" in message_text(reply)
    [(subscription, _)] = [
        r
        for r in await env.radar.parts.subscriptions.for_guild(h.guild.id)
        if r[0].source_key == keys[0]
    ]
    assert subscription.filter_text == "include:llama*"

    refused = await h.slash(
        "releases follow", {"source": "hf:another", "channel": env.channel()}, user=h.manager
    )
    await settled(h, refused)
    text = response_text(refused)
    assert "50 subscriptions" in text and "sources" not in text
    assert len(await env.radar.parts.subscriptions.for_guild(h.guild.id)) == 50


async def test_list_shows_every_subscription_in_several_messages(env: Env) -> None:
    h = env.h
    keys = await fill_subscriptions(env, 50)
    listed = await h.slash("releases list", user=h.manager)

    def everything() -> list[dict[str, Any]] | None:
        messages = [listed.message or {}, *listed.followups]
        text = "\n".join(message_text(m) for m in messages)
        return messages if all(f"`{key}`" in text for key in keys) else None

    messages = await h.wait_for(everything)
    assert len(messages) > 1
    assert all(len(m["content"]) <= 2000 and m["flags"] & 64 for m in messages)
    assert "more" not in "".join(m["content"] for m in messages)


# -- follow-ups that must survive a crash (migration 0006) ------------------------------------


class Killed(BaseException):
    """The process died here (no `except Exception` in the bot catches it)."""


async def test_crash_after_pausing_still_sends_the_pause_notice(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds, h = env.feeds, env.h
    feeds.set_feed("/lab.atom", atom_feed([feed_entry(1)]))
    source = f"feed:{feeds.url}/lab.atom"
    await env.follow(source)
    await env.radar.run_cycle_once()
    feeds.fault("/lab.atom", "500", times=5)
    for _ in range(4):
        await env.radar.run_cycle_once(ignore_backoff=True)
    original = env.radar.parts.outbox.record_failure

    async def then_crash(*args: Any, **kwargs: Any) -> bool:
        await original(*args, **kwargs)
        raise Killed("after pausing")

    monkeypatch.setattr(env.radar.parts.outbox, "record_failure", then_crash)
    with pytest.raises(Killed):
        await env.radar.run_cycle_once(ignore_backoff=True)
    status = await env.radar.parts.outbox.source_status(source)
    assert status is not None and status.paused
    assert env.posts(env.channel()) == []

    await h.restart()
    await env.radar.drain_outbox()
    [notice] = env.posts(env.channel())
    assert "paused" in notice["content"] and "/releases resume" in notice["content"]
    await env.radar.run_cycle_once(ignore_backoff=True)
    assert len(env.posts(env.channel())) == 1, "sent once"


async def test_thread_is_opened_after_a_failed_create_or_a_crash(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = env.h
    await h.slash("agora settings", {"setting": "announce_threads", "value": "on"}, user=h.manager)
    env.hub.add_model("org/a", created_at="2024-01-01T00:00:00.000Z")
    await env.follow("hf:org")
    await env.radar.run_cycle_once()

    # One failed create_thread: the thread is retried at the next drain.
    h.emu.fail_next("POST", r"/channels/\d+/messages/\d+/threads", status=503)
    env.hub.add_model("org/b", created_at="2024-02-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    [first] = env.posts(env.channel())
    assert h.emu.channels.get(int(first["id"])) is None
    await env.radar.run_cycle_once()
    thread = h.emu.channels.get(int(first["id"]))
    assert thread is not None and thread.is_thread and thread.name == "org/b"

    # A crash right after recording the post: the restart opens the thread.
    original = env.radar.record_posted

    async def then_crash(*args: Any, **kwargs: Any) -> None:
        await original(*args, **kwargs)
        raise Killed("after record")

    monkeypatch.setattr(env.radar, "record_posted", then_crash)
    env.hub.add_model("org/c", created_at="2024-03-01T00:00:00.000Z")
    with pytest.raises(Killed):
        await env.radar.run_cycle_once()
    second = env.posts(env.channel())[1]
    assert h.emu.channels.get(int(second["id"])) is None
    await h.restart()
    await env.radar.drain_outbox()
    thread = h.emu.channels.get(int(second["id"]))
    assert thread is not None and thread.is_thread and thread.name == "org/c"
    assert sum(1 for c in h.emu.channels.values() if c.is_thread) == 2
