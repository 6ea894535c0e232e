"""`bench/results.json`: every benchmark module records its figures here, one run at a time.

`make bench` (``bench/__main__.py``) starts the file afresh with the machine's description, then
runs each ``bench_*`` module in its own process; a module calls :func:`record` with the keys it
measured, which are merged into the file. Run alone, a module merges into whatever is there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results.json"


def load() -> dict[str, Any]:
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def start(machine: dict[str, Any]) -> None:
    """Begin a new run: only the machine's description is kept."""
    RESULTS.write_text(json.dumps({"machine": machine}, indent=2) + "\n")


def record_stall(benchmark: str, stall: float, gc_pause: float) -> None:
    """Keep a benchmark's worst event-loop stall and collector pause (seconds in, ms stored)
    under ``loop_stalls``; the largest stall of a run becomes ``loop_stall_ms``."""
    stalls = dict(load().get("loop_stalls") or {})
    previous = stalls.get(benchmark) or {}
    stalls[benchmark] = {
        "stall_ms": round(max(stall * 1000, previous.get("stall_ms", 0.0)), 1),
        "gc_ms": round(max(gc_pause * 1000, previous.get("gc_ms", 0.0)), 1),
    }
    record(loop_stalls=stalls, loop_stall_ms=max(s["stall_ms"] for s in stalls.values()))


def record(**figures: Any) -> None:
    """Merge these figures into `bench/results.json` (written whole, then renamed)."""
    data = load()
    data.update(figures)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    temporary.replace(RESULTS)
