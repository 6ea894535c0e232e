"""Process settings and per-community settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.community import GuildSettings, change_setting, describe_setting
from bot.database_target import PostgresTarget, SqliteTarget
from bot.errors import UserFacingError
from bot.settings import SettingsError, load_settings

GOOD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "AGORA_", "HF_", "LOG_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_and_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", GOOD_TOKEN)
    settings = load_settings()
    assert settings.require_token() == GOOD_TOKEN
    assert settings.agora_release_poll_seconds == 300
    assert str(settings.agora_database) == "data/agora.db"
    shown = settings.masked()
    assert GOOD_TOKEN not in "".join(shown.values())
    assert shown["DISCORD_TOKEN"].startswith("set")
    assert GOOD_TOKEN not in repr(settings)


def test_dotenv_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={GOOD_TOKEN}\nAGORA_RELEASE_POLL_SECONDS=60\n")
    settings = load_settings()
    assert settings.agora_release_poll_seconds == 60
    assert settings.require_token() == GOOD_TOKEN


def test_operator_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().http_address is None
    monkeypatch.setenv("AGORA_HTTP_ADDRESS", "127.0.0.1:9321")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    settings = load_settings()
    assert settings.http_address == ("127.0.0.1", 9321) and settings.log_format == "json"
    monkeypatch.setenv("AGORA_HTTP_ADDRESS", "[::1]:9321")
    assert load_settings().http_address == ("::1", 9321)


def test_missing_token() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN is not set"):
        load_settings().require_token()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DISCORD_TOKEN", "not-a-token", "DISCORD_TOKEN is malformed"),
        ("AGORA_RELEASE_POLL_SECONDS", "5", "AGORA_RELEASE_POLL_SECONDS"),
        ("AGORA_RELEASE_POLL_SECONDS", "soon", "AGORA_RELEASE_POLL_SECONDS"),
        ("DISCORD_API_BASE", "ftp://x", "DISCORD_API_BASE must be an http"),
        ("DISCORD_GATEWAY_URL", "http://x", "DISCORD_GATEWAY_URL must be a ws"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("AGORA_DEV_GUILD", "abc", "AGORA_DEV_GUILD"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be text or json"),
        ("AGORA_HTTP_ADDRESS", "localhost", "AGORA_HTTP_ADDRESS must be host:port"),
        ("AGORA_HTTP_ADDRESS", "9321", "AGORA_HTTP_ADDRESS must be host:port"),
        ("AGORA_DATABASE", "mysql://db/agora", "AGORA_DATABASE has the unknown scheme mysql://"),
        ("AGORA_DATABASE", "postgresql://127.0.0.1:5432", "AGORA_DATABASE names no database"),
        ("AGORA_DATABASE", "postgresql://127.0.0.1:5432/", "AGORA_DATABASE names no database"),
        ("AGORA_DATABASE", "postgresql:///agora", "AGORA_DATABASE names no server"),
        ("AGORA_DATABASE", "postgresql://h:port/agora", "AGORA_DATABASE is not a valid"),
        ("AGORA_DATABASE", "sqlite://agora.db", "AGORA_DATABASE must be sqlite:///PATH"),
        ("AGORA_DATABASE", "  ", "AGORA_DATABASE is empty"),
        ("AGORA_HTTP_ADDRESS", ":9321", "AGORA_HTTP_ADDRESS must be host:port"),
        ("AGORA_HTTP_ADDRESS", "127.0.0.1:70000", "AGORA_HTTP_ADDRESS must be host:port"),
        ("AGORA_HTTP_ADDRESS", "127.0.0.1:http", "AGORA_HTTP_ADDRESS must be host:port"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert value not in message or variable != "DISCORD_TOKEN"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data/agora.db", SqliteTarget(Path("data/agora.db"))),
        ("sqlite:///data/agora.db", SqliteTarget(Path("data/agora.db"))),
        ("sqlite:////var/lib/agora.db", SqliteTarget(Path("/var/lib/agora.db"))),
        (
            "postgresql://agora@127.0.0.1:5432/agora",
            PostgresTarget("postgresql://agora@127.0.0.1:5432/agora", "agora"),
        ),
        ("postgres://db.internal/agora", PostgresTarget("postgres://db.internal/agora", "agora")),
    ],
)
def test_database_targets(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: SqliteTarget | PostgresTarget
) -> None:
    monkeypatch.setenv("AGORA_DATABASE", value)
    assert load_settings().agora_database == expected


def test_a_database_password_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_DATABASE", "postgresql://agora:hunter22@db:5432/agora")
    shown = load_settings().masked()["AGORA_DATABASE"]
    assert shown == "postgresql://agora:***@db:5432/agora"


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "AGORA_"))}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = run_cli(env={}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]] and "DISCORD_TOKEN is not set" in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_token_exits_2_without_echoing_it(tmp_path: Path) -> None:
    result = run_cli(env={"DISCORD_TOKEN": "hunter2-secret"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN is malformed" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_check_config_masks_and_migrate_and_backup(tmp_path: Path) -> None:
    env = {"DISCORD_TOKEN": GOOD_TOKEN, "AGORA_DATABASE": str(tmp_path / "db" / "a.db")}
    shown = run_cli("check-config", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert GOOD_TOKEN not in shown.stdout and "DISCORD_TOKEN=set" in shown.stdout
    assert "LOG_FORMAT=text" in shown.stdout and "AGORA_HTTP_ADDRESS=(unset)" in shown.stdout
    assert "configuration OK" in shown.stdout
    migrated = run_cli("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "schema version" in migrated.stdout
    again = run_cli("migrate", env=env, cwd=tmp_path)
    assert "applied 0 migration(s)" in again.stdout
    backed = run_cli("backup", str(tmp_path / "copy.db"), env=env, cwd=tmp_path)
    assert backed.returncode == 0, backed.stderr
    assert (tmp_path / "copy.db").stat().st_size > 0


def test_unusable_database_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"DISCORD_TOKEN": GOOD_TOKEN, "AGORA_DATABASE": str(tmp_path)}  # a folder
    result = run_cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "AGORA_DATABASE" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_change_setting_valid_values() -> None:
    current = GuildSettings()
    assert change_setting(current, "retention_days", "7").retention_days == 7
    assert change_setting(current, "announce_threads", "on").announce_threads is True
    role = change_setting(current, "manager_role", "<@&123456789012345678>")
    assert role.manager_role == 123456789012345678
    assert describe_setting(role, "manager_role") == "<@&123456789012345678>"
    assert change_setting(role, "manager_role", "none").manager_role is None
    assert change_setting(current, "debate_channel", "123456789012345678").debate_channel
    assert change_setting(current, "weekly_debate", "Monday 9:05").weekly_debate == "mon 09:05"
    assert describe_setting(current, "debate_role") == "everyone"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("retention_days", "0", "1 to 365"),
        ("retention_days", "366", "1 to 365"),
        ("retention_days", "many", "1 to 365"),
        ("announce_threads", "maybe", "on` or `off"),
        ("manager_role", "@everyone", "takes a role"),
        ("debate_channel", "general", "takes a channel"),
        ("weekly_debate", "someday 12:00", "not a weekday"),
        ("weekly_debate", "mon 25:00", "00:00 to 23:59"),
        ("colour", "red", "no setting"),
        ("retention_days", "x" * 101, "1 and 100"),
    ],
)
def test_change_setting_refuses_bad_values(name: str, value: str, expected: str) -> None:
    current = GuildSettings(retention_days=9)
    with pytest.raises(UserFacingError, match=expected):
        change_setting(current, name, value)
    assert current.retention_days == 9


@pytest.mark.parametrize(
    ("count", "ids", "shards"),
    [
        (None, None, None),
        ("4", None, (0, 1, 2, 3)),  # a count alone: every shard of it
        ("8", "0-3", (0, 1, 2, 3)),
        ("8", "4,5,6", (4, 5, 6)),
        ("8", " 6, 0-1 ,4 ", (0, 1, 4, 6)),
        ("1", "0", (0,)),
    ],
)
def test_shard_settings(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str | None, shards: object
) -> None:
    for name, value in (("AGORA_SHARD_COUNT", count), ("AGORA_SHARD_IDS", ids)):
        if value is not None:
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.shard_ids == shards
    assert settings.agora_shard_count == (int(count) if count else None)


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [
        ("two", None, "AGORA_SHARD_COUNT Input should be a valid integer"),
        ("0", None, "AGORA_SHARD_COUNT Input should be greater than or equal to 1"),
        (None, "0-3", "AGORA_SHARD_IDS is set without AGORA_SHARD_COUNT"),
        ("4", "2-5", "AGORA_SHARD_IDS names shard 4, but AGORA_SHARD_COUNT=4 has shards 0-3"),
        ("4", "3-1", "AGORA_SHARD_IDS has the empty range 3-1"),
        ("4", "0-2,1", "AGORA_SHARD_IDS names shard 1 twice"),
        ("4", "one", "AGORA_SHARD_IDS has 'one', which is not a shard number or a range A-B"),
        ("4", "1,", "AGORA_SHARD_IDS has '', which is not a shard number or a range A-B"),
        ("4", "-1", "AGORA_SHARD_IDS has '-1', which is not a shard number or a range A-B"),
    ],
)
def test_invalid_shard_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str | None, message: str
) -> None:
    for name, value in (("AGORA_SHARD_COUNT", count), ("AGORA_SHARD_IDS", ids)):
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_invalid_shard_ids_stop_the_bot_with_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"DISCORD_TOKEN": GOOD_TOKEN, "AGORA_SHARD_COUNT": "2", "AGORA_SHARD_IDS": "1,2"}
    result = run_cli(env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "agora: AGORA_SHARD_IDS names shard 2, but AGORA_SHARD_COUNT=2 has shards 0-1: set it "
        "to this process's shards below AGORA_SHARD_COUNT (set both), such as 0-3, 4,5,6 or "
        "0-1,4, or leave it unset (every shard)."
    ]
    shown = run_cli(
        "check-config", env={**env, "AGORA_SHARD_IDS": "0-1"}, cwd=tmp_path
    ).stdout.splitlines()
    assert "AGORA_SHARD_COUNT=2" in shown and "AGORA_SHARD_IDS=0,1" in shown
