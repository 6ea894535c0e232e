from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from bot.debates.schedule import WeeklySchedule, next_occurrence, parse_weekly_schedule
from bot.errors import UserFacingError


@pytest.mark.parametrize(
    ("text", "weekday", "at"),
    [
        ("mon 18:00", 0, time(18, 0)),
        ("friday 17:30", 4, time(17, 30)),
        ("  FRI   9:05 ", 4, time(9, 5)),
        ("sundays at 20:15 UTC", 6, time(20, 15)),
        ("Tu 00:00", 1, time(0, 0)),
        ("thu 23:59", 3, time(23, 59)),
        ("sat 18h30", 5, time(18, 30)),
    ],
)
def test_parse(text: str, weekday: int, at: time) -> None:
    schedule = parse_weekly_schedule(text)
    assert schedule == WeeklySchedule(weekday=weekday, at=at)
    assert schedule.enabled
    assert parse_weekly_schedule(schedule.to_setting()) == schedule


@pytest.mark.parametrize("text", ["off", "OFF", "", None, "none", "disabled"])
def test_off(text: str | None) -> None:
    schedule = parse_weekly_schedule(text)
    assert not schedule.enabled
    assert schedule.to_setting() == "off" and schedule.describe() == "off"
    assert next_occurrence(schedule, datetime(2025, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mnday 18:00", "not a weekday"),
        ("t 18:00", "not a weekday"),  # tuesday or thursday?
        ("s 18:00", "not a weekday"),
        ("mon 25:00", "not a time of day"),
        ("mon 18:60", "not a time of day"),
        ("mon", "can't read"),
        ("18:00", "can't read"),
        ("every day 18:00", "can't read"),
        ("mon 6pm", "can't read"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(UserFacingError, match=message):
        parse_weekly_schedule(text)


def test_describe() -> None:
    assert parse_weekly_schedule("wed 07:05").describe() == "every Wednesday at 07:05 UTC"
    assert parse_weekly_schedule("wed 7:05").to_setting() == "wed 07:05"


def test_next_occurrence() -> None:
    monday_18 = parse_weekly_schedule("mon 18:00")
    # 2025-03-03 is a Monday.
    before = datetime(2025, 3, 3, 17, 59, tzinfo=UTC)
    assert next_occurrence(monday_18, before) == datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
    exactly = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
    assert next_occurrence(monday_18, exactly) == exactly + timedelta(days=7)
    after = datetime(2025, 3, 3, 18, 1, tzinfo=UTC)
    assert next_occurrence(monday_18, after) == datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
    friday = datetime(2025, 3, 7, 9, 0, tzinfo=UTC)
    assert next_occurrence(monday_18, friday) == datetime(2025, 3, 10, 18, 0, tzinfo=UTC)


def test_next_occurrence_converts_other_zones_and_refuses_naive() -> None:
    monday_18 = parse_weekly_schedule("mon 18:00")
    # Monday 20:00 at UTC+3 is 17:00 UTC: the slot is an hour later, the same day.
    local = datetime(2025, 3, 3, 20, 0, tzinfo=timezone(timedelta(hours=3)))
    result = next_occurrence(monday_18, local)
    assert result == datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
    assert result is not None and result.tzinfo is UTC
    with pytest.raises(ValueError):
        next_occurrence(monday_18, datetime(2025, 3, 3))


def test_model_validation() -> None:
    with pytest.raises(ValueError):
        WeeklySchedule(weekday=1)
    with pytest.raises(ValueError):
        WeeklySchedule(weekday=7, at=time(1, 0))
    stored = WeeklySchedule.model_validate_json(
        parse_weekly_schedule("fri 17:30").model_dump_json()
    )
    assert stored.describe() == "every Friday at 17:30 UTC"
