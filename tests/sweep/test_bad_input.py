"""Bad input sweep: hypothesis over every synced slash command's arguments.

The commands are read from the bot's command tree (`bot.tree`, every extension loaded) when the
tests are collected: one test per command, so a new command or option is swept without touching
this file, and one command's failure hides no other's. One bot per engine (``AGORA_TEST_ENGINES``)
serves the whole module: it runs on an event loop in a thread, and hypothesis drives plain
synchronous tests against it.

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
from tests.engines import ENGINES, create_target, drop_target
from tests.fakes.feeds import FeedServer
from tests.fakes.hub import FakeHub
from tests.harness import AgoraHarness, reply_text, wait_stored
from tests.sweep.inputs import (
    Leaf,
    Targets,
    hostile_strings,
    leaves_of,
    text_strategy,
    tree_commands,
    value_strategy,
)
from tests.sweep.support import (
    LoopThread,
    RefusalRecorder,
    pinging,
    settled,
    short_radar_limits,
    snapshot,
    stop_background_work,
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
#: Every command of the bot, from its command tree, read once when the tests are collected.
LEAVES = leaves_of(tree_commands())


def ids(leaves: list[Leaf]) -> list[str]:
    return [leaf.path.replace(" ", "-") for leaf in leaves]


@dataclasses.dataclass
class Sweep:
    lt: LoopThread
    h: AgoraHarness
    refusals: RefusalRecorder
    targets: Targets
    synced: dict[str, Leaf]  # path -> the command as the bot synced it

    @property
    def guild_id(self) -> int:
        return self.h.guild.id


@pytest.fixture(scope="module", params=ENGINES)
def sweep(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sweep]:
    lt = LoopThread()
    hub, feeds = FakeHub(), FeedServer(hang_seconds=3.0)
    path: Path = tmp_path_factory.mktemp("sweep")
    target = lt.run(create_target(request.param, path))
    h = AgoraHarness(
        path,
        database=target,
        agora_release_poll_seconds=3600,
        agora_allow_private_urls=False,  # as in production
    )

    async def start() -> None:
        await hub.start()
        await feeds.start()
        h.settings_overrides.update(hf_endpoint=hub.url, agora_github_base=feeds.url)
        await h.start_emulator(guild_count=1)
        h.emu.add_role(h.guild.id, "watchers")
        h.emu.add_channel(h.guild.id, "releases")
        bot = await h.start_bot()
        await stop_background_work(bot)
        await h.wait_for(lambda: bot.get_guild(h.guild.id) is not None)
        await seed(h)

    async def stop() -> None:
        try:
            await h.close()  # fails on errors, unknown routes, refused request bodies
        finally:
            await hub.stop()
            await feeds.stop()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Settings, "radar_config", short_radar_limits(Settings.radar_config))
        try:
            lt.run(start())
            guild = h.guild
            yield Sweep(
                lt=lt,
                h=h,
                refusals=RefusalRecorder(h.running_bot),
                targets=Targets(
                    roles=list(guild.roles),
                    channels=list(guild.channels),
                    users=list(guild.members),
                    hostile=hostile_strings(
                        guild.id,
                        next(r for r in guild.roles if r != guild.id),
                        h.member,
                        guild.general_id,
                    ),
                ),
                synced={leaf.path: leaf for leaf in leaves_of(h.emu.command_syncs[-1][1])},
            )
            h.check_alive()
        finally:
            try:
                lt.run(stop())
                lt.run(drop_target(target))
            finally:
                lt.stop()


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


def test_the_sweep_covers_every_synced_command(sweep: Sweep) -> None:
    assert len(LEAVES) >= 30, [leaf.path for leaf in LEAVES]
    assert {leaf.path: leaf for leaf in LEAVES} == sweep.synced


@pytest.mark.parametrize("leaf", LEAVES, ids=ids(LEAVES))
def test_command_survives_bad_input(sweep: Sweep, leaf: Leaf) -> None:
    sw = sweep
    leaf = sw.synced[leaf.path]
    users = [sw.h.manager, sw.h.member]
    outcomes: set[str] = set()

    @sweep_settings(EXAMPLES_PER_COMMAND)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(users), label="user")
        options: dict[str, Any] = {}
        for option in leaf.options:
            if option.get("required") or data.draw(st.booleans(), label=option["name"]):
                options[option["name"]] = data.draw(
                    value_strategy(sw.targets, option), label=option["name"]
                )
        outcomes.add(sw.lt.run(invoke(sw, leaf, options, user)))

    check()
    # Inputs got through to the bot, not only ones the client refuses.
    assert outcomes != {"refused by the Discord client"}, f"no input reached /{leaf.path}"


AUTOCOMPLETED = [leaf for leaf in LEAVES if leaf.focusable]


@pytest.mark.parametrize("leaf", AUTOCOMPLETED, ids=ids(AUTOCOMPLETED))
def test_autocomplete_survives_bad_input(sweep: Sweep, leaf: Leaf) -> None:
    sw = sweep
    leaf = sw.synced[leaf.path]
    users = [sw.h.manager, sw.h.member]

    @sweep_settings(EXAMPLES_PER_AUTOCOMPLETE)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        option = data.draw(st.sampled_from(leaf.focusable), label="focused")
        typed = data.draw(text_strategy(sw.targets.hostile), label="typed")
        user = data.draw(st.sampled_from(users), label="user")
        sw.lt.run(complete(sw, leaf, option["name"], typed, user))

    check()
