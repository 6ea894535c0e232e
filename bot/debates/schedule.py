"""The weekly debate setting: ``off``, or a weekday and a UTC time like ``mon 18:00``.

Accepted: a weekday (``mon``, ``monday``, ``Mondays``; any case) then ``HH:MM`` (24-hour,
``9:05`` allowed), optionally ``at`` between and ``UTC`` after: ``friday at 17:30 UTC``.
``off`` (also ``none``, ``disabled``, empty) switches the weekly debate off.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.errors import UserFacingError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFF = {"off", "none", "disabled", "disable", "no", "never"}
_PATTERN = re.compile(
    r"^(?P<day>[a-z]+)\s*(?:at\s*)?(?P<hour>\d{1,2})[:h.](?P<minute>\d{2})\s*(?:utc|z)?$"
)
_EXAMPLE = "for example `mon 18:00` or `friday 17:30` (UTC), or `off`"


class WeeklySchedule(BaseModel):
    """A weekly slot in UTC; ``weekday`` 0 = Monday. Both ``None`` means off."""

    model_config = ConfigDict(frozen=True)

    weekday: int | None = Field(default=None, ge=0, le=6)
    at: time | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> WeeklySchedule:
        if (self.weekday is None) != (self.at is None):
            raise ValueError("weekday and time are given together, or neither (off)")
        if self.at is not None and (
            self.at.tzinfo is not None or self.at.second or self.at.microsecond
        ):
            raise ValueError("time is a naive UTC hour and minute")
        return self

    @property
    def enabled(self) -> bool:
        return self.weekday is not None

    def to_setting(self) -> str:
        """Canonical text to store and to parse back: ``off`` or ``mon 18:00``."""
        if self.weekday is None or self.at is None:
            return "off"
        return f"{WEEKDAYS[self.weekday][:3]} {self.at:%H:%M}"

    def describe(self) -> str:
        """For members: ``off`` or ``every Monday at 18:00 UTC``."""
        if self.weekday is None or self.at is None:
            return "off"
        return f"every {WEEKDAYS[self.weekday].capitalize()} at {self.at:%H:%M} UTC"


def _weekday(word: str) -> int | None:
    """Index of the weekday ``word`` names: a unique prefix of 2+ letters, or a plural."""
    if len(word) < 2:
        return None
    if word.endswith("s") and word[:-1] in WEEKDAYS:
        word = word[:-1]
    matches = [index for index, name in enumerate(WEEKDAYS) if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def parse_weekly_schedule(text: str | None) -> WeeklySchedule:
    """Parse the ``weekly_debate`` setting; :class:`UserFacingError` explains a bad value."""
    raw = " ".join((text or "").strip().lower().split())
    if not raw or raw in _OFF:
        return WeeklySchedule()
    match = _PATTERN.match(raw)
    if match is None:
        raise UserFacingError(f"I can't read `{text}` as a weekly time: write it {_EXAMPLE}.")
    weekday = _weekday(match.group("day"))
    if weekday is None:
        raise UserFacingError(
            f"`{match.group('day')}` is not a weekday: use mon, tue, wed, thu, fri, sat or sun."
        )
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 23 or minute > 59:
        raise UserFacingError(
            f"`{match.group('hour')}:{match.group('minute')}` is not a time of day: "
            "use 00:00 to 23:59 (UTC)."
        )
    return WeeklySchedule(weekday=weekday, at=time(hour, minute))


def next_occurrence(schedule: WeeklySchedule, now: datetime) -> datetime | None:
    """The first slot strictly after ``now`` (aware), in UTC; ``None`` when the schedule is off.

    "Strictly": at exactly Monday 18:00 the next occurrence is a week later, so a loop that
    wakes on time and asks again does not start the same debate twice.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if schedule.weekday is None or schedule.at is None:
        return None
    current = now.astimezone(UTC)
    days_ahead = (schedule.weekday - current.weekday()) % 7
    candidate = datetime.combine(current.date(), schedule.at, tzinfo=UTC) + timedelta(
        days=days_ahead
    )
    if candidate <= current:
        candidate += timedelta(days=7)
    return candidate
