"""Release sources: one class per kind behind the small ``Source`` interface."""

from __future__ import annotations

from bot.releases.config import RadarConfig
from bot.releases.net import HttpFetcher
from bot.releases.sources.base import Source
from bot.releases.sources.feed import FeedSource, GitHubSource
from bot.releases.sources.hf import HfSource
from bot.releases.sources.keys import SourceKind, SourceRef, parse_source, parse_source_ref

__all__ = [
    "FeedSource",
    "GitHubSource",
    "HfSource",
    "Source",
    "SourceKind",
    "SourceRef",
    "make_source",
    "parse_source",
    "parse_source_ref",
]


def make_source(key: str, config: RadarConfig, fetcher: HttpFetcher) -> Source:
    """The ``Source`` for a (normalised or user-typed) key; ``UserFacingError`` if invalid."""
    ref = parse_source_ref(key)
    if ref.kind == "hf":
        return HfSource(ref, config)
    if ref.kind == "github":
        return GitHubSource(ref, config, fetcher)
    return FeedSource(ref, config, fetcher)
