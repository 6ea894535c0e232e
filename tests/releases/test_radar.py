"""The storage-agnostic cycle and the operator's check report."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.releases import (
    Radar,
    SourceState,
    check_source,
    format_check_report,
    parse_filter,
)
from bot.releases.radar import CheckReport
from tests.fakes.feeds import FeedServer, atom_feed
from tests.fakes.hub import FakeHub

from .conftest import local_config


async def test_cycle_fetches_each_source_once_and_isolates_failures(
    hub: FakeHub, feeds: FeedServer
) -> None:
    hub.add_model("org/a")
    feeds.set_feed("/ok", atom_feed([{"id": "1", "title": "one"}]))
    feeds.fault("/bad", "500")
    keys = ["hf:org", f"feed:{feeds.url}/ok", f"feed:{feeds.url}/bad", "hf:bad--name"]
    async with Radar(local_config(hf_endpoint=hub.url, concurrency=2)) as radar:
        outcomes = await radar.run_cycle(keys)
    assert list(outcomes) == keys
    assert outcomes["hf:org"].error is None
    assert outcomes[f"feed:{feeds.url}/ok"].error is None
    bad = outcomes[f"feed:{feeds.url}/bad"].error
    assert bad is not None and bad.kind == "server_error"
    invalid = outcomes["hf:bad--name"].error
    assert invalid is not None and invalid.kind == "invalid_source"
    assert hub.requests_by_author["org"] == 1
    assert feeds.requests["/ok"] == 1


async def test_cycle_with_states_reports_new_items(hub: FakeHub) -> None:
    hub.add_model("org/a", created_at="2024-01-01T00:00:00.000Z")
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        first = await radar.run_cycle({"hf:org": None})
        state = first["hf:org"].result.state  # type: ignore[union-attr]
        hub.add_model("org/b", created_at="2024-02-01T00:00:00.000Z")
        second = await radar.run_cycle({"hf:org": SourceState.from_json(state.to_json())})
    result = second["hf:org"].result
    assert result is not None and [i.item_id for i in result.new] == ["org/b"]


async def test_cycle_concurrency_is_bounded(hub: FakeHub) -> None:
    hub.hang(0.3)
    async with Radar(local_config(hf_endpoint=hub.url, concurrency=2)) as radar:
        outcomes = await radar.run_cycle([f"hf:org{i}" for i in range(4)])
    assert all(o.error is None for o in outcomes.values())
    assert hub.total_requests == 4
    assert hub.most_in_flight == 2  # two at a time, never more


async def test_unexpected_exception_becomes_internal_error(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.releases.sources.hf import HfSource

    async def boom(self: HfSource, state: SourceState | None = None) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(HfSource, "fetch", boom)
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        outcomes = await radar.run_cycle(["hf:org"])
    error = outcomes["hf:org"].error
    assert error is not None and error.kind == "internal"


async def test_preview(hub: FakeHub) -> None:
    for day in range(1, 8):
        hub.add_model(f"org/m{day}", created_at=f"2024-05-0{day}T00:00:00.000Z")
    async with Radar(local_config(hf_endpoint=hub.url)) as radar:
        shown = await radar.preview("hf:org", count=3)
        filtered = await radar.preview("hf:org", count=3, release_filter=parse_filter("include:m1"))
    assert [item.item_id for item, _ in shown] == ["org/m5", "org/m6", "org/m7"]
    assert [card.title for _, card in shown] == ["org/m5", "org/m6", "org/m7"]
    assert [item.item_id for item, _ in filtered] == ["org/m1"]


async def test_check_source_report(hub: FakeHub) -> None:
    hub.add_model("org/Big-70B", params=70_553_706_496, license="llama3.1", gated="manual")
    hub.add_model("org/small-gguf", created_at="2024-06-01T00:00:00.000Z")
    config = local_config(hf_endpoint=hub.url)
    report = await check_source("hf:org", config, release_filter=parse_filter("exclude:*gguf*"))
    assert report.listed == 2 and report.filtered_out == 1 and len(report.cards) == 1
    text = format_check_report(report)
    assert "Source: hf:org" in text
    assert "Filter: exclude:*gguf*" in text
    assert "org/Big-70B" in text and "small-gguf" not in text
    assert "70.6B" in text and "C · Restricted" in text and "Gated, manual approval" in text


async def test_check_source_failure_and_bad_input(hub: FakeHub) -> None:
    hub.fail_next(503)
    report = await check_source("hf:org", local_config(hf_endpoint=hub.url))
    assert report.error is not None
    assert "FAILED (server_error)" in format_check_report(report)
    with pytest.raises(UserFacingError):
        await check_source("nonsense", local_config())


def test_empty_report_text() -> None:
    text = format_check_report(CheckReport("hf:org"))
    assert "Nothing to announce." in text
