"""Errors that carry a message meant for the member who caused them."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected failure: its message is shown to the member, ephemerally, as is.

    Domain code raises it for bad input ("duration must be between 1 minute and 30 days");
    the tree-level error handler turns it into a reply. Nothing is logged as an error.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
