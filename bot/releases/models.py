"""Data the radar produces: release items, model facts, per-source fetch state and results."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from bot.text import safe_line

ItemKind = Literal["model", "release", "entry"]
Gated = Literal[False, "auto", "manual"]

#: How many item ids a source state remembers (the newest, plus all currently listed).
MAX_SEEN_IDS = 500


class ModelFacts(BaseModel):
    """What a Hub model declares about itself. ``None``/empty means "not declared": unknown."""

    model_config = ConfigDict(frozen=True)

    licenses: tuple[str, ...] = ()
    license_name: str | None = None
    gated: Gated | None = None
    params: int | None = None
    base_models: tuple[str, ...] = ()
    #: "finetune", "quantized", "adapter", "merge" (from ``base_model:<relation>:`` tags), if declared.
    base_relation: str | None = None
    datasets: tuple[str, ...] = ()
    papers: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    tags: tuple[str, ...] = ()
    library: str | None = None
    downloads: int | None = None
    likes: int | None = None


class ReleaseItem(BaseModel):
    """One release, model or feed entry, independent of where it came from.

    ``item_id`` is stable across polls (Hub repo id, Atom entry id, or link) and is what
    exactly-once bookkeeping keys on. Text fields hold raw text; use ``safe_title`` when
    showing the title.
    """

    model_config = ConfigDict(frozen=True)

    source_key: str
    item_id: str
    kind: ItemKind
    title: str
    url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    summary: str = ""
    facts: ModelFacts | None = None

    @field_validator("published", "updated")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value

    @property
    def safe_title(self) -> str:
        """The title as one line: control characters stripped, mentions neutralised."""
        return safe_line(self.title) or safe_line(self.item_id) or "(untitled)"

    @property
    def short_name(self) -> str:
        """The last path segment of the id (``Llama-3-8B`` for ``meta-llama/Llama-3-8B``)."""
        return self.item_id.rstrip("/").rsplit("/", 1)[-1]


def sort_key(item: ReleaseItem) -> tuple[int, float, str]:
    """Oldest first; items without a date after dated ones; ties broken by id."""
    if item.published is None:
        return (1, 0.0, item.item_id)
    return (0, item.published.timestamp(), item.item_id)


def sort_items(items: Iterable[ReleaseItem]) -> list[ReleaseItem]:
    """Return ``items`` oldest first (see ``sort_key``), without duplicate ids."""
    unique: dict[str, ReleaseItem] = {}
    for item in items:
        unique.setdefault(item.item_id, item)
    return sorted(unique.values(), key=sort_key)


class SourceState(BaseModel):
    """What the radar remembers about one source between polls (store ``to_json()``).

    ``seen_ids`` are the item ids already known, oldest first; ``baselined`` is false until
    the first successful fetch, which records what exists and announces nothing. ``floor``
    is the oldest ``published`` time of the previous listing (``None``: no dated item, or a
    state stored before the field existed): an unseen dated item older than it only slid
    into a windowed listing (a newer item was deleted upstream) and is not new.
    """

    model_config = ConfigDict(frozen=True)

    etag: str | None = None
    last_modified: str | None = None
    seen_ids: tuple[str, ...] = ()
    baselined: bool = False
    floor: datetime | None = None

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str | None) -> SourceState:
        """Parse a stored state; ``None``/empty/corrupt gives a fresh state (a new baseline)."""
        if not raw:
            return cls()
        try:
            return cls.model_validate(json.loads(raw))
        except (ValueError, TypeError):
            return cls()


class FetchResult(BaseModel):
    """The outcome of one successful fetch of one source.

    ``items`` are all the items the source lists now (oldest first); ``new`` are those not
    in the previous state's ``seen_ids`` (always empty for a baseline or a 304). Store
    ``state`` once the new items have been handled.
    """

    model_config = ConfigDict(frozen=True)

    source_key: str
    state: SourceState
    items: tuple[ReleaseItem, ...] = ()
    new: tuple[ReleaseItem, ...] = ()
    not_modified: bool = False
    baseline: bool = False
    fetched_at: datetime | None = None


def new_items(
    items: Sequence[ReleaseItem], seen_ids: Iterable[str], floor: datetime | None = None
) -> list[ReleaseItem]:
    """Items whose id is not in ``seen_ids`` and, when dated and a ``floor`` is given,
    published at or after ``floor``; oldest first. Pure: no state is changed."""
    seen = set(seen_ids)
    return [
        item
        for item in sort_items(items)
        if item.item_id not in seen
        and (floor is None or item.published is None or item.published >= floor)
    ]


def listing_floor(items: Iterable[ReleaseItem]) -> datetime | None:
    """The oldest ``published`` time among ``items`` (``None`` if none is dated)."""
    return min((item.published for item in items if item.published is not None), default=None)


def remember(
    seen_ids: Sequence[str], items: Sequence[ReleaseItem], cap: int = MAX_SEEN_IDS
) -> tuple[str, ...]:
    """``seen_ids`` plus the ids of ``items``, oldest first, bounded by ``cap``.

    The ids currently listed are always kept (so a long listing is never re-announced);
    older ids that are no longer listed are dropped first.
    """
    current = [item.item_id for item in sort_items(items)]
    current_set = set(current)
    older = [i for i in dict.fromkeys(seen_ids) if i not in current_set]
    keep_older = max(0, cap - len(current))
    return tuple(older[-keep_older:] if keep_older else ()) + tuple(current)
