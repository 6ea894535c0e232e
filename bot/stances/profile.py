"""A member's own view of their stance (``/stance me``, ``/stance user``).

The current position is the member's most recent observation, whatever its source: a
declaration (``/stance set``) or a vote in a debate. The profile says which one it was,
how many of each kind there were, lists the history, and compares the member with the
community without revealing anyone else (no comparison against fewer than k other members).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.stance_scale import Stance
from bot.stances.models import Observation, Source, SourceKind
from bot.stances.statistics import DEFAULT_MIN_BUCKET, distribution, summarise


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime
    value: Stance
    source: Source


@dataclass(frozen=True, slots=True)
class Comparison:
    """Where the member sits relative to the other members with a position.

    ``share_less_sharing``: fraction of the others strictly more toward safeguarding than the
    member; ``share_more_sharing``: strictly more toward sharing. ``community_mean`` is the mean of
    everyone, the member included. ``None`` fields mean "too few others to compare" (the text
    says so).
    """

    others: int
    community_mean: float | None
    share_less_sharing: float | None
    share_more_sharing: float | None
    text: str


@dataclass(frozen=True, slots=True)
class MemberProfile:
    member_id: int
    current: Stance | None
    current_source: Source | None
    current_since: datetime | None
    source_counts: dict[SourceKind, int]
    history: tuple[HistoryPoint, ...]
    comparison: Comparison | None

    @property
    def formed_text(self) -> str:
        """One or two sentences on how the position was formed."""
        if self.current is None or self.current_source is None or self.current_since is None:
            return "You have no position yet: use `/stance set` or vote in a debate."
        first = (
            f"Your position ({self.current.label.lower()}, {int(self.current):+d}) comes from "
            f"{self.current_source.description} on {self.current_since:%Y-%m-%d}."
        )
        parts = []
        for kind, singular, plural in (
            (SourceKind.DECLARED, "declaration", "declarations"),
            (SourceKind.DEBATE, "debate vote", "debate votes"),
            (SourceKind.OTHER, "other vote", "other votes"),
        ):
            n = self.source_counts.get(kind, 0)
            if n:
                parts.append(f"{n} {singular if n == 1 else plural}")
        return f"{first} Recorded so far: {_join(parts)}."


def build_profile(
    member_id: int,
    observations: Iterable[Observation],
    community: Mapping[int, int],
    *,
    k: int = DEFAULT_MIN_BUCKET,
) -> MemberProfile:
    """Build a member's profile.

    ``observations``: the member's history (other members' rows are ignored), in any order;
    equal times keep their given order. ``community``: how many members hold each current
    position -2..+2, the member among them (their position is the one of their latest
    observation, as stored): five numbers, however large the community.
    """
    mine = sorted(
        (obs for obs in observations if obs.member_id == member_id), key=lambda obs: obs.at
    )
    history = tuple(HistoryPoint(obs.at, obs.value, obs.parsed_source) for obs in mine)
    counts = {kind: 0 for kind in SourceKind}
    for point in history:
        counts[point.source.kind] += 1
    latest = history[-1] if history else None
    current = latest.value if latest else None
    comparison = None
    if current is not None:
        others = dict(community)
        others[int(current)] = max(0, others.get(int(current), 0) - 1)
        comparison = compare(current, others, k=k)
    return MemberProfile(
        member_id=member_id,
        current=current,
        current_source=latest.source if latest else None,
        current_since=latest.at if latest else None,
        source_counts=counts,
        history=history,
        comparison=comparison,
    )


def compare(
    position: int,
    others: Mapping[int, int],
    *,
    k: int = DEFAULT_MIN_BUCKET,
) -> Comparison:
    """Compare ``position`` with the other members' positions (``others``: how many other
    members hold each position -2..+2).

    Text like "You lean more toward sharing than 62% of the community." With fewer than ``k``
    other members no share or mean is given: it would reveal their positions. Nor when
    ``/stance community`` withholds its figures for the same positions (:func:`summarise`):
    the comparison must not reveal what the community view hides.
    """
    values = [int(value) for value, n in others.items() for _ in range(n)]
    everyone = [*values, int(position)]
    if len(values) < k:
        text = f"Fewer than {k} other members have a position, so there is nothing to compare with yet."
    elif summarise(distribution(everyone), len(everyone), k=k).withheld:
        text = (
            "Too few members have a position to compare you with the community without "
            "singling anyone out."
        )
    else:
        text = ""
    if text:
        return Comparison(
            others=len(values),
            community_mean=None,
            share_less_sharing=None,
            share_more_sharing=None,
            text=text,
        )
    mean = sum(everyone) / len(everyone)
    below = sum(1 for v in values if v < position) / len(values)
    above = sum(1 for v in values if v > position) / len(values)
    if below == 0 and above == 0:
        text = "You hold the same position as everyone else in the community."
    elif below >= above:
        text = f"You lean more toward sharing than {below:.0%} of the community."
    else:
        text = f"You lean more toward safeguarding than {above:.0%} of the community."
    diff = position - mean
    where = "at" if abs(diff) < 0.05 else ("above" if diff > 0 else "below")
    text += f" The community mean is {mean:+.1f}; you are {where} it"
    text += "." if where == "at" else f" by {abs(diff):.1f}."
    return Comparison(len(values), mean, below, above, text)


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
