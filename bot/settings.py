"""Process settings, read from the environment and `.env`.

Built in `main()` (never at import) so tests and operator subcommands choose their own values.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.database_target import DatabaseTarget, SqliteTarget, parse_database_target
from bot.releases.config import RadarConfig

# A bot token is three dot-separated base64url parts: user id, timestamp, HMAC.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")

#: Every environment variable Agora reads, with the hint shown when it is invalid.
HINTS: dict[str, str] = {
    "DISCORD_TOKEN": "set it to your bot's token from the Discord Developer Portal (Bot > Reset Token)",
    "AGORA_DATABASE": (
        "set it to a writable SQLite file path such as data/agora.db, or a PostgreSQL URL "
        "such as postgresql://agora@127.0.0.1:5432/agora"
    ),
    "DISCORD_API_BASE": "set it to an http(s) URL such as https://discord.com/api/v10, or leave it unset",
    "DISCORD_GATEWAY_URL": "set it to a ws(s) URL such as wss://gateway.discord.gg, or leave it unset",
    "HF_ENDPOINT": "set it to an http(s) URL such as https://huggingface.co, or leave it unset",
    "HF_TOKEN": "set it to a Hugging Face access token, or leave it unset",
    "AGORA_GITHUB_BASE": "set it to an http(s) URL such as https://github.com, or leave it unset",
    "AGORA_RELEASE_POLL_SECONDS": "set it to a whole number of seconds between 10 and 86400",
    "AGORA_ALLOW_PRIVATE_URLS": "set it to true or false",
    "AGORA_DEV_GUILD": "set it to a server id (a number), or leave it unset",
    "LOG_LEVEL": "set it to DEBUG, INFO, WARNING or ERROR",
    "LOG_FORMAT": "set it to text (the default) or json (one JSON object per line)",
    "AGORA_HTTP_ADDRESS": "set it to host:port, e.g. 127.0.0.1:9321, or leave it unset (no endpoint)",
    "AGORA_SHARD_COUNT": (
        "set it to the cluster's total number of shards (a whole number from 1), or leave it "
        "unset (one process runs every shard)"
    ),
    "AGORA_SHARD_IDS": (
        "set it to this process's shards below AGORA_SHARD_COUNT (set both), such as 0-3, "
        "4,5,6 or 0-1,4, or leave it unset (every shard)"
    ),
}


_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_FORMATS = frozenset({"text", "json"})


class Settings(BaseSettings):
    """Agora's settings; field names match the environment variables case-insensitively."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    discord_token: SecretStr | None = None
    agora_database: DatabaseTarget = SqliteTarget(Path("data/agora.db"))
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    hf_endpoint: str = "https://huggingface.co"
    hf_token: SecretStr | None = None
    agora_github_base: str = "https://github.com"
    agora_release_poll_seconds: int = Field(default=300, ge=10, le=86400)
    agora_allow_private_urls: bool = False
    agora_dev_guild: int | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    agora_http_address: str | None = None
    agora_shard_count: int | None = Field(default=None, ge=1, le=65536)
    agora_shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    @field_validator("agora_database", mode="before")
    @classmethod
    def _database(cls, value: str | Path | DatabaseTarget) -> DatabaseTarget:
        return parse_database_target(value)

    @field_validator("discord_api_base", "hf_endpoint", "agora_github_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not re.match(r"^wss?://[^\s/]+", value):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @field_validator("log_level", "log_format")
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        """A word from a fixed list, in either case: the logging level or the log format."""
        if info.field_name == "log_level":
            value, allowed, wrong = value.strip().upper(), _LEVELS, "unknown logging level"
        else:
            value, allowed, wrong = value.strip().lower(), _FORMATS, "must be text or json"
        if value not in allowed:
            raise ValueError(wrong)
        return value

    @field_validator("agora_http_address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        split_address(value.strip())
        return value.strip()

    @field_validator("agora_shard_count", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("agora_shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            ids = parse_shard_ids(value)
        elif isinstance(value, list | tuple):
            ids = parse_shard_ids(",".join(str(v) for v in value))
        else:
            raise ValueError("must be shard numbers such as 0-3 or 4,5,6")
        if "agora_shard_count" not in info.data:  # the count itself was refused
            return ids
        count = info.data["agora_shard_count"]
        if count is None:
            raise ValueError("is set without AGORA_SHARD_COUNT")
        too_high = [i for i in ids if i >= count]
        if too_high:
            raise ValueError(
                f"names shard {too_high[0]}, but AGORA_SHARD_COUNT={count} has shards 0-{count - 1}"
            )
        return ids

    @field_validator("discord_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        if not _TOKEN_SHAPE.match(token):
            raise ValueError("is malformed (expected three dot-separated parts)")
        return SecretStr(token)

    def require_token(self) -> str:
        """The token, or a SettingsError when it is missing."""
        if self.discord_token is None:
            raise SettingsError(f"DISCORD_TOKEN is not set: {HINTS['DISCORD_TOKEN']}.")
        return self.discord_token.get_secret_value()

    def radar_config(self) -> RadarConfig:
        """What the release radar needs from these settings."""
        return RadarConfig(
            hf_endpoint=self.hf_endpoint,
            hf_token=self.hf_token.get_secret_value() if self.hf_token else None,
            github_base=self.agora_github_base,
            allow_private_urls=self.agora_allow_private_urls,
            poll_seconds=float(self.agora_release_poll_seconds),
        )

    @property
    def http_address(self) -> tuple[str, int] | None:
        """(host, port) of the operator endpoint, or None when it is off."""
        if self.agora_http_address is None:
            return None
        return split_address(self.agora_http_address)

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """This process's shards: ``AGORA_SHARD_IDS``, every shard of ``AGORA_SHARD_COUNT``
        when only the count is set, or None (no shard settings: discord.py asks Discord how
        many shards to run, and this process runs them all)."""
        if self.agora_shard_count is None:
            return None
        return self.agora_shard_ids or tuple(range(self.agora_shard_count))

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    def masked(self) -> dict[str, str]:
        """The effective settings for display, secrets masked."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value: Any = getattr(self, name)
            if isinstance(value, SecretStr):
                secret = value.get_secret_value()
                text = f"set (…{secret[-4:]})" if len(secret) > 12 else "set"
            elif value is None:
                text = "(unset)"
            elif isinstance(value, tuple):
                text = ",".join(str(part) for part in value)
            else:
                text = str(value)
            shown[name.upper()] = text
        return shown


def split_address(text: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) as (host, port); ValueError when it is not one.

    Port 0 asks the system for a free port (tests)."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if (
        not sep
        or not host
        or not port.isdigit()
        or int(port) > 65535
        or any(c.isspace() for c in text)
    ):
        raise ValueError("must be host:port")
    return host, int(port)


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``0-3``, ``4,5,6`` or mixes such as ``0-1,4`` as sorted shard ids; ValueError (a reason
    for one line) on anything else: not a number, an empty range (``3-1``), a shard twice."""
    ids: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
            raise ValueError(f"has {part.strip()!r}, which is not a shard number or a range A-B")
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(f"has the empty range {part.strip()}")
        ids.extend(range(low, high + 1))
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        raise ValueError(f"names shard {repeated[0]} twice")
    return tuple(sorted(ids))


class SettingsError(Exception):
    """Invalid configuration; its message is one line naming the variable and the fix."""


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and `.env`, turning validation errors into one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        reason = error["msg"].removeprefix("Value error, ")
        hint = HINTS.get(variable, "check its value")
        raise SettingsError(f"{variable} {reason}: {hint}.") from None
