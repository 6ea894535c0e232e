"""`python -m bot …` as an operator runs it: configured only through the environment."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def run_agora(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run `python -m bot *args` in `cwd` with only `env` set of Agora's variables;
    (exit status, stdout, stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "AGORA_"))}
    clean.update(env, PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=clean,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
