import pytest

from bot.debates.debate import format_quick_result, parse_debate_format, quick_result
from bot.debates.records import DebateFormat
from bot.errors import UserFacingError
from bot.stance_scale import SCALE, Side, Stance


def test_parse_format() -> None:
    assert parse_debate_format(None) is DebateFormat.QUICK
    assert parse_debate_format(" Oxford ") is DebateFormat.OXFORD
    with pytest.raises(UserFacingError, match="`quick`.*`oxford`"):
        parse_debate_format("lincoln-douglas")


def test_quick_result_distribution_and_mean() -> None:
    votes = {1: Stance(2), 2: Stance(2), 3: Stance(-1), 4: Stance(0)}
    result = quick_result(votes)
    assert list(result.distribution) == list(SCALE)
    assert result.distribution[Stance.STRONGLY_SHARE] == 2
    assert result.distribution[Stance.LEAN_SHARE] == 0
    assert result.total == 4
    assert result.mean == pytest.approx(0.75)
    assert result.side_counts == {Side.SHARE: 2, Side.UNDECIDED: 1, Side.SAFEGUARD: 1}
    assert result.leading is Side.SHARE
    text = format_quick_result(result)
    assert "Strongly share" in text and "2 · 50%" in text
    assert "4 voters · mean +0.75 · leaning share" in text


def test_quick_result_empty_and_tie() -> None:
    empty = quick_result({})
    assert empty.total == 0 and empty.mean is None and empty.leading is None
    assert format_quick_result(empty) == "Nobody voted."
    tie = quick_result({1: Stance(1), 2: Stance(-2)})
    assert tie.leading is None
    assert tie.mean == pytest.approx(-0.5)
