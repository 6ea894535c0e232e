"""The gateway websocket: HELLO, IDENTIFY/READY, RESUME/RESUMED, heartbeats, dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .models import JSON

if TYPE_CHECKING:
    from .state import EmulatorState

_log = logging.getLogger("tests.emulator.gateway")

HEARTBEAT_INTERVAL_MS = 41250
REPLAY_BUFFER = 5000

# Gateway intents needed to receive an event (events not listed are always sent).
GUILDS, GUILD_MEMBERS, GUILD_MESSAGES = 1 << 0, 1 << 1, 1 << 9
DIRECT_MESSAGES, MESSAGE_CONTENT, GUILD_MESSAGE_POLLS = 1 << 12, 1 << 15, 1 << 24
EVENT_INTENTS: dict[str, int] = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_POLL_VOTE_ADD": GUILD_MESSAGE_POLLS,
    "MESSAGE_POLL_VOTE_REMOVE": GUILD_MESSAGE_POLLS,
}


class Connection:
    """One websocket; frames are queued synchronously and written in order by a task."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write())

    def send(self, frame: JSON) -> None:
        self.queue.put_nowait(json.dumps(frame))

    async def _write(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    async def close(self, code: int) -> None:
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self.writer
        await self.ws.close(code=code)


@dataclass
class Session:
    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    connection: Connection | None = None
    buffer: list[tuple[int, JSON]] = field(default_factory=list)

    def owns_guild(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    def push(self, event: str, data: JSON) -> None:
        self.seq += 1
        frame: JSON = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.buffer.append((self.seq, frame))
        del self.buffer[:-REPLAY_BUFFER]
        if self.connection is not None:
            self.connection.send(frame)


class GatewayServer:
    """Sessions of the bot's shards and the websocket handler."""

    def __init__(self, emu: EmulatorState) -> None:
        self.emu = emu
        self.sessions: dict[str, Session] = {}
        self.current: dict[int, Session] = {}  # shard id -> latest identified session
        self.connections: set[Connection] = set()
        self.identify_count = 0
        self.resume_count = 0
        self.presence_updates: list[JSON] = []
        self.ready = asyncio.Event()
        self.open = asyncio.Event()  # cleared by hold(): new connections wait for HELLO
        self.open.set()
        self.held = 0  # connections waiting for HELLO now

    # -- dispatching -------------------------------------------------------------------
    def dispatch(
        self,
        event: str,
        data: JSON,
        *,
        guild_id: int | None = None,
        transform: Callable[[Session, JSON], JSON | None] | None = None,
    ) -> int:
        """Send an event to the session(s) owning ``guild_id``; returns how many got it."""
        delivered = 0
        for session in list(self.current.values()):
            if not session.owns_guild(guild_id):
                continue
            needed = EVENT_INTENTS.get(event)
            if needed is not None and not session.intents & needed:
                continue
            payload = data if transform is None else transform(session, data)
            if payload is None:
                continue
            session.push(event, payload)
            delivered += 1
        return delivered

    def guild_create(self, session: Session, payload: JSON) -> JSON:
        """Without the GUILD_MEMBERS intent Discord only sends the bot's own member."""
        if session.intents & GUILD_MEMBERS:
            return payload
        bot_id = str(self.emu.bot.id)
        data = dict(payload)
        data["members"] = [m for m in payload["members"] if m["user"]["id"] == bot_id]
        return data

    @property
    def connected(self) -> bool:
        return any(s.connection is not None for s in self.current.values())

    async def drop(self, code: int = 4000) -> None:
        for session in self.current.values():
            connection = session.connection
            session.connection = None
            if connection is not None:
                await connection.close(code)

    def hold(self) -> None:
        """New connections get no HELLO until :meth:`release` (the client waits in its connect)."""
        self.open.clear()

    def release(self) -> None:
        self.open.set()

    def invalidate(self, resumable: bool = False) -> None:
        """Send op 9; with ``resumable=False`` the client must IDENTIFY again (after 5 s)."""
        for shard_id, session in list(self.current.items()):
            if session.connection is not None:
                session.connection.send({"op": 9, "d": resumable})
            if not resumable:
                del self.current[shard_id]

    def request_heartbeat(self) -> None:
        for session in self.current.values():
            if session.connection is not None:
                session.connection.send({"op": 1, "d": None})

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.close(1001)

    # -- websocket handler ---------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        connection = Connection(ws)
        self.connections.add(connection)
        if not self.open.is_set():
            self.held += 1
            self.emu.notify()
            try:
                await self.open.wait()
            finally:
                self.held -= 1
        connection.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        await ws.close(code=4002)
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002)
                    break
                session = await self._on_frame(connection, frame, session)
        finally:
            self.connections.discard(connection)
            connection.queue.put_nowait(None)
            if session is not None and session.connection is connection:
                session.connection = None
        return ws

    async def _on_frame(
        self, connection: Connection, frame: JSON, session: Session | None
    ) -> Session | None:
        op = frame.get("op")
        data: Any = frame.get("d")
        if op == 1:
            connection.send({"op": 11})
        elif op == 2:
            return await self._identify(connection, data)
        elif op == 6:
            return await self._resume(connection, data)
        elif op == 3:
            self.presence_updates.append(data)
        elif op == 8 and session is not None:
            self._request_members(session, data)
        elif op == 4:
            pass
        else:
            _log.warning("unknown gateway op %r", op)
        return session

    def _token_ok(self, token: str | None) -> bool:
        return self.emu.token is None or token == self.emu.token

    async def _identify(self, connection: Connection, data: JSON) -> Session | None:
        if not self._token_ok(data.get("token")):
            await connection.close(4004)
            return None
        shard_id, shard_count = data.get("shard") or [0, 1]
        session = Session(
            session_id=secrets.token_hex(16),
            shard_id=int(shard_id),
            shard_count=int(shard_count),
            intents=int(data.get("intents", 0)),
            connection=connection,
        )
        self.identify_count += 1
        old = self.current.get(session.shard_id)
        if old is not None and old.connection is not None and old.connection is not connection:
            await old.connection.close(4000)
        self.sessions[session.session_id] = session
        self.current[session.shard_id] = session
        emu = self.emu
        guilds = [g for g in emu.guilds.values() if session.owns_guild(g.id)]
        session.push(
            "READY",
            {
                "v": 10,
                "user": emu.bot_user,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.session_id,
                "resume_gateway_url": emu.gateway_url,
                "shard": [session.shard_id, session.shard_count],
                "application": {"id": str(emu.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "auth_session_id_hash": "",
                "_trace": ["emulator"],
            },
        )
        if session.intents & GUILDS:
            for guild in guilds:
                session.push("GUILD_CREATE", self.guild_create(session, guild.payload()))
        self.ready.set()
        emu.notify()
        return session

    async def _resume(self, connection: Connection, data: JSON) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not self._token_ok(data.get("token")):
            connection.send({"op": 9, "d": False})
            return None
        if self.current.get(session.shard_id) is not session:
            connection.send({"op": 9, "d": False})
            return None
        if session.connection is not None and session.connection is not connection:
            await session.connection.close(4000)
        self.resume_count += 1
        since = int(data.get("seq") or 0)
        session.connection = connection
        for seq, frame in session.buffer:
            if seq > since:
                connection.send(frame)
        session.push("RESUMED", {"_trace": ["emulator"]})
        self.emu.notify()
        return session

    def _request_members(self, session: Session, data: JSON) -> None:
        guild = self.emu.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        query = (data.get("query") or "").lower()
        user_ids = {int(u) for u in data.get("user_ids") or []}
        limit = int(data.get("limit") or 0) or len(guild.members)
        members = [
            m
            for m in guild.members.values()
            if (not user_ids or m.user.id in user_ids) and m.user.username.lower().startswith(query)
        ][:limit]
        payload: JSON = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            payload["nonce"] = data["nonce"]
        session.push("GUILD_MEMBERS_CHUNK", payload)
