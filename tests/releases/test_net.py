"""URL safety: feeds may only reach public addresses, unless allow_private_urls is set."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from bot.errors import UserFacingError
from bot.releases import Radar
from bot.releases.net import is_public_address, validate_feed_url
from tests.fakes.feeds import FeedServer, atom_feed

from .conftest import local_config


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
        "240.0.0.1",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "100.100.100.200",
        "not-an-ip",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost:8080/feed",
        "http://[::1]/feed",
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/",
        "http://192.168.0.10/rss",
    ],
)
async def test_validate_refuses_private(url: str) -> None:
    with pytest.raises(UserFacingError) as info:
        await validate_feed_url(url)
    assert "public internet" in info.value.message


async def test_validate_allow_flag() -> None:
    await validate_feed_url("http://127.0.0.1/feed", allow_private=True)
    await validate_feed_url("http://localhost/feed", allow_private=True)


def _fake_getaddrinfo(answer: str) -> Any:
    family = socket.AF_INET6 if ":" in answer else socket.AF_INET

    async def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        sockaddr = (answer, port or 0, 0, 0) if family == socket.AF_INET6 else (answer, port or 0)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    return getaddrinfo


async def test_hostname_resolving_to_metadata_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo("169.254.169.254"))
    with pytest.raises(UserFacingError):
        await validate_feed_url("https://innocent.example.com/feed")
    # The radar's own connections go through the guarded resolver too.
    async with Radar(local_config(allow_private_urls=False)) as radar:
        outcome = await radar.fetch_outcome("feed:https://innocent.example.com/feed")
    assert outcome.error is not None and outcome.error.kind == "blocked"


async def test_hostname_resolving_to_public_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo("93.184.216.34"))
    await validate_feed_url("https://example.com/feed")


async def test_validate_unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fail)
    with pytest.raises(UserFacingError) as info:
        await validate_feed_url("https://nope.invalid/feed")
    assert "could not be resolved" in info.value.message


async def test_fetch_of_loopback_feed_blocked_without_flag(feeds: FeedServer) -> None:
    feeds.set_feed("/f", atom_feed([]))
    async with Radar(local_config(allow_private_urls=False)) as radar:
        literal = await radar.fetch_outcome(f"feed:{feeds.url}/f")
        by_name = await radar.fetch_outcome(f"feed:{feeds.url.replace('127.0.0.1', 'localhost')}/f")
        assert literal.error is not None and literal.error.kind == "blocked"
        assert by_name.error is not None and by_name.error.kind == "blocked"
        assert feeds.requests["/f"] == 0  # never connected
    async with Radar(local_config()) as radar:
        allowed = await radar.fetch_outcome(f"feed:{feeds.url}/f")
    assert allowed.error is None


async def test_radar_validate_source(feeds: FeedServer) -> None:
    async with Radar(local_config(allow_private_urls=False)) as radar:
        assert await radar.validate_source("hf:meta-llama") == "hf:meta-llama"
        with pytest.raises(UserFacingError):
            await radar.validate_source(f"feed:{feeds.url}/f")
    async with Radar(local_config()) as radar:
        assert await radar.validate_source(f"feed:{feeds.url}/f") == f"feed:{feeds.url}/f"
