"""Every chart of every feature, drawn from fixed example data, edge cases included (one member,
one day, every bucket hidden, two tight camps, five groups, text in any script).

``make charts`` writes them to ``docs/charts/`` (``python -m tests.chart_examples docs/charts``);
the README and ``docs/stances.md`` / ``docs/debates.md`` show them, and ``tests/core/
test_chart_examples.py`` renders each one, so the pictures in the docs are what a member sees.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np

from bot.debates.charts import render_oxford_chart, render_quick_chart, render_results_chart
from bot.debates.debate import quick_result
from bot.debates.oxford import oxford_result
from bot.debates.poll import PollSpec
from bot.debates.tally import Tally
from bot.stance_scale import Stance
from bot.stances.charts import render_community_chart, render_member_history
from bot.stances.map_chart import render_opinion_map
from bot.stances.opinion_map import OpinionMap, build_opinion_map
from bot.stances.statistics import suppress_small
from bot.stances.trend import TrendPoint

NOW = datetime(2026, 11, 30, 18, 47, tzinfo=UTC)
Example = Callable[[], bytes]


def _history() -> bytes:
    values = [1, 2, 1, 0, -1, 0, 1]
    points = [(NOW - timedelta(days=300 - 45 * i), v) for i, v in enumerate(values)]
    return render_member_history(points, now=NOW, community_mean=0.35)


def _history_just_now() -> bytes:
    return render_member_history([(NOW - timedelta(minutes=3), 2)], now=NOW)


def _daily(days: int, members: int) -> list[TrendPoint]:
    start = NOW.replace(hour=0, minute=0) - timedelta(days=days - 1)
    rng = np.random.default_rng(days)
    return [
        TrendPoint(
            start + timedelta(days=d),
            start + timedelta(days=d + 1),
            members,
            float(np.clip(0.4 + 0.02 * d + rng.normal(0, 0.1), -2, 2)),
        )
        for d in range(days)
    ]


def _community() -> bytes:
    counts = {Stance(2): 18, Stance(1): 25, Stance(0): 11, Stance(-1): 9, Stance(-2): 2}
    return render_community_chart(suppress_small(counts), _daily(30, 65))


def _community_one_day() -> bytes:
    empty = [
        TrendPoint(p.start, p.end, 0, None) for p in _daily(30, 0)[:-1]
    ]  # 29 days before the community existed
    today = _daily(1, 12)
    return render_community_chart(suppress_small({Stance(2): 7, Stance(-1): 5}), empty + today)


def _community_one_member() -> bytes:
    return render_community_chart(suppress_small({Stance(1): 1}))


def _community_all_hidden() -> bytes:
    counts = {Stance(2): 2, Stance(1): 1, Stance(0): 2, Stance(-1): 1, Stance(-2): 2}
    return render_community_chart(suppress_small(counts))


def _camps(patterns: np.ndarray, per_group: int, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = []
    for pattern in patterns:
        for _ in range(per_group):
            row = pattern.copy()
            row[rng.random(row.size) < noise] *= -1
            row[rng.random(row.size) < 0.15] = np.nan
            rows.append(row)
    return np.array(rows)


def _map_two_camps() -> OpinionMap:
    share = [1.0, 1, 1, -1, -1, -1, 1, 0]
    matrix = np.array([share] * 20 + [[-v for v in share[:6]] + [1, 0]] * 12)
    return build_opinion_map(matrix)


def _map_five_groups() -> OpinionMap:
    patterns = np.sign(np.random.default_rng(6).normal(size=(5, 30)))
    return build_opinion_map(_camps(patterns, 15, 0.05, 6))


def _map_three_groups() -> OpinionMap:
    patterns = np.sign(np.random.default_rng(7).normal(size=(3, 24)))
    return build_opinion_map(_camps(patterns, 40, 0.15, 7))


def _map_one_member() -> OpinionMap:
    return build_opinion_map(np.array([[1.0, -1, 1, 1, 0, 1, -1, 1]]))


#: The opinion maps of the examples (computed; :data:`EXAMPLES` renders them).
MAPS: dict[str, Callable[[], OpinionMap]] = {
    "opinion-map-two-camps": _map_two_camps,
    "opinion-map-three-groups": _map_three_groups,
    "opinion-map-five-groups": _map_five_groups,
    "opinion-map-one-member": _map_one_member,
}


def _map(name: str) -> bytes:
    return render_opinion_map(MAPS[name]())


def _poll_any_script() -> bytes:
    spec = PollSpec(
        question="Which release should the community try first? 哪个模型？ أي نموذج؟ 🚀",
        options=(
            "开放权重模型 (open weights)",
            "النموذج المفتوح",
            "オープンモデル 🤖",
            "Wait for the audit ✅",
        ),
    )
    return render_results_chart(Tally(counts=(14, 9, 6, 4), voters=33), spec)


def _poll_no_votes() -> bytes:
    spec = PollSpec(question="Should model cards list training data?", options=("Yes", "No"))
    return render_results_chart(Tally.empty(2), spec)


_VOTES = {m: Stance((m * 7) % 5 - 2) for m in range(23)}


def _debate_quick() -> bytes:
    return render_quick_chart(quick_result(_VOTES), "Open weights do more good than harm.")


def _debate_oxford() -> bytes:
    after = {m: Stance(min(2, v + (m % 3 == 0))) for m, v in _VOTES.items()}
    return render_oxford_chart(
        oxford_result(_VOTES, after), "This house would release frontier model weights."
    )


EXAMPLES: dict[str, Example] = {
    "stance-history": _history,
    "stance-history-just-now": _history_just_now,
    "community": _community,
    "community-one-day": _community_one_day,
    "community-one-member": _community_one_member,
    "community-all-hidden": _community_all_hidden,
    **{name: partial(_map, name) for name in MAPS},
    "poll-any-script": _poll_any_script,
    "poll-no-votes": _poll_no_votes,
    "debate-quick": _debate_quick,
    "debate-oxford": _debate_oxford,
}


def main(folder: str) -> None:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, example in EXAMPLES.items():
        (target / f"{name}.png").write_bytes(example())
        print(f"{target / name}.png")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/charts")
