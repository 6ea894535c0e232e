"""How to lay a poll's options out in a message: buttons or a select menu.

Discord allows 5 action rows of at most 5 buttons each; a select menu fills a whole row and
holds up to 25 options. The plan:

- **Up to 20 options: buttons**, one per option, in at most 4 rows, spread evenly
  (7 options -> rows of 4 and 3, not 5 and 2). Row 5 stays free for the controls
  (results, close). A click is a toggle (:func:`bot.debates.poll.apply_vote`), which reads
  naturally on buttons.
- **21 to 25 options: one select menu** in row 1 (``max_values`` = the poll's
  ``max_choices``), and the controls in row 2, including a "withdraw my vote" button because
  a select cannot be "unclicked". A submission replaces the member's choices
  (:func:`bot.debates.poll.apply_selection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot import limits
from bot.debates.options import MAX_OPTIONS, MIN_OPTIONS

BUTTONS_PER_ROW = limits.ROW_BUTTONS
MAX_ROWS = limits.ROWS
#: Most options shown as buttons: every row but the last, which holds the controls.
MAX_BUTTON_OPTIONS = BUTTONS_PER_ROW * (MAX_ROWS - 1)


class LayoutKind(StrEnum):
    BUTTONS = "buttons"
    SELECT = "select"


@dataclass(frozen=True)
class LayoutPlan:
    """Where each option goes.

    ``option_rows[r]`` lists the option indices in row ``r`` (button layout); for a select,
    ``option_rows`` is a single row holding every index, all in one menu.
    ``controls_row`` is the row index (0-based) for the control buttons.
    """

    kind: LayoutKind
    option_rows: tuple[tuple[int, ...], ...]
    controls_row: int


def plan_layout(option_count: int) -> LayoutPlan:
    """The layout for ``option_count`` options (2 to 25)."""
    if not MIN_OPTIONS <= option_count <= MAX_OPTIONS:
        raise ValueError(f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options, not {option_count}")
    if option_count > MAX_BUTTON_OPTIONS:
        return LayoutPlan(
            kind=LayoutKind.SELECT,
            option_rows=(tuple(range(option_count)),),
            controls_row=1,
        )
    rows = -(-option_count // BUTTONS_PER_ROW)
    base, extra = divmod(option_count, rows)
    option_rows: list[tuple[int, ...]] = []
    start = 0
    for row in range(rows):
        size = base + (1 if row < extra else 0)
        option_rows.append(tuple(range(start, start + size)))
        start += size
    return LayoutPlan(
        kind=LayoutKind.BUTTONS,
        option_rows=tuple(option_rows),
        controls_row=rows,
    )
