"""A fake feed host: Atom/RSS bytes at paths, with ETag / Last-Modified / 304, faults.

It also serves ``/OWNER/REPO/releases.atom`` paths, so its ``url`` works as a GitHub base.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape

from aiohttp import web

from tests.fakes._server import LocalServer

Fault = Literal["429", "500", "hang", "garbage", "huge", "huge_declared"]


@dataclass
class _Feed:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


@dataclass
class FeedServer(LocalServer):
    """Controls: ``set_feed``, ``redirect``, ``fault``; counters: ``requests``, ``parses`` n/a."""

    hang_seconds: float = 30.0
    huge_bytes: int = 3 * 1024 * 1024
    requests: Counter[str] = field(default_factory=Counter)
    request_headers: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    not_modified_sent: Counter[str] = field(default_factory=Counter)
    _feeds: dict[str, _Feed] = field(default_factory=dict)
    _redirects: dict[str, str] = field(default_factory=dict)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/{tail:.*}", self._serve)

    def set_feed(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "application/atom+xml",
        etag: str | None | Literal["auto"] = "auto",
        last_modified: str | None = "Wed, 01 May 2024 12:00:00 GMT",
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        if etag == "auto":
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        self._feeds[path] = _Feed(data, content_type, etag, last_modified)

    def redirect(self, path: str, location: str) -> None:
        self._redirects[path] = location

    def fault(self, path: str, kind: Fault, times: int = 1) -> None:
        """Make the next ``times`` requests for ``path`` fail in the given way."""
        self._faults.setdefault(path, []).extend([kind] * times)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[path] += 1
        self.request_headers.setdefault(path, []).append(dict(request.headers))
        faults = self._faults.get(path)
        if faults:
            kind = faults.pop(0)
            return await self._fail(request, kind)
        if path in self._redirects:
            raise web.HTTPFound(self._redirects[path])
        feed = self._feeds.get(path)
        if feed is None:
            return web.Response(status=404, text="not found")
        headers = {}
        if feed.etag:
            headers["ETag"] = feed.etag
        if feed.last_modified:
            headers["Last-Modified"] = feed.last_modified
        inm = request.headers.get("If-None-Match")
        ims = request.headers.get("If-Modified-Since")
        if (inm and feed.etag and inm == feed.etag) or (
            not inm and ims and feed.last_modified and ims == feed.last_modified
        ):
            self.not_modified_sent[path] += 1
            return web.Response(status=304, headers=headers)
        return web.Response(body=feed.body, headers=headers, content_type=feed.content_type)

    async def _fail(self, request: web.Request, kind: Fault) -> web.StreamResponse:
        if kind == "429":
            return web.Response(status=429, text="slow down", headers={"Retry-After": "60"})
        if kind == "500":
            return web.Response(status=500, text="boom")
        if kind == "hang":
            await self._sleep(self.hang_seconds)
            return web.Response(status=200, text="too late")
        if kind == "garbage":
            return web.Response(
                body=b"\x00\x01<<<this is not xml at all>>>\xff\xfe",
                content_type="application/atom+xml",
            )
        if kind == "huge_declared":
            return web.Response(body=b"x" * self.huge_bytes, content_type="application/atom+xml")
        # "huge": chunked, no Content-Length, so only reading can tell.
        response = web.StreamResponse(headers={"Content-Type": "application/atom+xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"<!-- padding -->" * 4096
        sent = 0
        try:
            while sent < self.huge_bytes:
                await response.write(chunk)
                sent += len(chunk)
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return response


def feed_entry(n: int, title: str | None = None, updated: str | None = None) -> dict[str, str]:
    """Entry ``n`` of a test feed (for :func:`atom_feed`), updated on 2024-05-``n`` unless
    ``updated`` says otherwise."""
    return {
        "id": f"urn:post:{n}",
        "title": title or f"Post {n}",
        "link": f"https://example.org/{n}",
        "updated": updated or f"2024-05-{n:02d}T00:00:00Z",
    }


def atom_feed(entries: list[dict[str, str]], title: str = "Test feed") -> str:
    """An Atom document; each entry dict may have id, title, link, updated, summary, author."""
    head = [
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        "<id>urn:test:feed</id>",
        "<updated>2024-05-01T12:00:00Z</updated>",
    ]
    return _document(head, "entry", [_atom_entry(e) for e in entries], "</feed>")


def _atom_entry(e: dict[str, str]) -> list[str]:
    parts = []
    if "id" in e:
        parts.append(f"<id>{escape(e['id'])}</id>")
    parts.append(f"<title>{escape(e.get('title', ''))}</title>")
    if "link" in e:
        parts.append(f'<link rel="alternate" href="{escape(e["link"])}"/>')
    if "updated" in e:
        parts.append(f"<updated>{e['updated']}</updated>")
    if "summary" in e:
        parts.append(f'<content type="html">{escape(e["summary"])}</content>')
    if "author" in e:
        parts.append(f"<author><name>{escape(e['author'])}</name></author>")
    return parts


def rss_feed(entries: list[dict[str, str]], title: str = "Test RSS") -> str:
    """An RSS 2.0 document; each item dict may have guid, title, link, pubDate, description."""
    head = [
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>test</description>",
    ]
    keys = ("guid", "title", "link", "pubDate", "description")
    items = [[f"<{k}>{escape(e[k])}</{k}>" for k in keys if k in e] for e in entries]
    return _document(head, "item", items, "</channel></rss>")


def _document(head: list[str], tag: str, entries: list[list[str]], tail: str) -> str:
    """An XML document: ``head``, then each entry's lines wrapped in ``tag``, then ``tail``."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>', *head]
    for lines in entries:
        parts += [f"<{tag}>", *lines, f"</{tag}>"]
    parts.append(tail)
    return "\n".join(parts)
