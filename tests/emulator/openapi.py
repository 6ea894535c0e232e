"""Request bodies checked against Discord's own OpenAPI description of its HTTP API v10.

The description (discord/discord-api-spec) is not part of this repository: it is read from
``shared/discord-api/openapi.json`` beside the repository root (``../shared/…``; a git worktree
nested deeper finds it further up), or from the file ``DISCORD_OPENAPI`` names.

An operation is found by method and path template (``/channels/{channel_id}/messages``; a literal
segment such as ``@me`` wins over a parameter). A JSON body, or the ``payload_json`` part of a
multipart body, is validated against the operation's request body schema with ``jsonschema``
(JSON Schema 2020-12, the dialect of OpenAPI 3.1): types, required properties, enums, lengths,
``oneOf`` / ``anyOf``, ``$ref``. One known deviation is accepted: discord.py sends some snowflakes
(attachment ids) as integers where the description types them as strings, and Discord takes them.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_ENV = "DISCORD_OPENAPI"
SPEC_IN_SHARED = Path("shared") / "discord-api" / "openapi.json"
REPO_ROOT = Path(__file__).resolve().parents[2]
_SPEC_URI = "urn:discord-api:openapi"
_METHODS = ("get", "put", "post", "patch", "delete")
#: How much of a refused value a violation shows (a refused body can be huge).
_INSTANCE_CHARS = 120


class SpecMissing(RuntimeError):
    """Discord's OpenAPI description is not where it should be."""


def spec_path() -> Path:
    """Where Discord's OpenAPI description is (see the module's docstring)."""
    override = os.environ.get(SPEC_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise SpecMissing(f"{SPEC_ENV}={override} is not a file")
        return path
    for folder in REPO_ROOT.parents:
        candidate = folder / SPEC_IN_SHARED
        if candidate.is_file():
            return candidate
    raise SpecMissing(
        f"Discord's OpenAPI description is missing: expected {REPO_ROOT.parent / SPEC_IN_SHARED} "
        f"(../{SPEC_IN_SHARED} from the repository root, or in a folder above it), or a path "
        f"in {SPEC_ENV}. The emulator validates every request body the bot sends against it."
    )


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    literals: int  # literal path segments: the more, the more specific
    pointer: str  # JSON pointer of the operation in the description
    content_types: tuple[str, ...]  # of the request body; () when it takes none
    body_required: bool


@dataclass(frozen=True)
class Violation:
    """A request that Discord's description of its API refuses."""

    method: str
    path: str  # the path sent
    operation: str  # "POST /channels/{channel_id}/messages", or "" when none matches
    message: str

    def __str__(self) -> str:
        where = self.operation or f"{self.method} {self.path}"
        return f"{where}: {self.message}"


class OpenApi:
    """Operations of the description and a validator for each request body."""

    def __init__(self, document: dict[str, Any]) -> None:
        """Takes ``document`` over (it is normalised in place)."""
        self.document = normalise(document)
        resource = DRAFT202012.create_resource(self.document)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self.operations = list(_operations(self.document))
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> OpenApi:
        return cls(json.loads((path or spec_path()).read_text("utf-8")))

    def find(self, method: str, path: str) -> Operation | None:
        """The operation for a request: the most specific template that matches."""
        method = method.lower()
        matches = [op for op in self.operations if op.method == method and op.regex.match(path)]
        return max(matches, key=lambda op: op.literals, default=None)

    def check(
        self, method: str, path: str, body: Any, *, multipart: bool = False
    ) -> list[Violation]:
        """What is wrong with a request (its JSON body, or multipart ``payload_json``)."""
        operation = self.find(method, path)
        if operation is None:
            return [Violation(method, path, "", "not an operation of Discord's API")]
        name = f"{method.upper()} {operation.template}"

        def violation(message: str) -> Violation:
            return Violation(method, path, name, message)

        if body is None:
            return [violation("the request body is missing")] if operation.body_required else []
        if not operation.content_types:
            return [violation("sends a body, but the operation takes none")]
        wanted = "multipart/form-data" if multipart else "application/json"
        # `payload_json` carries the JSON fields of a multipart body: the JSON schema, if any.
        chosen = next(
            (t for t in ("application/json", wanted) if t in operation.content_types), None
        )
        if chosen is None:
            return [violation(f"{wanted} is not accepted (only {operation.content_types})")]
        validator = self._validator(operation, chosen)
        return [violation(describe(error)) for error in _sorted(validator.iter_errors(body))]

    def _validator(self, operation: Operation, content_type: str) -> Draft202012Validator:
        key = (operation.pointer, content_type)
        validator = self._validators.get(key)
        if validator is None:
            pointer = f"{operation.pointer}/requestBody/content/{_escape(content_type)}/schema"
            schema = {"$ref": f"{_SPEC_URI}#{pointer}"}
            validator = Draft202012Validator(schema, registry=self._registry)
            self._validators[key] = validator
        return validator


@functools.cache
def discord_api() -> OpenApi:
    """The description, loaded once per process."""
    return OpenApi.load()


# -- the description ---------------------------------------------------------------------------
def normalise(document: dict[str, Any]) -> dict[str, Any]:
    """Let snowflake strings accept integers too, and OpenAPI 3.0's ``nullable: true`` (not
    used by this 3.1 description, but cheap to honour) allow null; in place."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("format") == "snowflake":
                _allow_type(node, "integer")
            if node.pop("nullable", False) is True:
                _allow_type(node, "null")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document)
    return document


def _allow_type(schema: dict[str, Any], kind: str) -> None:
    current = schema.get("type")
    if current is None:
        return  # no type constraint: already allowed
    kinds = [current] if isinstance(current, str) else list(current)
    if kind not in kinds:
        schema["type"] = [*kinds, kind]


def _operations(document: dict[str, Any]) -> Iterator[Operation]:
    for template, item in document.get("paths", {}).items():
        segments = template.strip("/").split("/")
        regex = "".join(
            "/[^/]+" if s.startswith("{") and s.endswith("}") else "/" + re.escape(s)
            for s in segments
        )
        literals = sum(1 for s in segments if not s.startswith("{"))
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody") or {}
            yield Operation(
                method=method,
                template=template,
                regex=re.compile(f"^{regex}$"),
                literals=literals,
                pointer=f"/paths/{_escape(template)}/{method}",
                content_types=tuple(body.get("content") or ()),
                body_required=bool(body.get("required")),
            )


def _escape(token: str) -> str:
    """One JSON pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


# -- messages ----------------------------------------------------------------------------------
def _sorted(errors: Iterator[ValidationError]) -> list[ValidationError]:
    return sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])


def describe(error: ValidationError) -> str:
    """One line: where in the body, and what is wrong there."""
    reason = _reason(error)
    message = reason.message
    shown = repr(reason.instance)
    if len(shown) > _INSTANCE_CHARS:
        message = message.replace(shown, shown[: _INSTANCE_CHARS - 1] + "…")
    return f"{reason.json_path}: {message}"


def _reason(error: ValidationError) -> ValidationError:
    """Inside a oneOf / anyOf, the error of the member the body meant: the one member that
    its discriminator (a ``type`` constant) or its own type did not rule out."""
    while error.context:
        members: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            members.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [errors for errors in members.values() if not any(map(_rules_out, errors))]
        if len(meant) != 1:
            return best_match([error])
        error = best_match(meant[0])
    return error


def _rules_out(error: ValidationError) -> bool:
    return error.validator in ("const", "enum", "type") and len(error.relative_path) <= 1
