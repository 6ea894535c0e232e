"""Bad input sweep: hypothesis over every synced slash command's arguments.

The commands are read from what the bot synced (`emu.command_syncs`), so a new command or
option is swept without touching this file. One bot serves the whole module: it runs on an
event loop in a thread, and hypothesis drives plain synchronous tests against it.

For every generated input, as a manager and as a plain member:
- the Discord client would refuse it (lengths, ranges, choices, a command hidden by its default
  permissions): the emulator raises and nothing reaches the bot; or
- the bot answers (`response()` returns, so within the emulator's 3-second window), logs no
  ERROR (an unexpected error would show an error code), pings nobody (the emulator derives
  `mentions`, `mention_roles`, `mention_everyone` from `allowed_mentions`), and when it refused
  the input (the tree's error handler answered) the answer is ephemeral and the database is
  unchanged, row for row. Configuration commands refuse plain members.
Autocomplete is swept too: at most 25 choices of 1 to 100 characters, and no data changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.community import GuildSettings
from bot.settings import Settings
from tests.emulator.interactions import (
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from tests.fakes.feeds import FeedServer
from tests.fakes.hub import FakeHub
from tests.harness import AgoraHarness
from tests.sweep._support import (
    JSON,
    LoopThread,
    RefusalRecorder,
    pinging,
    reply_text,
    settled,
    short_radar_limits,
    snapshot,
    wait_stored,
)

#: Examples per command (as manager or member, chosen by hypothesis) and per autocomplete.
EXAMPLES_PER_COMMAND = 40
EXAMPLES_PER_AUTOCOMPLETE = 10
#: Commands that configure the community: a plain member is always refused (in code).
CONFIGURATION = {
    "agora settings",
    "releases follow",
    "releases unfollow",
    "releases resume",
    "stance statement remove",
    "stance purge",
}
DISCORD_INT = 2**53  # Discord's integer options range over ±2^53


@dataclasses.dataclass(frozen=True)
class Leaf:
    path: str
    options: tuple[JSON, ...]
    manager_only: bool


@dataclasses.dataclass
class Sweep:
    lt: LoopThread
    h: AgoraHarness
    refusals: RefusalRecorder
    leaves: list[Leaf]
    roles: list[int]
    channels: list[int]
    users: list[int]
    hostile: list[str]
    exercised: set[str] = dataclasses.field(default_factory=set)

    @property
    def guild_id(self) -> int:
        return self.h.guild.id


def leaves_of(commands: list[JSON]) -> list[Leaf]:
    out: list[Leaf] = []

    def walk(node: JSON, path: list[str], manager_only: bool) -> None:
        options = node.get("options") or []
        subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if not subs:
            out.append(Leaf(" ".join(path), tuple(options), manager_only))
        for sub in subs:
            walk(sub, [*path, sub["name"]], manager_only)

    for command in commands:
        if int(command.get("type", 1)) == 1:
            walk(command, [command["name"]], command.get("default_member_permissions") is not None)
    return out


def hostile_strings(guild_id: int, role: int, member: int, channel: int) -> list[str]:
    return [
        "",
        " ",
        "\n\n\t",
        "\u200b",
        "\u200b" * 40,
        "\u200d\u2060\ufeff",
        "\u202eevil\u202c",
        "𝕳𝖊𝖑𝖑𝖔 🎉 中文 العربية עברית",
        "é" * 300,
        "x" * 2001,
        "word " * 130,
        "**bold** __under__ ~~strike~~ ||spoiler|| `code` ```py\nprint(1)\n```",
        "> quote\n# Heading\n- list\n[link](https://evil.example/x)",
        "@everyone",
        "@here",
        "@everyone @here hello",
        f"<@{member}>",
        f"<@!{member}>",
        "<@123456789012345678>",
        f"<@&{role}>",
        f"<@&{guild_id}>",
        "<@&123456789012345678>",
        f"<#{channel}>",
        str(role),
        str(guild_id),
        "http://127.0.0.1/feed",
        "http://127.0.0.1:1/feed.atom",
        "feed:http://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed",
        "feed:http://[::1]:8080/",
        "http://localhost/",
        "http://10.0.0.1/rss",
        "file:///etc/passwd",
        "feed:gopher://127.0.0.1/",
        "hf:../../etc",
        "hf:",
        "github:a/b/../../c",
        "github:",
        "(a+)+$",
        "^(([a-z])+.)+[A-Z]([a-z])+$",
        "(.*a){25}",
        "include:(a+)+$",
        "include:" + "*" * 200 + "a exclude:[",
        "min_params:-1B license:???",
        "min_params:999999999999999999999B",
        "0m",
        "999d",
        "-1h",
        "1m",
        "30d",
        "31d",
        "32d",
        "33d",
        "0h",
        "1.5h",
        "1e9m",
        "٣h",
        "２h",
        "99999999999999999999999h",
        "0",
        "-1",
        "366",
        "NaN",
        "inf",
        "none",
        "None",
        "off",
        "on",
        "fri 18:00",
        "fri 25:99",
        "someday 18:00",
        "'; DROP TABLE polls; --",
        "%s %d {0} {}",
        "a\x00b",
        "a|b",
        "|",
        "||||",
        "yes|no|" * 20,
        "|".join(f"opt{n}" for n in range(26)),
        "|".join("o" * 81 for _ in range(3)),
        "a|a|a",
        # Plausible values too, so that some inputs succeed and data exists to protect.
        "Should open weights be the default?",
        "Open weights should be the default for frontier models",
        "yes|no",
        "share|safeguard|undecided",
        "2h",
        "3d",
        "hf:org",
        "github:huggingface/transformers",
        "include:llama* min_params:7B",
        "openness",
        "7d",
        "1",
        "2",
    ]


def text_strategy(hostile: list[str]) -> st.SearchStrategy[str]:
    fragment = st.one_of(st.sampled_from(hostile), st.text(max_size=20))
    return st.one_of(
        st.sampled_from(hostile),
        st.text(max_size=80),
        st.lists(fragment, min_size=1, max_size=4).map("".join),
        st.lists(fragment, min_size=2, max_size=30).map("|".join),
        st.integers(0, 2100).map(lambda n: "y" * n),
    )


def value_strategy(sw: Sweep, option: JSON) -> st.SearchStrategy[Any]:
    kind = int(option["type"])
    choices = [c["value"] for c in option.get("choices") or []]
    if choices:
        wrong: Any = "not-a-choice" if kind == STRING else 99
        return st.sampled_from([*choices, wrong])
    if kind == STRING:
        return text_strategy(sw.hostile)
    if kind in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        edges = [0, -1, 1, 2, 3, 2**31, DISCORD_INT, -DISCORD_INT]
        edges += [v + d for v in (low, high) if v is not None for d in (-1, 0, 1)]
        ints = st.one_of(st.sampled_from(edges), st.integers(-5, 40))
        if kind == NUMBER:
            return st.one_of(ints.map(float), st.floats(-1e6, 1e6, allow_nan=False))
        return ints
    if kind == BOOLEAN:
        return st.booleans()
    if kind == USER:
        return st.sampled_from(sw.users)
    if kind == CHANNEL:
        return st.sampled_from(sw.channels)
    if kind == ROLE:
        return st.sampled_from(sw.roles)
    if kind == MENTIONABLE:
        return st.sampled_from(sw.users + sw.roles)
    raise AssertionError(f"option type {kind} of {option['name']!r} is not swept yet")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    lt = LoopThread()
    hub, feeds = FakeHub(), FeedServer(hang_seconds=3.0)
    path: Path = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Settings, "radar_config", short_radar_limits(Settings.radar_config))

        async def start() -> AgoraHarness:
            await hub.start()
            await feeds.start()
            h = AgoraHarness(
                path,
                hf_endpoint=hub.url,
                agora_github_base=feeds.url,
                agora_release_poll_seconds=3600,
                agora_allow_private_urls=False,  # as in production
            )
            await h.start_emulator(guild_count=1)
            h.emu.add_role(h.guild.id, "watchers")
            h.emu.add_channel(h.guild.id, "releases")
            bot = await h.start_bot()
            # Only what the members do may change data: stop the background loops and jobs.
            await bot.jobs.stop_all()
            for cog_name, loop_name in (
                ("Releases", "radar_loop"),
                ("Stances", "retention_loop"),
            ):
                cog = bot.get_cog(cog_name)
                if cog is not None:
                    getattr(cog, loop_name).cancel()
            await h.wait_for(lambda: bot.get_guild(h.guild.id) is not None)
            await seed(h)
            return h

        h = lt.run(start())
        guild = h.guild
        sw = Sweep(
            lt=lt,
            h=h,
            refusals=RefusalRecorder(h.running_bot),
            leaves=leaves_of(h.emu.command_syncs[-1][1]),
            roles=list(guild.roles),
            channels=list(guild.channels),
            users=list(guild.members),
            hostile=hostile_strings(
                guild.id,
                next(r for r in guild.roles if r != guild.id),
                h.member,
                guild.general_id,
            ),
        )
        try:
            yield sw
            h.check_alive()
        finally:

            async def stop() -> None:
                try:
                    await h.close()
                finally:
                    await hub.stop()
                    await feeds.stop()

            lt.run(stop())
            lt.stop()
    assert not h.emu.unknown_routes, f"unknown routes: {h.emu.unknown_routes}"
    errors = h.unexpected_errors()
    assert not errors, f"the bot logged errors: {errors}"


async def seed(h: AgoraHarness) -> None:
    """Polls, a debate, statements, stances and a subscription: data the sweep must not
    change when it refuses an input, and numbers for `/poll close 1` and the like."""
    releases = next(c for c, ch in h.guild.channels.items() if ch.name == "releases")
    for name, options in (
        ("poll create", {"question": "Seed poll", "options": "a|b|c"}),
        ("poll native", {"question": "Seed native", "options": "x|y"}),
        ("debate start", {"topic": "Open weights should be the default", "format": "oxford"}),
        ("stance statement add", {"text": "Model weights should be public"}),
        ("stance statement add", {"text": "Benchmarks should be audited"}),
        ("stance set", {"position": 1}),
        ("releases follow", {"source": "hf:org", "channel": releases}),
    ):
        interaction = await h.slash(name, options, user=h.manager)
        await settled(h, interaction)
        assert "error code" not in reply_text(interaction)
    await wait_stored(h)


async def invoke(sw: Sweep, leaf: Leaf, options: dict[str, Any], user: int) -> str:
    """One command with one input; asserts the invariants; returns what happened."""
    h = sw.h
    db = h.running_bot.db
    errors_before = len(h.errors.records)
    before = await snapshot(db)
    is_member = user == h.member
    try:
        interaction = await h.emu.slash(
            sw.guild_id, user, leaf.path, options, validate=not (leaf.manager_only and is_member)
        )
    except (ValueError, PermissionError):
        return "refused by the Discord client"
    await settled(h, interaction)
    await wait_stored(h)
    h.check_alive()
    new_errors = [f"{r.name}: {r.getMessage()}" for r in h.errors.records[errors_before:]]
    assert not new_errors, f"/{leaf.path} {options!r} logged {new_errors}"
    text = reply_text(interaction)
    assert "error code" not in text, text
    assert pinging(h) == [], f"/{leaf.path} {options!r} sent a ping: {pinging(h)}"
    refused = interaction.id in sw.refusals.refused
    if leaf.path in CONFIGURATION and is_member:
        assert refused, f"/{leaf.path} accepted a plain member: {text!r}"
    after = await snapshot(db)
    if refused:
        assert interaction.ephemeral, f"/{leaf.path} {options!r}: public refusal {text!r}"
        changed = [t for t in after if after[t] != before.get(t)]
        assert not changed, f"/{leaf.path} {options!r} was refused but changed {changed}"
    # Keep the community's settings at their defaults, so every example starts alike.
    settings_now = await h.running_bot.guild_repo.get_settings(sw.guild_id)
    if settings_now != GuildSettings():
        await h.running_bot.guild_repo.save_settings(sw.guild_id, GuildSettings())
    return "refused by the bot" if refused else "answered"


async def complete(sw: Sweep, leaf: Leaf, option: str, typed: str, user: int) -> None:
    h = sw.h
    db = h.running_bot.db
    errors_before = len(h.errors.records)
    before = await snapshot(db)
    interaction = await h.emu.autocomplete(sw.guild_id, user, leaf.path, {option: typed}, option)
    choices = await interaction.wait_choices(timeout=15)
    new_errors = [f"{r.name}: {r.getMessage()}" for r in h.errors.records[errors_before:]]
    assert not new_errors, f"autocomplete /{leaf.path} {option}={typed!r} logged {new_errors}"
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100, choice
    assert await snapshot(db) == before, "autocomplete changed data"


def sweep_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def command_check(sw: Sweep, leaf: Leaf, outcomes: dict[str, set[str]]) -> Any:
    users = [sw.h.manager, sw.h.member]

    @sweep_settings(EXAMPLES_PER_COMMAND)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(users), label="user")
        options: dict[str, Any] = {}
        for option in leaf.options:
            if option.get("required") or data.draw(st.booleans(), label=option["name"]):
                options[option["name"]] = data.draw(
                    value_strategy(sw, option), label=option["name"]
                )
        outcome = sw.lt.run(invoke(sw, leaf, options, user))
        outcomes.setdefault(leaf.path, set()).add(outcome)

    return check


def autocomplete_check(sw: Sweep, leaf: Leaf, focusable: list[JSON]) -> Any:
    users = [sw.h.manager, sw.h.member]

    @sweep_settings(EXAMPLES_PER_AUTOCOMPLETE)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        option = data.draw(st.sampled_from(focusable), label="focused")
        typed = data.draw(text_strategy(sw.hostile), label="typed")
        user = data.draw(st.sampled_from(users), label="user")
        sw.lt.run(complete(sw, leaf, option["name"], typed, user))

    return check


def test_every_command_survives_bad_input(sweep: Sweep) -> None:
    sw = sweep
    assert len(sw.leaves) >= 30, [leaf.path for leaf in sw.leaves]
    outcomes: dict[str, set[str]] = {}
    for leaf in sw.leaves:
        command_check(sw, leaf, outcomes)()
        focusable = [o for o in leaf.options if o.get("autocomplete")]
        if focusable:
            autocomplete_check(sw, leaf, focusable)()
    # Every command got inputs through to the bot, not only ones the client refuses.
    unreached = [p for p, seen in outcomes.items() if seen == {"refused by the Discord client"}]
    assert not unreached, f"no generated input reached the bot for {unreached}"
    assert set(outcomes) == {leaf.path for leaf in sw.leaves}
