"""The delivery ledger's words: what happened to an item in one subscription, why, and what to
do about it (``/releases why`` and ``agora releases why``). Discord-free: the caller says how a
channel and a moment are written.

A post Discord refuses is stored as a *refusal*: ``missing permission: Embed Links``,
``missing access`` or ``unknown channel`` (see :func:`refusal`), in the delivery's
``last_error`` and the subscription's ``blocked``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.releases.records import SourceStatus, Subscription
from bot.text import safe_line

#: Ledger rows (items seen, items filtered out) are kept this many days.
LEDGER_DAYS = 30

MISSING_PERMISSION = "missing permission: "
MISSING_ACCESS = "missing access"
UNKNOWN_CHANNEL = "unknown channel"


class Outcome(StrEnum):
    """What happened to an item in one subscription."""

    ANNOUNCED = "announced"
    FILTERED = "filtered"  # the subscription's filter left it out
    BASELINE = "baseline"  # listed before the subscription's baseline: never announced
    PENDING = "pending"  # queued; posting failed so far and is retried
    FAILED = "failed"  # given up (refused by Discord, or too many failed posts)
    PAUSED = "paused"  # the source is paused: the item could not be seen
    UNSEEN = "unseen"  # the source never listed it


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One subscription's line of ``/releases why``: what happened to the item there (the
    item as it was asked for, or as the delivery names it), when (Unix seconds: posted,
    queued, filtered, seen), and the details its outcome needs: the filter rule, the last
    error or the refusal (``detail``), the failed attempts, the message, the source's status."""

    subscription: Subscription
    outcome: Outcome
    item_id: str
    at: float = 0.0  # 0: unknown
    title: str | None = None
    detail: str | None = None
    attempts: int = 0
    message_id: int | None = None
    source: SourceStatus | None = None

    @property
    def message_link(self) -> str | None:
        if self.message_id is None:
            return None
        s = self.subscription
        return f"https://discord.com/channels/{s.guild_id}/{s.channel_id}/{self.message_id}"


def refusal(*, unknown_channel: bool, missing: list[str], code: int | None = None) -> str:
    """The stored reason of a post Discord refused: the channel is gone (404), a permission
    the bot lacks there (the first of ``missing``), or no access at all (403 50001)."""
    if unknown_channel:
        return UNKNOWN_CHANNEL
    if missing:
        return MISSING_PERMISSION + missing[0]
    return MISSING_ACCESS if code == 50001 else MISSING_PERMISSION + "unknown"


def refusal_advice(reason: str, channel: str) -> str:
    """What a manager does about a refusal, e.g. ``grant Embed Links in #models``."""
    if reason == UNKNOWN_CHANNEL:
        return "the channel is gone: `/releases unfollow` it, or follow into another channel"
    if reason == MISSING_ACCESS:
        return f"grant View Channel in {channel}"
    if reason.startswith(MISSING_PERMISSION):
        permission = reason.removeprefix(MISSING_PERMISSION)
        if permission == "unknown":
            return f"check my permissions in {channel}"
        return f"grant {permission} in {channel}"
    return "it is retried at the next check"


def is_refusal(reason: str | None) -> bool:
    return reason is not None and (
        reason in (UNKNOWN_CHANNEL, MISSING_ACCESS) or reason.startswith(MISSING_PERMISSION)
    )


def explain(entry: LedgerEntry, channel: str, when: Callable[[float], str]) -> str:
    """One line: in ``channel``, what happened to the item, why, and what to do."""
    s = entry.subscription
    detail = safe_line(entry.detail or "unknown")[:200]
    at = when(entry.at) if entry.at else "unknown"
    if entry.outcome is Outcome.ANNOUNCED:
        return f"{channel}: announced {at}: {entry.message_link}"
    if entry.outcome is Outcome.FILTERED:
        return (
            f"{channel}: filtered out by `{detail}` ({at}); to get such items, remove "
            f"`{detail}` from the filter (`/releases follow` again with the new filter)"
        )
    if entry.outcome is Outcome.BASELINE:
        return (
            f"{channel}: not announced: it was already listed when this channel started "
            f"following ({when(s.created_at)}, the baseline); only later items are announced"
        )
    if entry.outcome is Outcome.PENDING:
        return (
            f"{channel}: waiting to be posted: {entry.attempts} failed attempt(s), last error "
            f"{detail}; retried at the next check, nothing to do unless it keeps failing"
        )
    if entry.outcome is Outcome.FAILED:
        advice = (
            refusal_advice(detail, channel)
            if is_refusal(detail)
            else "it failed too often and is not retried"
        )
        return f"{channel}: not posted: {detail}; {advice}"
    status = entry.source
    if entry.outcome is Outcome.PAUSED:
        failures = status.failures if status else 0
        error = safe_line(status.last_error or "unknown")[:200] if status else "unknown"
        return (
            f"{channel}: `{s.source_key}` is paused after {failures} failed checks (last "
            f"error: {error}), so new items are not seen; resume it with `/releases resume`"
        )
    fetched = status.last_success_at if status else None
    last = f"last fetched {when(fetched)}" if fetched else "never fetched yet"
    return f"{channel}: `{s.source_key}` never listed this item ({last})"
