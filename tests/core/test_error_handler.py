"""The tree-level error handler: expected errors, check failures, unexpected errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord import app_commands

from bot import client
from bot.database_target import DatabaseTarget
from bot.error_handler import message_for
from bot.errors import UserFacingError
from tests.harness import AgoraHarness, response_text


def test_messages_for_expected_errors() -> None:
    assert message_for(UserFacingError("Do X.")) == "Do X."
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.__cause__ = UserFacingError("inner")
    assert message_for(wrapped) == "inner"
    missing = message_for(app_commands.MissingPermissions(["manage_guild"]))
    assert missing is not None and "Manage Server" in missing
    assert "only inside a server" in (message_for(app_commands.NoPrivateMessage()) or "")
    assert "can't use" in (message_for(app_commands.CheckFailure()) or "")
    assert message_for(RuntimeError("x")) is None


@pytest.fixture
async def faulty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_target: DatabaseTarget
) -> AsyncIterator[AgoraHarness]:
    extensions = client.cog_extensions()
    monkeypatch.setattr(
        client, "cog_extensions", lambda: [*extensions, "tests.core.faulty_extension"]
    )
    harness = AgoraHarness(tmp_path, database=database_target)
    await harness.start_emulator(guild_count=1)
    await harness.start_bot()
    try:
        yield harness
    finally:
        await harness.close()


async def test_expected_error_after_defer_is_a_private_follow_up(faulty: AgoraHarness) -> None:
    interaction = await faulty.slash("fail-after-defer", {"kind": "expected"})
    assert interaction.response_type == 5
    follow_up = await interaction.wait_followup(timeout=5)
    assert interaction.ephemeral
    assert "try `x` instead" in (follow_up.get("content") or "")


async def test_unexpected_error_after_defer_shows_a_code(faulty: AgoraHarness) -> None:
    faulty.expect_error_log(r"unexpected error \[[0-9A-F]{6}\] in fail-after-defer")
    interaction = await faulty.slash("fail-after-defer", {"kind": "unexpected"})
    follow_up = await interaction.wait_followup(timeout=5)
    assert "error code `" in (follow_up.get("content") or "")
    assert "boom" not in (follow_up.get("content") or "")


async def test_cooldown_is_explained(faulty: AgoraHarness) -> None:
    first = await faulty.slash("cooldown")
    assert response_text(first) == "ok"
    second = await faulty.slash("cooldown")
    assert second.ephemeral
    assert "Slow down: try again in" in response_text(second)
