from datetime import UTC, datetime, timedelta

import pytest

from bot.stances.retention import purge_at, purge_due

LEFT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_still_in_the_community_is_never_due() -> None:
    assert purge_due(None, 1, LEFT + timedelta(days=1000)) is False


def test_due_exactly_after_retention() -> None:
    assert purge_at(LEFT, 30) == LEFT + timedelta(days=30)
    assert purge_due(LEFT, 30, LEFT + timedelta(days=30) - timedelta(seconds=1)) is False
    assert purge_due(LEFT, 30, LEFT + timedelta(days=30)) is True
    assert purge_due(LEFT, 30, LEFT + timedelta(days=31)) is True


def test_rejects_naive_datetimes_and_negative_retention() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_due(datetime(2024, 5, 1), 30, LEFT)
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_due(LEFT, 30, datetime(2024, 6, 1))
    with pytest.raises(ValueError):
        purge_due(LEFT, -1, LEFT)
