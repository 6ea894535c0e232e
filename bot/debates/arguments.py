"""Arguments members post for a side during a debate, and the strongest of them.

An argument belongs to share or safeguard (undecided has no case to argue). Members upvote
arguments; the strongest are those with the most upvotes, the earliest first on a tie (posting
first is rewarded; copying a good argument later is not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.debates.options import clean_text
from bot.errors import UserFacingError
from bot.stance_scale import Side

MIN_ARGUMENT_LENGTH = 10
MAX_ARGUMENT_LENGTH = 300


@dataclass(frozen=True)
class Argument:
    """One posted argument. ``author`` is the member id; ``posted_at`` orders ties
    (when ``None``, the order in which arguments are given counts instead)."""

    side: Side
    text: str
    author: int
    upvotes: int = 0
    posted_at: datetime | None = None
    id: int | None = None


def clean_argument(text: str | None) -> str:
    """The argument's text, cleaned, 10 to 300 characters."""
    clean = clean_text(text)
    if len(clean) < MIN_ARGUMENT_LENGTH:
        raise UserFacingError(
            f"An argument needs at least {MIN_ARGUMENT_LENGTH} characters: say why, in a sentence."
        )
    if len(clean) > MAX_ARGUMENT_LENGTH:
        raise UserFacingError(
            f"The argument is {len(clean)} characters long; the limit is "
            f"{MAX_ARGUMENT_LENGTH}. Make the point shorter."
        )
    return clean


def argument_side(side: Side | int | str) -> Side:
    """The side an argument argues for: share or safeguard (names or +1/-1)."""
    value: Side | None
    if isinstance(side, str):
        value = Side.__members__.get(side.strip().upper())
    else:
        try:
            value = Side(int(side))
        except ValueError:
            value = None
    if value is None or value is Side.UNDECIDED:
        raise UserFacingError("An argument is for `share` or for `safeguard`: pick one.")
    return value


def new_argument(
    side: Side | int | str, text: str | None, author: int, posted_at: datetime | None = None
) -> Argument:
    """Validate a member's new argument."""
    return Argument(
        side=argument_side(side), text=clean_argument(text), author=author, posted_at=posted_at
    )


def can_upvote(argument: Argument, member_id: int) -> bool:
    """Members may not upvote their own argument."""
    return argument.author != member_id


def strongest_arguments(
    arguments: Iterable[Argument], per_side: int = 3
) -> dict[Side, list[Argument]]:
    """The ``per_side`` strongest arguments for share and for safeguard.

    Ranked by upvotes (most first), then earliest ``posted_at``, then the given order
    (arguments without ``posted_at`` come after dated ones with the same upvotes).
    """

    def rank(item: tuple[int, Argument]) -> tuple[int, bool, float, int]:
        position, argument = item
        stamp = argument.posted_at.timestamp() if argument.posted_at is not None else 0.0
        return (-argument.upvotes, argument.posted_at is None, stamp, position)

    ordered = sorted(enumerate(arguments), key=rank)
    return {
        side: [argument for _, argument in ordered if argument.side == side][: max(per_side, 0)]
        for side in (Side.SHARE, Side.SAFEGUARD)
    }
