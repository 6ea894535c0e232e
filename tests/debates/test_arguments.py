from datetime import UTC, datetime, timedelta

import pytest

from bot.debates.arguments import (
    Argument,
    argument_side,
    can_upvote,
    clean_argument,
    new_argument,
    strongest_arguments,
)
from bot.errors import UserFacingError
from bot.stance_scale import Side

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def arg(side: Side, upvotes: int, minutes: int | None, author: int = 1) -> Argument:
    at = None if minutes is None else T0 + timedelta(minutes=minutes)
    return Argument(side, f"argument {side.name} {upvotes} {minutes}", author, upvotes, at)


def test_clean_argument_bounds() -> None:
    assert clean_argument("  Open   weights allow audits. ") == "Open weights allow audits."
    with pytest.raises(UserFacingError, match="at least 10"):
        clean_argument("too\u200b short")  # 9 characters once cleaned
    assert clean_argument("x" * 300) == "x" * 300
    with pytest.raises(UserFacingError, match="limit is 300"):
        clean_argument("x" * 301)


def test_argument_side() -> None:
    assert argument_side("share") is Side.SHARE
    assert argument_side(" Safeguard ") is Side.SAFEGUARD
    assert argument_side(-1) is Side.SAFEGUARD
    for bad in ("undecided", 0, "maybe", 5):
        with pytest.raises(UserFacingError, match="`share` or for `safeguard`"):
            argument_side(bad)


def test_new_argument_and_upvote_rule() -> None:
    argument = new_argument("share", " Audits need weights. ", author=9, posted_at=T0)
    assert argument == Argument(Side.SHARE, "Audits need weights.", 9, 0, T0)
    assert not can_upvote(argument, 9)
    assert can_upvote(argument, 10)


def test_strongest_by_upvotes_then_earliest() -> None:
    a = arg(Side.SHARE, 5, 30)
    b = arg(Side.SHARE, 5, 10)  # same votes, earlier: ranks first
    c = arg(Side.SHARE, 9, 50)
    d = arg(Side.SHARE, 1, 0)
    g1 = arg(Side.SAFEGUARD, 2, 5)
    g2 = arg(Side.SAFEGUARD, 3, 6)
    result = strongest_arguments([a, b, c, d, g1, g2], per_side=3)
    assert result[Side.SHARE] == [c, b, a]
    assert result[Side.SAFEGUARD] == [g2, g1]
    assert set(result) == {Side.SHARE, Side.SAFEGUARD}


def test_strongest_without_timestamps_uses_given_order() -> None:
    first = arg(Side.SHARE, 2, None)
    second = arg(Side.SHARE, 2, None)
    dated = arg(Side.SHARE, 2, 100)
    assert strongest_arguments([first, second, dated])[Side.SHARE] == [dated, first, second]


def test_strongest_edge_cases() -> None:
    assert strongest_arguments([]) == {Side.SHARE: [], Side.SAFEGUARD: []}
    many = [arg(Side.SAFEGUARD, i, i) for i in range(10)]
    assert [a.upvotes for a in strongest_arguments(many, per_side=2)[Side.SAFEGUARD]] == [9, 8]
    assert strongest_arguments(many, per_side=0)[Side.SAFEGUARD] == []
