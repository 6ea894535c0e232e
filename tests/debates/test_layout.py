import pytest

from bot.debates.layout import MAX_BUTTON_OPTIONS, LayoutKind, plan_layout


@pytest.mark.parametrize("count", range(2, 26))
def test_every_option_placed_once_within_discord_limits(count: int) -> None:
    plan = plan_layout(count)
    placed = [index for row in plan.option_rows for index in row]
    assert placed == list(range(count))
    rows_used = len(plan.option_rows) + 1  # + controls
    assert rows_used <= 5
    assert plan.controls_row == len(plan.option_rows)
    if plan.kind is LayoutKind.BUTTONS:
        assert all(1 <= len(row) <= 5 for row in plan.option_rows)
    else:
        assert len(plan.option_rows) == 1


def test_buttons_up_to_20_then_select() -> None:
    assert MAX_BUTTON_OPTIONS == 20
    assert plan_layout(20).kind is LayoutKind.BUTTONS
    assert plan_layout(21).kind is LayoutKind.SELECT
    assert plan_layout(25).kind is LayoutKind.SELECT


def test_rows_are_balanced() -> None:
    assert [len(r) for r in plan_layout(7).option_rows] == [4, 3]
    assert [len(r) for r in plan_layout(5).option_rows] == [5]
    assert [len(r) for r in plan_layout(11).option_rows] == [4, 4, 3]


def test_out_of_range() -> None:
    for count in (0, 1, 26):
        with pytest.raises(ValueError):
            plan_layout(count)
