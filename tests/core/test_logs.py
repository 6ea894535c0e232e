"""Structured logs (`LOG_FORMAT=json`): one JSON object per line, with what a record is about."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.logs import JsonFormatter, interaction_context
from tests.core.cli import run_agora
from tests.core.test_exit_paths import assert_one_line
from tests.harness import AgoraHarness, response_text


def record(message: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("bot.test", level, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_a_record_is_one_json_line_with_its_context() -> None:
    formatter = JsonFormatter()
    plain = json.loads(formatter.format(record("hello")))
    assert set(plain) == {"time", "level", "logger", "message"}
    assert plain["level"] == "INFO" and plain["logger"] == "bot.test"
    assert plain["time"].endswith("+00:00")

    with interaction_context(123456789012345678, "poll create"):
        line = formatter.format(record("boom\nsecond line", logging.ERROR, error_code="A1B2C3"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["guild_id"] == "123456789012345678"  # a string: snowflakes exceed doubles
    assert entry["command"] == "poll create" and entry["error_code"] == "A1B2C3"
    assert entry["message"] == "boom\nsecond line"
    assert "guild_id" not in json.loads(formatter.format(record("after"))), "context ended"

    try:
        raise ValueError("bad")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        failed.exc_info = sys.exc_info()
    entry = json.loads(formatter.format(failed))
    assert "ValueError: bad" in entry["traceback"]


async def test_an_unexpected_error_is_logged_with_its_server_command_and_code(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:

        async def broken(guild_id: int) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(agora.running_bot.guild_repo, "get_settings", broken)
        agora.expect_error_log(r"unexpected error \[[0-9A-F]{6}\]")
        text = response_text(await agora.slash("agora settings", user=agora.manager))
        code = text.split("`")[1]
    finally:
        logging.getLogger().removeHandler(handler)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    [error] = [e for e in entries if e["level"] == "ERROR"]
    assert error["error_code"] == code
    assert error["guild_id"] == str(agora.guild.id)
    assert error["command"] == "agora settings"
    assert error["logger"] == "bot.errors"
    assert "disk on fire" in error["traceback"]


async def test_log_format_json_from_the_environment(tmp_path: Path) -> None:
    env = {"AGORA_DATABASE": str(tmp_path / "a.db"), "LOG_FORMAT": "json"}
    status, _, err = await run_agora("migrate", cwd=tmp_path, env=env)
    assert status == 0, err
    lines = err.strip().splitlines()
    assert lines, "migrations are logged"
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
    assert any(json.loads(line)["message"].startswith("applied migration") for line in lines)


async def test_an_unknown_log_format_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"AGORA_DATABASE": str(tmp_path / "a.db"), "LOG_FORMAT": "yaml"}
    status, _, err = await run_agora("migrate", cwd=tmp_path, env=env)
    assert_one_line(status, err, "LOG_FORMAT must be text or json")
