"""Polling policy after failures, and the exactly-once nonce of an announcement."""

from __future__ import annotations

import base64
import hashlib

from bot import limits

#: A source is paused (an admin must ``/releases resume`` it) after this many failures in a row.
PAUSE_AFTER_FAILURES = 5
#: Backoff never waits longer than this between two attempts.
MAX_BACKOFF_SECONDS = 6 * 60 * 60
#: A community may follow at most this many (source, channel) pairs.
MAX_SUBSCRIPTIONS_PER_GUILD = 50
#: A post that keeps failing (Discord errors other than a missing channel) is dropped after this.
MAX_POST_ATTEMPTS = 5


def backoff_seconds(
    failures: int, base_seconds: float = 300.0, cap_seconds: float = MAX_BACKOFF_SECONDS
) -> float:
    """Seconds to wait before polling a source again after ``failures`` failures in a row.

    0 failures: the normal ``base_seconds``; then ``base * 2**failures``, capped at
    ``cap_seconds`` (6 h by default).
    """
    if failures <= 0:
        return float(min(base_seconds, cap_seconds))
    # Avoid computing huge powers for absurd counters.
    exponent = min(failures, 64)
    return float(min(base_seconds * (2**exponent), cap_seconds))


def should_pause(failures: int, threshold: int = PAUSE_AFTER_FAILURES) -> bool:
    """Whether a source has failed often enough in a row to stop polling it until resumed."""
    return failures >= threshold


def announcement_nonce(subscription_id: int, item_id: str) -> str:
    """A deterministic Discord message nonce for announcing ``item_id`` to a subscription.

    25 characters of base32 of ``sha256("<subscription_id>:<item_id>")`` (125 bits):
    the same pair always gives the same nonce, so a re-send after a crash is deduplicated
    by Discord (``enforce_nonce``); the subscription is part of it because Discord dedupes
    per author, not per channel.
    """
    digest = hashlib.sha256(f"{subscription_id}:{item_id}".encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[: limits.NONCE]
