"""The full-size crash test, too slow for every CI run: `python -m tests.resilience.soak`.

`kill -9` of the real bot process in the middle of 2,000 vote clicks from 200 members (see
`tests/resilience/crash.py` for what is checked). Prints the figures; exit status 0 when every
check held, 1 otherwise (the failed assertion is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.resilience.crash import crash_during_vote_burst


async def soak(members: int, options: int, rounds: int) -> int:
    for n in range(1, rounds + 1):
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="agora-soak-") as tmp:
            try:
                report = await crash_during_vote_burst(
                    Path(tmp), members=members, options=options, seed=n
                )
            except AssertionError:
                traceback.print_exc()
                print(f"soak round {n}: FAILED", flush=True)
                return 1
        print(f"soak round {n}: ok in {time.monotonic() - started:.0f} s", flush=True)
        for line in report.lines():
            print(f"  {line}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--options", type=int, default=10, help="clicks per member (<= 20)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    return asyncio.run(soak(args.members, args.options, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
