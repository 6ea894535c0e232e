"""The hf: source against FakeHub, through the real huggingface_hub client."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx2
import pytest
from huggingface_hub import HfApi

from bot.releases import Grade, Radar, SourceState, grade
from bot.releases.sources.hf import EXPAND_FIELDS, _BoundedTransport
from tests.fakes.hub import FakeHub

from .conftest import local_config

OLD = "2022-03-02T23:29:04.000Z"


async def test_items_facts_and_oldest_first(hub: FakeHub) -> None:
    hub.add_model(
        "org/new-7b",
        created_at="2024-06-01T00:00:00.000Z",
        params=7_241_732_096,
        tags=[
            "arxiv:2401.00001",
            "dataset:allenai/c4",
            "base_model:finetune:org/base",
            "license:apache-2.0",
        ],
        card_data={"datasets": ["HuggingFaceFW/fineweb"], "base_model": "org/base"},
    )
    hub.add_model("org/old-b", created_at=OLD, license=["mit", "cc-by-nc-4.0"], gated="auto")
    hub.add_model("org/old-a", created_at=OLD, license=None, gated="manual")
    hub.add_model(
        "org/undated", created_at=None, license="other", card_data={"license_name": "llama3"}
    )
    hub.add_model("someone-else/x")
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        result = await radar.fetch("hf:org")
    assert [i.item_id for i in result.items] == [
        "org/old-a",
        "org/old-b",
        "org/new-7b",
        "org/undated",
    ]
    assert result.baseline and result.new == ()
    by_id = {i.item_id: i for i in result.items}
    new = by_id["org/new-7b"]
    assert new.published == datetime(2024, 6, 1, tzinfo=UTC)
    assert new.url == f"{hub.url}/org/new-7b"
    assert new.author == "org"
    assert new.facts is not None
    assert new.facts.params == 7_241_732_096
    assert new.facts.licenses == ("apache-2.0",)
    assert new.facts.gated is False
    assert new.facts.datasets == ("HuggingFaceFW/fineweb", "allenai/c4")
    assert new.facts.papers == ("arxiv:2401.00001",)
    assert new.facts.base_models == ("org/base",)
    assert new.facts.base_relation == "finetune"
    assert new.facts.pipeline_tag == "text-generation"
    assert grade(new.facts) is Grade.A
    old_b = by_id["org/old-b"].facts
    assert old_b is not None and old_b.licenses == ("mit", "cc-by-nc-4.0")
    assert old_b.gated == "auto" and old_b.params is None  # no safetensors: unknown
    assert grade(old_b) is Grade.D
    old_a = by_id["org/old-a"].facts
    assert old_a is not None and old_a.licenses == () and old_a.gated == "manual"
    undated = by_id["org/undated"]
    assert undated.published is None
    assert undated.facts is not None and grade(undated.facts) is Grade.C


async def test_query_is_what_huggingface_hub_sends(hub: FakeHub) -> None:
    async with Radar(local_config(hf_endpoint=hub.url, hf_limit=7)) as radar:
        await radar.fetch("hf:org")
    query = hub.queries[-1]
    assert ("author", "org") in query
    assert ("sort", "createdAt") in query
    assert ("limit", "7") in query
    assert [v for k, v in query if k == "expand"] == EXPAND_FIELDS
    assert hub.requests_by_author["org"] == 1


async def test_new_items_after_baseline(hub: FakeHub) -> None:
    hub.add_model("org/a", created_at="2024-01-01T00:00:00.000Z")
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        first = await radar.fetch("hf:org")
        hub.add_model("org/c", created_at="2024-03-01T00:00:00.000Z")
        hub.add_model("org/b", created_at="2024-02-01T00:00:00.000Z")
        second = await radar.fetch("hf:org", first.state)
        third = await radar.fetch("hf:org", second.state)
    assert first.baseline and not first.new
    assert not second.baseline
    assert [i.item_id for i in second.new] == ["org/b", "org/c"]
    assert third.new == ()
    assert third.state.seen_ids == ("org/a", "org/b", "org/c")


async def test_state_survives_storage(hub: FakeHub) -> None:
    hub.add_model("org/a")
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        first = await radar.fetch("hf:org")
        stored = SourceState.from_json(first.state.to_json())
        hub.add_model("org/b", created_at="2024-07-01T00:00:00.000Z")
        second = await radar.fetch("hf:org", stored)
    assert [i.item_id for i in second.new] == ["org/b"]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (408, "timeout"),
        (429, "rate_limited"),
        (500, "server_error"),
        (503, "server_error"),
        (401, "http_error"),
        (404, "http_error"),
    ],
)
async def test_failures_are_typed_and_not_retried(hub: FakeHub, status: int, kind: str) -> None:
    hub.add_model("org/a")
    hub.fail_next(status, times=50)
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        outcome = await radar.fetch_outcome("hf:org")
    assert outcome.error is not None and outcome.error.kind == kind
    assert hub.requests_by_author["org"] == 1  # none of the client's ~23 s of retries


async def test_hang_is_bounded(hub: FakeHub) -> None:
    hub.hang(30)
    async with Radar(local_config(hf_endpoint=hub.url, hf_timeout=1.0)) as radar:
        outcome = await radar.fetch_outcome("hf:org")
    # The Hub answers after 30 s: a timeout (not an answer) proves the call was cut short.
    assert outcome.error is not None and outcome.error.kind == "timeout"
    assert hub.requests_by_author["org"] == 1


async def test_malformed_json(hub: FakeHub) -> None:
    hub.malformed_next()
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        outcome = await radar.fetch_outcome("hf:org")
    assert outcome.error is not None and outcome.error.kind == "malformed"


async def test_unreachable_hub_is_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A port nobody listens on (bound then closed).
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    attempts: list[str] = []
    original = _BoundedTransport.handle_request

    def counted(self: _BoundedTransport, request: httpx2.Request) -> httpx2.Response:
        attempts.append(str(request.url))
        return original(self, request)

    monkeypatch.setattr(_BoundedTransport, "handle_request", counted)
    async with Radar(local_config(hf_endpoint=f"http://127.0.0.1:{port}")) as radar:
        outcome = await radar.fetch_outcome("hf:org")
    assert outcome.error is not None and outcome.error.kind == "network"
    assert len(attempts) == 1, "the client must not retry an unreachable Hub"


async def test_client_outside_radar_calls_is_unaffected(hub: FakeHub) -> None:
    """The installed client factory keeps huggingface_hub's normal behaviour elsewhere."""
    hub.add_model("org/a")
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        await radar.fetch("hf:org")  # installs the bounded client factory
    import asyncio

    models = await asyncio.to_thread(
        lambda: list(HfApi(endpoint=hub.url, token=False).list_models(author="org"))
    )
    assert [m.id for m in models] == ["org/a"]
