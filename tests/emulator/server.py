"""DiscordEmulator: the public API (lifecycle, fault switches, command sync)."""

from __future__ import annotations

import copy
import socket

from aiohttp import web

from .actions import UserActions
from .models import JSON
from .rest import RestApi
from .state import Fault, RecordedRequest

__all__ = ["DiscordEmulator", "Fault", "RecordedRequest"]


class DiscordEmulator(UserActions):
    """A fake Discord (REST v10 + gateway) on a loopback port, in the running event loop.

    The data and waits live in :class:`~tests.emulator.state.EmulatorState`, messages in
    :class:`~tests.emulator.store.MessageStore`, member actions in
    :class:`~tests.emulator.actions.UserActions`.
    """

    _runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.rest = RestApi(self)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest.handle)
        app.router.add_get("/attachments/{cid}/{aid}/{filename}", self.rest.attachment)
        app.router.add_route("*", "/{tail:.*}", self.rest.unknown)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        self.gateway.release()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- faults ------------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 500,
        times: int = 1,
        retry_after: float = 0.05,
    ) -> Fault:
        """Answer the next matching REST requests (path without /api/v10) with ``status``."""
        fault = Fault(method.upper(), path_regex, status, times, retry_after)
        self.faults.append(fault)
        return fault

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's websocket(s); discord.py reconnects and RESUMEs."""
        await self.gateway.drop(code)

    def hold_gateway(self) -> None:
        """Keep the next gateway connections waiting (no HELLO) until :meth:`release_gateway`:
        with :meth:`drop_gateway`, the bot stays disconnected until the test lets it RESUME."""
        self.gateway.hold()

    def release_gateway(self) -> None:
        self.gateway.release()

    def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 (invalid session); discord.py then RESUMEs or re-IDENTIFYs (5 s later)."""
        self.gateway.invalidate(resumable)

    def request_heartbeat(self) -> None:
        """Send op 1: the client must heartbeat at once."""
        self.gateway.request_heartbeat()

    # -- commands ----------------------------------------------------------------------------
    def sync_commands(self, guild_id: int | None, payload: list[JSON]) -> list[JSON]:
        self.command_syncs.append((guild_id, copy.deepcopy(payload)))
        out = []
        for command in payload:
            kind = int(command.get("type", 1))
            key = (guild_id, kind, command["name"])
            command_id = self._command_ids.setdefault(key, self.snowflakes.next())
            data: JSON = {
                "id": str(command_id),
                "application_id": str(self.application_id),
                "version": str(self.snowflakes.next()),
                "type": kind,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
            }
            data.update(copy.deepcopy(command))
            data["id"] = str(command_id)
            if guild_id is not None:
                data["guild_id"] = str(guild_id)
            out.append(data)
        self.commands[guild_id] = out
        self.notify()
        return out
