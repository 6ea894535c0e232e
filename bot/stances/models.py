"""Value types shared by the stance modules: observations, their sources, statements and their
votes, what forgetting a member removes.

Times are timezone-aware ``datetime`` objects in UTC. Member, guild and statement ids are
plain ``int`` (Discord snowflakes); nothing here knows about Discord objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.stance_scale import Stance

if TYPE_CHECKING:  # the records themselves need no numpy at import
    import numpy as np
    import numpy.typing as npt


class SourceKind(StrEnum):
    """Where a position came from."""

    DECLARED = "declared"
    DEBATE = "debate"
    #: A stored source this version does not know (e.g. a legacy ``poll:<id>``); see
    #: :attr:`Observation.parsed_source`. Never written.
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed ``source`` field: ``"declared"`` or ``"debate:<id>"``."""

    kind: SourceKind
    ref: str | None = None

    @classmethod
    def parse(cls, text: str) -> Source:
        """Parse the stored form; raises ``ValueError`` on an unknown kind or a missing id."""
        kind_text, sep, ref = text.strip().partition(":")
        try:
            kind = SourceKind(kind_text.lower())
        except ValueError:
            kind = SourceKind.OTHER
        if kind is SourceKind.OTHER:
            raise ValueError(f"unknown stance source {text!r}")
        if kind is SourceKind.DECLARED:
            return cls(kind, ref or None)
        if not sep or not ref:
            raise ValueError(f"stance source {text!r} needs an id, like '{kind.value}:12'")
        return cls(kind, ref)

    def __str__(self) -> str:
        return self.kind.value if self.ref is None else f"{self.kind.value}:{self.ref}"

    @property
    def description(self) -> str:
        """Short English phrase: "your declaration", "your vote in debate #12"."""
        if self.kind is SourceKind.DECLARED:
            return "your declaration"
        if self.kind is SourceKind.OTHER:
            return "a recorded vote"
        return f"your vote in {self.kind.value} #{self.ref}"


@dataclass(frozen=True, slots=True)
class Observation:
    """One recorded position of one member at one time.

    ``value`` is coerced to :class:`Stance` (``ValueError`` outside -2..+2); ``at`` must be
    timezone-aware. ``topic`` is ``None`` for the general sharing-versus-safeguarding question.
    """

    member_id: int
    value: Stance
    at: datetime
    source: str = "declared"
    topic: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", Stance(int(self.value)))
        require_aware(self.at, "Observation.at")

    @property
    def parsed_source(self) -> Source:
        """The parsed source; an unknown one (nothing writes it) is ``OTHER``, never an error,
        so one odd row cannot break a member's profile."""
        try:
            return Source.parse(self.source)
        except ValueError:
            return Source(SourceKind.OTHER, self.source)


@dataclass(frozen=True, slots=True)
class StatementVote:
    """A member's vote on an opinion-map statement: +1 agree, -1 disagree, 0 pass."""

    member_id: int
    statement_id: int
    value: int
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.value not in (-1, 0, 1):
            raise ValueError(f"statement vote must be -1, 0 or +1, not {self.value!r}")
        if self.at is not None:
            require_aware(self.at, "StatementVote.at")


class Visibility(StrEnum):
    """Whether other members may see a member's stance with ``/stance user``."""

    PUBLIC = "public"
    PRIVATE = "private"


class VoteWord(StrEnum):
    """A vote on an opinion-map statement, as buttons and the export file name it."""

    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"

    @property
    def score(self) -> int:
        """The stored value: +1 agree, -1 disagree, 0 pass."""
        return _VOTE_SCORES[self]

    @classmethod
    def parse(cls, text: str) -> VoteWord | None:
        """The word ``text`` names, or None (a forged or outdated button)."""
        try:
            return cls(text)
        except ValueError:
            return None

    @classmethod
    def of(cls, score: int) -> VoteWord:
        """The word of a stored value (``ValueError`` outside -1, 0, +1)."""
        for word, value in _VOTE_SCORES.items():
            if value == score:
                return word
        raise ValueError(f"statement vote must be -1, 0 or +1, not {score!r}")


_VOTE_SCORES = {VoteWord.AGREE: 1, VoteWord.DISAGREE: -1, VoteWord.PASS: 0}


@dataclass(frozen=True, slots=True)
class Statement:
    """An opinion-map statement. ``number`` is what members see (per community, from 1);
    ``author_id`` is None once its author used ``/stance forget``."""

    id: int
    guild_id: int
    number: int
    author_id: int | None
    text: str
    created_at: datetime
    removed: bool


@dataclass(frozen=True, slots=True)
class VoteMatrix:
    """The opinion map's input: one row per member with a vote on an active statement
    (ascending member ids), one column per active statement (``statement_ids``, by number);
    +1 agree, -1 disagree, 0 pass, NaN not voted."""

    member_ids: list[int]
    statement_ids: list[int]
    votes: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What ``/stance forget`` deletes (or unlinks) of one member in one community, per kind."""

    observations: int
    statement_votes: int
    statements_unlinked: int
    visibility: int

    @property
    def total(self) -> int:
        return self.observations + self.statement_votes + self.statements_unlinked + self.visibility


def require_aware(moment: datetime, what: str = "datetime") -> None:
    """Refuse naive datetimes: mixing them with aware ones silently shifts by the local offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")


def to_timestamp(moment: datetime) -> float:
    """Seconds since the Unix epoch of an aware datetime."""
    require_aware(moment)
    return moment.timestamp()


def from_timestamp(seconds: float) -> datetime:
    """The aware UTC datetime of a Unix timestamp."""
    return datetime.fromtimestamp(float(seconds), tz=UTC)
