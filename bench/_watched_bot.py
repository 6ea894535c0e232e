"""`python -m bot` with an event-loop watchdog, for the footprint benchmark.

Runs the bot's own entry point unchanged; only `AgoraBot.setup_hook` starts a `LoopWatch`
and `AgoraBot.close` writes what it saw to the file named by `AGORA_BENCH_STALL_FILE` (JSON, in
seconds): the longest loop stall and the longest garbage-collector pause during `setup_hook`
(migrations, extensions loaded, commands synced), and from then on (the gateway session:
READY, every GUILD_CREATE, serving) to the shutdown. The process's worst stall also goes to
`bench/results.json` (`bench/loopwatch.py`).

`AGORA_BENCH_GC=default` runs the "before" baseline: CPython's collector thresholds and no
freezing of the community cache (`bot/memory.py` switched off), and its stall is not recorded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bench import loopwatch
from bench.loopwatch import LoopWatch
from bot import __main__ as entry
from bot import client, memory
from bot.client import AgoraBot

WATCH = LoopWatch()
STARTUP: dict[str, float] = {}
_setup_hook = AgoraBot.setup_hook
_close = AgoraBot.close


async def setup_hook(self: AgoraBot) -> None:
    WATCH.start()
    await _setup_hook(self)
    STARTUP.update(longest=WATCH.longest, gc=WATCH.longest_gc)
    WATCH.reset()


async def close(self: AgoraBot) -> None:
    longest = await WATCH.stop()
    target = os.environ.get("AGORA_BENCH_STALL_FILE")
    if target:
        text = json.dumps({"startup": STARTUP, "longest": longest, "gc": WATCH.longest_gc})
        await asyncio.to_thread(Path(target).write_text, text)
    await _close(self)


def untuned() -> None:
    """The baseline: no collector tuning, no freezing, nothing recorded."""
    loopwatch.RECORD["enabled"] = False
    setattr(client, "tune_collector", lambda: None)  # noqa: B010
    setattr(memory.CacheFreezer, "freeze", lambda self: None)  # noqa: B010


setattr(AgoraBot, "setup_hook", setup_hook)  # noqa: B010
setattr(AgoraBot, "close", close)  # noqa: B010

if __name__ == "__main__":
    if os.environ.get("AGORA_BENCH_GC") == "default":
        untuned()
    sys.exit(entry.main(sys.argv[1:]))
