"""Errors that carry a message meant for the member (or the operator) who caused them."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected failure: its message is shown to the member, ephemerally, as is.

    Domain code raises it for bad input ("duration must be between 1 minute and 30 days");
    the tree-level error handler turns it into a reply. Nothing is logged as an error.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ForeignCommunityError(Exception):
    """A component or an id that belongs to another community (a forged custom id, a number
    typed in the wrong server). Raised by services; the error handler words it once."""


#: The one wording for :class:`ForeignCommunityError`.
FOREIGN_COMMUNITY = "This belongs to another server; nothing was changed."


def ensure_same_community(owner_guild_id: int | None, guild_id: int | None) -> None:
    """Raise :class:`ForeignCommunityError` unless the record's community is this one."""
    if owner_guild_id is None or owner_guild_id != guild_id:
        raise ForeignCommunityError(f"owned by {owner_guild_id}, used in {guild_id}")


class OperatorError(Exception):
    """A failure the operator must act on (the database is in use, a backup is damaged, the
    operator endpoint cannot listen); `agora` prints its message as one line and exits 2."""
