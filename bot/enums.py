"""Enums whose members carry the words members read, declared next to their values."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A string enum declared as ``NAME = "stored value", "Label members read"``.

    Looking a member up by its stored value (``Kind("value")``) works as with any ``StrEnum``.
    """

    _label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label or value
        return member

    @property
    def label(self) -> str:
        return self._label
