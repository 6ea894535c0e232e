"""Counting a poll's votes, and the results text.

A :class:`Tally` is built from the stored ``(member_id, option_index)`` rows; it never needs
to know who voted, so it is the same for anonymous polls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from bot.debates.poll import PollSpec

BAR_FULL = "█"
BAR_EMPTY = "░"


class Vote(NamedTuple):
    """One stored choice: a member holding one option (several rows if multiple choice)."""

    member_id: int
    option_index: int


@dataclass(frozen=True)
class Tally:
    """Votes per option and the number of distinct voters.

    ``counts[i]`` is how many members hold option ``i``; ``voters`` how many distinct members
    voted (the turnout). In a multiple-choice poll ``total_votes`` can exceed ``voters``.
    """

    counts: tuple[int, ...]
    voters: int

    @classmethod
    def from_votes(cls, votes: Iterable[tuple[int, int]], option_count: int) -> Tally:
        """Count ``(member_id, option_index)`` pairs; a repeated pair counts once.

        Raises :class:`ValueError` for an index outside ``0 .. option_count - 1`` (a storage
        bug, not a member's mistake).
        """
        pairs = {(int(member), int(option)) for member, option in votes}
        counts = [0] * option_count
        for _member, option in pairs:
            if not 0 <= option < option_count:
                raise ValueError(f"option index {option} out of range 0..{option_count - 1}")
            counts[option] += 1
        return cls(counts=tuple(counts), voters=len({member for member, _ in pairs}))

    @classmethod
    def empty(cls, option_count: int) -> Tally:
        return cls(counts=(0,) * option_count, voters=0)

    @property
    def total_votes(self) -> int:
        return sum(self.counts)

    def percentages(self) -> list[float]:
        """Each option's share of all votes cast, in percent (sums to 100 unless no votes)."""
        total = self.total_votes
        return [100.0 * count / total if total else 0.0 for count in self.counts]

    def voter_percentages(self) -> list[float]:
        """Each option's share of voters who picked it (multiple choice: may sum over 100)."""
        return [100.0 * count / self.voters if self.voters else 0.0 for count in self.counts]

    def rounded_percentages(self) -> list[int]:
        """Whole percentages of votes that add up to exactly 100 (largest remainder method).

        Without it, three equal options show 33 + 33 + 33 = 99.
        """
        total = self.total_votes
        if not total:
            return [0] * len(self.counts)
        exact = [100 * count / total for count in self.counts]
        floors = [int(value) for value in exact]
        missing = 100 - sum(floors)
        order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
        for index in order[:missing]:
            floors[index] += 1
        return floors

    def leaders(self) -> list[int]:
        """Indices of the option(s) with the most votes; empty when nobody voted."""
        if not self.total_votes:
            return []
        top = max(self.counts)
        return [i for i, count in enumerate(self.counts) if count == top]

    def turnout(self, eligible: int) -> float:
        """Voters as a percentage of ``eligible`` members (0 when nobody is eligible)."""
        return 100.0 * self.voters / eligible if eligible > 0 else 0.0


def bar(fraction: float, width: int = 12) -> str:
    """A text bar of ``width`` blocks, ``fraction`` (0..1) of them full."""
    full = round(max(0.0, min(1.0, fraction)) * width)
    return BAR_FULL * full + BAR_EMPTY * (width - full)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_results(
    tally: Tally,
    spec: PollSpec,
    *,
    eligible: int | None = None,
    closed: bool = False,
    width: int = 12,
) -> str:
    """Markdown results: one line per option (bar, count, percentage), then the turnout.

    Single choice shows each option's share of the votes (rounded to add up to 100);
    multiple choice shows the share of voters who picked it, which may add up to more.
    Leading options are in bold once the poll is ``closed``. Fits an embed description
    (at most 25 options of 80 characters).
    """
    if len(tally.counts) != len(spec.options):
        raise ValueError("the tally and the poll have different numbers of options")
    if spec.multiple:
        shares = [round(p) for p in tally.voter_percentages()]
        fractions = [c / tally.voters if tally.voters else 0.0 for c in tally.counts]
    else:
        shares = tally.rounded_percentages()
        total = tally.total_votes
        fractions = [c / total if total else 0.0 for c in tally.counts]
    leaders = set(tally.leaders()) if closed else set()
    lines: list[str] = []
    for index, (option, count) in enumerate(zip(spec.options, tally.counts, strict=True)):
        name = f"**{option}**" if index in leaders else option
        lines.append(f"{index + 1}. {name}")
        lines.append(
            f"`{bar(fractions[index], width)}` {_plural(count, 'vote')} · {shares[index]}%"
        )
    summary = _plural(tally.voters, "voter")
    if eligible is not None and eligible > 0:
        summary += f" of {eligible} members ({round(tally.turnout(eligible))}% turnout)"
    if spec.multiple:
        summary += (
            f" · up to {spec.max_choices} choices each, so percentages can add up to more than 100"
        )
    if spec.anonymous:
        summary += " · anonymous"
    lines.append("")
    lines.append(("Closed · " if closed else "") + summary)
    return "\n".join(lines)
