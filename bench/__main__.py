"""`make bench`: run every benchmark module in `bench/` in turn, each in its own process."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import numpy


def main() -> int:
    here = Path(__file__).parent
    modules = sorted(p.stem for p in here.glob("bench_*.py"))
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}, numpy {numpy.__version__}"
    )
    failed = 0
    for module in modules:
        print(f"\n=== bench.{module} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{module}"], check=False)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
