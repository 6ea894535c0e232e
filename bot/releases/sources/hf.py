"""``hf:<author>``: new model repositories of a Hugging Face Hub user or organisation.

Uses the official client (``HfApi.list_models``) in a worker thread. huggingface_hub 2.4's
shared HTTP client has no timeout and retries a failing Hub for about 23 s; this module
installs a client factory (``huggingface_hub.set_client_factory``) whose transport, *during
the radar's calls only*, bounds every request by the call's deadline and turns timeouts,
network errors, 408/429/5xx into an immediate, non-retried failure. The radar's own
backoff policy handles retries. The thread call is also wrapped in ``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx2
from huggingface_hub import HfApi, ModelInfo, set_client_factory
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils._http import hf_request_event_hook

from bot.releases.errors import SourceError, SourceErrorKind, error_for_status
from bot.releases.models import FetchResult, ModelFacts, ReleaseItem, SourceState
from bot.releases.sources.base import Source, build_result

log = logging.getLogger(__name__)

#: Fields asked of ``/api/models`` (``expand[]``), all that the announcement card shows.
EXPAND_FIELDS: list[Any] = [
    "author",
    "createdAt",
    "lastModified",
    "cardData",
    "gated",
    "safetensors",
    "pipeline_tag",
    "tags",
    "downloads",
    "likes",
    "library_name",
]
#: Statuses that end a radar call at once (the client would otherwise retry or wait).
_ABORT_STATUSES = frozenset({408, 429})
#: A Hub listing larger than this is refused (a listing of 100 models is ~200 KiB).
MAX_HUB_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _CallBudget:
    deadline: float  # time.monotonic()
    per_request: float


_BUDGET: ContextVar[_CallBudget | None] = ContextVar("agora_hub_budget", default=None)


class HubCallAborted(Exception):
    """Raised inside the Hub client to stop a radar call at once (never retried by it)."""

    def __init__(self, kind: SourceErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: SourceErrorKind = kind
        self.message = message


class _BoundedTransport(httpx2.BaseTransport):
    """Wraps the real transport; active only while a radar call's budget is set."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        budget = _BUDGET.get()
        if budget is None:
            return self._inner.handle_request(request)
        remaining = budget.deadline - time.monotonic()
        if remaining <= 0:
            raise HubCallAborted("timeout", "the Hub call ran out of time")
        limit = min(remaining, budget.per_request)
        request.extensions["timeout"] = {
            "connect": limit,
            "read": limit,
            "write": limit,
            "pool": limit,
        }
        try:
            response = self._inner.handle_request(request)
            try:
                status = response.status_code
                if status in _ABORT_STATUSES or 500 <= status <= 599:
                    err = error_for_status(status, "the Hub")
                    raise HubCallAborted(err.kind, err.message)
                body = bytearray()
                stream = response.stream
                assert isinstance(stream, httpx2.SyncByteStream)
                for chunk in stream:
                    body += chunk
                    if len(body) > MAX_HUB_BODY_BYTES:
                        raise HubCallAborted("too_large", "the Hub answer is too large")
                    if time.monotonic() > budget.deadline:
                        raise HubCallAborted("timeout", "the Hub answer took too long")
            finally:
                response.close()
        except httpx2.TimeoutException:
            raise HubCallAborted(
                "timeout", f"the Hub did not answer within {limit:.1f} s"
            ) from None
        except httpx2.TransportError as exc:
            raise HubCallAborted("network", f"cannot reach the Hub: {type(exc).__name__}") from None
        return httpx2.Response(
            status,
            headers=response.headers,
            stream=httpx2.ByteStream(bytes(body)),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self._inner.close()


_install_lock = threading.Lock()
_installed = False

#: The Hub client's TLS context, built once, at import: ``python -m bot`` imports every feature
#: before its event loop runs. Building one loads the CA bundle, 20–46 ms during which no other
#: thread of the process runs; built by the first Hub call in a worker thread, it stalled the
#: event loop for 30 ms (``bench/bench_radar.py``, the first cycle).
HUB_SSL_CONTEXT = httpx2.create_ssl_context()


def bounded_client_factory() -> httpx2.Client:
    """Same client as huggingface_hub's default, plus the bounded transport and a timeout."""
    return httpx2.Client(
        event_hooks={"request": [hf_request_event_hook]},
        follow_redirects=True,
        timeout=httpx2.Timeout(60.0),
        transport=_BoundedTransport(httpx2.HTTPTransport(verify=HUB_SSL_CONTEXT)),
    )


def install_bounded_hub_client() -> None:
    """Install ``bounded_client_factory`` as huggingface_hub's client factory (once per process).

    Outside radar calls the client behaves like the default one, except that a request
    never waits more than 60 s.
    """
    global _installed
    with _install_lock:
        if not _installed:
            set_client_factory(bounded_client_factory)
            _installed = True


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Iterable):
        return [str(v) for v in value if isinstance(v, str) and v.strip()]
    return []


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def facts_from_model(info: ModelInfo) -> ModelFacts:
    """What a listed model declares: card metadata first, tags as a fallback. Nothing guessed."""
    card = info.card_data
    tags = [t for t in (info.tags or []) if isinstance(t, str)]

    def card_attr(name: str) -> object:
        return getattr(card, name, None) if card is not None else None

    licenses = _unique(_as_list(card_attr("license")))
    if not licenses:
        licenses = _unique(t.split(":", 1)[1] for t in tags if t.startswith("license:"))
    license_name = card_attr("license_name")

    base_models = list(_as_list(card_attr("base_model")))
    relation: str | None = None
    for tag in tags:
        if tag.startswith("base_model:"):
            parts = tag.split(":", 2)
            if len(parts) == 3 and parts[1] in ("finetune", "quantized", "adapter", "merge"):
                relation = relation or parts[1]
                base_models.append(parts[2])
            elif len(parts) == 2:
                base_models.append(parts[1])

    datasets = _as_list(card_attr("datasets")) + [
        t.split(":", 1)[1] for t in tags if t.startswith("dataset:")
    ]
    papers = [f"arxiv:{t.split(':', 1)[1]}" for t in tags if t.startswith("arxiv:")]
    for name in ("paper", "papers", "arxiv"):
        for value in _as_list(card_attr(name)):
            if value.startswith(("http://", "https://")) or value[:1].isdigit():
                papers.append(value if not value[:1].isdigit() else f"arxiv:{value}")

    gated = info.gated if info.gated in (False, "auto", "manual") else None
    params: int | None = None
    if info.safetensors is not None:
        total = getattr(info.safetensors, "total", None)
        params = total if isinstance(total, int) and total >= 0 else None
    plain_tags = tuple(
        t
        for t in tags
        if not t.startswith(("license:", "dataset:", "arxiv:", "base_model:", "region:"))
    )
    return ModelFacts(
        licenses=licenses,
        license_name=license_name if isinstance(license_name, str) and license_name else None,
        gated=gated,
        params=params,
        base_models=_unique(base_models),
        base_relation=relation,
        datasets=_unique(datasets),
        papers=_unique(papers),
        pipeline_tag=info.pipeline_tag if isinstance(info.pipeline_tag, str) else None,
        tags=plain_tags[:30],
        library=info.library_name if isinstance(info.library_name, str) else None,
        downloads=info.downloads if isinstance(info.downloads, int) else None,
        likes=info.likes if isinstance(info.likes, int) else None,
    )


def item_from_model(source_key: str, endpoint: str, info: ModelInfo) -> ReleaseItem:
    """A ``ReleaseItem`` for one listed model (``published`` is its ``createdAt``, maybe None)."""
    author = info.author or (info.id.split("/", 1)[0] if "/" in info.id else None)
    return ReleaseItem(
        source_key=source_key,
        item_id=info.id,
        kind="model",
        title=info.id,
        url=f"{endpoint}/{info.id}",
        published=info.created_at,
        updated=info.last_modified,
        author=author,
        facts=facts_from_model(info),
    )


class HfSource(Source):
    """New model repositories of one Hub author, newest ``config.hf_limit`` per poll.

    Very old repositories all share one ``createdAt`` and ``createdAt`` may be missing:
    ordering falls back to the repo id, and "new" means "id not seen before", never a date
    comparison.
    """

    kind = "hf"

    @property
    def author(self) -> str:
        return self.ref.target

    @property
    def web_url(self) -> str:
        return f"{self.config.hf_endpoint_clean}/{self.author}"

    def _api(self) -> HfApi:
        # token=False: never fall back to a token from the environment or disk.
        return HfApi(
            endpoint=self.config.hf_endpoint_clean,
            token=self.config.hf_token or False,
            library_name="agora",
        )

    def _list_blocking(self) -> list[ModelInfo]:
        timeout = self.config.hf_timeout
        token = _BUDGET.set(_CallBudget(time.monotonic() + timeout, timeout))
        try:
            return list(
                self._api().list_models(
                    author=self.author,
                    sort="created_at",
                    limit=self.config.hf_limit,
                    expand=EXPAND_FIELDS,
                )
            )
        finally:
            _BUDGET.reset(token)

    async def list_models(self) -> list[ModelInfo]:
        """The author's newest models as ``ModelInfo``; raise ``SourceError`` on failure."""
        install_bounded_hub_client()
        backstop = self.config.hf_timeout + 2.0
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._list_blocking), backstop)
        except TimeoutError:
            raise SourceError("timeout", f"the Hub did not answer within {backstop:g} s") from None
        except HubCallAborted as exc:
            raise SourceError(exc.kind, exc.message) from None
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise error_for_status(status, "the Hub") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SourceError(
                "malformed", f"unexpected Hub answer ({type(exc).__name__})"
            ) from None
        except httpx2.HTTPError as exc:
            raise SourceError("network", f"cannot reach the Hub: {type(exc).__name__}") from None

    async def fetch(self, state: SourceState | None = None) -> FetchResult:
        models = await self.list_models()
        endpoint = self.config.hf_endpoint_clean
        items = []
        for info in models:
            if not isinstance(getattr(info, "id", None), str) or not info.id:
                raise SourceError("malformed", "a listed model has no id")
            items.append(item_from_model(self.key, endpoint, info))
        return build_result(self.key, state, items)
