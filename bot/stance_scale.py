"""The sharing-versus-safeguarding scale shared by debates and stances.

+2 strongly share ... -2 strongly safeguard. One definition, so a debate vote and a
declared stance always mean the same number.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self


class Stance(IntEnum):
    """A position on the scale, declared as ``NAME = value, "label members read"``."""

    _label: str

    def __new__(cls, value: int, label: str = "") -> Self:
        member = int.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    STRONGLY_SHARE = 2, "Strongly share"
    LEAN_SHARE = 1, "Lean share"
    UNDECIDED = 0, "Undecided"
    LEAN_SAFEGUARD = -1, "Lean safeguard"
    STRONGLY_SAFEGUARD = -2, "Strongly safeguard"

    @property
    def label(self) -> str:
        return self._label

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


#: From +2 down to -2, the order in which the scale is shown.
SCALE: tuple[Stance, ...] = tuple(sorted(Stance, reverse=True))
