from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.releases import ReleaseItem, SourceState, new_items, remember, sort_items
from bot.releases.sources.base import build_result

from .conftest import entry_item

OLD = datetime(2022, 3, 2, 23, 29, 4, tzinfo=UTC)  # the Hub's shared "very old" createdAt


def test_sort_oldest_first_ties_by_id_undated_last() -> None:
    items = [
        entry_item("c", published=datetime(2024, 1, 2, tzinfo=UTC)),
        entry_item("z", published=None),
        entry_item("b", published=OLD),
        entry_item("a", published=OLD),
        entry_item("y", published=None),
        entry_item("d", published=datetime(2023, 1, 1, tzinfo=UTC)),
    ]
    assert [i.item_id for i in sort_items(items)] == ["a", "b", "d", "c", "y", "z"]


def test_sort_drops_duplicate_ids() -> None:
    assert len(sort_items([entry_item("a"), entry_item("a", title="again")])) == 1


def test_new_items_is_pure() -> None:
    items = [entry_item("a", published=OLD), entry_item("b", published=None)]
    seen = ("a",)
    assert [i.item_id for i in new_items(items, seen)] == ["b"]
    assert seen == ("a",)
    assert new_items(items, ["a", "b"]) == []


def test_remember_keeps_listing_and_bounds_history() -> None:
    items = [entry_item(f"n{i}") for i in range(3)]
    out = remember([f"o{i}" for i in range(10)], items, cap=5)
    assert out == ("o8", "o9", "n0", "n1", "n2")
    # The current listing is kept even when it alone exceeds the cap.
    assert set(remember([], items, cap=2)) == {"n0", "n1", "n2"}
    assert remember(["n1"], items) == ("n0", "n1", "n2")


def test_state_json_round_trip_and_corruption() -> None:
    state = SourceState(etag='"x"', last_modified="Wed", seen_ids=("a", "b"), baselined=True)
    assert SourceState.from_json(state.to_json()) == state
    assert SourceState.from_json(None) == SourceState()
    assert SourceState.from_json("{not json") == SourceState()
    assert SourceState.from_json('{"seen_ids": 5}') == SourceState()


def test_items_need_aware_datetimes_and_have_safe_titles() -> None:
    with pytest.raises(ValueError):
        entry_item("a", published=datetime(2024, 1, 1))
    item = ReleaseItem(source_key="k", item_id="org/Name", kind="model", title="\x07 @here ")
    assert item.safe_title == "@\u200bhere"
    assert item.short_name == "Name"
    blank = ReleaseItem(source_key="k", item_id="id-9", kind="entry", title="\x00")
    assert blank.safe_title == "id-9"


def _window(numbers: range) -> list[ReleaseItem]:
    return [entry_item(f"v{n}", published=datetime(2024, 1, n, tzinfo=UTC)) for n in numbers]


def test_deleted_item_in_a_window_does_not_announce_an_older_one() -> None:
    baseline = build_result("k", None, _window(range(2, 12)))  # v2..v11, 10 newest
    assert baseline.baseline and baseline.state.floor == datetime(2024, 1, 2, tzinfo=UTC)
    # v11 is deleted upstream: v1 (older, never seen) slides into the window.
    deleted = build_result("k", baseline.state, _window(range(1, 11)))
    assert deleted.new == ()
    # A genuinely new v12 is announced.
    later = build_result("k", deleted.state, _window(range(3, 11)) + _window(range(12, 13)))
    assert [i.item_id for i in later.new] == ["v12"]
    # Undated items keep the id rule.
    undated = build_result("k", later.state, [*_window(range(3, 13)), entry_item("u")])
    assert [i.item_id for i in undated.new] == ["u"]


def test_state_without_floor_is_backward_compatible() -> None:
    old = SourceState.from_json('{"etag": null, "seen_ids": ["v2"], "baselined": true}')
    assert old.baselined and old.floor is None
    # No floor: the id rule alone (an older unseen item is new).
    result = build_result("k", old, _window(range(1, 3)))
    assert [i.item_id for i in result.new] == ["v1"]
    assert result.state.floor == datetime(2024, 1, 1, tzinfo=UTC)
