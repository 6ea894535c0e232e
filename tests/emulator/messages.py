"""Message payloads: validation, mentions, polls, attachments and components."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .models import JSON, iso_in, now_iso

MAX_CONTENT = 2000
MAX_NONCE = 25
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2


class ApiError(Exception):
    """An error answered to the client as Discord would (status + JSON code/message)."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        data: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def form_error(path: str, code: str, message: str) -> ApiError:
    """A 400 "Invalid Form Body" with one error at a dotted path."""
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


@dataclass
class UploadedFile:
    index: int
    filename: str
    data: bytes
    content_type: str | None = None


def validate_message_payload(payload: JSON, *, has_files: bool, creating: bool) -> None:
    """Reject payloads the real Discord refuses (limits from the Discord documentation)."""
    content = payload.get("content")
    if content is not None and len(str(content)) > MAX_CONTENT:
        raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > MAX_NONCE:
        raise form_error("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        total += _validate_embed(index, embed)
    if total > 6000:
        raise form_error(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )
    if payload.get("poll") is not None:
        validate_poll(payload["poll"])
    if creating:
        empty = not content and not embeds and not has_files and not payload.get("poll")
        empty = empty and not payload.get("components") and not payload.get("sticker_ids")
        if empty:
            raise ApiError(400, 50006, "Cannot send an empty message")


def _validate_embed(index: int, embed: JSON) -> int:
    limits = {"title": 256, "description": 4096}
    size = 0
    for key, limit in limits.items():
        value = embed.get(key)
        if value is not None:
            size += len(value)
            if len(value) > limit:
                raise form_error(
                    f"embeds.{index}.{key}",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
    fields = embed.get("fields") or []
    if len(fields) > 25:
        raise form_error(
            f"embeds.{index}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
        )
    for f_index, item in enumerate(fields):
        name, value = str(item.get("name", "")), str(item.get("value", ""))
        if not name or not value:
            raise form_error(
                f"embeds.{index}.fields.{f_index}", "BASE_TYPE_REQUIRED", "This field is required"
            )
        if len(name) > 256 or len(value) > 1024:
            raise form_error(
                f"embeds.{index}.fields.{f_index}", "BASE_TYPE_MAX_LENGTH", "Too long."
            )
        size += len(name) + len(value)
    footer = embed.get("footer") or {}
    size += len(footer.get("text") or "")
    if len(footer.get("text") or "") > 2048:
        raise form_error(f"embeds.{index}.footer.text", "BASE_TYPE_MAX_LENGTH", "Too long.")
    author = embed.get("author") or {}
    size += len(author.get("name") or "")
    return size


def validate_poll(poll: JSON) -> None:
    question = (poll.get("question") or {}).get("text") or ""
    if not question or len(question) > 300:
        raise form_error("poll.question.text", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 300.")
    answers = poll.get("answers") or []
    if not 1 <= len(answers) <= 10:
        raise form_error("poll.answers", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10.")
    for index, answer in enumerate(answers):
        text = (answer.get("poll_media") or {}).get("text") or ""
        if not text or len(text) > 55:
            raise form_error(
                f"poll.answers.{index}.poll_media.text",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 55.",
            )
    duration = poll.get("duration", 24)
    # discord.py sends hours as a float (2.0); a fractional number of hours is refused.
    whole = isinstance(duration, (int, float)) and float(duration).is_integer()
    if not whole or not 1 <= duration <= 768:
        raise form_error("poll.duration", "NUMBER_TYPE_MAX", "Must be between 1 and 768 hours.")


def build_poll(create: JSON) -> JSON:
    """Turn a poll *create* payload into the poll object of a message."""
    answers = []
    for answer_id, answer in enumerate(create.get("answers") or [], start=1):
        answers.append({"answer_id": answer_id, "poll_media": dict(answer.get("poll_media") or {})})
    return {
        "question": dict(create.get("question") or {}),
        "answers": answers,
        "expiry": iso_in(float(create.get("duration", 24)) * 3600),
        "allow_multiselect": bool(create.get("allow_multiselect", False)),
        "layout_type": int(create.get("layout_type", 1)),
        "results": {
            "is_finalized": False,
            "answer_counts": [
                {"id": a["answer_id"], "count": 0, "me_voted": False} for a in answers
            ],
        },
    }


def poll_counts(poll: JSON, voters: dict[int, set[int]], bot_id: int, *, final: bool) -> None:
    """Rewrite ``poll["results"]`` from the voters of each answer."""
    poll["results"] = {
        "is_finalized": final,
        "answer_counts": [
            {
                "id": a["answer_id"],
                "count": len(voters.get(a["answer_id"], set())),
                "me_voted": bot_id in voters.get(a["answer_id"], set()),
            }
            for a in poll["answers"]
        ],
    }
    if final:
        poll["expiry"] = now_iso()


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def resolve_mentions(content: str, allowed: JSON | None) -> tuple[list[int], list[int], bool]:
    """Which users, roles and @everyone a message really pings, honouring allowed_mentions."""
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
    allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    users = [
        int(u)
        for u in _USER_MENTION.findall(content)
        if "users" in parse or int(u) in allowed_users
    ]
    roles = [
        int(r)
        for r in _ROLE_MENTION.findall(content)
        if "roles" in parse or int(r) in allowed_roles
    ]
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return list(dict.fromkeys(users)), list(dict.fromkeys(roles)), everyone


def walk_components(components: list[JSON]) -> Iterator[JSON]:
    """Every component in a (possibly nested) component tree."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from walk_components([child])


def find_component(message: JSON, custom_id: str) -> JSON | None:
    for component in walk_components(message.get("components") or []):
        if component.get("custom_id") == custom_id:
            return component
    return None


def normalise_embeds(embeds: list[JSON]) -> list[JSON]:
    out = []
    for embed in embeds:
        item = dict(embed)
        item.setdefault("type", "rich")
        if "timestamp" in item and isinstance(item["timestamp"], str):
            item["timestamp"] = datetime.datetime.fromisoformat(item["timestamp"]).isoformat()
        out.append(item)
    return out


def base_message(
    *,
    message_id: int,
    channel_id: int,
    guild_id: int | None,
    author: JSON,
    msg_type: int = 0,
) -> JSON:
    data: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": "",
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": msg_type,
        "flags": 0,
        "components": [],
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    return data


def apply_fields(message: JSON, payload: JSON) -> None:
    """Apply the content-like fields of a create/edit payload to a message dict."""
    if "content" in payload:
        message["content"] = payload["content"] or ""
    if "embeds" in payload:
        message["embeds"] = normalise_embeds(payload["embeds"] or [])
    if "components" in payload:
        message["components"] = payload["components"] or []
    if "flags" in payload and payload["flags"] is not None:
        keep = message.get("flags", 0) & (EPHEMERAL | LOADING)
        message["flags"] = keep | (int(payload["flags"]) & ~LOADING)
    if "tts" in payload:
        message["tts"] = bool(payload["tts"])
    if "message_reference" in payload and payload["message_reference"]:
        ref = dict(payload["message_reference"])
        ref.setdefault("channel_id", message["channel_id"])
        message["message_reference"] = ref
        message["type"] = 19 if message["type"] == 0 else message["type"]
    if "sticker_ids" in payload:
        message["sticker_items"] = []
