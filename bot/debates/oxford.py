"""The Oxford format: a vote, a discussion, a second vote, and the Intelligence Squared rule.

Phases: ``pre_vote`` -> ``discussion`` -> ``post_vote`` -> ``result``. By default the debate's
duration is split ¼ / ½ / ¼; a manager may move to the next phase early (``/debate next``).

The rule (as Intelligence Squared debates are judged): each round's votes are turned into the
percentage of that round's voters on each side (share, undecided, safeguard). The winner is the
side, share or safeguard, whose percentage *grew the most* between the two rounds, in percentage
points; it is not the side with most votes at the end. A side can win while losing points, if
the other side lost more (voters moved to undecided).

Edge cases, all defined:

- Equal gains (within exact arithmetic: percentages are fractions) -> ``draw``.
- No vote in the pre-vote or none in the post-vote -> ``no_contest``: no gain can be measured.
  (Only a pre-vote: the percentages are reported, the winner is not.)
- ``changed_minds`` counts members who voted in *both* rounds and whose side differs; someone
  who voted only once is not counted, whatever they voted. Moving within a side
  (lean share -> strongly share) is not a change of mind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from bot.enums import LabelledEnum
from bot.stance_scale import Side, Stance

#: The default split of an Oxford debate's duration: pre-vote, discussion, post-vote.
DEFAULT_SPLIT: tuple[int, int, int] = (1, 2, 1)


class Phase(LabelledEnum):
    PRE_VOTE = "pre_vote", "Opening vote"
    DISCUSSION = "discussion", "Discussion"
    POST_VOTE = "post_vote", "Closing vote"
    RESULT = "result", "Result"

    def next(self) -> Phase:
        """The phase after this one (``result`` is the last and stays)."""
        order = list(Phase)
        return order[min(order.index(self) + 1, len(order) - 1)]


@dataclass(frozen=True)
class OxfordSchedule:
    """When each phase ends (aware datetimes); ``post_vote_end`` is when the result is shown."""

    start: datetime
    pre_vote_end: datetime
    discussion_end: datetime
    post_vote_end: datetime

    def deadline(self, phase: Phase) -> datetime | None:
        """When ``phase`` ends; ``None`` for ``result``."""
        return {
            Phase.PRE_VOTE: self.pre_vote_end,
            Phase.DISCUSSION: self.discussion_end,
            Phase.POST_VOTE: self.post_vote_end,
            Phase.RESULT: None,
        }[phase]


def oxford_schedule(
    start: datetime, duration: timedelta, split: tuple[int, int, int] = DEFAULT_SPLIT
) -> OxfordSchedule:
    """Phase deadlines for a debate starting at ``start`` (aware) and lasting ``duration``.

    ``split`` weights the three phases (default ¼ / ½ / ¼). Deadlines are rounded to whole
    seconds and the last one is exactly ``start + duration``.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    if len(split) != 3 or any(part <= 0 for part in split):
        raise ValueError("split needs three positive weights")
    seconds = duration.total_seconds()
    weight = sum(split)
    first = timedelta(seconds=round(seconds * split[0] / weight))
    second = timedelta(seconds=round(seconds * (split[0] + split[1]) / weight))
    return OxfordSchedule(
        start=start,
        pre_vote_end=start + first,
        discussion_end=start + second,
        post_vote_end=start + duration,
    )


class Outcome(StrEnum):
    SHARE = "share"
    SAFEGUARD = "safeguard"
    DRAW = "draw"
    NO_CONTEST = "no_contest"


@dataclass(frozen=True)
class OxfordResult:
    """The judged debate.

    ``pre_percent`` / ``post_percent``: percentage of each round's voters on each side
    (all three sides present; all zero for a round without votes).
    ``gains``: percentage points gained by share and by safeguard (post minus pre).
    ``changed_minds``: ids of members who voted in both rounds and changed side.
    ``transitions``: for those members, how many went from one side to another.
    """

    pre_counts: dict[Side, int]
    post_counts: dict[Side, int]
    pre_percent: dict[Side, float]
    post_percent: dict[Side, float]
    gains: dict[Side, float]
    outcome: Outcome
    changed_minds: frozenset[int]
    transitions: dict[tuple[Side, Side], int]
    both_rounds: int

    @property
    def winner(self) -> Side | None:
        """The winning side, or ``None`` on a draw or without a contest."""
        return {Outcome.SHARE: Side.SHARE, Outcome.SAFEGUARD: Side.SAFEGUARD}.get(self.outcome)

    @property
    def pre_total(self) -> int:
        return sum(self.pre_counts.values())

    @property
    def post_total(self) -> int:
        return sum(self.post_counts.values())


def side_percentages(votes: Mapping[int, Stance]) -> dict[Side, Fraction]:
    """Exact percentage of voters on each side (all zero without votes)."""
    total = len(votes)
    counts = {side: 0 for side in Side}
    for stance in votes.values():
        counts[stance.side] += 1
    return {
        side: Fraction(100 * count, total) if total else Fraction(0)
        for side, count in counts.items()
    }


def _counts(votes: Mapping[int, Stance]) -> dict[Side, int]:
    counts = {side: 0 for side in (Side.SHARE, Side.UNDECIDED, Side.SAFEGUARD)}
    for stance in votes.values():
        counts[Stance(stance).side] += 1
    return counts


def oxford_result(pre: Mapping[int, Stance], post: Mapping[int, Stance]) -> OxfordResult:
    """Judge a debate from the two rounds' votes (member id -> stance); see the module doc."""
    pre_exact = side_percentages(pre)
    post_exact = side_percentages(post)
    exact_gains = {
        side: post_exact[side] - pre_exact[side] for side in (Side.SHARE, Side.SAFEGUARD)
    }
    if not pre or not post:
        outcome = Outcome.NO_CONTEST
    elif exact_gains[Side.SHARE] > exact_gains[Side.SAFEGUARD]:
        outcome = Outcome.SHARE
    elif exact_gains[Side.SAFEGUARD] > exact_gains[Side.SHARE]:
        outcome = Outcome.SAFEGUARD
    else:
        outcome = Outcome.DRAW
    changed: set[int] = set()
    transitions: dict[tuple[Side, Side], int] = {}
    both = pre.keys() & post.keys()
    for member in both:
        before, after = Stance(pre[member]).side, Stance(post[member]).side
        if before != after:
            changed.add(member)
            transitions[(before, after)] = transitions.get((before, after), 0) + 1
    order = (Side.SHARE, Side.UNDECIDED, Side.SAFEGUARD)
    return OxfordResult(
        pre_counts=_counts(pre),
        post_counts=_counts(post),
        pre_percent={side: float(pre_exact[side]) for side in order},
        post_percent={side: float(post_exact[side]) for side in order},
        gains={side: float(gain) for side, gain in exact_gains.items()},
        outcome=outcome,
        changed_minds=frozenset(changed),
        transitions=transitions,
        both_rounds=len(both),
    )


_SIDE_NAMES = {Side.SHARE: "Share", Side.UNDECIDED: "Undecided", Side.SAFEGUARD: "Safeguard"}


def format_oxford_result(result: OxfordResult) -> str:
    """Markdown: before/after per side, the gains, the verdict and minds changed."""
    lines = []
    for side in (Side.SHARE, Side.UNDECIDED, Side.SAFEGUARD):
        line = (
            f"{_SIDE_NAMES[side]}: {result.pre_percent[side]:.0f}% → "
            f"{result.post_percent[side]:.0f}%"
        )
        if side in result.gains and result.outcome is not Outcome.NO_CONTEST:
            line += f" ({result.gains[side]:+.1f} points)"
        lines.append(line)
    lines.append("")
    verdicts = {
        Outcome.SHARE: "**Share wins**: it gained the most support during the debate.",
        Outcome.SAFEGUARD: "**Safeguard wins**: it gained the most support during the debate.",
        Outcome.DRAW: "**Draw**: both sides gained the same support.",
        Outcome.NO_CONTEST: "**No result**: a winner needs votes in both the opening and closing vote.",
    }
    lines.append(verdicts[result.outcome])
    lines.append(
        f"{result.pre_total} opening votes · {result.post_total} closing votes · "
        f"{len(result.changed_minds)} of {result.both_rounds} who voted twice changed their mind"
    )
    return "\n".join(lines)
