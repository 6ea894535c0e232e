"""``feed:<url>`` (any RSS/Atom feed) and ``github:<owner>/<repo>`` (GitHub's releases.atom).

Bytes are downloaded with aiohttp (``bot.releases.net.HttpFetcher``: conditional GET,
size and time limits, public addresses only) and parsed by feedparser in a worker thread.
A 304 is "nothing new" and is not parsed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser

from bot.releases.config import RadarConfig
from bot.releases.errors import SourceError
from bot.releases.models import FetchResult, ItemKind, ReleaseItem, SourceState
from bot.releases.net import HttpFetcher
from bot.releases.sources.base import Source, build_result, not_modified_result
from bot.releases.sources.keys import SourceKind, SourceRef
from bot.text import html_to_text

#: Parsing a (size-capped) feed never takes longer than this.
PARSE_TIMEOUT = 15.0
#: Where feeds are parsed: one thread, off the event loop. Parsing is pure Python and holds
#: the GIL, so several parsing threads are no faster than one; they only take the GIL from
#: the event loop more often (each time the loop's thread comes back from a system call it
#: waits for the GIL, up to a 5 ms switch interval per parsing thread): with four sources
#: fetched at once the loop stood still for 26 ms (71 ms on a busy machine) at each radar
#: cycle (``bench/bench_radar.py``). The parses of one cycle wait for each other here.
PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-parser")
MAX_SUMMARY_CHARS = 2000
MAX_ENTRIES = 200


def _struct_to_datetime(value: object) -> datetime | None:
    if isinstance(value, time.struct_time):
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            return None
    return None


def _http_url(value: object) -> str | None:
    """Only http(s) links are kept (no ``javascript:`` or ``data:`` links in an embed)."""
    if isinstance(value, str) and urlsplit(value.strip()).scheme in ("http", "https"):
        return value.strip()
    return None


def _entry_id(entry: dict[str, Any]) -> str:
    for key in ("id", "guid", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:500]
    # No id and no link: a hash of what identifies the entry to a reader.
    when = dict.get(entry, "published") or dict.get(entry, "updated") or ""
    basis = f"{entry.get('title', '')}|{when}"
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:32]


# Bozo reasons that do not make a document unusable (a feed served as text/plain, say).
_HARMLESS_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


def parse_feed_bytes(
    source_key: str,
    body: bytes,
    base_url: str,
    kind: ItemKind = "entry",
    content_type: str | None = None,
) -> list[ReleaseItem]:
    """Parse RSS/Atom bytes into items (blocking: run it in a thread).

    Raises ``SourceError("malformed")`` if the bytes are not a feed: feedparser finds no
    entries and either no feed version or a real parse error (``bozo``).
    """
    headers = {"content-location": base_url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(body, response_headers=headers)
    entries = list(parsed.get("entries") or [])
    reason = parsed.get("bozo_exception")
    broken = bool(parsed.get("bozo")) and not isinstance(reason, _HARMLESS_BOZO)
    if not entries and (broken or not parsed.get("version")):
        detail = f" ({type(reason).__name__})" if reason is not None else ""
        raise SourceError("malformed", f"not a valid RSS/Atom feed{detail}")
    feed_author = parsed.get("feed", {}).get("author")
    items: list[ReleaseItem] = []
    for entry in entries[:MAX_ENTRIES]:
        title = entry.get("title")
        # dict.get: feedparser's own .get maps a missing "updated" to "published", with a warning.
        updated = _struct_to_datetime(dict.get(entry, "updated_parsed"))
        published = _struct_to_datetime(dict.get(entry, "published_parsed")) or updated
        author = entry.get("author") or feed_author
        items.append(
            ReleaseItem(
                source_key=source_key,
                item_id=_entry_id(entry),
                kind=kind,
                title=title if isinstance(title, str) else "",
                url=_http_url(entry.get("link")),
                published=published,
                updated=updated,
                author=author if isinstance(author, str) else None,
                summary=html_to_text(entry.get("summary") or entry.get("description"))[
                    :MAX_SUMMARY_CHARS
                ],
            )
        )
    return items


class FeedSource(Source):
    """Any RSS/Atom feed at a public http(s) URL."""

    kind: ClassVar[SourceKind] = "feed"
    item_kind: ItemKind = "entry"
    #: Whether the URL's host was configured by the operator (no address check).
    trusted_host = False

    def __init__(self, ref: SourceRef, config: RadarConfig, fetcher: HttpFetcher) -> None:
        super().__init__(ref, config)
        self.fetcher = fetcher

    @property
    def feed_url(self) -> str:
        return self.ref.target

    async def fetch(self, state: SourceState | None = None) -> FetchResult:
        previous = state or SourceState()
        # Validators only make sense once there is a baseline to compare with.
        use_validators = previous.baselined
        response = await self.fetcher.get(
            self.feed_url,
            etag=previous.etag if use_validators else None,
            last_modified=previous.last_modified if use_validators else None,
            trusted=self.trusted_host,
        )
        if response.not_modified:
            return not_modified_result(self.key, previous, response.etag, response.last_modified)
        try:
            parse = partial(
                parse_feed_bytes,
                self.key,
                response.body,
                response.url,
                self.item_kind,
                response.content_type,
            )
            # A parse still waiting for the thread when the time is up never runs.
            items = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(PARSER, parse), PARSE_TIMEOUT
            )
        except TimeoutError:
            raise SourceError("timeout", "parsing the feed took too long") from None
        return build_result(
            self.key, state, items, etag=response.etag, last_modified=response.last_modified
        )


class GitHubSource(FeedSource):
    """Releases of one GitHub repository, from ``{github_base}/OWNER/REPO/releases.atom``.

    (GitHub's feed also lists tags that are not releases; they are announced like releases.)
    """

    kind: ClassVar[SourceKind] = "github"
    item_kind: ItemKind = "release"
    trusted_host = True

    @property
    def repo(self) -> str:
        return self.ref.target

    @property
    def feed_url(self) -> str:
        return f"{self.config.github_base_clean}/{self.repo}/releases.atom"

    @property
    def web_url(self) -> str:
        return f"{self.config.github_base_clean}/{self.repo}/releases"
