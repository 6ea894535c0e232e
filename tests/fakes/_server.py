"""What every fake service shares: an aiohttp server on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Self

from aiohttp import web


@dataclass(kw_only=True)
class LocalServer:
    """``async with`` (or ``start``/``stop``) serves the routes of ``_add_routes`` at ``url``."""

    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        self._add_routes(app)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{port}"

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server stops (so tests end quickly)."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
