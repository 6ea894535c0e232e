"""The operator endpoint: `/healthz`, `/readyz` and `/metrics` over HTTP, inside the bot process.

Off unless `AGORA_HTTP_ADDRESS` is set; it binds only there. It answers three GET routes and
nothing else (404 for another path, 405 for another method; aiohttp itself answers a request
with oversized headers with 400), and no route tells anything about a community: readiness
names shards and the database, metrics are counts.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.errors import OperatorError
from bot.metrics import METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)

#: A readiness probe answers within this time, or says what it waited for.
PROBE_TIMEOUT = 2.0

READY = "ready"


@dataclass(frozen=True)
class Readiness:
    """What `/readyz` reports: each shard's state and the database's (``"ok"`` when writable)."""

    shards: dict[int, str]
    database: str

    @property
    def ready(self) -> bool:
        return (
            bool(self.shards)
            and all(s == READY for s in self.shards.values())
            and self.database == "ok"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "shards": {str(k): v for k, v in sorted(self.shards.items())},
            "database": self.database,
        }


class Probes(Protocol):
    """What the endpoint asks the bot."""

    async def readiness(self) -> Readiness: ...

    async def metrics(self) -> bytes: ...


class _RequestLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log. A malformed request (bad method, oversized headers: aiohttp
    answers it with 400) is the client's mistake: one warning line, no traceback. Anything
    else stays an error with its traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.warning("refused a malformed HTTP request (%s)", type(exc_info).__name__)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


class OperatorEndpoint:
    """The aiohttp server; :meth:`start` raises :class:`OperatorError` when it cannot listen."""

    def __init__(self, host: str, port: int, probes: Probes) -> None:
        self.host, self.port = host, port
        self._probes = probes
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, logger=_RequestLog(log, {})
        )
        await runner.setup()
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, self.port))
            except OSError:
                sock.close()
                raise
            await web.SockSite(runner, sock).start()
        except OSError as exc:
            await runner.cleanup()
            raise OperatorError(
                f"AGORA_HTTP_ADDRESS={self.host}:{self.port}: cannot listen there "
                f"({exc.strerror or exc}): choose a free port on an address of this machine"
            ) from None
        self.port = int(sock.getsockname()[1])
        self._runner = runner
        log.info(
            "operator endpoint on http://%s:%d/ (/healthz, /readyz, /metrics)", self.host, self.port
        )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- routes -----------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        """Answered by the event loop itself: if this answers, the loop runs."""
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        readiness = await self._probes.readiness()
        return web.json_response(readiness.to_json(), status=200 if readiness.ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            body = await asyncio.wait_for(self._probes.metrics(), PROBE_TIMEOUT)
        except TimeoutError:
            return web.json_response({"error": "metrics timed out"}, status=503)
        response = web.Response(body=body)
        response.headers["Content-Type"] = METRICS_CONTENT_TYPE
        return response
