"""What the debates feature stores, as the repositories return it: records and their kinds.

Kinds are :class:`~enum.StrEnum` members (stored as their value), so code compares
``poll.kind is PollKind.DEBATE``, never a string. No Discord and no SQL here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from bot.debates.arguments import Argument
from bot.debates.oxford import OxfordSchedule, Phase
from bot.debates.poll import PollSpec
from bot.enums import LabelledEnum


class PollKind(StrEnum):
    """A poll with buttons, a native Discord poll, or a debate's stance vote."""

    CUSTOM = "custom"
    NATIVE = "native"
    DEBATE = "debate"


class DebateFormat(LabelledEnum):
    """A quick debate is one stance vote; an Oxford debate votes, discusses, votes again."""

    QUICK = "quick", "quick (one vote)"
    OXFORD = "oxford", "oxford (vote, discussion, vote again)"


class DebateSource(StrEnum):
    """Who started a debate: a member's command, the weekly schedule, or a release button."""

    MANUAL = "manual"
    WEEKLY = "weekly"
    RELEASE = "release"


@dataclass(frozen=True)
class PollRecord:
    """A stored poll (a debate's stance votes are polls of kind ``debate``)."""

    id: int
    guild_id: int
    number: int
    channel_id: int
    message_id: int | None
    creator_id: int
    kind: PollKind
    question: str
    options: tuple[str, ...]
    max_choices: int
    anonymous: bool
    role_id: int | None
    created_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    result_message_id: int | None
    debate_id: int | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def spec(self) -> PollSpec:
        """The domain view of this poll (validated once per record: records never change)."""
        return self._spec

    @cached_property
    def _spec(self) -> PollSpec:
        return PollSpec(
            question=self.question,
            options=self.options,
            max_choices=self.max_choices,
            anonymous=self.anonymous,
            role_id=self.role_id,
            deadline=self.deadline,
        )


@dataclass(frozen=True)
class DebateRecord:
    """A stored debate (a quick debate goes from ``pre_vote`` straight to ``result``)."""

    id: int
    guild_id: int
    number: int
    channel_id: int
    message_id: int | None
    thread_id: int | None
    creator_id: int
    format: DebateFormat
    phase: Phase
    topic: str | None
    motion: str
    source: DebateSource
    created_at: datetime
    schedule: OxfordSchedule
    pre_poll_id: int | None
    post_poll_id: int | None
    closed_at: datetime | None
    result_message_id: int | None

    @property
    def deadline(self) -> datetime | None:
        """When the current phase ends (a quick debate has one phase, ending at the end)."""
        if self.format is DebateFormat.QUICK:
            return None if self.phase is Phase.RESULT else self.schedule.post_vote_end
        return self.schedule.deadline(self.phase)


@dataclass(frozen=True)
class StoredArgument:
    """An argument with its upvotes, the debate it belongs to and the message showing it."""

    debate_id: int
    argument: Argument
    message_id: int | None


@dataclass(frozen=True)
class VoteChange:
    """What a click did: the member's choices before and after, on which poll."""

    poll: PollRecord
    before: frozenset[int]
    after: frozenset[int]


@dataclass(frozen=True)
class PhaseChange:
    """A debate moved to its next phase; ``post_poll`` is set when the closing vote was
    opened by this change."""

    debate: DebateRecord
    post_poll: PollRecord | None


#: Decides a member's new choices from the poll (read inside the vote's transaction) and the
#: choices they hold; raises to refuse the vote (nothing is stored then).
Decide = Callable[[PollRecord, frozenset[int]], frozenset[int]]
