"""The release radar's stored records (returned by the repositories, Discord-free).

See `bot/migrations/0003_releases.sql` for the tables and how they give exactly-once
announcements.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.releases.models import ReleaseItem, SourceState

#: ``created_by`` of a subscription whose creator used ``/stance forget``: a former member
#: (the subscription is the community's, so it stays; the member's id does not).
FORMER_MEMBER = 0


class DeliveryStatus(StrEnum):
    """Where an announcement is in the outbox."""

    PENDING = "pending"  # queued: to be posted (again, after a crash) with its nonce
    POSTED = "posted"
    FAILED = "failed"  # given up: channel gone, no access, or too many failed posts


@dataclass(frozen=True, slots=True)
class Subscription:
    """One channel following one source in one community."""

    id: int
    guild_id: int
    channel_id: int
    source_key: str
    mention_role: int | None
    filter_text: str
    baselined: bool
    #: The member who followed the source, or :data:`FORMER_MEMBER`.
    created_by: int
    created_at: float  # Unix seconds, UTC
    #: Why the channel refuses posts (see ``bot.releases.ledger.refusal``), None when it does not.
    blocked: str | None = None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The polling state of one source (a row of `release_sources`)."""

    source_key: str
    state: SourceState | None
    failures: int
    next_attempt_at: float
    paused: bool
    last_error: str | None
    last_success_at: float | None


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A queued announcement (the outbox), with where it goes."""

    id: int
    subscription_id: int
    item_id: str
    nonce: str
    item: ReleaseItem | None
    title: str
    url: str | None
    attempts: int
    guild_id: int
    channel_id: int
    mention_role: int | None
    source_key: str
    #: The subscription's ``blocked`` reason (cleared by this post if it goes through).
    blocked: str | None = None
    #: The community opens a thread under each announcement.
    announce_threads: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    """A posted (or failed) announcement."""

    id: int
    subscription_id: int
    item_id: str
    nonce: str
    title: str
    url: str | None
    status: DeliveryStatus
    message_id: int | None
    posted_at: float | None
    guild_id: int
    channel_id: int
    source_key: str
