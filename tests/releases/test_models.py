from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.releases import ReleaseItem, SourceState, new_items, remember, sort_items

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
