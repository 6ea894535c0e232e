"""Debate formats, stance votes, and the result of a quick debate.

A debate vote is a :class:`bot.stance_scale.Stance` (+2 strongly share ... -2 strongly
safeguard), one per member per round; voting again replaces the earlier vote.
``quick`` is a single round; ``oxford`` is described in :mod:`bot.debates.oxford`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.debates.poll import PollSpec
from bot.debates.records import DebateFormat
from bot.debates.tally import bar
from bot.errors import UserFacingError
from bot.stance_scale import SCALE, Side, Stance

#: The options of every debate (stance) poll: the scale, +2 first; option i is ``SCALE[i]``.
STANCE_OPTIONS: tuple[str, ...] = tuple(stance.label for stance in SCALE)


def stance_poll_spec(motion: str, deadline: datetime) -> PollSpec:
    """A debate's (opening, closing or only) stance vote: one stance per member, anonymous."""
    return PollSpec(
        question=motion, options=STANCE_OPTIONS, max_choices=1, anonymous=True, deadline=deadline
    )


def parse_debate_format(text: str | None) -> DebateFormat:
    """``quick`` (default when empty) or ``oxford``, case-insensitive."""
    value = (text or "").strip().lower()
    if not value:
        return DebateFormat.QUICK
    try:
        return DebateFormat(value)
    except ValueError:
        raise UserFacingError(
            f"`{text}` is not a debate format: use `quick` (one vote) or `oxford` "
            "(vote, discussion, vote again)."
        ) from None


@dataclass(frozen=True)
class QuickResult:
    """The outcome of one stance vote.

    ``distribution`` has every stance of the scale, +2 first, with its count.
    ``mean`` is the average stance (-2 .. +2), ``None`` without votes.
    ``leading`` is the side with the most voters, ``None`` without votes or on a tie.
    """

    distribution: dict[Stance, int]
    side_counts: dict[Side, int]
    total: int
    mean: float | None
    leading: Side | None


def quick_result(votes: Mapping[int, Stance]) -> QuickResult:
    """Distribution and mean of ``votes`` (member id -> stance)."""
    distribution = {stance: 0 for stance in SCALE}
    for stance in votes.values():
        distribution[Stance(stance)] += 1
    side_counts = {side: 0 for side in (Side.SHARE, Side.UNDECIDED, Side.SAFEGUARD)}
    for stance, count in distribution.items():
        side_counts[stance.side] += count
    total = len(votes)
    mean = sum(int(s) * c for s, c in distribution.items()) / total if total else None
    leading: Side | None = None
    if total:
        top = max(side_counts.values())
        tops = [side for side, count in side_counts.items() if count == top]
        leading = tops[0] if len(tops) == 1 else None
    return QuickResult(distribution, side_counts, total, mean, leading)


def format_quick_result(result: QuickResult, *, width: int = 12) -> str:
    """Markdown: one line per stance with a bar, then the mean and the leading side."""
    if not result.total:
        return "Nobody voted."
    lines = []
    for stance, count in result.distribution.items():
        share = count / result.total
        lines.append(f"{stance.label}: `{bar(share, width)}` {count} · {round(100 * share)}%")
    assert result.mean is not None
    lines.append("")
    lead = (
        f"leaning {result.leading.name.lower()}" if result.leading is not None else "no side ahead"
    )
    voters = f"{result.total} voter{'s' if result.total != 1 else ''}"
    lines.append(f"{voters} · mean {result.mean:+.2f} · {lead}")
    return "\n".join(lines)
