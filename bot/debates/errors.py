"""Domain errors of polls and debates, raised by the repositories.

They say what happened, not what a member reads: the services catch them and choose the words
(the same error can read "arguments are closed" or "upvotes are closed").
"""

from __future__ import annotations


class DebatesError(Exception):
    """Base of the debates feature's domain errors."""


class PollNotFound(DebatesError):
    """The poll a vote names does not exist (any more)."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(f"no poll {poll_id}")
        self.poll_id = poll_id


class ArgumentNotFound(DebatesError):
    """The argument an upvote names does not exist (any more)."""

    def __init__(self, argument_id: int) -> None:
        super().__init__(f"no argument {argument_id}")
        self.argument_id = argument_id


class DebateEnded(DebatesError):
    """The debate reached its result: no more arguments or upvotes (or it does not exist)."""

    def __init__(self, debate_id: int) -> None:
        super().__init__(f"debate {debate_id} has ended")
        self.debate_id = debate_id
