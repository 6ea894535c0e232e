"""A custom poll: what it asks, who may vote, and what one click does to a member's choices.

Votes are stored as ``(member_id, option_index)`` rows (see :mod:`bot.debates.tally`); a
member's *choices* are the set of option indices they currently hold. A click goes through
:func:`ensure_can_vote` then :func:`apply_vote`, and the cog stores the difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from bot.debates.durations import parse_poll_duration
from bot.debates.options import (
    MAX_OPTION_LENGTH,
    MAX_OPTIONS,
    MAX_QUESTION_LENGTH,
    MIN_OPTIONS,
    clean_question,
    parse_options,
)
from bot.errors import UserFacingError


class PollSpec(BaseModel):
    """Everything that defines a poll once created; JSON-serialisable for storage.

    ``max_choices`` is how many options one member may hold at once (1 = single choice).
    ``role_id`` restricts voting to members holding that role (``None``: everyone).
    ``deadline`` is when the poll closes (aware UTC); ``None`` means only a manual close.
    """

    model_config = ConfigDict(frozen=True)

    question: str = Field(min_length=1, max_length=MAX_QUESTION_LENGTH)
    options: tuple[str, ...] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)
    max_choices: int = Field(default=1, ge=1)
    anonymous: bool = False
    role_id: int | None = None
    deadline: AwareDatetime | None = None

    @model_validator(mode="after")
    def _check(self) -> PollSpec:
        if self.max_choices > len(self.options):
            raise ValueError("max_choices cannot exceed the number of options")
        if any(not option or len(option) > MAX_OPTION_LENGTH for option in self.options):
            raise ValueError(f"options must be 1..{MAX_OPTION_LENGTH} characters")
        return self

    @property
    def multiple(self) -> bool:
        """Whether members may pick more than one option."""
        return self.max_choices > 1

    def is_closed(self, now: datetime, *, closed: bool = False) -> bool:
        """Closed by hand (``closed``, from storage) or past its deadline."""
        return closed or (self.deadline is not None and now >= self.deadline)


def build_poll_spec(
    question: str,
    options: str,
    *,
    now: datetime,
    duration: str | None = None,
    multiple: int = 1,
    anonymous: bool = False,
    role_id: int | None = None,
) -> PollSpec:
    """Validate the raw ``/poll create`` options into a :class:`PollSpec`.

    ``options`` is the ``a | b | c`` text, ``duration`` the member's text (24 hours when
    missing), ``multiple`` the most options one member may pick (1 = single choice).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    clean = clean_question(question)
    choices = parse_options(options)
    length: timedelta = parse_poll_duration(duration)
    if multiple < 1:
        raise UserFacingError("`multiple` must be at least 1 (1 means one choice per member).")
    if multiple > len(choices):
        raise UserFacingError(
            f"`multiple` is {multiple} but the poll has only {len(choices)} options: "
            f"use a number from 1 to {len(choices)}."
        )
    return PollSpec(
        question=clean,
        options=tuple(choices),
        max_choices=multiple,
        anonymous=anonymous,
        role_id=role_id,
        deadline=now + length,
    )


def has_required_role(required_role_id: int | None, member_role_ids: Iterable[int]) -> bool:
    """Whether a member with ``member_role_ids`` may vote when ``required_role_id`` is set."""
    return required_role_id is None or required_role_id in set(member_role_ids)


def ensure_can_vote(
    spec: PollSpec,
    *,
    now: datetime,
    member_role_ids: Iterable[int],
    closed: bool = False,
) -> None:
    """Raise :class:`UserFacingError` when this member may not vote now.

    A closed poll (by hand or past its deadline) refuses every vote, then the role is checked.
    """
    if spec.is_closed(now, closed=closed):
        raise UserFacingError("This poll is closed: votes are no longer counted.")
    if not has_required_role(spec.role_id, member_role_ids):
        raise UserFacingError(
            f"Only members with the <@&{spec.role_id}> role can vote in this poll."
        )


def apply_vote(current: Iterable[int], option: int, max_choices: int) -> frozenset[int]:
    """The member's choices after clicking ``option``; toggle semantics.

    - Clicking an option one holds withdraws it (single or multiple choice).
    - Single choice (``max_choices == 1``): clicking another option moves the vote there.
    - Multiple choice: clicking a new option adds it, up to ``max_choices``; beyond that
      :class:`UserFacingError` asks to remove one first (nothing is dropped silently).
    """
    if max_choices < 1:
        raise ValueError("max_choices must be at least 1")
    if option < 0:
        raise ValueError("option index must not be negative")
    chosen = frozenset(current)
    if option in chosen:
        return chosen - {option}
    if max_choices == 1:
        return frozenset({option})
    if len(chosen) >= max_choices:
        raise UserFacingError(
            f"You can pick at most {max_choices} options; remove one first "
            "(click an option you picked to withdraw it)."
        )
    return chosen | {option}


def apply_selection(selected: Iterable[int], max_choices: int, option_count: int) -> frozenset[int]:
    """The member's choices after submitting a select menu: the submitted set replaces them.

    An empty selection withdraws every vote. Discord enforces ``max_values`` already; this
    checks again because a stale menu can carry an older limit.
    """
    chosen = frozenset(selected)
    if any(index < 0 or index >= option_count for index in chosen):
        raise UserFacingError("That option no longer exists: reopen the poll and pick again.")
    if len(chosen) > max_choices:
        raise UserFacingError(f"You can pick at most {max_choices} options; pick fewer.")
    return chosen
