import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.debates.poll import PollSpec, apply_vote
from bot.debates.tally import Tally, bar, format_results
from bot.errors import UserFacingError


def spec(n: int = 3, max_choices: int = 1, anonymous: bool = False) -> PollSpec:
    return PollSpec(
        question="Q?",
        options=tuple(f"option {i}" for i in range(n)),
        max_choices=max_choices,
        anonymous=anonymous,
    )


def test_counts_and_turnout_single_choice() -> None:
    tally = Tally.from_votes([(1, 0), (2, 0), (3, 1)], 3)
    assert tally.counts == (2, 1, 0)
    assert tally.voters == 3
    assert tally.total_votes == 3
    assert tally.leaders() == [0]
    assert tally.turnout(6) == 50.0
    assert tally.turnout(0) == 0.0


def test_multiple_choice_counts_distinct_voters() -> None:
    tally = Tally.from_votes([(1, 0), (1, 1), (2, 1), (2, 2), (3, 1)], 3)
    assert tally.counts == (1, 3, 1)
    assert tally.voters == 3
    assert tally.total_votes == 5
    assert tally.voter_percentages() == [100 / 3, 100.0, 100 / 3]
    assert sum(tally.percentages()) == pytest.approx(100)


def test_duplicate_rows_count_once_and_bad_index_is_a_bug() -> None:
    assert Tally.from_votes([(1, 0), (1, 0)], 2).counts == (1, 0)
    with pytest.raises(ValueError):
        Tally.from_votes([(1, 5)], 2)


def test_empty_tally() -> None:
    tally = Tally.empty(3)
    assert tally.percentages() == [0.0, 0.0, 0.0]
    assert tally.rounded_percentages() == [0, 0, 0]
    assert tally.leaders() == []
    assert tally == Tally.from_votes([], 3)


def test_rounded_percentages_add_to_100() -> None:
    tally = Tally.from_votes([(1, 0), (2, 1), (3, 2)], 3)
    assert tally.rounded_percentages() == [34, 33, 33]
    assert Tally.from_votes([(1, 0), (2, 0), (3, 1)], 2).rounded_percentages() == [67, 33]


def test_leaders_on_a_tie() -> None:
    assert Tally.from_votes([(1, 0), (2, 2)], 3).leaders() == [0, 2]


def test_vote_change_and_withdraw_through_tally() -> None:
    """Simulate clicks the way the cog will: choices per member -> rows -> tally."""
    choices: dict[int, frozenset[int]] = {}
    for member, option in [(1, 0), (2, 0), (1, 1), (2, 0)]:  # 1 changes to 1; 2 withdraws
        choices[member] = apply_vote(choices.get(member, frozenset()), option, 1)
    rows = [(m, o) for m, chosen in choices.items() for o in chosen]
    tally = Tally.from_votes(rows, 3)
    assert tally.counts == (0, 1, 0)
    assert tally.voters == 1


def test_bar() -> None:
    assert bar(0.5, 10) == "█████░░░░░"
    assert bar(0, 4) == "░░░░"
    assert bar(1.7, 4) == "████"


def test_format_results_single() -> None:
    text = format_results(Tally.from_votes([(1, 0), (2, 0), (3, 1)], 3), spec(), eligible=10)
    assert "1. option 0" in text
    assert "2 votes · 67%" in text
    assert "1 vote · 33%" in text
    assert "0 votes · 0%" in text
    assert "3 voters of 10 members (30% turnout)" in text
    assert "████████░░░░" in text


def test_format_results_multiple_closed_anonymous() -> None:
    tally = Tally.from_votes([(1, 0), (1, 1), (2, 1)], 3)
    text = format_results(tally, spec(max_choices=2, anonymous=True), closed=True)
    assert "**option 1**" in text  # the leader, bold once closed
    assert "2 votes · 100%" in text  # share of voters
    assert "up to 2 choices" in text
    assert "anonymous" in text
    assert text.splitlines()[-1].startswith("Closed · 2 voters")


def test_format_results_fits_an_embed() -> None:
    big = PollSpec(question="q" * 300, options=tuple(f"{i:02d}" + "x" * 78 for i in range(25)))
    votes = [(m, m % 25) for m in range(1000)]
    assert len(format_results(Tally.from_votes(votes, 25), big, eligible=5000)) <= 4096


votes_strategy = st.lists(st.tuples(st.integers(1, 30), st.integers(0, 5)), max_size=200)


@given(votes_strategy)
def test_tally_invariants(votes: list[tuple[int, int]]) -> None:
    tally = Tally.from_votes(votes, 6)
    distinct = set(votes)
    assert tally.total_votes == len(distinct)
    assert tally.voters == len({m for m, _ in distinct})
    assert all(0 <= c <= tally.voters for c in tally.counts)
    assert tally.voters <= tally.total_votes
    rounded = tally.rounded_percentages()
    if tally.total_votes:
        assert sum(rounded) == 100
        assert sum(tally.percentages()) == pytest.approx(100)
        for exact, whole in zip(tally.percentages(), rounded, strict=True):
            assert abs(exact - whole) < 1
    else:
        assert sum(rounded) == 0


@given(st.lists(st.tuples(st.integers(1, 10), st.integers(0, 3)), max_size=100), st.integers(1, 4))
def test_apply_vote_never_exceeds_max(clicks: list[tuple[int, int]], max_choices: int) -> None:

    choices: dict[int, frozenset[int]] = {}
    for member, option in clicks:
        current = choices.get(member, frozenset())
        try:
            choices[member] = apply_vote(current, option, max_choices)
        except UserFacingError:
            assert len(current) == max_choices and option not in current
    assert all(len(c) <= max_choices for c in choices.values())
    rows = [(m, o) for m, chosen in choices.items() for o in chosen]
    tally = Tally.from_votes(rows, 4)
    assert tally.voters == sum(1 for c in choices.values() if c)
