from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from bot.stance_scale import Stance
from bot.stances.models import Observation, Source, SourceKind
from bot.stances.profile import build_profile, compare
from bot.stances.statistics import distribution, summarise


def day(d: int) -> datetime:
    return datetime(2024, 4, d, tzinfo=UTC)


HISTORY = [
    Observation(1, Stance(2), day(9), "debate:3"),
    Observation(1, Stance(1), day(2), "declared"),
    Observation(1, Stance(-1), day(5), "debate:12"),
    Observation(99, Stance(-2), day(6), "declared"),  # someone else: ignored
]
# Three members at each of +2, 0 and -2: no bucket is hidden, so nothing is withheld.
MEMBERS = {1: 2, 2: -2, 3: -2, 4: -2, 5: 0, 6: 0, 7: 0, 8: 2, 9: 2}
COMMUNITY = Counter(MEMBERS.values())  # members per position, as the repository counts them


def others(members: Mapping[int, int], member_id: int) -> Counter[int]:
    """How many members other than ``member_id`` hold each position."""
    return Counter(v for m, v in members.items() if m != member_id)


def test_profile_current_position_and_how_it_was_formed() -> None:
    profile = build_profile(1, HISTORY, COMMUNITY)
    assert profile.current is Stance.STRONGLY_SHARE
    assert profile.current_source == Source(SourceKind.DEBATE, "3")
    assert profile.current_since == day(9)
    assert profile.source_counts == {
        SourceKind.DECLARED: 1,
        SourceKind.DEBATE: 2,
        SourceKind.OTHER: 0,
    }
    assert [(p.at, int(p.value)) for p in profile.history] == [
        (day(2), 1),
        (day(5), -1),
        (day(9), 2),
    ]
    assert profile.formed_text == (
        "Your position (strongly share, +2) comes from your vote in debate #3 on 2024-04-09. "
        "Recorded so far: 1 declaration and 2 debate votes."
    )


def test_profile_compares_with_the_rest_of_the_community() -> None:
    comparison = build_profile(1, HISTORY, COMMUNITY).comparison
    assert comparison is not None
    # others: -2 x3, 0 x3, +2 x2 -> six of eight strictly toward safeguarding
    assert comparison.others == 8
    assert comparison.share_less_sharing == pytest.approx(0.75)
    assert comparison.share_more_sharing == 0.0
    assert comparison.community_mean == pytest.approx(0.0)
    assert comparison.text == (
        "You lean more toward sharing than 75% of the community. "
        "The community mean is +0.0; you are above it by 2.0."
    )


def test_compare_toward_safeguarding_and_equal() -> None:
    text = compare(-1, others({1: 2, 2: 2, 3: 2, 4: -1, 5: -1}, 7)).text
    assert text.startswith("You lean more toward safeguarding than 60% of the community.")
    assert text.endswith("you are below it by 1.5.")
    same = compare(1, others({1: 1, 2: 1, 3: 1}, 7))
    assert same.text == (
        "You hold the same position as everyone else in the community. "
        "The community mean is +1.0; you are at it."
    )


def test_compare_refuses_tiny_communities() -> None:
    comparison = compare(2, others({1: 2, 2: -2, 3: 0}, 1))
    assert comparison.share_less_sharing is None and comparison.community_mean is None
    assert comparison.text.startswith("Fewer than 3 other members")


def test_compare_withholds_what_the_community_view_withholds() -> None:
    community = {1: 2, 2: 1, 3: -1, 4: -2}  # every bucket holds one member
    assert summarise(distribution(community.values()), 4).withheld
    comparison = compare(2, others(community, 1))
    assert comparison.others == 3
    assert comparison.community_mean is None
    assert comparison.share_less_sharing is None and comparison.share_more_sharing is None
    assert "%" not in comparison.text and "mean" not in comparison.text
    assert "without singling anyone out" in comparison.text
    profile = build_profile(1, [Observation(1, Stance(2), day(1))], Counter(community.values()))
    assert profile.comparison is not None and profile.comparison.community_mean is None


def test_profile_without_observations() -> None:
    profile = build_profile(5, [], COMMUNITY)
    assert profile.current is None and profile.comparison is None
    assert profile.history == ()
    assert "no position yet" in profile.formed_text


def test_same_time_keeps_the_later_row_everywhere() -> None:
    rows = [Observation(1, Stance(1), day(3)), Observation(1, Stance(-2), day(3), "debate:1")]
    assert build_profile(1, rows, {}).current is Stance.STRONGLY_SAFEGUARD


def test_sources_parse_and_reject() -> None:
    assert Source.parse("debate:7") == Source(SourceKind.DEBATE, "7")
    assert str(Source.parse("declared")) == "declared"
    assert Source.parse("declared").description == "your declaration"
    with pytest.raises(ValueError):
        Source.parse("debate")
    with pytest.raises(ValueError):
        Source.parse("rumour:1")
    with pytest.raises(ValueError):
        Source.parse("poll:3")  # nothing writes it any more
    with pytest.raises(ValueError):
        Source.parse("other:3")
    # An unknown stored source never breaks a profile.
    odd = build_profile(1, [Observation(1, Stance(1), day(1), "poll:3")], {})
    assert odd.current_source == Source(SourceKind.OTHER, "poll:3")
    assert "a recorded vote" in odd.formed_text and "1 other vote" in odd.formed_text
    with pytest.raises(ValueError):
        Observation(1, 3, day(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        Observation(1, Stance(1), datetime(2024, 1, 1))
