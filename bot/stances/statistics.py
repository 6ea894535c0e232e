"""Community statistics from current positions: distribution, mean, polarisation, participation.

Everything works on *counts per stance* (``dict[Stance, int]``), which a repository can get
from one ``GROUP BY`` query; :func:`distribution` builds them from individual positions.

Polarisation
------------
``polarisation = mean(|x_i - mean(x)|) / 2``: the mean absolute distance of members from the
community's own mean, divided by 2, the largest value it can take on a -2..+2 scale.

* 0 means everybody holds the same position (whatever it is);
* 1 means the community is split evenly between *strongly share* and *strongly safeguard*;
* a community spread evenly over the five positions scores 0.6, and one where everyone leans
  one way (half +1, half +2) scores 0.25.

Unlike the mean it does not care which way the community leans, and unlike the standard deviation
it stays in [0, 1] with a plain reading: "members sit, on average, this fraction of the widest
possible gap away from the community's centre".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.stance_scale import SCALE, Stance

#: Buckets with at least one and fewer than this many members are shown as "<3".
DEFAULT_MIN_BUCKET = 3

Counts = Mapping[Stance, int]


def distribution(positions: Iterable[int] | npt.NDArray[np.integer]) -> dict[Stance, int]:
    """Count members per stance, in :data:`SCALE` order (+2 first), zeros included.

    Accepts any iterable of -2..+2 integers (or ``Stance``), or an integer numpy array.
    Raises ``ValueError`` for a value outside the scale.
    """
    values = np.asarray(list(positions) if not isinstance(positions, np.ndarray) else positions)
    values = values.astype(np.int64, copy=False).ravel()
    if values.size and (values.min() < -2 or values.max() > 2):
        bad = values[(values < -2) | (values > 2)][0]
        raise ValueError(f"{bad} is not a position on the -2..+2 scale")
    tally = np.bincount(values + 2, minlength=5)
    return {stance: int(tally[int(stance) + 2]) for stance in SCALE}


def total(counts: Counts) -> int:
    """Number of members with a position."""
    return sum(int(c) for c in counts.values())


def mean_position(counts: Counts) -> float | None:
    """Mean position on the -2..+2 scale; ``None`` when nobody has a position."""
    n = total(counts)
    if n == 0:
        return None
    return sum(int(s) * int(c) for s, c in counts.items()) / n


def polarisation(counts: Counts) -> float | None:
    """Mean absolute distance from the community mean, divided by 2; in [0, 1].

    See the module docstring for the interpretation. ``None`` when nobody has a position.
    """
    n = total(counts)
    mean = mean_position(counts)
    if n == 0 or mean is None:
        return None
    spread = sum(int(c) * abs(int(s) - mean) for s, c in counts.items()) / n
    return min(1.0, spread / 2)


def participation(with_position: int, members_known: int) -> float | None:
    """Share of known members who have a position, in [0, 1]; ``None`` if no member is known.

    The denominator is at least ``with_position``: members who left but still have a position
    (before retention purges them) must not push the figure above 100%.
    """
    if with_position < 0 or members_known < 0:
        raise ValueError("member counts cannot be negative")
    denominator = max(members_known, with_position)
    if denominator == 0:
        return None
    return with_position / denominator


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of the distribution as it may be shown.

    ``count`` is ``None`` when the bucket is suppressed (1 to k-1 members); ``text`` is what to
    print: the exact count, ``"0"``, or ``"<3"``.
    """

    stance: Stance
    count: int | None
    text: str

    @property
    def suppressed(self) -> bool:
        return self.count is None


def suppress_small(counts: Counts, k: int = DEFAULT_MIN_BUCKET) -> tuple[Bucket, ...]:
    """Buckets in :data:`SCALE` order, with those holding 1..k-1 members hidden as ``"<k"``.

    Zero stays ``0`` (nobody is revealed by an empty bucket). The exact counts are not kept
    in the result, so a chart or embed built from it cannot leak them by accident.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    buckets = []
    for stance in SCALE:
        count = int(counts.get(stance, 0))
        if count < 0:
            raise ValueError("counts cannot be negative")
        if 0 < count < k:
            buckets.append(Bucket(stance, None, f"<{k}"))
        else:
            buckets.append(Bucket(stance, count, str(count)))
    return tuple(buckets)


#: Below this many members with a position, a community whose distribution has hidden buckets
#: shows no exact total, mean, polarisation or participation (see :func:`protect_buckets`).
MIN_TOTAL_FOR_FIGURES = 10
#: Text of a bucket hidden only so that a small one cannot be derived from the total.
COMPLEMENT_TEXT = "hidden"


def protect_buckets(counts: Counts, k: int = DEFAULT_MIN_BUCKET) -> tuple[tuple[Bucket, ...], bool]:
    """:func:`suppress_small`, plus complementary suppression; returns (buckets, withhold).

    The total is shown exactly, so one hidden bucket would follow from ``total - visible``, and
    two hidden buckets of 1-2 members too whenever their sum is 2 or 4. So whenever a bucket is
    hidden, the smallest bucket with at least ``k`` members is hidden as well (text
    ``"hidden"``): the hidden sum then mixes small and large buckets and pins none of them.
    ``withhold`` is True when there is no such bucket (every position is held by fewer than
    ``k`` members): the total itself would then give the hidden counts away.
    """
    buckets = list(suppress_small(counts, k))
    if not any(b.suppressed for b in buckets):
        return tuple(buckets), False
    large = [(b.count, -int(b.stance), i) for i, b in enumerate(buckets) if (b.count or 0) >= k]
    if not large:
        return tuple(buckets), True
    _, _, index = min(large)
    buckets[index] = Bucket(buckets[index].stance, None, COMPLEMENT_TEXT)
    return tuple(buckets), False


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    """What ``/stance community`` shows: safe buckets plus exact totals and figures.

    ``withheld``: the community is too small for exact figures without singling members out
    (buckets are hidden and fewer than :data:`MIN_TOTAL_FOR_FIGURES` members have a position, or
    no bucket can hide the small ones); ``total``, ``mean``, ``polarisation`` and
    ``participation`` must then not be shown (the ``*_text`` properties say so).
    """

    buckets: tuple[Bucket, ...]
    total: int
    members_known: int
    mean: float | None
    polarisation: float | None
    participation: float | None
    withheld: bool = False

    @property
    def total_text(self) -> str:
        return f"fewer than {MIN_TOTAL_FOR_FIGURES}" if self.withheld else str(self.total)

    @property
    def mean_text(self) -> str:
        return _WITHHELD if self.withheld else describe_mean(self.mean)

    @property
    def polarisation_text(self) -> str:
        return _WITHHELD if self.withheld else describe_polarisation(self.polarisation)

    @property
    def participation_text(self) -> str:
        if self.withheld:
            return _WITHHELD
        if self.participation is None:
            return "no members known"
        return f"{self.participation:.0%} ({self.total} of {max(self.members_known, self.total)})"


_WITHHELD = "withheld: too few members to show it without singling anyone out"


def summarise(
    counts: Counts, members_known: int, *, k: int = DEFAULT_MIN_BUCKET
) -> CommunitySummary:
    """Build the community summary from exact counts per stance (see :func:`protect_buckets`)."""
    n = total(counts)
    buckets, withhold = protect_buckets(counts, k)
    hidden = any(b.suppressed for b in buckets)
    return CommunitySummary(
        buckets=buckets,
        total=n,
        members_known=members_known,
        mean=mean_position(counts),
        polarisation=polarisation(counts),
        participation=participation(n, members_known),
        withheld=withhold or (hidden and n < MIN_TOTAL_FOR_FIGURES),
    )


def describe_mean(mean: float | None) -> str:
    """``"+0.4 (undecided)"``: the mean with one decimal and the nearest label."""
    if mean is None:
        return "no positions yet"
    nearest = Stance(max(-2, min(2, int(np.floor(abs(mean) + 0.5) * np.sign(mean)))))
    return f"{mean:+.1f} ({nearest.label.lower()})"


def describe_polarisation(value: float | None) -> str:
    """Words for the polarisation figure: low (< 0.25), moderate (< 0.5), high."""
    if value is None:
        return "no positions yet"
    if value < 0.25:
        word = "low: members mostly agree"
    elif value < 0.5:
        word = "moderate"
    else:
        word = "high: the community is split"
    return f"{value:.2f} ({word})"


def latest_positions(
    member_ids: npt.ArrayLike, values: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each member's last value, from columns already in time order (the repository's order).

    Returns (member ids ascending, their current values). O(n log n); ties in time keep the
    later row, the same rule as :func:`bot.stances.profile.build_profile`.
    """
    members = np.asarray(member_ids, dtype=np.int64).ravel()
    vals = np.asarray(values, dtype=np.int64).ravel()
    if members.size != vals.size:
        raise ValueError("member_ids and values must have the same length")
    unique, first_from_end = np.unique(members[::-1], return_index=True)
    return unique, vals[::-1][first_from_end]
