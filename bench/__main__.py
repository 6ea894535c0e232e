"""`make bench`: run every benchmark module in `bench/` in turn, each in its own process."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import discord
import numpy

from bench import results


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def main() -> int:
    here = Path(__file__).parent
    modules = sorted(p.stem for p in here.glob("bench_*.py"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} cores, {cpu_model()}, {memory_gib()} RAM, {platform.platform()}")
    print(
        f"python {platform.python_version()}, discord.py {discord.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, numpy {numpy.__version__}"
    )
    results.start(
        {
            "cores": cores,
            "cpu_model": cpu_model(),
            "memory": memory_gib(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "discord_py": discord.__version__,
        }
    )
    failed = 0
    times = []
    started = time.perf_counter()
    for module in modules:
        print(f"\n=== bench.{module} ===", flush=True)
        begun = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"bench.{module}"], check=False)
        times.append((module, time.perf_counter() - begun, result.returncode))
        failed += result.returncode != 0
    print("\n=== wall time ===")
    for module, seconds, code in times:
        print(f"  bench.{module:<22} {seconds:6.1f} s{'' if code == 0 else f'  FAILED ({code})'}")
    print(f"  {'total':<28} {time.perf_counter() - started:6.1f} s")
    figures = results.load()
    stalls = figures.get("loop_stalls") or {}
    print("\n=== longest event-loop stall of each benchmark (ms; of it the collector) ===")
    for name, stall in sorted(stalls.items()):
        print(f"  {name:<30} {stall['stall_ms']:8.1f}   (GC {stall['gc_ms']:.1f})")
    print(f"  loop_stall_ms = {figures.get('loop_stall_ms')}")
    print(f"\nfigures of this run: {results.RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
