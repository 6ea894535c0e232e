"""The small interface every release source implements, and the shared fetch bookkeeping."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

from bot.releases.config import RadarConfig
from bot.releases.models import (
    FetchResult,
    ReleaseItem,
    SourceState,
    listing_floor,
    new_items,
    remember,
    sort_items,
)
from bot.releases.sources.keys import SourceKind, SourceRef


class Source(ABC):
    """One followed place. Subclasses implement ``fetch``; they hold no mutable state.

    ``fetch(state)`` returns a ``FetchResult`` whose ``new`` items are those not seen in
    ``state`` (none on the first, baseline fetch or on a 304), or raises ``SourceError``.
    """

    kind: ClassVar[SourceKind]

    def __init__(self, ref: SourceRef, config: RadarConfig) -> None:
        if ref.kind != self.kind:
            raise ValueError(f"{type(self).__name__} cannot handle {ref.key}")
        self.ref = ref
        self.config = config

    @property
    def key(self) -> str:
        return self.ref.key

    @property
    def web_url(self) -> str:
        """Where a human can look at the source."""
        return self.ref.target

    @abstractmethod
    async def fetch(self, state: SourceState | None = None) -> FetchResult:
        """Fetch the source now; raise ``SourceError`` on failure."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"


def build_result(
    source_key: str,
    state: SourceState | None,
    items: Sequence[ReleaseItem],
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """Turn a fresh listing into a ``FetchResult``: baseline on first fetch, else new items.

    Listings are windows (the newest N): when an item in the window is deleted upstream, an
    older one never seen slides in. So an unseen dated item counts as new only if it is not
    older than the previous listing's oldest item (``SourceState.floor``).
    """
    previous = state or SourceState()
    ordered = sort_items(items)
    baseline = not previous.baselined
    fresh = [] if baseline else new_items(ordered, previous.seen_ids, previous.floor)
    new_state = SourceState(
        etag=etag,
        last_modified=last_modified,
        seen_ids=remember(previous.seen_ids, ordered),
        baselined=True,
        floor=listing_floor(ordered),
    )
    return FetchResult(
        source_key=source_key,
        state=new_state,
        items=tuple(ordered),
        new=tuple(fresh),
        baseline=baseline,
        fetched_at=datetime.now(UTC),
    )


def not_modified_result(
    source_key: str, state: SourceState, etag: str | None, last_modified: str | None
) -> FetchResult:
    """A 304: nothing new; keep the state, refreshing validators the server sent again."""
    new_state = state.model_copy(
        update={
            "etag": etag or state.etag,
            "last_modified": last_modified or state.last_modified,
        }
    )
    return FetchResult(
        source_key=source_key,
        state=new_state,
        not_modified=True,
        fetched_at=datetime.now(UTC),
    )
