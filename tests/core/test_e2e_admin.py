"""End to end through the emulator: /about, /agora settings, errors, resume, command sync."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import client
from bot.database import Database, bundled_migrations
from bot.database_target import DatabaseTarget
from tests.harness import TEST_TOKEN, AgoraHarness, response_text
from tests.resilience.process import BotProcess


async def test_about_answers(agora: AgoraHarness) -> None:
    interaction = await agora.slash("about")
    text = response_text(interaction)
    assert not interaction.ephemeral
    for label in ("Version", "Uptime", "Gateway latency", "Servers: 2", "Shards: 1", "Database"):
        assert label in text
    loaded = agora.running_bot.registry.names()
    assert {"admin", "stances"} <= set(loaded)  # every feature on the feature contract
    assert f"Features: {', '.join(loaded)}" in text


async def test_manager_changes_a_setting(agora: AgoraHarness) -> None:
    interaction = await agora.slash(
        "agora settings", {"setting": "retention_days", "value": "7"}, user=agora.manager
    )
    assert interaction.ephemeral
    assert "`retention_days` is now 7" in response_text(interaction)
    settings = await agora.running_bot.guild_repo.get_settings(agora.guild.id)
    assert settings.retention_days == 7
    other = await agora.running_bot.guild_repo.get_settings(agora.guilds[1].id)
    assert other.retention_days == 30

    shown = await agora.slash("agora settings", user=agora.manager)
    assert shown.ephemeral
    assert "retention_days: 7" in response_text(shown)


async def test_member_without_manage_server_is_refused(agora: AgoraHarness) -> None:
    # The command's default permission hides it from such members; a server can override that,
    # so the emulator skips its own check here and the bot's check must refuse.
    with pytest.raises(PermissionError):
        await agora.emu.slash(agora.guild.id, agora.member, "agora settings")
    interaction = await agora.slash(
        "agora settings", {"setting": "retention_days", "value": "9"}, validate=False
    )
    assert interaction.ephemeral
    assert "Manage Server" in response_text(interaction)
    settings = await agora.running_bot.guild_repo.get_settings(agora.guild.id)
    assert settings.retention_days == 30


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"setting": "retention_days", "value": "400"}, "1 to 365"),
        ({"setting": "manager_role", "value": "@everyone"}, "takes a role"),
        ({"setting": "announce_threads"}, "Give both"),
    ],
)
async def test_bad_values_are_refused_and_change_nothing(
    agora: AgoraHarness, options: dict[str, str], expected: str
) -> None:
    interaction = await agora.slash("agora settings", options, user=agora.manager)
    assert interaction.ephemeral
    assert expected in response_text(interaction)
    settings = await agora.running_bot.guild_repo.get_settings(agora.guild.id)
    assert settings == type(settings)()


async def test_roles_and_channels_must_belong_to_this_server(agora: AgoraHarness) -> None:
    other = agora.guilds[1]
    foreign_role = agora.emu.add_role(other.id, "elsewhere")
    cases = [
        ("manager_role", f"<@&{foreign_role}>", "pick a role of this server"),
        ("manager_role", f"<@&{agora.guild.id}>", "@everyone is every member"),
        ("debate_role", str(foreign_role), "pick a role of this server"),
        ("debate_channel", f"<#{other.general_id}>", "pick a text channel of this server"),
        ("debate_channel", "123456789012345678", "pick a text channel of this server"),
        ("retention_days", "\u00b2", "whole number of days"),
    ]
    for setting, value, expected in cases:
        interaction = await agora.slash(
            "agora settings", {"setting": setting, "value": value}, user=agora.manager
        )
        assert interaction.ephemeral
        assert expected in response_text(interaction), (setting, value)
    settings = await agora.running_bot.guild_repo.get_settings(agora.guild.id)
    assert settings == type(settings)()

    own_role = agora.emu.add_role(agora.guild.id, "debaters")
    guild = agora.running_bot.get_guild(agora.guild.id)
    assert guild is not None
    await agora.wait_for(lambda: guild.get_role(own_role))
    for setting, value in (
        ("debate_role", f"<@&{own_role}>"),
        ("debate_channel", f"<#{agora.guild.general_id}>"),
    ):
        interaction = await agora.slash(
            "agora settings", {"setting": setting, "value": value}, user=agora.manager
        )
        assert "is now" in response_text(interaction)
    settings = await agora.running_bot.guild_repo.get_settings(agora.guild.id)
    assert (settings.debate_role, settings.debate_channel) == (own_role, agora.guild.general_id)


async def test_server_that_removed_the_bot_while_offline_starts_its_retention(
    agora: AgoraHarness,
) -> None:
    gone = 123456789012345678
    await agora.running_bot.guild_repo.ensure(gone)
    await agora.restart()
    repo = agora.running_bot.guild_repo
    # on_ready runs right after the bot is ready.
    await agora.wait_for(lambda: repo.left_before(gone))
    for guild in agora.guilds:
        assert await agora.running_bot.guild_repo.left_before(guild.id) is None


async def test_unexpected_error_shows_an_error_code(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(guild_id: int) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(agora.running_bot.guild_repo, "get_settings", broken)
    agora.expect_error_log(r"unexpected error \[[0-9A-F]{6}\]")
    interaction = await agora.slash("agora settings", user=agora.manager)
    assert interaction.ephemeral
    text = response_text(interaction)
    assert "error code" in text
    code = text.split("`")[1]
    logged = [r for r in agora.errors.records if code in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "disk on fire" not in text


async def test_resumes_after_dropped_gateway(agora: AgoraHarness) -> None:
    await agora.emu.drop_gateway()
    await agora.wait_for(lambda: agora.emu.resume_count == 1, within=10)
    interaction = await agora.slash("about")
    assert "Version" in response_text(interaction)
    assert agora.emu.identify_count == 1


async def test_commands_synced_only_when_changed(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(agora.emu.command_syncs) == 1
    synced = {c["name"] for c in agora.emu.command_syncs[0][1]}
    assert {"about", "agora"} <= synced
    await agora.restart()
    assert len(agora.emu.command_syncs) == 1, "unchanged commands were synced again"
    extensions = client.cog_extensions()
    monkeypatch.setattr(
        client, "cog_extensions", lambda: [*extensions, "tests.core.extra_extension"]
    )
    await agora.restart()
    assert len(agora.emu.command_syncs) == 2
    assert "extra" in {c["name"] for c in agora.emu.command_syncs[1][1]}
    await agora.restart()
    assert len(agora.emu.command_syncs) == 2


@contextlib.asynccontextmanager
async def one_community(
    tmp_path: Path, database_target: DatabaseTarget
) -> AsyncIterator[AgoraHarness]:
    """An emulator with one community, the bot not started yet; closed after."""
    harness = AgoraHarness(tmp_path, database=database_target)
    await harness.start_emulator(guild_count=1)
    try:
        yield harness
    finally:
        await harness.close()


async def test_dev_guild_sync(tmp_path: Path, database_target: DatabaseTarget) -> None:
    async with one_community(tmp_path, database_target) as harness:
        harness.settings_overrides["agora_dev_guild"] = harness.guild.id
        await harness.start_bot()
        assert [g for g, _ in harness.emu.command_syncs] == [harness.guild.id]
        assert "Version" in response_text(await harness.slash("about"))


async def test_configured_gateway_url_wins_over_the_advertised_one(
    tmp_path: Path, database_target: DatabaseTarget
) -> None:
    """Through an API proxy, GET /gateway/bot returns Discord's gateway: DISCORD_GATEWAY_URL
    must still be the one the bot connects to, from the first connection on."""
    async with one_community(tmp_path, database_target) as harness:
        harness.emu.advertised_gateway_url = "ws://127.0.0.1:1/not-the-configured-gateway"
        await harness.start_bot()
        assert harness.emu.identify_count == 1
        assert "Version" in response_text(await harness.slash("about"))


async def test_real_process_against_the_emulator(
    tmp_path: Path, database_target: DatabaseTarget
) -> None:
    """`python -m bot` configured only through the environment (``AGORA_DATABASE`` a SQLite
    file or a PostgreSQL URL); SIGTERM ends it with 0."""
    harness = AgoraHarness(tmp_path)
    await harness.start_emulator(guild_count=1)
    bot = BotProcess(harness.emu, tmp_path, database_target)
    try:
        await bot.start(harness.guild, harness.member)  # until it answers /about
        assert harness.emu.command_syncs
        assert await bot.terminate() == 0, bot.log_text()
        log = bot.log_text()
        assert "stopped cleanly" in log
        assert TEST_TOKEN not in log
        assert " ERROR " not in log and "Traceback" not in log, log
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.kill()
        await harness.close()
    # The process ran on that database: migrated it and recorded the community it serves.
    db = await Database.open(database_target)
    try:
        assert await db.schema_version() == bundled_migrations(db.engine)[-1].version
        guilds = [row[0] for row in await db.fetch_all("SELECT guild_id FROM guilds")]
        assert guilds == [harness.guild.id]
    finally:
        await db.close()
