import numpy as np
import pytest

from bot.stance_scale import SCALE, Stance
from bot.stances.statistics import (
    Bucket,
    describe_mean,
    describe_polarisation,
    distribution,
    mean_position,
    participation,
    polarisation,
    summarise,
    suppress_small,
)

S = Stance


def test_distribution_counts_every_stance_in_scale_order() -> None:
    counts = distribution([2, 2, 1, 0, -1, -2, -2, -2])
    assert list(counts) == list(SCALE)
    assert counts == {S(2): 2, S(1): 1, S(0): 1, S(-1): 1, S(-2): 3}


def test_distribution_accepts_numpy_and_rejects_off_scale() -> None:
    assert distribution(np.array([1, 1, -1], dtype=np.int8))[S(1)] == 2
    assert distribution([]) == dict.fromkeys(SCALE, 0)
    with pytest.raises(ValueError, match="3 is not a position"):
        distribution([1, 3])


def test_mean_and_polarisation_hand_computed() -> None:
    counts = distribution([2, 2, 1, 0, -1, -2, -2, -2])
    # sum = 4 + 1 + 0 - 1 - 6 = -2 over 8 members
    assert mean_position(counts) == pytest.approx(-0.25)
    # |d| from -0.25: 2.25*2 + 1.25 + 0.25 + 0.75 + 1.75*3 = 12.0; 12 / 8 = 1.5; / 2
    assert polarisation(counts) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        ([1] * 10, 0.0),
        ([-2] * 4, 0.0),
        ([2, -2] * 5, 1.0),
        ([2, 1, 0, -1, -2], 0.6),
        ([1, 2] * 3, 0.25),
    ],
)
def test_polarisation_reference_points(positions: list[int], expected: float) -> None:
    assert polarisation(distribution(positions)) == pytest.approx(expected)


def test_polarisation_is_within_bounds_on_random_communities() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        value = polarisation(distribution(rng.integers(-2, 3, size=rng.integers(1, 40))))
        assert value is not None and 0.0 <= value <= 1.0


def test_empty_community_has_no_figures() -> None:
    empty = distribution([])
    assert mean_position(empty) is None
    assert polarisation(empty) is None


def test_participation() -> None:
    assert participation(3, 12) == pytest.approx(0.25)
    assert participation(0, 0) is None
    assert participation(0, 5) == 0.0
    assert participation(5, 4) == 1.0  # members who left but still count
    with pytest.raises(ValueError):
        participation(-1, 3)


def test_suppress_small_hides_one_and_two() -> None:
    counts = {S(2): 5, S(1): 2, S(0): 0, S(-1): 1, S(-2): 3}
    buckets = suppress_small(counts)
    assert [b.stance for b in buckets] == list(SCALE)
    assert [b.text for b in buckets] == ["5", "<3", "0", "<3", "3"]
    assert [b.count for b in buckets] == [5, None, 0, None, 3]
    assert [b.suppressed for b in buckets] == [False, True, False, True, False]


def test_suppress_small_custom_k_and_missing_keys() -> None:
    buckets = suppress_small({S(2): 4}, k=5)
    assert buckets[0] == Bucket(S(2), None, "<5")
    assert all(b.count == 0 for b in buckets[1:])
    assert [b.text for b in suppress_small({S(0): 1}, k=1)] == ["0", "0", "1", "0", "0"]


def test_summary_shows_totals_and_mean_but_no_small_bucket() -> None:
    counts = distribution([2] * 6 + [1] + [0] * 4 + [-2] * 3)
    summary = summarise(counts, members_known=28)
    assert summary.total == 14 and not summary.withheld
    assert summary.mean == pytest.approx((12 + 1 - 6) / 14)
    assert summary.participation == pytest.approx(0.5)
    assert summary.participation_text == "50% (14 of 28)"
    # The lone +1 is hidden, and so is the smallest large bucket (-2: 3), so that
    # total - visible = 4 cannot be split back into "1 and 3" with certainty.
    assert [b.text for b in summary.buckets] == ["6", "<3", "4", "0", "hidden"]
    assert all(b.count is None or b.count == 0 or b.count >= 3 for b in summary.buckets)


def test_no_single_hidden_count_follows_from_the_total() -> None:
    for values in ([2] * 5 + [-2], [2] * 5 + [1, 1] + [-1] * 4, [0] * 3 + [1] + [-1] * 9):
        summary = summarise(distribution(values), members_known=50)
        hidden = [b for b in summary.buckets if b.suppressed]
        assert len(hidden) != 1
        visible = sum(b.count or 0 for b in summary.buckets)
        if not summary.withheld:
            # at least one hidden bucket holds >= 3, so the hidden sum has several splits
            assert summary.total - visible >= 4


def test_tiny_communities_get_no_exact_figures() -> None:
    summary = summarise(distribution([2, 2, 2, 1, -2]), members_known=10)
    assert summary.withheld
    assert [b.text for b in summary.buckets] == ["hidden", "<3", "0", "0", "<3"]
    for text in (summary.total_text, summary.mean_text, summary.polarisation_text):
        assert "5" not in text and "+1.0" not in text
    only_small = summarise(distribution([1, 1]), members_known=10)
    assert only_small.withheld and only_small.total_text == "fewer than 10"
    plain = summarise(distribution([1, 1, 1]), members_known=3)
    assert not plain.withheld and plain.total_text == "3"


def test_descriptions() -> None:
    assert describe_mean(0.44) == "+0.4 (undecided)"
    assert describe_mean(-1.6) == "-1.6 (strongly safeguard)"
    assert describe_mean(0.5) == "+0.5 (lean share)"
    assert describe_mean(None) == "no positions yet"
    assert describe_polarisation(0.1).startswith("0.10 (low")
    assert describe_polarisation(0.3) == "0.30 (moderate)"
    assert describe_polarisation(0.75).startswith("0.75 (high")
