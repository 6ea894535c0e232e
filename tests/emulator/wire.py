"""Plumbing shared by the REST routes: request/reply records, JSON answers, rate-limit headers."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .messages import ApiError, UploadedFile
from .models import JSON


@dataclass
class Req:
    method: str
    path: str
    args: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[UploadedFile] = field(default_factory=list)

    def id(self, name: str) -> int:
        value = self.args[name]
        if not value.isdigit():
            raise ApiError(404, 10003, f"Unknown {name}")
        return int(value)

    @property
    def body(self) -> JSON:
        return self.json if isinstance(self.json, dict) else {}


@dataclass
class Reply:
    body: Any = None  # None -> 204 No Content
    status: int = 200


Handler = Callable[[Req], Awaitable[Reply]]
_PARAM = re.compile(r"\{(\w+)\}")


def compile_route(pattern: str) -> re.Pattern[str]:
    regex = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", pattern)
    return re.compile(f"^{regex}$")


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with ``Content-Type: application/json`` exactly (no charset)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)


def ratelimit_headers(route: str, remaining: int = 49) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": hashlib.sha1(route.encode()).hexdigest()[:16],
    }
