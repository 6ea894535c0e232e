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


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    """What ``/stance community`` shows: safe buckets plus exact totals and figures."""

    buckets: tuple[Bucket, ...]
    total: int
    members_known: int
    mean: float | None
    polarisation: float | None
    participation: float | None

    @property
    def mean_text(self) -> str:
        return describe_mean(self.mean)

    @property
    def polarisation_text(self) -> str:
        return describe_polarisation(self.polarisation)

    @property
    def participation_text(self) -> str:
        if self.participation is None:
            return "no members known"
        return f"{self.participation:.0%} ({self.total} of {max(self.members_known, self.total)})"


def summarise(
    counts: Counts, members_known: int, *, k: int = DEFAULT_MIN_BUCKET
) -> CommunitySummary:
    """Build the community summary from exact counts per stance."""
    n = total(counts)
    return CommunitySummary(
        buckets=suppress_small(counts, k),
        total=n,
        members_known=members_known,
        mean=mean_position(counts),
        polarisation=polarisation(counts),
        participation=participation(n, members_known),
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
