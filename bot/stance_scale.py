"""The sharing-versus-safeguarding scale shared by debates and stances.

+2 strongly share ... -2 strongly safeguard. One definition, so a debate vote and a
declared stance always mean the same number.
"""

from __future__ import annotations

from enum import IntEnum


class Stance(IntEnum):
    STRONGLY_SHARE = 2
    LEAN_SHARE = 1
    UNDECIDED = 0
    LEAN_SAFEGUARD = -1
    STRONGLY_SAFEGUARD = -2

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def side(self) -> Side:
        if self > 0:
            return Side.SHARE
        if self < 0:
            return Side.SAFEGUARD
        return Side.UNDECIDED


class Side(IntEnum):
    """The coarse side used by the Oxford rule: share, undecided, safeguard."""

    SAFEGUARD = -1
    UNDECIDED = 0
    SHARE = 1


LABELS: dict[Stance, str] = {
    Stance.STRONGLY_SHARE: "Strongly share",
    Stance.LEAN_SHARE: "Lean share",
    Stance.UNDECIDED: "Undecided",
    Stance.LEAN_SAFEGUARD: "Lean safeguard",
    Stance.STRONGLY_SAFEGUARD: "Strongly safeguard",
}

#: From +2 down to -2, the order in which the scale is shown.
SCALE: tuple[Stance, ...] = tuple(sorted(Stance, reverse=True))
