"""Interactions sent to the bot and what the bot answered to them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .messages import EPHEMERAL, UploadedFile
from .models import JSON

if TYPE_CHECKING:
    from .actions import UserActions
    from .store import MessageStore

# Interaction types.
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback types.
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Application command option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

# Select component types and the option type their values resolve like.
SELECT_RESOLVE = {5: USER, 6: ROLE, 7: MENTIONABLE, 8: CHANNEL}

INTERACTION_LIFETIME = 15 * 60


class EmulatedInteraction:
    """One interaction sent by the emulator, with the bot's callback and follow-ups."""

    def __init__(
        self,
        emu: MessageStore,
        payload: JSON,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        message_id: int | None = None,
    ) -> None:
        self.emu = emu
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.user_id = user_id
        self.message_id = message_id  # the component's message, for type 3 (and 5 from one)
        self.created = asyncio.get_running_loop().time()
        self.callback: JSON | None = None  # {"type", "data", "files"}
        self.callback_error: JSON | None = None
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self.loading = False  # a type 5 whose "thinking" message was not replaced yet

    # -- state -----------------------------------------------------------------------------
    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    @property
    def response_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def ephemeral(self) -> bool:
        """Whether the response (or the deferred response) is ephemeral."""
        if self.callback is None:
            return False
        data = self.callback.get("data") or {}
        if int(data.get("flags") or 0) & EPHEMERAL:
            return True
        message = self.message
        return bool(message is not None and int(message.get("flags", 0)) & EPHEMERAL)

    @property
    def message(self) -> JSON | None:
        """The message created (or updated) by the response, current state after edits."""
        if self.original_message_id is None:
            return None
        return self.emu.get_message(self.original_message_id)

    @property
    def followups(self) -> list[JSON]:
        out = []
        for message_id in self.followup_ids:
            message = self.emu.get_message(message_id)
            if message is not None:
                out.append(message)
        return out

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices, once answered (callback type 8)."""
        if self.callback is None or self.callback["type"] != AUTOCOMPLETE_RESULT:
            return None
        return list((self.callback.get("data") or {}).get("choices") or [])

    @property
    def modal(self) -> JSON | None:
        """The modal opened by the response (callback type 9)."""
        if self.callback is None or self.callback["type"] != MODAL:
            return None
        return self.callback.get("data")

    # -- waiting ---------------------------------------------------------------------------
    async def response(self, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait for the interaction callback; returns ``{"type", "data", "files"}``."""

        def answered() -> JSON | None:
            if self.callback_error is not None:
                raise AssertionError(f"interaction callback refused: {self.callback_error}")
            return self.callback

        return await self.emu.wait_for(answered, timeout=timeout, what=f"response to {self!r}")

    async def wait_followup(self, n: int = 1, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Wait until ``n`` follow-ups exist; returns the n-th (1-based) follow-up message.

        A follow-up that replaced a deferred "thinking" response counts as a follow-up too.
        """

        def ready() -> JSON | None:
            messages = self.followups
            return messages[n - 1] if len(messages) >= n else None

        return await self.emu.wait_for(ready, timeout=timeout, what=f"follow-up {n} of {self!r}")

    async def wait_choices(self, timeout: float = 5.0) -> list[JSON]:  # noqa: ASYNC109
        await self.response(timeout)
        choices = self.choices
        if choices is None:
            raise AssertionError(f"answered with callback type {self.response_type}, not 8")
        return choices

    def __repr__(self) -> str:
        return f"<EmulatedInteraction id={self.id} type={self.type} callback={self.response_type}>"


def new_token() -> str:
    return "emu-" + secrets.token_urlsafe(48)


# -- application command options ---------------------------------------------------------------
def find_command(commands: list[JSON], name: str) -> JSON | None:
    for command in commands:
        if command.get("name") == name and int(command.get("type", 1)) == 1:
            return command
    return None


def walk_path(command: JSON, path: list[str]) -> tuple[JSON, list[tuple[str, int]]]:
    """Follow subcommand group/subcommand names; returns (leaf definition, [(name, type)])."""
    node = command
    chain: list[tuple[str, int]] = []
    for name in path:
        for option in node.get("options") or []:
            if option.get("name") == name and option.get("type") in (
                SUB_COMMAND,
                SUB_COMMAND_GROUP,
            ):
                node = option
                chain.append((name, int(option["type"])))
                break
        else:
            raise ValueError(f"/{command['name']} has no subcommand {name!r} (path {path})")
    for option in node.get("options") or []:
        if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise ValueError(f"/{command['name']} {' '.join(path)} needs a subcommand")
    return node, chain


def nest_options(chain: list[tuple[str, int]], leaf_options: list[JSON]) -> list[JSON]:
    options = leaf_options
    for name, kind in reversed(chain):
        options = [{"type": kind, "name": name, "options": options}]
    return options


def check_value(definition: JSON, value: Any) -> None:
    """What the Discord client itself refuses to send."""
    name = definition["name"]
    choices = definition.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"option {name!r}: {value!r} is not one of the choices")
    kind = definition["type"]
    if kind in (INTEGER, NUMBER):
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"option {name!r}: {value!r} outside [{low}, {high}]")
    if kind == STRING:
        low, high = definition.get("min_length"), definition.get("max_length")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise ValueError(f"option {name!r}: length {len(value)} outside [{low}, {high}]")


def convert_value(kind: int, raw: Any) -> Any:
    if kind == INTEGER:
        return int(raw)
    if kind == NUMBER:
        return float(raw)
    if kind == BOOLEAN:
        if isinstance(raw, str):
            return raw.strip().lower() in ("true", "1", "yes", "on")
        return bool(raw)
    if kind in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT):
        return str(raw)
    return str(raw)


def build_options(
    emu: UserActions,
    guild_id: int,
    leaf: JSON,
    values: Mapping[str, Any],
    resolved: JSON,
    *,
    focused: str | None = None,
    validate: bool = True,
) -> list[JSON]:
    definitions = {o["name"]: o for o in leaf.get("options") or []}
    options: list[JSON] = []
    for name, raw in values.items():
        definition = definitions.get(name)
        if definition is None:
            raise ValueError(f"unknown option {name!r}; declared: {sorted(definitions)}")
        kind = int(definition["type"])
        if name == focused:
            options.append({"type": kind, "name": name, "value": str(raw), "focused": True})
            continue
        if kind == ATTACHMENT and not isinstance(raw, (int, str)):
            filename, data = raw
            raw = emu.upload_attachment(filename, data, resolved)
        value = convert_value(kind, raw)
        if validate and focused is None:
            check_value(definition, value)
        if kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            emu.resolve_into(resolved, guild_id, int(value), kind)
        options.append({"type": kind, "name": name, "value": value})
    if validate and focused is None:
        missing = [n for n, d in definitions.items() if d.get("required") and n not in values]
        if missing:
            raise ValueError(f"missing required options {missing}")
    return options


def modal_components(modal: JSON | None, values: Mapping[str, Any]) -> list[JSON]:
    """The submitted components of a modal, mirroring the layout the bot opened."""
    if modal is None:
        return [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": str(value)}]}
            for cid, value in values.items()
        ]
    used: set[str] = set()

    def submit(component: JSON) -> JSON | None:
        kind = component.get("type")
        if kind == 1:
            children = [c for c in (submit(x) for x in component.get("components") or []) if c]
            return {"type": 1, "components": children}
        if kind == 18:
            child = submit(component["component"])
            return {"type": 18, "component": child} if child else None
        custom_id = component.get("custom_id")
        if custom_id is None:
            return None
        used.add(custom_id)
        if kind == 4:
            return {"type": 4, "custom_id": custom_id, "value": str(values.get(custom_id, ""))}
        selected = values.get(custom_id, [])
        if isinstance(selected, str):
            selected = [selected]
        return {"type": kind, "custom_id": custom_id, "values": [str(v) for v in selected]}

    out = [c for c in (submit(x) for x in modal.get("components") or []) if c]
    unknown = set(values) - used
    if unknown:
        raise ValueError(f"modal {modal.get('custom_id')!r} has no fields {sorted(unknown)}")
    return out


def recorded_files(files: list[UploadedFile]) -> list[JSON]:
    return [{"index": f.index, "filename": f.filename, "size": len(f.data)} for f in files]
