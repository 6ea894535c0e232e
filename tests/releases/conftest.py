from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.releases import ModelFacts, RadarConfig, ReleaseItem
from tests.fakes.feeds import FeedServer
from tests.fakes.hub import FakeHub


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    async with FakeHub() as fake:
        yield fake


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer(hang_seconds=10.0) as server:
        yield server


def local_config(**overrides: Any) -> RadarConfig:
    """A config for the local fakes: private URLs allowed, short time limits."""
    base = RadarConfig(allow_private_urls=True, hf_timeout=1.5, feed_timeout=1.5)
    return dataclasses.replace(base, **overrides)


def model_item(
    item_id: str = "org/Model-7B",
    *,
    published: datetime | None = datetime(2024, 5, 1, tzinfo=UTC),
    **facts: object,
) -> ReleaseItem:
    """A model of the Hub source ``hf:org``, with ``facts``."""
    return entry_item(
        item_id,
        item_id,
        published,
        source_key="hf:org",
        kind="model",
        url=f"https://huggingface.co/{item_id}",
        author=item_id.split("/")[0],
        facts=ModelFacts(**facts),
    )


def entry_item(
    item_id: str, title: str = "Entry", published: datetime | None = None, **extra: object
) -> ReleaseItem:
    """An entry of a feed source; ``extra`` sets the item's other fields (or replaces the feed's
    source and kind)."""
    fields = {"source_key": "feed:https://example.org/feed", "kind": "entry", **extra}
    return ReleaseItem.model_validate(
        {"item_id": item_id, "title": title, "published": published, **fields}
    )
