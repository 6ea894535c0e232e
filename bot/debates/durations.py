"""Durations typed by members: ``30m``, ``2h``, ``3d``, ``1h30m``, ``2 days 6 hours``.

A duration is a sequence of ``<number><unit>`` parts, added up. Units: ``w`` (weeks), ``d``,
``h``, ``m`` (minutes) and ``s``, with their long forms (``days``, ``hours``, ``min`` ...).
Case and whitespace are ignored. A bare number is refused because ``30`` could be minutes or
days; the message says to add a unit.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot import limits
from bot.errors import UserFacingError

#: Custom (button) polls: 1 minute to 30 days, 24 hours when no duration is given.
POLL_MIN = timedelta(minutes=1)
POLL_MAX = timedelta(days=30)
POLL_DEFAULT = timedelta(hours=24)

#: Native Discord polls run a whole number of hours, from 1 hour to 32 days (Discord's limit).
NATIVE_POLL_MIN_HOURS = 1
NATIVE_POLL_MAX_HOURS = limits.POLL_HOURS
NATIVE_POLL_DEFAULT_HOURS = 24

#: Debates: 4 minutes (so that each Oxford phase lasts at least a minute) to 30 days.
DEBATE_MIN = timedelta(minutes=4)
DEBATE_MAX = timedelta(days=30)
DEBATE_DEFAULT = timedelta(hours=24)

_UNITS: dict[str, int] = {}
for _seconds, _names in (
    (7 * 86400, ("w", "wk", "wks", "week", "weeks")),
    (86400, ("d", "day", "days")),
    (3600, ("h", "hr", "hrs", "hour", "hours")),
    (60, ("m", "min", "mins", "minute", "minutes")),
    (1, ("s", "sec", "secs", "second", "seconds")),
):
    for _name in _names:
        _UNITS[_name] = _seconds

_PART = re.compile(r"(\d{1,7})\s*([a-z]+)")
_EXAMPLES = "for example `30m`, `2h`, `3d` or `1h30m`"


def parse_duration(
    text: str | None,
    minimum: timedelta = POLL_MIN,
    maximum: timedelta = POLL_MAX,
    *,
    default: timedelta | None = None,
) -> timedelta:
    """Parse ``text`` into a duration between ``minimum`` and ``maximum`` (both included).

    An empty or missing ``text`` gives ``default`` when one is passed, else an error.
    Raises :class:`UserFacingError` with a message naming the accepted range.
    """
    raw = (text or "").strip().lower()
    if not raw:
        if default is not None:
            return default
        raise UserFacingError(f"Give a duration, {_EXAMPLES}.")
    compact = raw.replace(",", " ").replace(" and ", " ")
    position = 0
    total = 0
    seen: set[int] = set()
    for match in _PART.finditer(compact):
        if compact[position : match.start()].strip():
            break
        unit = _UNITS.get(match.group(2))
        if unit is None:
            raise UserFacingError(
                f"`{match.group(2)}` is not a unit I know in `{text}`: use d, h or m, {_EXAMPLES}."
            )
        if unit in seen:
            raise UserFacingError(
                f"`{text}` names the same unit twice: write it once, {_EXAMPLES}."
            )
        seen.add(unit)
        total += int(match.group(1)) * unit
        position = match.end()
    if position == 0 or compact[position:].strip():
        if compact.isdigit():
            raise UserFacingError(f"`{text}` needs a unit (m, h or d), {_EXAMPLES}.")
        raise UserFacingError(f"I can't read `{text}` as a duration: write it {_EXAMPLES}.")
    duration = timedelta(seconds=total)
    if duration < minimum or duration > maximum:
        raise UserFacingError(
            f"The duration must be between {format_duration(minimum)} and "
            f"{format_duration(maximum)}; `{text}` is {format_duration(duration)}."
        )
    return duration


def parse_poll_duration(text: str | None) -> timedelta:
    """A custom poll's duration: 1 minute to 30 days, 24 hours by default."""
    return parse_duration(text, POLL_MIN, POLL_MAX, default=POLL_DEFAULT)


def parse_debate_duration(text: str | None) -> timedelta:
    """A debate's whole duration: 4 minutes to 30 days, 24 hours by default."""
    return parse_duration(text, DEBATE_MIN, DEBATE_MAX, default=DEBATE_DEFAULT)


def parse_native_hours(text: str | None) -> int:
    """A native poll's duration in whole hours (what Discord's poll payload takes), 1 to 768.

    Minutes that do not make whole hours are refused rather than rounded, so the poll never
    closes at a time the member did not ask for.
    """
    duration = parse_duration(
        text,
        timedelta(hours=NATIVE_POLL_MIN_HOURS),
        timedelta(hours=NATIVE_POLL_MAX_HOURS),
        default=timedelta(hours=NATIVE_POLL_DEFAULT_HOURS),
    )
    hours, rest = divmod(int(duration.total_seconds()), 3600)
    if rest:
        raise UserFacingError(
            f"Native polls run whole hours: `{text}` is {format_duration(duration)}; "
            f"use for example `{max(hours, 1)}h` or `{hours + 1}h`."
        )
    return hours


def format_duration(duration: timedelta) -> str:
    """``timedelta(days=1, hours=6)`` -> ``"1 day 6 hours"``; seconds only below a minute."""
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        return "0 minutes"
    parts: list[str] = []
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {name}{'s' if amount != 1 else ''}")
    if seconds:
        parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
    return " ".join(parts)
