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
    return ReleaseItem(
        source_key="hf:org",
        item_id=item_id,
        kind="model",
        title=item_id,
        url=f"https://huggingface.co/{item_id}",
        published=published,
        author=item_id.split("/")[0],
        facts=ModelFacts(**facts),
    )


def entry_item(
    item_id: str, title: str = "Entry", published: datetime | None = None, **extra: object
) -> ReleaseItem:
    return ReleaseItem(
        source_key="feed:https://example.org/feed",
        item_id=item_id,
        kind="entry",
        title=title,
        published=published,
        **extra,
    )
