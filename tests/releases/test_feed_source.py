"""feed: and github: sources against FeedServer."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest

from bot.releases import Radar
from bot.releases.sources import feed as feed_module
from tests.fakes.feeds import FeedServer, atom_feed, rss_feed

from .conftest import local_config

ENTRIES = [
    {
        "id": "urn:2",
        "title": "Second",
        "link": "https://example.org/2",
        "updated": "2024-05-02T00:00:00Z",
        "summary": "<p>Two <b>bold</b></p>",
        "author": "Bo",
    },
    {
        "id": "urn:1",
        "title": "First",
        "link": "https://example.org/1",
        "updated": "2024-05-01T00:00:00Z",
    },
]


async def test_atom_feed_parsed_oldest_first(feeds: FeedServer) -> None:
    feeds.set_feed("/feed.xml", atom_feed(ENTRIES))
    async with Radar(local_config()) as radar:
        result = await radar.fetch(f"feed:{feeds.url}/feed.xml")
    assert [i.item_id for i in result.items] == ["urn:1", "urn:2"]
    second = result.items[1]
    assert second.title == "Second"
    assert second.url == "https://example.org/2"
    assert second.published == datetime(2024, 5, 2, tzinfo=UTC)
    assert second.summary == "Two bold"
    assert second.author == "Bo"
    assert second.kind == "entry"
    assert result.baseline and result.new == ()


async def test_rss_feed_and_unsafe_links(feeds: FeedServer) -> None:
    feeds.set_feed(
        "/rss",
        rss_feed(
            [
                {
                    "guid": "https://example.org/p/1",
                    "title": "Hello",
                    "link": "javascript:alert(1)",
                    "pubDate": "Wed, 01 May 2024 10:00:00 GMT",
                    "description": "x",
                },
                {"title": "No guid", "link": "https://example.org/ng"},
            ]
        ),
        content_type="application/rss+xml",
    )
    async with Radar(local_config()) as radar:
        result = await radar.fetch(f"feed:{feeds.url}/rss")
    by_id = {i.item_id: i for i in result.items}
    assert by_id["https://example.org/p/1"].url is None  # javascript: link dropped
    assert by_id["https://example.org/p/1"].published == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert "https://example.org/ng" in by_id  # link used as id when there is no guid


async def test_feeds_fetched_at_once_are_parsed_one_at_a_time_off_the_loop(
    feeds: FeedServer,
) -> None:
    parse = feed_module.parse_feed_bytes
    threads: list[str] = []
    running: list[int] = [0, 0]  # now, most at once

    def watched(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        running[0] += 1
        running[1] = max(running)
        try:
            return parse(*args)
        finally:
            running[0] -= 1

    for n in range(4):
        feeds.set_feed(f"/f{n}.xml", atom_feed(ENTRIES))
    with mock.patch.object(feed_module, "parse_feed_bytes", watched):
        async with Radar(local_config()) as radar:
            results = await asyncio.gather(
                *(radar.fetch(f"feed:{feeds.url}/f{n}.xml") for n in range(4))
            )
    assert all([i.item_id for i in r.items] == ["urn:1", "urn:2"] for r in results)
    assert len(threads) == 4 and all(name.startswith("feed-parser") for name in threads)
    assert running[1] == 1


async def test_etag_sent_back_and_304_not_parsed(feeds: FeedServer) -> None:
    feeds.set_feed("/feed.xml", atom_feed(ENTRIES))
    key = f"feed:{feeds.url}/feed.xml"
    async with Radar(local_config()) as radar:
        first = await radar.fetch(key)
        assert first.state.etag and first.state.last_modified
        with mock.patch.object(feed_module, "parse_feed_bytes", side_effect=AssertionError):
            second = await radar.fetch(key, first.state)
    assert second.not_modified and second.items == () and second.new == ()
    assert second.state == first.state
    sent = feeds.request_headers["/feed.xml"][-1]
    assert sent["If-None-Match"] == first.state.etag
    assert sent["If-Modified-Since"] == first.state.last_modified
    assert feeds.not_modified_sent["/feed.xml"] == 1


async def test_last_modified_only_and_new_entries(feeds: FeedServer) -> None:
    feeds.set_feed("/f", atom_feed(ENTRIES[1:]), etag=None)
    key = f"feed:{feeds.url}/f"
    async with Radar(local_config()) as radar:
        first = await radar.fetch(key)
        assert first.state.etag is None
        again = await radar.fetch(key, first.state)
        assert again.not_modified
        feeds.set_feed(
            "/f", atom_feed(ENTRIES), etag=None, last_modified="Thu, 02 May 2024 00:00:00 GMT"
        )
        changed = await radar.fetch(key, again.state)
    assert [i.item_id for i in changed.new] == ["urn:2"]
    assert changed.state.last_modified == "Thu, 02 May 2024 00:00:00 GMT"


async def test_first_fetch_sends_no_validators(feeds: FeedServer) -> None:
    feeds.set_feed("/f", atom_feed(ENTRIES))
    async with Radar(local_config()) as radar:
        await radar.fetch(f"feed:{feeds.url}/f")
    assert "If-None-Match" not in feeds.request_headers["/f"][0]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("429", "rate_limited"),
        ("500", "server_error"),
        ("garbage", "malformed"),
        ("huge", "too_large"),
        ("huge_declared", "too_large"),
        ("hang", "timeout"),
    ],
)
async def test_faults_raise_source_errors(feeds: FeedServer, fault: str, kind: str) -> None:
    feeds.set_feed("/f", atom_feed(ENTRIES))
    feeds.fault("/f", fault)  # type: ignore[arg-type]
    config = local_config(feed_timeout=1.0, max_feed_bytes=1024 * 1024)
    async with Radar(config) as radar:
        outcome = await radar.fetch_outcome(f"feed:{feeds.url}/f")
        assert outcome.error is not None and outcome.error.kind == kind
        assert feeds.requests["/f"] == 1, "a failing feed is not retried within a poll"
        # The next poll works again.
        ok = await radar.fetch_outcome(f"feed:{feeds.url}/f")
    assert ok.result is not None and len(ok.result.items) == 2


async def test_html_page_is_malformed(feeds: FeedServer) -> None:
    feeds.set_feed("/page", "<html><body><p>hi</p></body></html>", content_type="text/html")
    async with Radar(local_config()) as radar:
        outcome = await radar.fetch_outcome(f"feed:{feeds.url}/page")
    assert outcome.error is not None and outcome.error.kind == "malformed"


async def test_empty_valid_feed_is_fine(feeds: FeedServer) -> None:
    feeds.set_feed("/empty", atom_feed([]))
    async with Radar(local_config()) as radar:
        result = await radar.fetch(f"feed:{feeds.url}/empty")
    assert result.items == () and result.baseline


async def test_404_is_http_error(feeds: FeedServer) -> None:
    async with Radar(local_config()) as radar:
        outcome = await radar.fetch_outcome(f"feed:{feeds.url}/missing")
    assert outcome.error is not None and outcome.error.kind == "http_error"


async def test_redirects_followed_and_bounded(feeds: FeedServer) -> None:
    feeds.set_feed("/real", atom_feed(ENTRIES))
    feeds.redirect("/old", "/real")
    feeds.redirect("/loop", "/loop")
    async with Radar(local_config()) as radar:
        result = await radar.fetch(f"feed:{feeds.url}/old")
        looped = await radar.fetch_outcome(f"feed:{feeds.url}/loop")
    assert len(result.items) == 2
    assert looped.error is not None and looped.error.kind == "http_error"
    assert feeds.requests["/loop"] == 4  # first request + 3 redirects


async def test_github_releases(feeds: FeedServer) -> None:
    feeds.set_feed(
        "/ollama/ollama/releases.atom",
        atom_feed(
            [
                {
                    "id": "tag:github.com,2008:Repository/1/v0.1.0",
                    "title": "v0.1.0",
                    "link": "https://github.com/ollama/ollama/releases/tag/v0.1.0",
                    "updated": "2024-05-01T00:00:00Z",
                },
            ]
        ),
    )
    # github: trusts the operator's base host even when private URLs are not allowed.
    config = local_config(github_base=feeds.url + "/", allow_private_urls=False)
    async with Radar(config) as radar:
        result = await radar.fetch("github:Ollama/Ollama")
    assert result.source_key == "github:ollama/ollama"
    (item,) = result.items
    assert item.kind == "release"
    assert item.item_id == "tag:github.com,2008:Repository/1/v0.1.0"
    assert feeds.requests["/ollama/ollama/releases.atom"] == 1
