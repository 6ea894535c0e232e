"""kill -9 of the real bot process during a burst of votes (small size; full size: soak.py),
on each engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.database_target import DatabaseTarget
from tests.resilience.crash import crash_during_vote_burst


@pytest.mark.timeout(300)
async def test_sigkill_during_a_vote_burst_loses_and_doubles_nothing(
    tmp_path: Path, database_target: DatabaseTarget
) -> None:
    report = await crash_during_vote_burst(tmp_path, database_target, members=60, options=5)
    print("\n".join(report.lines()))
    assert report.stored >= report.acknowledged_before_kill
