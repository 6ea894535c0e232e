"""A fake Hugging Face Hub: ``GET /api/models`` as huggingface_hub 2.4 calls it.

huggingface_hub 2.4 sends ``author``, ``sort=createdAt``, ``limit`` and one ``expand``
query parameter per field (``expand=createdAt&expand=cardData...``; no ``direction``:
the Hub sorts newest first). The answer is a JSON list of models, each with ``id`` and the
expanded fields, which ``huggingface_hub.ModelInfo`` parses. Use the real client against
it: ``HfApi(endpoint=fake.url)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes._server import LocalServer


@dataclass
class _Fault:
    status: int
    times: int


@dataclass
class FakeHub(LocalServer):
    """Test controls: ``add_model``, ``fail_next``, ``hang``, ``malformed_next``; counters."""

    models: list[dict[str, Any]] = field(default_factory=list)
    requests_by_author: Counter[str] = field(default_factory=Counter)
    queries: list[list[tuple[str, str]]] = field(default_factory=list)
    hang_seconds: float = 0.0
    #: Requests being answered right now, and the most there ever were at once.
    in_flight: int = 0
    most_in_flight: int = 0
    _faults: list[_Fault] = field(default_factory=list)
    _malformed: int = 0

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/models", self._list_models)

    # ---- test controls -------------------------------------------------------------

    def add_model(
        self,
        model_id: str,
        *,
        created_at: str | None = "2024-05-01T12:00:00.000Z",
        license: str | list[str] | None = "apache-2.0",
        gated: bool | str = False,
        params: int | None = None,
        pipeline_tag: str | None = "text-generation",
        tags: list[str] | None = None,
        card_data: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Add a model; ``card_data`` overrides the card built from ``license``."""
        card: dict[str, Any] = {}
        if license is not None:
            card["license"] = license
        if card_data is not None:
            card.update(card_data)
        model: dict[str, Any] = {
            "_id": f"{len(self.models):024x}",
            "id": model_id,
            "author": model_id.split("/", 1)[0],
            "gated": gated,
            "pipeline_tag": pipeline_tag,
            "tags": list(tags or []),
            "downloads": 0,
            "likes": 0,
            "library_name": "transformers",
            "private": False,
            "lastModified": created_at or "2024-05-02T00:00:00.000Z",
        }
        if created_at is not None:
            model["createdAt"] = created_at
        if card:
            model["cardData"] = card
        if params is not None:
            model["safetensors"] = {"parameters": {"BF16": params}, "total": params}
        model.update(extra)
        self.models.append(model)
        return model

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (JSON error body)."""
        self._faults.append(_Fault(status, times))

    def malformed_next(self, times: int = 1) -> None:
        """Answer the next ``times`` requests with 200 and a body that is not JSON."""
        self._malformed += times

    def hang(self, seconds: float) -> None:
        """Sleep this long before answering every request (0 to stop)."""
        self.hang_seconds = seconds

    @property
    def total_requests(self) -> int:
        return sum(self.requests_by_author.values())

    # ---- handler -------------------------------------------------------------------

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        author = request.query.get("author", "")
        self.requests_by_author[author] += 1
        self.queries.append(list(request.query.items()))
        if self.hang_seconds:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await self._sleep(self.hang_seconds)
            finally:
                self.in_flight -= 1
        if self._faults:
            fault = self._faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return web.json_response({"error": "fake failure"}, status=fault.status)
        if self._malformed:
            self._malformed -= 1
            return web.Response(text='[{"id": "broken', content_type="application/json")
        expand = request.query.getall("expand", []) + request.query.getall("expand[]", [])
        models = [m for m in self.models if not author or m["author"] == author]
        if request.query.get("sort") == "createdAt":
            dated = [m for m in models if "createdAt" in m]
            undated = [m for m in models if "createdAt" not in m]
            models = sorted(dated, key=lambda m: m["createdAt"], reverse=True) + undated
        limit = int(request.query.get("limit", "1000"))
        out = []
        for model in models[:limit]:
            if expand:
                out.append({k: v for k, v in model.items() if k in ("_id", "id") or k in expand})
            else:
                out.append(model)
        return web.json_response(out)
