"""What members do: slash commands, autocomplete, clicks, selects, modals, poll votes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    CHANNEL,
    MENTIONABLE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    ROLE,
    SELECT_RESOLVE,
    USER,
    EmulatedInteraction,
    build_options,
    find_command,
    modal_components,
    nest_options,
    new_token,
    walk_path,
)
from .messages import find_component, poll_counts
from .models import JSON
from .store import MessageStore


class UserActions(MessageStore):
    """Members acting: interactions and poll votes, sent to the bot as gateway dispatches."""

    # -- interactions ------------------------------------------------------------------------
    def resolve_into(self, resolved: JSON, guild_id: int, object_id: int, kind: int) -> None:
        guild = self.guilds[guild_id]
        if kind == MENTIONABLE:
            kind = USER if object_id in self.users else ROLE
        if kind == USER:
            if object_id not in self.users:
                raise ValueError(f"unknown user {object_id}")
            resolved.setdefault("users", {})[str(object_id)] = self.users[object_id].payload()
            member = guild.members.get(object_id)
            if member is not None:
                data = member.payload(with_user=False, permissions=guild.permissions_for(object_id))
                resolved.setdefault("members", {})[str(object_id)] = data
        elif kind == ROLE:
            if object_id not in guild.roles:
                raise ValueError(f"unknown role {object_id} in guild {guild_id}")
            resolved.setdefault("roles", {})[str(object_id)] = guild.roles[object_id].payload()
        elif kind == CHANNEL:
            if object_id not in guild.channels:
                raise ValueError(f"unknown channel {object_id} in guild {guild_id}")
            data = guild.channels[object_id].payload()
            data["permissions"] = str(guild.permissions_for(self.bot.id))
            resolved.setdefault("channels", {})[str(object_id)] = data

    async def _send_interaction(
        self,
        kind: int,
        guild_id: int,
        user_id: int,
        data: JSON,
        *,
        channel_id: int | None = None,
        message: JSON | None = None,
    ) -> EmulatedInteraction:
        guild = self.guilds[guild_id]
        if user_id not in guild.members:
            raise ValueError(f"user {user_id} is not a member of guild {guild_id}")
        if channel_id is None:
            channel_id = int(message["channel_id"]) if message is not None else guild.general_id
        channel = guild.channels[channel_id].payload()
        channel["permissions"] = str(guild.permissions_for(user_id))
        member = guild.members[user_id].payload(permissions=guild.permissions_for(user_id))
        payload: JSON = {
            "id": str(self.snowflakes.next()),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": guild.preferred_locale, "features": []},
            "channel": channel,
            "channel_id": str(channel_id),
            "member": member,
            "token": new_token(),
            "version": 1,
            "app_permissions": str(guild.permissions_for(self.bot.id)),
            "locale": "en-US",
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = _public_copy(message)
        interaction = EmulatedInteraction(
            self,
            payload,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            message_id=int(message["id"]) if message is not None else None,
        )
        self.interactions[interaction.id] = interaction
        self.interactions_by_token[interaction.token] = interaction
        if not self.gateway.current:
            await self.wait_for(lambda: self.gateway.current, what="a gateway session")
        interaction.created = asyncio.get_running_loop().time()  # the 3 s start now
        if not self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id):
            raise RuntimeError("no gateway session owns this guild")
        return interaction

    def _command_data(
        self,
        guild_id: int,
        user_id: int,
        path: str,
        options: Mapping[str, Any] | None,
        *,
        focused: str | None = None,
        validate: bool = True,
    ) -> JSON:
        top, *rest = path.split()
        command = find_command(self.commands.get(guild_id, []), top)
        scoped = command is not None
        if command is None:
            command = find_command(self.commands.get(None, []), top)
        if command is None:
            raise ValueError(f"/{top} was never synced (global or to guild {guild_id})")
        required = command.get("default_member_permissions")
        if validate and focused is None and required is not None:
            missing = int(required) & ~self.guilds[guild_id].permissions_for(user_id)
            if missing:
                raise PermissionError(
                    f"Discord hides /{top} from user {user_id} (default_member_permissions="
                    f"{required}, missing {missing:#x}); pass validate=False to simulate a "
                    "server that overrode the command's permissions"
                )
        leaf, chain = walk_path(command, rest)
        resolved: JSON = {}
        leaf_options = build_options(
            self, guild_id, leaf, options or {}, resolved, focused=focused, validate=validate
        )
        data: JSON = {
            "id": command["id"],
            "name": top,
            "type": 1,
            "options": nest_options(chain, leaf_options),
        }
        if resolved:
            data["resolved"] = resolved
        if scoped:
            data["guild_id"] = str(guild_id)
        return data

    async def slash(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        channel_id: int | None = None,
        *,
        validate: bool = True,
    ) -> EmulatedInteraction:
        """Invoke ``/name`` ("group sub" for subcommands); option types come from the sync."""
        data = self._command_data(guild_id, user_id, name, options, validate=validate)
        return await self._send_interaction(
            APPLICATION_COMMAND, guild_id, user_id, data, channel_id=channel_id
        )

    async def autocomplete(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        focused: str | None = None,
        channel_id: int | None = None,
    ) -> EmulatedInteraction:
        """Ask for autocomplete choices of option ``focused`` (default: the last option)."""
        options = dict(options or {})
        focused = focused or (list(options)[-1] if options else None)
        if focused is None:
            raise ValueError("autocomplete needs a focused option")
        options.setdefault(focused, "")
        data = self._command_data(guild_id, user_id, name, options, focused=focused, validate=False)
        return await self._send_interaction(
            AUTOCOMPLETE, guild_id, user_id, data, channel_id=channel_id
        )

    def _component_message(self, message_id: int, custom_id: str) -> tuple[JSON, JSON]:
        message = self.get_message(message_id)
        if message is None or message.get("deleted"):
            raise ValueError(f"no message {message_id}")
        component = find_component(message, custom_id)
        if component is None:
            raise ValueError(f"message {message_id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        return message, component

    async def click(
        self, guild_id: int, user_id: int, message_id: int, custom_id: str
    ) -> EmulatedInteraction:
        """Click the button ``custom_id`` of a message."""
        message, component = self._component_message(message_id, custom_id)
        if component.get("type") != 2:
            raise ValueError(f"{custom_id!r} is not a button")
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._send_interaction(
            MESSAGE_COMPONENT, guild_id, user_id, data, message=message
        )

    async def select(
        self,
        guild_id: int,
        user_id: int,
        message_id: int,
        custom_id: str,
        values: Iterable[Any],
    ) -> EmulatedInteraction:
        """Choose ``values`` in the select menu ``custom_id`` of a message."""
        message, component = self._component_message(message_id, custom_id)
        kind = int(component.get("type", 3))
        values = [str(v) for v in values]
        data: JSON = {"custom_id": custom_id, "component_type": kind, "values": values}
        if kind == 3:
            allowed = {o["value"] for o in component.get("options") or []}
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise ValueError(f"select {custom_id!r} has no options {unknown}")
        elif kind in SELECT_RESOLVE:
            resolved: JSON = {}
            for value in values:
                self.resolve_into(resolved, guild_id, int(value), SELECT_RESOLVE[kind])
            data["resolved"] = resolved
        else:
            raise ValueError(f"{custom_id!r} is not a select menu")
        return await self._send_interaction(
            MESSAGE_COMPONENT, guild_id, user_id, data, message=message
        )

    async def submit_modal(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        values: Mapping[str, Any],
        message_id: int | None = None,
    ) -> EmulatedInteraction:
        """Submit the modal ``custom_id`` (the last one the bot opened for this user)."""
        opened = None
        for interaction in reversed(list(self.interactions.values())):
            modal = interaction.modal
            if interaction.user_id == user_id and modal and modal.get("custom_id") == custom_id:
                opened = modal
                break
        data = {"custom_id": custom_id, "components": modal_components(opened, values)}
        message = self.get_message(message_id) if message_id is not None else None
        return await self._send_interaction(MODAL_SUBMIT, guild_id, user_id, data, message=message)

    async def poll_vote(
        self,
        guild_id: int,
        user_id: int,
        message_id: int,
        answer_id: int,
        add: bool = True,
    ) -> None:
        """A member votes (or removes a vote) on a native poll."""
        message = self._messages_by_id[message_id]
        poll = message.get("poll")
        if poll is None:
            raise ValueError(f"message {message_id} has no poll")
        if poll["results"]["is_finalized"]:
            raise ValueError("the poll has ended")
        if user_id == self.bot.id:
            raise ValueError("bots cannot vote")
        voters = self.poll_voters.setdefault(message_id, {})
        mine = {a for a, users in voters.items() if user_id in users}
        if answer_id not in {a["answer_id"] for a in poll["answers"]}:
            raise ValueError(f"no answer {answer_id}")
        if add:
            if answer_id in mine:
                raise ValueError("already voted for that answer")
            if mine and not poll["allow_multiselect"]:
                raise ValueError("single-choice poll: remove the other vote first")
            voters.setdefault(answer_id, set()).add(user_id)
        else:
            if answer_id not in mine:
                raise ValueError("no such vote to remove")
            voters[answer_id].discard(user_id)
        poll_counts(poll, voters, self.bot.id, final=False)
        event = "MESSAGE_POLL_VOTE_ADD" if add else "MESSAGE_POLL_VOTE_REMOVE"
        data = {
            "user_id": str(user_id),
            "channel_id": message["channel_id"],
            "message_id": str(message_id),
            "guild_id": str(guild_id),
            "answer_id": answer_id,
        }
        self.gateway.dispatch(event, data, guild_id=guild_id)
        self.notify()

    def user_message(self, channel_id: int, user_id: int, content: str, **fields: Any) -> JSON:
        """A member posts a message (dispatched as MESSAGE_CREATE)."""
        return self.create_message(
            channel_id, {"content": content, **fields}, author=self.users[user_id]
        )


def _public_copy(message: JSON) -> JSON:
    # A JSON round trip copies plain JSON data several times faster than deepcopy (the bot
    # and the emulator share one process in the benchmarks).
    data: JSON = json.loads(json.dumps(message))
    data.pop("deleted", None)
    return data
