"""Per-community settings, validated by pydantic, and how `/agora settings` edits them."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.debates.schedule import parse_weekly_schedule
from bot.errors import UserFacingError


class GuildSettings(BaseModel):
    """What a community can configure. Unknown keys in stored JSON are ignored."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    manager_role: int | None = Field(
        default=None, description="role that may manage Agora besides Manage Server"
    )
    debate_role: int | None = Field(
        default=None, description="role allowed to start polls and debates (default everyone)"
    )
    debate_channel: int | None = Field(default=None, description="channel for scheduled debates")
    weekly_debate: str = Field(default="off", description="`off`, or a weekday and UTC time")
    retention_days: int = Field(
        default=30, ge=1, le=365, description="days to keep data after the bot leaves"
    )
    announce_threads: bool = Field(
        default=False, description="open a thread under every release announcement"
    )

    @field_validator("weekly_debate")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            return parse_weekly_schedule(value).to_setting()
        except UserFacingError as exc:
            raise ValueError(exc.message) from None


#: The settings `/agora settings` offers, in the order they are shown.
SETTING_NAMES: tuple[str, ...] = tuple(GuildSettings.model_fields)
ROLE_SETTINGS = {"manager_role", "debate_role"}
CHANNEL_SETTINGS = {"debate_channel"}
_CLEAR_WORDS = {"none", "off", "clear", "unset", "-"}
_TRUE_WORDS = {"on", "true", "yes", "1", "enable", "enabled"}
_FALSE_WORDS = {"off", "false", "no", "0", "disable", "disabled"}


def change_setting(current: GuildSettings, name: str, raw: str) -> GuildSettings:
    """A copy of `current` with `name` set from the member's text, or a UserFacingError.

    Roles and channels are given as a mention (`<@&id>`, `<#id>`), a bare id, or `none`.
    """
    if name not in SETTING_NAMES:
        raise UserFacingError(
            f"There is no setting `{name}`. Settings: {', '.join(SETTING_NAMES)}."
        )
    text = raw.strip()
    if not text or len(text) > 100:
        raise UserFacingError("The value must be between 1 and 100 characters.")
    value: Any
    if name in ROLE_SETTINGS or name in CHANNEL_SETTINGS:
        value = _parse_snowflake(name, text)
    elif name == "announce_threads":
        lowered = text.lower()
        if lowered in _TRUE_WORDS:
            value = True
        elif lowered in _FALSE_WORDS:
            value = False
        else:
            raise UserFacingError("`announce_threads` takes `on` or `off`.")
    elif name == "retention_days":
        if not re.fullmatch(r"[0-9]{1,3}", text):
            raise UserFacingError("`retention_days` takes a whole number of days from 1 to 365.")
        value = int(text)
    else:
        value = text
    data = current.model_dump()
    data[name] = value
    try:
        return GuildSettings.model_validate(data)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ").rstrip(".")
        if name == "retention_days":
            reason = "it takes a whole number of days from 1 to 365"
        raise UserFacingError(f"`{name}` was not changed: {reason}.") from None


def _parse_snowflake(name: str, text: str) -> int | None:
    if text.lower() in _CLEAR_WORDS:
        return None
    match = re.fullmatch(r"<(?:@&|#)(\d{15,21})>|(\d{15,21})", text)
    if not match:
        kind = "role" if name in ROLE_SETTINGS else "channel"
        raise UserFacingError(
            f"`{name}` takes a {kind} ({'@Role' if kind == 'role' else '#channel'} "
            f"or its id), or `none` to clear it."
        )
    return int(match.group(1) or match.group(2))


def describe_setting(settings: GuildSettings, name: str) -> str:
    """How one setting's value reads in Discord (mentions for roles and channels)."""
    value = getattr(settings, name)
    if value is None:
        return "everyone" if name == "debate_role" else "not set"
    if name in ROLE_SETTINGS:
        return f"<@&{value}>"
    if name in CHANNEL_SETTINGS:
        return f"<#{value}>"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)
