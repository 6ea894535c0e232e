"""The message store: messages, attachments, mentions, nonces, threads and poll results."""

from __future__ import annotations

import copy
import mimetypes
import time

from .gateway import MESSAGE_CONTENT, Session
from .interactions import APPLICATION_COMMAND, EmulatedInteraction
from .messages import (
    EPHEMERAL,
    UploadedFile,
    apply_fields,
    base_message,
    build_poll,
    poll_counts,
    resolve_mentions,
)
from .models import JSON, Channel, Guild, User, now_iso
from .state import EmulatorState


class MessageStore(EmulatorState):
    """The messages the bot and members post (a base of :class:`DiscordEmulator`)."""

    # -- messages ----------------------------------------------------------------------------
    def get_message(self, message_id: int) -> JSON | None:
        return self._messages_by_id.get(int(message_id))

    def attachment_bytes(self, message: JSON, index: int = 0) -> bytes:
        return self._attachment_data[int(message["attachments"][index]["id"])]

    def _attachment(self, channel_id: int, upload: UploadedFile, description: str | None) -> JSON:
        attachment_id = self.snowflakes.next()
        self._attachment_data[attachment_id] = upload.data
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{upload.filename}"
        guessed = mimetypes.guess_type(upload.filename)[0]
        data: JSON = {
            "id": str(attachment_id),
            "filename": upload.filename,
            "size": len(upload.data),
            "url": url,
            "proxy_url": url,
            "content_type": guessed or "application/octet-stream",
        }
        if description:
            data["description"] = description
        return data

    def upload_attachment(self, filename: str, data: bytes, resolved: JSON) -> int:
        """An attachment a user gives to a slash command option (resolved data)."""
        attachment = self._attachment(0, UploadedFile(0, filename, data), None)
        resolved.setdefault("attachments", {})[attachment["id"]] = attachment
        return int(attachment["id"])

    def _attachments(
        self,
        channel_id: int,
        current: list[JSON],
        payload: JSON,
        files: list[UploadedFile],
    ) -> list[JSON]:
        uploads = {f.index: f for f in files}
        entries = payload.get("attachments")
        if entries is None:
            entries = [*current, *({"id": i} for i in uploads)]
        kept = {a["id"]: a for a in current}
        out = []
        for entry in entries:
            key = str(entry.get("id"))
            if key in kept:
                out.append(kept[key])
            elif key.isdigit() and int(key) in uploads:
                out.append(
                    self._attachment(channel_id, uploads[int(key)], entry.get("description"))
                )
        return out

    def _mentions(self, message: JSON, guild: Guild | None, allowed: JSON | None) -> None:
        users, roles, everyone = resolve_mentions(message.get("content") or "", allowed)
        message["mentions"] = [self.users[u].payload() for u in users if u in self.users]
        message["mention_roles"] = [str(r) for r in roles if guild is None or r in guild.roles]
        message["mention_everyone"] = everyone

    def create_message(
        self,
        channel_id: int,
        payload: JSON,
        files: list[UploadedFile] | None = None,
        *,
        author: User | None = None,
        interaction: EmulatedInteraction | None = None,
        extra_flags: int = 0,
    ) -> JSON:
        """Store a new message and dispatch MESSAGE_CREATE (unless ephemeral)."""
        channel = self.channels[channel_id]
        guild = self.guilds.get(channel.guild_id)
        author = author or self.bot
        msg_type = 20 if interaction is not None and interaction.type == APPLICATION_COMMAND else 0
        message = base_message(
            message_id=self.snowflakes.next(),
            channel_id=channel_id,
            guild_id=channel.guild_id,
            author=author.payload(),
            msg_type=msg_type,
        )
        apply_fields(message, payload)
        message["flags"] = int(message.get("flags", 0)) | extra_flags
        message["attachments"] = self._attachments(channel_id, [], payload, files or [])
        if payload.get("poll"):
            message["poll"] = build_poll(payload["poll"])
            self.poll_voters[int(message["id"])] = {}
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        self._mentions(message, guild, payload.get("allowed_mentions"))
        if interaction is not None:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            metadata: JSON = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.users[interaction.user_id].payload(),
                "authorizing_integration_owners": {"0": str(interaction.guild_id)},
            }
            if interaction.type == APPLICATION_COMMAND:
                metadata["name"] = interaction.payload["data"]["name"]
                metadata["command_type"] = 1
            if interaction.message_id is not None:
                metadata["interacted_message_id"] = str(interaction.message_id)
            message["interaction_metadata"] = metadata
        self._messages_by_id[int(message["id"])] = message
        if not message["flags"] & EPHEMERAL:
            self.messages[channel_id].append(message)
            channel.last_message_id = int(message["id"])
            if channel.is_thread:
                channel.message_count += 1
            self._dispatch_message("MESSAGE_CREATE", message)
        self.notify()
        return message

    def edit_message(
        self, message: JSON, payload: JSON, files: list[UploadedFile] | None = None
    ) -> JSON:
        channel_id = int(message["channel_id"])
        apply_fields(message, payload)
        if "attachments" in payload or files:
            current = message.get("attachments") or []
            message["attachments"] = self._attachments(channel_id, current, payload, files or [])
        if "content" in payload or "allowed_mentions" in payload:
            guild = self.guilds.get(self.channels[channel_id].guild_id)
            self._mentions(message, guild, payload.get("allowed_mentions"))
        message["edited_timestamp"] = now_iso()
        if not message["flags"] & EPHEMERAL:
            self._dispatch_message("MESSAGE_UPDATE", message)
        self.notify()
        return message

    def delete_message(self, message: JSON) -> None:
        message["deleted"] = True
        if not message["flags"] & EPHEMERAL:
            data = {"id": message["id"], "channel_id": message["channel_id"]}
            if "guild_id" in message:
                data["guild_id"] = message["guild_id"]
            self.gateway.dispatch("MESSAGE_DELETE", data, guild_id=_guild_id(message))
        self.notify()

    def _dispatch_message(self, event: str, message: JSON) -> None:
        data = copy.deepcopy(message)
        data.pop("deleted", None)
        guild = self.guilds.get(_guild_id(message) or 0)
        author_id = int(message["author"]["id"])
        if guild is not None and author_id in guild.members and "webhook_id" not in message:
            data["member"] = guild.members[author_id].payload(with_user=False)

        def strip(session: Session, payload: JSON) -> JSON:
            if session.intents & MESSAGE_CONTENT or author_id == self.bot.id:
                return payload
            if any(int(u["id"]) == self.bot.id for u in payload.get("mentions") or []):
                return payload
            stripped = dict(payload)
            stripped.update(content="", embeds=[], attachments=[], components=[])
            stripped.pop("poll", None)
            return stripped

        self.gateway.dispatch(event, data, guild_id=_guild_id(message), transform=strip)

    def nonce_lookup(self, author_id: int, nonce: str) -> JSON | None:
        hit = self._nonces.get((author_id, nonce))
        if hit is None or time.monotonic() - hit[1] > self.nonce_ttl:
            return None
        return self.get_message(hit[0])

    def nonce_remember(self, author_id: int, nonce: str, message: JSON) -> None:
        self._nonces[(author_id, nonce)] = (int(message["id"]), time.monotonic())

    # -- threads -----------------------------------------------------------------------------
    def create_thread(
        self,
        parent_id: int,
        name: str,
        *,
        owner_id: int,
        type: int = 11,
        message_id: int | None = None,
        auto_archive_duration: int = 1440,
        invitable: bool = True,
    ) -> Channel:
        parent = self.channels[parent_id]
        guild = self.guilds[parent.guild_id]
        thread = Channel(
            message_id or self.snowflakes.next(),
            guild.id,
            name,
            type=type,
            parent_id=parent_id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
            invitable=invitable,
            member_ids={owner_id},
        )
        guild.channels[thread.id] = thread
        self.channels[thread.id] = thread
        if message_id is not None:
            self._messages_by_id[message_id]["thread"] = thread.payload()
        data = thread.payload()
        data["newly_created"] = True
        if owner_id == self.bot.id:
            data["member"] = thread.thread_member(owner_id)
        self.gateway.dispatch("THREAD_CREATE", data, guild_id=guild.id)
        self.notify()
        return thread

    # -- polls -------------------------------------------------------------------------------
    def end_poll(self, message_id: int) -> JSON:
        """Finalise a poll (as at expiry) and dispatch MESSAGE_UPDATE."""
        message = self._messages_by_id[message_id]
        poll_counts(message["poll"], self.poll_voters.get(message_id, {}), self.bot.id, final=True)
        self._dispatch_message("MESSAGE_UPDATE", message)
        self.notify()
        return message


def _guild_id(message: JSON) -> int | None:
    value = message.get("guild_id")
    return int(value) if value is not None else None


def _public_copy(message: JSON) -> JSON:
    data = copy.deepcopy(message)
    data.pop("deleted", None)
    return data
