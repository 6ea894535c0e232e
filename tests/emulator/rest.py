"""REST v10: routing, recording, fault injection, rate-limit headers and the channel routes."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from .messages import EPHEMERAL, ApiError, UploadedFile, validate_message_payload
from .models import (
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    JSON,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Channel,
    iso_in,
)
from .state import Fault, RecordedRequest
from .webhooks import WebhookRoutes
from .wire import Handler, Reply, Req, compile_route, json_response, ratelimit_headers

if TYPE_CHECKING:
    from .server import DiscordEmulator

log = logging.getLogger(__name__)


class RestApi:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        r = self.add
        r("GET", "/gateway", self.get_gateway)
        r("GET", "/gateway/bot", self.get_gateway_bot)
        r("GET", "/users/@me", self.get_me)
        r("GET", "/users/{user_id}", self.get_user)
        r("GET", "/oauth2/applications/@me", self.get_application)
        r("GET", "/applications/@me", self.get_application)
        r("PUT", "/applications/{app}/commands", self.put_commands)
        r("GET", "/applications/{app}/commands", self.get_commands)
        r("PUT", "/applications/{app}/guilds/{guild_id}/commands", self.put_commands)
        r("GET", "/applications/{app}/guilds/{guild_id}/commands", self.get_commands)
        r("GET", "/channels/{channel_id}", self.get_channel)
        r("PATCH", "/channels/{channel_id}", self.patch_channel)
        r("GET", "/channels/{channel_id}/messages", self.list_messages)
        r("POST", "/channels/{channel_id}/messages", self.post_message)
        r("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", self.patch_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        r("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message)
        r("POST", "/channels/{channel_id}/threads", self.thread_without_message)
        r("PUT", "/channels/{channel_id}/thread-members/{user_id}", self.join_thread)
        r("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self.leave_thread)
        r("POST", "/channels/{channel_id}/typing", self.typing)
        r("POST", "/channels/{channel_id}/polls/{message_id}/expire", self.expire_poll)
        r("GET", "/channels/{channel_id}/polls/{message_id}/answers/{answer_id}", self.poll_answer)
        r("GET", "/guilds/{guild_id}", self.get_guild)
        r("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", self.get_guild_roles)
        r("GET", "/guilds/{guild_id}/threads/active", self.get_active_threads)
        r("GET", "/guilds/{guild_id}/members", self.list_members)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        WebhookRoutes(emu).register(self.add)

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, compile_route(pattern), pattern, handler))

    # -- plumbing ----------------------------------------------------------------------------
    async def _read(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name or ""
                data = await part.read()
                if name == "payload_json":
                    payload = json.loads(data)
                else:
                    match = re.fullmatch(r"files\[(\d+)\]", name)
                    index = int(match.group(1)) if match else len(files)
                    filename = part.filename or f"file{index}"
                    content_type = part.headers.get("Content-Type")
                    files.append(UploadedFile(index, filename, bytes(data), content_type))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError as exc:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc

    async def handle(self, request: web.Request) -> web.Response:
        emu = self.emu
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        record = RecordedRequest(method, path, dict(request.query), None)
        emu.requests.append(record)
        try:
            record.json, record.files = await self._read(request)
        except ApiError as exc:
            record.status = exc.status
            return json_response(exc.body(), exc.status)
        self._check_against_spec(record, multipart=request.content_type.startswith("multipart/"))
        route_name = path
        handler: Handler | None = None
        for route_method, regex, pattern, candidate in self.routes:
            match = regex.match(path)
            if match and route_method == method:
                route_name = f"{method} {pattern}"
                handler = candidate
                break
        else:
            match = None
        for fault in emu.faults:
            if fault.matches(method, path):
                fault.injected += 1
                emu.injected_failures += 1
                record.status, record.injected = fault.status, True
                emu.notify()
                return self._fault_response(fault, route_name)
        auth = request.headers.get("Authorization")
        needs_auth = not path.startswith(("/interactions/", "/webhooks/"))
        if emu.token is not None and needs_auth and auth != f"Bot {emu.token}":
            record.status = 401
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        if handler is None or match is None:
            emu.unknown_routes.append((method, path))
            record.status = 404
            emu.notify()
            return json_response({"message": "Unknown route", "code": 0}, 404)
        req = Req(method, path, match.groupdict(), dict(request.query), record.json, record.files)
        headers = ratelimit_headers(route_name)
        try:
            reply = await handler(req)
        except ApiError as exc:
            record.status = exc.status
            emu.notify()
            return json_response(exc.body(), exc.status, headers)
        record.status = reply.status if reply.body is not None else 204
        emu.notify()
        if reply.body is None:
            return web.Response(status=204, headers=headers)
        return json_response(reply.body, reply.status, headers)

    def _check_against_spec(self, record: RecordedRequest, *, multipart: bool) -> None:
        openapi = self.emu.openapi
        if openapi is None:
            return
        violations = openapi.check(record.method, record.path, record.json, multipart=multipart)
        for violation in violations:
            log.warning("refused by Discord's API description: %s", violation)
        self.emu.spec_violations.extend(violations)

    def _fault_response(self, fault: Fault, route_name: str) -> web.Response:
        headers = ratelimit_headers(route_name, remaining=0)
        if fault.status == 429:
            headers.update(
                {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, int(fault.retry_after))),
                    "X-RateLimit-Scope": "user",
                    "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                }
            )
            body = {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": False,
            }
            return json_response(body, 429, headers)
        # No rate-limit headers: discord.py would otherwise pause the bucket after a 5xx.
        body = {"message": f"{fault.status}: Injected failure", "code": 0}
        return json_response(body, fault.status)

    async def unknown(self, request: web.Request) -> web.Response:
        self.emu.unknown_routes.append((request.method, request.path))
        self.emu.notify()
        return json_response({"message": "Unknown route", "code": 0}, 404)

    async def attachment(self, request: web.Request) -> web.Response:
        data = self.emu._attachment_data.get(int(request.match_info["aid"]))
        if data is None:
            return json_response({"message": "Not found", "code": 0}, 404)
        return web.Response(body=data, content_type="application/octet-stream")

    # -- lookups -----------------------------------------------------------------------------
    def channel(self, req: Req) -> Any:
        channel = self.emu.channels.get(req.id("channel_id"))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def require(self, channel: Channel, needed: int) -> None:
        """Refuse the bot's request as Discord does: 403 Missing Access (50001) without View
        Channel, 403 Missing Permissions (50013) without any other bit of ``needed``. (Discord
        drops the embeds of a bot lacking Embed Links; the emulator refuses them, so that a
        test sees the missing permission.)"""
        granted = self.emu.bot_permissions_in(channel.id)
        if not granted & VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if needed & ~granted:
            raise ApiError(403, 50013, "Missing Permissions")

    def message(self, req: Req) -> JSON:
        channel = self.channel(req)
        message = self.emu.get_message(req.id("message_id"))
        if (
            message is None
            or message.get("deleted")
            or int(message["channel_id"]) != channel.id
            or message["flags"] & EPHEMERAL
        ):
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def guild(self, req: Req) -> Any:
        guild = self.emu.guilds.get(req.id("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    # -- gateway, users, application -----------------------------------------------------------
    async def get_gateway(self, req: Req) -> Reply:
        return Reply({"url": self.emu.gateway_url})

    async def get_gateway_bot(self, req: Req) -> Reply:
        limit = {
            "total": 1000,
            "remaining": 999,
            "reset_after": 0,
            "max_concurrency": self.emu.max_concurrency,
        }
        return Reply(
            {
                "url": self.emu.advertised_gateway_url or self.emu.gateway_url,
                "shards": self.emu.shard_count,
                "session_start_limit": limit,
            }
        )

    async def get_me(self, req: Req) -> Reply:
        return Reply(self.emu.bot_user)

    async def get_user(self, req: Req) -> Reply:
        user = self.emu.users.get(req.id("user_id"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return Reply(user.payload())

    async def get_application(self, req: Req) -> Reply:
        emu = self.emu
        owner = emu.bot.payload()
        return Reply(
            {
                "id": str(emu.application_id),
                "name": emu.bot.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner,
                "team": None,
                "flags": 0,
                "bot": emu.bot.payload(),
                "rpc_origins": [],
                "approximate_guild_count": len(emu.guilds),
                "interactions_endpoint_url": None,
                "tags": [],
                "redirect_uris": [],
            }
        )

    async def put_commands(self, req: Req) -> Reply:
        guild_id = req.id("guild_id") if "guild_id" in req.args else None
        if guild_id is not None and guild_id not in self.emu.guilds:
            raise ApiError(403, 50001, "Missing Access")
        payload = req.json if isinstance(req.json, list) else []
        for index, command in enumerate(payload):
            name = command.get("name", "")
            if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
                raise ApiError(400, 50035, f"Invalid Form Body ({index}.name: {name!r})")
            if (
                int(command.get("type", 1)) == 1
                and not 1 <= len(command.get("description", "")) <= 100
            ):
                raise ApiError(400, 50035, f"Invalid Form Body ({index}.description)")
        return Reply(self.emu.sync_commands(guild_id, payload))

    async def get_commands(self, req: Req) -> Reply:
        guild_id = req.id("guild_id") if "guild_id" in req.args else None
        return Reply(self.emu.commands.get(guild_id, []))

    # -- channels and messages ---------------------------------------------------------------
    async def get_channel(self, req: Req) -> Reply:
        return Reply(self.channel(req).payload())

    async def patch_channel(self, req: Req) -> Reply:
        channel = self.channel(req)
        body = req.body
        for key in ("name", "topic", "archived", "locked", "invitable", "rate_limit_per_user"):
            if key in body:
                setattr(channel, key, body[key])
        if "auto_archive_duration" in body:
            channel.auto_archive_duration = int(body["auto_archive_duration"])
        if "archived" in body:
            channel.archive_timestamp = iso_in(0)
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        self.emu.gateway.dispatch(event, channel.payload(), guild_id=channel.guild_id)
        return Reply(channel.payload())

    async def list_messages(self, req: Req) -> Reply:
        channel = self.channel(req)
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        live = [m for m in self.emu.messages.get(channel.id, []) if not m.get("deleted")]
        live.sort(key=lambda m: int(m["id"]), reverse=True)
        if "before" in req.query:
            live = [m for m in live if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            live = [m for m in live if int(m["id"]) > int(req.query["after"])][-limit:]
        return Reply(live[:limit])

    async def post_message(self, req: Req) -> Reply:
        emu = self.emu
        channel = self.channel(req)
        body = req.body
        if channel.is_thread and (channel.archived or channel.locked):
            raise ApiError(400, 50083, "Thread is archived")
        validate_message_payload(body, has_files=bool(req.files), creating=True)
        send = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        self.require(channel, send | (EMBED_LINKS if body.get("embeds") else 0))
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = emu.nonce_lookup(emu.bot.id, str(nonce))
            if earlier is not None:
                emu.nonce_hits += 1
                return Reply(earlier)
        message = emu.create_message(channel.id, body, req.files)
        if nonce is not None and body.get("enforce_nonce"):
            emu.nonce_remember(emu.bot.id, str(nonce), message)
        return Reply(message)

    async def get_message(self, req: Req) -> Reply:
        return Reply(self.message(req))

    async def patch_message(self, req: Req) -> Reply:
        message = self.message(req)
        if int(message["author"]["id"]) != self.emu.bot.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        validate_message_payload(req.body, has_files=bool(req.files), creating=False)
        return Reply(self.emu.edit_message(message, req.body, req.files))

    async def delete_message(self, req: Req) -> Reply:
        self.emu.delete_message(self.message(req))
        return Reply(None)

    async def typing(self, req: Req) -> Reply:
        self.channel(req)
        return Reply(None)

    # -- threads -----------------------------------------------------------------------------
    async def thread_from_message(self, req: Req) -> Reply:
        message = self.message(req)
        channel = self.channel(req)
        if channel.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if message.get("thread"):
            raise ApiError(400, 160004, "A thread has already been created for this message")
        self.require(channel, CREATE_PUBLIC_THREADS)
        body = req.body
        thread = self.emu.create_thread(
            channel.id,
            str(body.get("name") or "thread"),
            owner_id=self.emu.bot.id,
            type=PUBLIC_THREAD,
            message_id=int(message["id"]),
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        return Reply(thread.payload(), 201)

    async def thread_without_message(self, req: Req) -> Reply:
        channel = self.channel(req)
        body = req.body
        kind = int(body.get("type") or PRIVATE_THREAD)
        if kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
            raise ApiError(400, 50035, "Invalid Form Body (type)")
        thread = self.emu.create_thread(
            channel.id,
            str(body.get("name") or "thread"),
            owner_id=self.emu.bot.id,
            type=kind,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
            invitable=bool(body.get("invitable", True)),
        )
        return Reply(thread.payload(), 201)

    async def join_thread(self, req: Req) -> Reply:
        channel = self.channel(req)
        user = req.args["user_id"]
        channel.member_ids.add(self.emu.bot.id if user == "@me" else int(user))
        return Reply(None)

    async def leave_thread(self, req: Req) -> Reply:
        channel = self.channel(req)
        user = req.args["user_id"]
        channel.member_ids.discard(self.emu.bot.id if user == "@me" else int(user))
        return Reply(None)

    # -- polls -------------------------------------------------------------------------------
    async def expire_poll(self, req: Req) -> Reply:
        message = self.message(req)
        if "poll" not in message:
            raise ApiError(400, 520001, "Message has no poll")
        if int(message["author"]["id"]) != self.emu.bot.id:
            raise ApiError(403, 50013, "Missing Permissions")
        if message["poll"]["results"]["is_finalized"]:
            raise ApiError(400, 520004, "Poll already expired")
        return Reply(self.emu.end_poll(int(message["id"])))

    async def poll_answer(self, req: Req) -> Reply:
        message = self.message(req)
        voters = self.emu.poll_voters.get(int(message["id"]), {})
        users = sorted(voters.get(int(req.args["answer_id"]), set()))
        after = int(req.query.get("after", 0))
        limit = int(req.query.get("limit", 25))
        chosen = [u for u in users if u > after][:limit]
        return Reply({"users": [self.emu.users[u].payload() for u in chosen]})

    # -- guilds ------------------------------------------------------------------------------
    async def get_guild(self, req: Req) -> Reply:
        return Reply(self.guild(req).rest_payload())

    async def get_guild_channels(self, req: Req) -> Reply:
        guild = self.guild(req)
        return Reply([c.payload() for c in guild.channels.values() if not c.is_thread])

    async def get_guild_roles(self, req: Req) -> Reply:
        return Reply([r.payload() for r in self.guild(req).roles.values()])

    async def get_active_threads(self, req: Req) -> Reply:
        guild = self.guild(req)
        threads = [c.payload() for c in guild.channels.values() if c.is_thread and not c.archived]
        return Reply({"threads": threads, "members": []})

    async def list_members(self, req: Req) -> Reply:
        guild = self.guild(req)
        limit = int(req.query.get("limit", 1))
        after = int(req.query.get("after", 0))
        members = sorted(guild.members.values(), key=lambda m: m.user.id)
        return Reply([m.payload() for m in members if m.user.id > after][:limit])

    async def get_member(self, req: Req) -> Reply:
        guild = self.guild(req)
        member = guild.members.get(req.id("user_id"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return Reply(member.payload())
