"""Guarded HTTP for feeds: public addresses only, bounded size and time, conditional GETs.

Every connection of the radar's feed session goes through ``GuardedResolver``, so a host
name that resolves (or later re-resolves) to a loopback, private, link-local, multicast,
reserved or cloud-metadata address is refused at connection time; IP-literal hosts and
every redirect hop are checked before the request. ``allow_private_urls`` (tests only)
turns the address check off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.errors import UserFacingError
from bot.releases.config import RadarConfig
from bot.releases.errors import SourceError, error_for_status

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata endpoints, refused even if a platform routes them oddly.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    }
)
RESOLVE_TIMEOUT = 10.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class BlockedAddressError(OSError):
    """A host resolved only to addresses the radar may not connect to."""


def is_public_address(address: str | IPAddress) -> bool:
    """Whether the radar may connect to ``address`` (a global unicast address)."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 embedded in IPv6 (mapped, 6to4, Teredo) is judged by its IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(embedded):
            return False
    if ip in METADATA_ADDRESSES:
        return False
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedResolver(ThreadedResolver):
    """aiohttp resolver (``loop.getaddrinfo``) that drops non-public addresses."""

    def __init__(self, allow_private: bool = False) -> None:
        super().__init__()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await super().resolve(host, port, family)
        if self._allow_private:
            return results
        allowed = [r for r in results if is_public_address(r["host"])]
        if not allowed:
            raise BlockedAddressError(f"{host} resolves only to private or reserved addresses")
        return allowed


async def resolve_public(host: str, port: int, allow_private: bool = False) -> list[str]:
    """Resolve ``host`` with ``getaddrinfo`` on the running loop; raise if none is public."""
    literal = _literal_ip(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if allow_private:
        return addresses
    public = [a for a in addresses if is_public_address(a.split("%", 1)[0])]
    if not public or len(public) != len(addresses):
        raise BlockedAddressError(f"{host} resolves to a private or reserved address")
    return public


async def validate_feed_url(url: str, allow_private: bool = False) -> None:
    """Check, when an admin follows a feed, that its host resolves to public addresses only.

    Raises ``UserFacingError`` with what to do. (Fetching checks again, on every
    connection, so this is for a clear early answer, not the only guard.)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserFacingError("A feed URL must start with `https://` or `http://` and name a host.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            await resolve_public(parts.hostname, port, allow_private)
    except BlockedAddressError:
        raise UserFacingError(
            f"The feed host `{parts.hostname}` points to a private, local or reserved address; "
            "only feeds on the public internet can be followed."
        ) from None
    except (OSError, TimeoutError):
        raise UserFacingError(
            f"The feed host `{parts.hostname}` could not be resolved; check the URL."
        ) from None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A finished download: 200 with ``body``, or 304 with an empty body."""

    status: int
    url: str
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Resource:
    """Something opened with ``start`` and released with ``close``; ``async with`` does both."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class HttpFetcher(Resource):
    """The radar's HTTP client for feeds. Owns an aiohttp session; use ``async with``.

    ``get`` follows at most ``config.max_redirects`` redirects (each hop checked), sends
    ``If-None-Match``/``If-Modified-Since``, stops reading above ``config.max_feed_bytes``
    and gives up after ``config.feed_timeout`` seconds in total. Failures raise
    ``SourceError``. Environment proxies are ignored (they would bypass the address check).

    ``trusted=True`` is for hosts the operator configured (``AGORA_GITHUB_BASE``, which may be
    a GitHub Enterprise on a private network): no address check, but no redirect may leave
    that host.
    """

    def __init__(self, config: RadarConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._trusted_session: aiohttp.ClientSession | None = None

    def _new_session(self, guarded: bool) -> aiohttp.ClientSession:
        resolver = GuardedResolver(self._config.allow_private_urls) if guarded else None
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=resolver, limit=20),
            trust_env=False,
            headers={"User-Agent": self._config.user_agent},
        )

    async def start(self) -> None:
        if self._session is None:
            self._session = self._new_session(guarded=True)
        if self._trusted_session is None:
            self._trusted_session = self._new_session(guarded=False)

    async def close(self) -> None:
        for session in (self._session, self._trusted_session):
            if session is not None:
                await session.close()
        self._session = self._trusted_session = None

    def _check_hop(self, url: str, trusted_host: str | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError("blocked", f"refusing to fetch a non-http(s) URL: {url[:100]}")
        if trusted_host is not None:
            if parts.netloc.lower() != trusted_host:
                raise SourceError("blocked", f"refusing a redirect away from {trusted_host}")
            return
        literal = _literal_ip(parts.hostname)
        if (
            literal is not None
            and not self._config.allow_private_urls
            and not is_public_address(literal)
        ):
            raise SourceError("blocked", f"{parts.hostname} is a private or reserved address")

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5",
        trusted: bool = False,
    ) -> HttpResponse:
        """Download ``url`` conditionally; raise ``SourceError`` on any failure."""
        await self.start()
        session = self._trusted_session if trusted else self._session
        assert session is not None
        trusted_host = urlsplit(url).netloc.lower() if trusted else None
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timeout = self._config.feed_timeout
        try:
            async with asyncio.timeout(timeout):
                for _hop in range(self._config.max_redirects + 1):
                    self._check_hop(url, trusted_host)
                    async with session.get(
                        url,
                        headers=headers,
                        allow_redirects=False,
                        timeout=aiohttp.ClientTimeout(total=timeout),
                    ) as resp:
                        if resp.status in _REDIRECTS and "Location" in resp.headers:
                            url = urljoin(url, resp.headers["Location"])
                            continue
                        return await self._finish(url, resp)
                raise SourceError("http_error", f"more than {self._config.max_redirects} redirects")
        except TimeoutError:
            raise SourceError("timeout", f"no complete answer within {timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddressError):
                raise SourceError("blocked", str(exc.os_error)) from None
            raise SourceError("network", f"cannot connect: {exc.os_error}") from None
        except aiohttp.ClientError as exc:
            raise SourceError("network", f"{type(exc).__name__}: {exc}"[:200]) from None

    async def _finish(self, url: str, resp: aiohttp.ClientResponse) -> HttpResponse:
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        if resp.status == 304:
            return HttpResponse(304, url, b"", etag, last_modified, None)
        if resp.status != 200:
            raise error_for_status(resp.status, urlsplit(url).hostname or "the feed host")
        cap = self._config.max_feed_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise SourceError("too_large", f"the body is {resp.content_length} bytes (limit {cap})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise SourceError("too_large", f"the body is larger than {cap} bytes")
            chunks.append(chunk)
        return HttpResponse(
            200, url, b"".join(chunks), etag, last_modified, resp.headers.get("Content-Type")
        )
