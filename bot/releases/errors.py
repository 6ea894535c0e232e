"""Typed failures of a release source, distinct from bad user input."""

from __future__ import annotations

from typing import Literal

SourceErrorKind = Literal[
    "timeout",  # the source did not answer in time (or answered HTTP 408)
    "rate_limited",  # HTTP 429
    "server_error",  # HTTP 5xx
    "http_error",  # any other unexpected HTTP status (401, 404, ...)
    "network",  # connection refused, DNS failure, TLS error
    "malformed",  # the body is not the JSON / XML we expect
    "too_large",  # the body is larger than the configured cap
    "blocked",  # the URL resolves to a private / loopback / metadata address
    "invalid_source",  # a stored source key that no longer parses
    "internal",  # a bug: logged with its traceback, counted like any failure
]


class SourceError(Exception):
    """A source could not be fetched this cycle.

    The radar counts consecutive ``SourceError``s per source to back off (see
    ``bot.releases.policy``); ``kind`` is stable and safe to store or show, ``message`` is
    a short human explanation without secrets.
    """

    def __init__(self, kind: SourceErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: SourceErrorKind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"SourceError({self.kind!r}, {self.message!r})"


def error_for_status(status: int, what: str) -> SourceError:
    """Map an unexpected HTTP status to the matching ``SourceError``."""
    if status == 408:
        return SourceError("timeout", f"{what} answered 408 Request Timeout")
    if status == 429:
        return SourceError("rate_limited", f"{what} answered 429 Too Many Requests")
    if 500 <= status <= 599:
        return SourceError("server_error", f"{what} answered HTTP {status}")
    return SourceError("http_error", f"{what} answered HTTP {status}")


class SubscriptionLimitReached(Exception):
    """Following one more source would take a community beyond its ``limit`` of subscriptions
    (a source followed in several channels counts once per channel)."""

    def __init__(self, guild_id: int, limit: int) -> None:
        super().__init__(f"community {guild_id} already has {limit} subscriptions")
        self.guild_id = guild_id
        self.limit = limit
