"""EmulatorState: the fake Discord's data (users, guilds, channels), waits and request records."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .gateway import GatewayServer
from .interactions import EmulatedInteraction
from .messages import UploadedFile
from .models import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    GUILD_TEXT,
    JSON,
    MANAGE_GUILD,
    Channel,
    Guild,
    Member,
    Overwrite,
    Role,
    Snowflakes,
    User,
)
from .openapi import OpenApi, Violation, discord_api

T = TypeVar("T")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile] = field(default_factory=list)
    status: int = 0
    injected: bool = False


@dataclass
class Fault:
    """Answer the next ``times`` requests matching ``method`` and ``path_regex`` with ``status``."""

    method: str
    path_regex: str
    status: int
    times: int = 1
    retry_after: float = 0.05
    injected: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.injected >= self.times:
            return False
        if self.method not in ("*", method.upper()):
            return False
        return re.search(self.path_regex, path) is not None


class EmulatorState:
    """Guilds, channels, members and the records tests inspect; the gateway sessions."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        bot_name: str = "Agora",
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        shard_count: int = 1,
        max_concurrency: int = 1,
        interaction_deadline: float | None = 3.0,
        nonce_ttl: float = 300.0,
        validate_requests: bool = True,
    ) -> None:
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("the emulator only listens on loopback (127.0.0.1 or ::1)")
        self.host = host
        self.port = port
        self.token = token
        self.shard_count = shard_count
        #: `GET /gateway/bot`'s `session_start_limit.max_concurrency` (IDENTIFY buckets).
        self.max_concurrency = max_concurrency
        self.interaction_deadline = interaction_deadline
        self.nonce_ttl = nonce_ttl
        self.bot_permissions = bot_permissions
        self.snowflakes = Snowflakes()
        self.application_id = self.snowflakes.next()
        self.bot = User(id=self.application_id, username=bot_name, bot=True)
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: defaultdict[int, list[JSON]] = defaultdict(list)
        self._messages_by_id: dict[int, JSON] = {}
        self._attachment_data: dict[int, bytes] = {}
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self.nonce_hits = 0
        self.poll_voters: dict[int, dict[int, set[int]]] = {}
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[tuple[str, str]] = []
        #: Every request body is checked against Discord's OpenAPI description (see
        #: :mod:`tests.emulator.openapi`); what it refuses is recorded here.
        self.openapi: OpenApi | None = discord_api() if validate_requests else None
        self.spec_violations: list[Violation] = []
        self.command_syncs: list[tuple[int | None, list[JSON]]] = []
        self.commands: dict[int | None, list[JSON]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self.interactions: dict[int, EmulatedInteraction] = {}
        self.interactions_by_token: dict[str, EmulatedInteraction] = {}
        self.faults: list[Fault] = []
        self.injected_failures = 0
        self.gateway = GatewayServer(self)
        self._changed = asyncio.Event()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    #: What `GET /gateway/bot` answers instead of `gateway_url` (an API proxy passing Discord's
    #: own answer through); None: the emulator's own gateway.
    advertised_gateway_url: str | None = None

    @property
    def bot_user(self) -> JSON:
        data = self.bot.payload()
        data.update({"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None})
        return data

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    def problems(self) -> list[str]:
        """What the client did that Discord would refuse: routes Discord does not have,
        request bodies its API description refuses. A test fails on any."""
        return [f"unknown route: {method} {path}" for method, path in self.unknown_routes] + [
            f"refused by Discord's API description: {v}" for v in self.spec_violations
        ]

    # -- waiting -----------------------------------------------------------------------------
    def notify(self) -> None:
        """Wake everything waiting in :meth:`wait_for`."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[], T | None | bool] | Callable[[], Awaitable[T | None | bool]],
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "",
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value.

        ``predicate`` may be a coroutine function (a database query, say); it is checked again
        whenever the emulator sees something happen, and at least every 50 ms.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value  # type: ignore[return-value]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, 0.05))
            except TimeoutError:
                pass

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """The first live message in ``channel_id`` matching ``predicate``."""

        def find() -> JSON | None:
            for message in self.messages.get(channel_id, []):
                if not message.get("deleted") and (predicate is None or predicate(message)):
                    return message
            return None

        return await self.wait_for(find, timeout=timeout, what=f"a message in {channel_id}")

    async def wait_until_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self.wait_for(lambda: self.gateway.connected, timeout=timeout, what="the bot")

    # -- guild setup -------------------------------------------------------------------------
    def _new_user(self, username: str, *, bot: bool = False) -> User:
        user = User(id=self.snowflakes.next(), username=username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, owner: str = "owner", shard: tuple[int, int] | None = None
    ) -> Guild:
        """A community; ``shard=(shard_id, shard_count)`` puts it on that shard."""
        guild_id = self.snowflakes.next(shard=shard)
        owner_user = self._new_user(f"{owner}")
        guild = Guild(id=guild_id, name=name, owner_id=owner_user.id)
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS)
        bot_role = Role(
            self.snowflakes.next(),
            guild_id,
            self.bot.username,
            self.bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[owner_user.id] = Member(owner_user, guild_id)
        guild.members[self.bot.id] = Member(self.bot, guild_id, roles=[bot_role.id])
        general = Channel(self.snowflakes.next(), guild_id, "general")
        guild.channels[general.id] = general
        self.channels[general.id] = general
        self.guilds[guild_id] = guild
        self.gateway.dispatch(
            "GUILD_CREATE", guild.payload(), guild_id=guild_id, transform=self.gateway.guild_create
        )
        self.notify()
        return guild

    def remove_guild(self, guild_id: int) -> None:
        guild = self.guilds.pop(guild_id)
        for channel_id in guild.channels:
            self.channels.pop(channel_id, None)
        self.gateway.dispatch("GUILD_DELETE", {"id": str(guild_id)}, guild_id=guild_id)
        self.notify()

    def add_channel(
        self, guild_id: int, name: str, *, type: int = GUILD_TEXT, topic: str | None = None
    ) -> int:
        guild = self.guilds[guild_id]
        channel = Channel(
            self.snowflakes.next(),
            guild_id,
            name,
            type=type,
            topic=topic,
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.gateway.dispatch("CHANNEL_CREATE", channel.payload(), guild_id=guild_id)
        return channel.id

    def set_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a channel's permission overwrite for a role or a member (the guild's id is
        @everyone) and dispatch CHANNEL_UPDATE, as when a manager edits the channel."""
        channel = self.channels[channel_id]
        guild = self.guilds[channel.guild_id]
        kind = 0 if target_id in guild.roles else 1
        channel.overwrites[target_id] = Overwrite(target_id, kind, allow, deny)
        self.gateway.dispatch("CHANNEL_UPDATE", channel.payload(), guild_id=guild.id)
        self.notify()

    def bot_permissions_in(self, channel_id: int) -> int:
        """The bot's permissions in a channel (its roles and the channel's overwrites)."""
        channel = self.channels[channel_id]
        return self.guilds[channel.guild_id].channel_permissions(self.bot.id, channel)

    def delete_channel(self, channel_id: int) -> None:
        """Delete a channel (dispatches CHANNEL_DELETE); requests naming it answer 404."""
        channel = self.channels.pop(channel_id)
        self.guilds[channel.guild_id].channels.pop(channel_id, None)
        self.gateway.dispatch("CHANNEL_DELETE", channel.payload(), guild_id=channel.guild_id)
        self.notify()

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> int:
        guild = self.guilds[guild_id]
        role = Role(self.snowflakes.next(), guild_id, name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild_id), "role": role.payload()},
            guild_id=guild_id,
        )
        return role.id

    def add_member(
        self,
        guild_id: int,
        username: str,
        manage_guild: bool = False,
        roles: Iterable[int] = (),
        *,
        user_id: int | None = None,
    ) -> int:
        """Add a member (a new user, or ``user_id`` from another guild); returns the user id."""
        guild = self.guilds[guild_id]
        user = self.users[user_id] if user_id is not None else self._new_user(username)
        role_ids = list(roles)
        if manage_guild:
            try:
                manager = guild.role_named("Manager")
            except LookupError:
                manager = guild.roles[self.add_role(guild_id, "Manager", MANAGE_GUILD)]
            role_ids.append(manager.id)
        member = Member(user, guild_id, roles=role_ids)
        guild.members[user.id] = member
        data = member.payload()
        data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, guild_id=guild_id)
        self.notify()
        return user.id

    def guild_of(self, channel_id: int) -> Guild:
        return self.guilds[self.channels[channel_id].guild_id]
