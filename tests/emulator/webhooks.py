"""Interaction callbacks, follow-ups and the @original / follow-up message routes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    INTERACTION_LIFETIME,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PING,
    PONG,
    UPDATE_MESSAGE,
    EmulatedInteraction,
    recorded_files,
)
from .messages import EPHEMERAL, LOADING, ApiError, form_error, validate_message_payload
from .models import JSON
from .wire import Handler, Reply, Req

if TYPE_CHECKING:
    from .server import DiscordEmulator


class WebhookRoutes:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu

    def register(self, add: Callable[[str, str, Handler], None]) -> None:
        add("POST", "/interactions/{interaction_id}/{token}/callback", self.callback)
        add("POST", "/webhooks/{app}/{token}", self.followup)
        add("GET", "/webhooks/{app}/{token}/messages/{message_id}", self.get_message)
        add("PATCH", "/webhooks/{app}/{token}/messages/{message_id}", self.edit_message)
        add("DELETE", "/webhooks/{app}/{token}/messages/{message_id}", self.delete_message)

    # -- helpers -----------------------------------------------------------------------------
    def _by_token(self, req: Req) -> EmulatedInteraction:
        interaction = self.emu.interactions_by_token.get(req.args["token"])
        if interaction is None or req.args["app"] != str(self.emu.application_id):
            raise ApiError(404, 10015, "Unknown Webhook")
        age = asyncio.get_running_loop().time() - interaction.created
        if age > INTERACTION_LIFETIME:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if not interaction.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        return interaction

    def _target(self, req: Req, interaction: EmulatedInteraction) -> JSON:
        raw = req.args["message_id"]
        if raw == "@original":
            message_id = interaction.original_message_id
        elif raw.isdigit() and (
            int(raw) in interaction.followup_ids or int(raw) == interaction.original_message_id
        ):
            message_id = int(raw)
        else:
            message_id = None
        message = self.emu.get_message(message_id) if message_id is not None else None
        if message is None or message.get("deleted"):
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _reply(self, body: Any, status: int = 200) -> Reply:
        return Reply(body, status)

    # -- callback ----------------------------------------------------------------------------
    async def callback(self, req: Req) -> Reply:
        emu = self.emu
        interaction = emu.interactions.get(req.id("interaction_id"))
        if interaction is None or interaction.token != req.args["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        age = asyncio.get_running_loop().time() - interaction.created
        if emu.interaction_deadline is not None and age > emu.interaction_deadline:
            interaction.callback_error = {"code": 10062, "age": age}
            emu.notify()
            raise ApiError(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = req.body
        kind = int(body.get("type", 0))
        data: JSON = body.get("data") or {}
        try:
            message = self._apply_callback(interaction, kind, data, req)
        except ApiError as exc:
            interaction.callback_error = exc.body()
            emu.notify()
            raise
        interaction.callback = {"type": kind, "data": data, "files": recorded_files(req.files)}
        emu.notify()
        info: JSON = {"id": str(interaction.id), "type": interaction.type}
        resource: JSON = {"type": kind}
        if message is not None:
            info["response_message_id"] = message["id"]
            info["response_message_loading"] = kind == DEFERRED_CHANNEL_MESSAGE
            info["response_message_ephemeral"] = bool(message["flags"] & EPHEMERAL)
            if kind != DEFERRED_UPDATE_MESSAGE:
                resource["message"] = _public(message)
        return self._reply({"interaction": info, "resource": resource})

    def _apply_callback(
        self, interaction: EmulatedInteraction, kind: int, data: JSON, req: Req
    ) -> JSON | None:
        emu = self.emu
        itype = interaction.type
        if kind == PONG and itype == PING:
            return None
        if kind == CHANNEL_MESSAGE and itype != AUTOCOMPLETE:
            validate_message_payload(data, has_files=bool(req.files), creating=True)
            message = emu.create_message(
                interaction.channel_id, data, req.files, interaction=interaction
            )
            interaction.original_message_id = int(message["id"])
            return message
        if kind == DEFERRED_CHANNEL_MESSAGE and itype != AUTOCOMPLETE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = emu.create_message(
                interaction.channel_id, {}, interaction=interaction, extra_flags=flags
            )
            interaction.original_message_id = int(message["id"])
            interaction.loading = True
            return message
        component = interaction.message_id is not None and itype in (
            MESSAGE_COMPONENT,
            MODAL_SUBMIT,
        )
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and component:
            assert interaction.message_id is not None
            target = emu.get_message(interaction.message_id)
            if target is None or target.get("deleted"):
                raise ApiError(404, 10008, "Unknown Message")
            interaction.original_message_id = interaction.message_id
            if kind == UPDATE_MESSAGE:
                validate_message_payload(data, has_files=bool(req.files), creating=False)
                emu.edit_message(target, data, req.files)
            return target
        if kind == AUTOCOMPLETE_RESULT and itype == AUTOCOMPLETE:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                raise form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")
            for index, choice in enumerate(choices):
                if not 1 <= len(str(choice.get("name", ""))) <= 100:
                    raise form_error(
                        f"data.choices.{index}.name", "BASE_TYPE_BAD_LENGTH", "1 to 100."
                    )
            return None
        if kind == MODAL and itype in (APPLICATION_COMMAND, MESSAGE_COMPONENT):
            title = str(data.get("title") or "")
            components = data.get("components") or []
            if not data.get("custom_id") or not 1 <= len(title) <= 45:
                raise form_error("data.title", "BASE_TYPE_BAD_LENGTH", "Must be 1 to 45.")
            if not 1 <= len(components) <= 5:
                raise form_error("data.components", "BASE_TYPE_BAD_LENGTH", "Must be 1 to 5.")
            return None
        raise ApiError(400, 40043, f"Interaction response type {kind} invalid for type {itype}")

    # -- follow-ups and @original --------------------------------------------------------------
    async def followup(self, req: Req) -> Reply:
        emu = self.emu
        interaction = self._by_token(req)
        data = req.body
        validate_message_payload(data, has_files=bool(req.files), creating=True)
        original = interaction.message
        if interaction.loading and original is not None:
            # The first follow-up after a deferred response replaces the "thinking" message
            # and keeps its ephemeral state.
            interaction.loading = False
            original["flags"] &= ~LOADING
            payload = dict(data)
            payload["flags"] = int(data.get("flags") or 0) & ~EPHEMERAL
            message = emu.edit_message(original, payload, req.files)
        else:
            message = emu.create_message(
                interaction.channel_id, data, req.files, interaction=interaction
            )
        interaction.followup_ids.append(int(message["id"]))
        emu.notify()
        if req.query.get("wait", "").lower() in ("true", "1"):
            return self._reply(_public(message))
        return self._reply(None)

    async def get_message(self, req: Req) -> Reply:
        interaction = self._by_token(req)
        return self._reply(_public(self._target(req, interaction)))

    async def edit_message(self, req: Req) -> Reply:
        interaction = self._by_token(req)
        message = self._target(req, interaction)
        validate_message_payload(req.body, has_files=bool(req.files), creating=False)
        payload = dict(req.body)
        if message["flags"] & LOADING:
            message["flags"] &= ~LOADING
            interaction.loading = False
        if "flags" in payload:
            payload["flags"] = int(payload["flags"] or 0) & ~EPHEMERAL
        return self._reply(_public(self.emu.edit_message(message, payload, req.files)))

    async def delete_message(self, req: Req) -> Reply:
        interaction = self._by_token(req)
        self.emu.delete_message(self._target(req, interaction))
        return self._reply(None)


def _public(message: JSON) -> JSON:
    data = dict(message)
    data.pop("deleted", None)
    return data
