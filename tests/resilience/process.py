"""The real `python -m bot` process against an in-process emulator, and SIGKILL.

`BotProcess` starts the bot exactly as an operator would (configured only through the
environment), sends its log to a file (a pipe nobody reads would fill up and block the bot),
and can end it with SIGKILL: no signal handler, no `finally`, no flush runs in the bot. It runs
on the database it is given (a SQLite file or a PostgreSQL URL, as ``AGORA_DATABASE``).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from bot.database_target import DatabaseTarget, PostgresTarget, SqliteTarget
from tests.emulator import DiscordEmulator, Guild
from tests.harness import TEST_TOKEN, response_text

ROOT = Path(__file__).resolve().parents[2]
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def database_setting(target: DatabaseTarget) -> str:
    """``AGORA_DATABASE`` for ``target`` (the URL itself: ``str()`` masks a password)."""
    return target.url if isinstance(target, PostgresTarget) else str(target.path)


class BotProcess:
    """One bot process at a time on one database; `start()` again after `kill()`."""

    def __init__(
        self,
        emu: DiscordEmulator,
        workdir: Path,
        database: DatabaseTarget | None = None,
        **env: str,
    ) -> None:
        """``database``: where the process keeps its data (default: a SQLite file in
        ``workdir``); ``env``: more environment, over the defaults."""
        self.emu = emu
        self.workdir = workdir
        self.database: DatabaseTarget = database or SqliteTarget(workdir / "proc.db")
        self.extra_env = env
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self.logs: list[Path] = []

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "AGORA_"))}
        env.update(
            DISCORD_TOKEN=TEST_TOKEN,
            AGORA_DATABASE=database_setting(self.database),
            DISCORD_API_BASE=self.emu.api_base,
            DISCORD_GATEWAY_URL=self.emu.gateway_url,
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        return env

    async def start(self, probe: Guild, probe_user: int) -> None:
        """Start the process and wait until it answers a slash command (`/about`)."""
        assert self.process is None or self.process.returncode is not None
        self.runs += 1
        log = self.workdir / f"bot-{self.runs}.log"
        self.logs.append(log)
        identified = self.emu.identify_count
        with log.open("wb") as sink:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                env=self.environment(),
                cwd=self.workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )
        await self.emu.wait_for(
            lambda: self.emu.identify_count > identified and self.emu.gateway.connected,
            timeout=60,
            what="the bot process to connect",
        )
        # The first answered command proves the process is serving (GUILD_CREATE settled).
        for _ in range(60):
            self.check_running()
            interaction = await self.emu.slash(probe.id, probe_user, "about")
            try:
                await interaction.response(timeout=1.0)
            except (TimeoutError, AssertionError):
                continue
            if "Version" in response_text(interaction):
                return
        raise AssertionError("the bot process never answered /about")

    def check_running(self) -> None:
        if self.process is None or self.process.returncode is not None:
            raise AssertionError(f"the bot process is not running:\n{self.log_text()}")

    async def kill(self) -> None:
        """SIGKILL, as `kill -9` does."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        assert self.process.returncode == -signal.SIGKILL

    async def terminate(self) -> int:
        """SIGTERM (a clean stop); returns the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return int(self.process.returncode or 0)

    def log_text(self, run: int | None = None) -> str:
        paths = self.logs if run is None else [self.logs[run - 1]]
        return "".join(
            _COLOUR.sub("", p.read_text("utf-8", "replace")) for p in paths if p.exists()
        )

    def error_lines(self) -> list[str]:
        return [
            line
            for line in self.log_text().splitlines()
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        ]
