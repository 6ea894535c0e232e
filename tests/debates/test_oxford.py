from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.debates.oxford import (
    Outcome,
    Phase,
    format_oxford_result,
    oxford_result,
    oxford_schedule,
)
from bot.stance_scale import Side, Stance

START = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
S, LS, U, LG, G = (
    Stance.STRONGLY_SHARE,
    Stance.LEAN_SHARE,
    Stance.UNDECIDED,
    Stance.LEAN_SAFEGUARD,
    Stance.STRONGLY_SAFEGUARD,
)


def test_schedule_default_split() -> None:
    schedule = oxford_schedule(START, timedelta(hours=24))
    assert schedule.pre_vote_end == START + timedelta(hours=6)
    assert schedule.discussion_end == START + timedelta(hours=18)
    assert schedule.post_vote_end == START + timedelta(hours=24)
    assert schedule.deadline(Phase.DISCUSSION) == schedule.discussion_end
    assert schedule.deadline(Phase.RESULT) is None


def test_schedule_custom_split_and_rounding() -> None:
    schedule = oxford_schedule(START, timedelta(minutes=10), split=(1, 1, 1))
    assert schedule.pre_vote_end == START + timedelta(seconds=200)
    assert schedule.discussion_end == START + timedelta(seconds=400)
    assert schedule.post_vote_end == START + timedelta(minutes=10)
    with pytest.raises(ValueError):
        oxford_schedule(datetime(2025, 1, 1), timedelta(hours=1))
    with pytest.raises(ValueError):
        oxford_schedule(START, timedelta(0))


def test_phase_order() -> None:
    assert Phase.PRE_VOTE.next() is Phase.DISCUSSION
    assert Phase.POST_VOTE.next() is Phase.RESULT
    assert Phase.RESULT.next() is Phase.RESULT


def test_share_wins_by_gain_not_by_final_majority() -> None:
    # Safeguard keeps the majority at the end but share gained the most.
    pre = {1: G, 2: G, 3: G, 4: U, 5: U, 6: S}
    post = {1: G, 2: G, 3: G, 4: LS, 5: U, 6: S}
    result = oxford_result(pre, post)
    assert result.outcome is Outcome.SHARE
    assert result.winner is Side.SHARE
    assert result.pre_percent[Side.SAFEGUARD] == 50.0
    assert result.post_percent[Side.SAFEGUARD] == 50.0
    assert result.gains[Side.SHARE] == pytest.approx(100 / 6)
    assert result.gains[Side.SAFEGUARD] == 0.0
    assert result.changed_minds == {4}
    assert result.transitions == {(Side.UNDECIDED, Side.SHARE): 1}


def test_safeguard_wins() -> None:
    pre = {1: S, 2: LS, 3: U, 4: LG}
    post = {1: S, 2: G, 3: LG, 4: LG}
    result = oxford_result(pre, post)
    assert result.outcome is Outcome.SAFEGUARD
    assert result.winner is Side.SAFEGUARD
    assert result.gains[Side.SAFEGUARD] == 50.0
    assert result.gains[Side.SHARE] == -25.0
    assert result.changed_minds == {2, 3}
    assert "Safeguard wins" in format_oxford_result(result)


def test_side_losing_less_still_wins() -> None:
    # Both sides lose points to undecided; share loses fewer, so share "gained the most".
    pre = {1: S, 2: S, 3: G, 4: G}
    post = {1: S, 2: U, 3: U, 4: U}
    result = oxford_result(pre, post)
    assert result.gains == {Side.SHARE: -25.0, Side.SAFEGUARD: -50.0}
    assert result.outcome is Outcome.SHARE


def test_draw_on_equal_gains() -> None:
    pre = {1: U, 2: U}
    post = {1: S, 2: G}
    result = oxford_result(pre, post)
    assert result.outcome is Outcome.DRAW
    assert result.winner is None
    assert "Draw" in format_oxford_result(result)
    # Nothing moved at all is a draw too.
    assert oxford_result({1: S}, {1: LS}).outcome is Outcome.DRAW


def test_exact_arithmetic_ties() -> None:
    # Share: 1/3 -> 2/3 (+1/3); safeguard: 0 -> 1/3 (+1/3). In floats
    # 66.67 - 33.33 and 33.33 may differ in the last bit; the rule must still call a draw.
    pre = {1: S, 2: U, 3: U}
    post = {m: S for m in range(1, 7)} | {m: G for m in range(7, 10)}
    result = oxford_result(pre, post)
    assert result.outcome is Outcome.DRAW


def test_changed_minds_only_counts_members_who_voted_twice() -> None:
    pre = {1: S, 2: G, 3: U}  # 3 never votes again
    post = {1: LG, 2: LG, 4: S}  # 4 only voted after
    result = oxford_result(pre, post)
    assert result.changed_minds == {1}  # 2 stayed safeguard; moving within a side is no change
    assert result.both_rounds == 2
    assert "1 of 2 who voted twice changed their mind" in format_oxford_result(result)


def test_no_votes_and_only_pre() -> None:
    nothing = oxford_result({}, {})
    assert nothing.outcome is Outcome.NO_CONTEST and nothing.winner is None
    assert nothing.pre_percent == {Side.SHARE: 0.0, Side.UNDECIDED: 0.0, Side.SAFEGUARD: 0.0}
    only_pre = oxford_result({1: S, 2: G}, {})
    assert only_pre.outcome is Outcome.NO_CONTEST
    assert only_pre.pre_percent[Side.SHARE] == 50.0
    assert only_pre.changed_minds == frozenset()
    assert "No result" in format_oxford_result(only_pre)
    assert oxford_result({}, {1: S}).outcome is Outcome.NO_CONTEST


ballots = st.dictionaries(st.integers(1, 40), st.sampled_from(list(Stance)), max_size=40)


@given(ballots, ballots)
def test_oxford_invariants(pre: dict[int, Stance], post: dict[int, Stance]) -> None:
    result = oxford_result(pre, post)
    for percent, votes in ((result.pre_percent, pre), (result.post_percent, post)):
        assert sum(percent.values()) == pytest.approx(100 if votes else 0)
    assert result.changed_minds <= (pre.keys() & post.keys())
    assert sum(result.transitions.values()) == len(result.changed_minds)
    if pre and post:
        share, safeguard = result.gains[Side.SHARE], result.gains[Side.SAFEGUARD]
        if share > safeguard + 1e-9:
            assert result.outcome is Outcome.SHARE
        elif safeguard > share + 1e-9:
            assert result.outcome is Outcome.SAFEGUARD
    # Swapping the sides of every vote swaps the winner.
    mirrored = oxford_result(
        {m: Stance(-s) for m, s in pre.items()}, {m: Stance(-s) for m, s in post.items()}
    )
    swap = {Outcome.SHARE: Outcome.SAFEGUARD, Outcome.SAFEGUARD: Outcome.SHARE}
    assert mirrored.outcome is swap.get(result.outcome, result.outcome)
