"""What the operator endpoint reports about the running bot: readiness and the scraped state.

Each shard's state follows discord.py's shard events: ``connecting`` until its first READY,
``loading`` while its servers arrive, ``ready``, and ``reconnecting`` from a dropped
connection until it RESUMEs (or IDENTIFYs again) and is ready once more.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING

from bot.database import engine_errors
from bot.metrics import StateSnapshot
from bot.operator import PROBE_TIMEOUT, READY, Readiness
from bot.repositories.operations import OperationsRepository

if TYPE_CHECKING:
    from bot.client import AgoraBot

log = logging.getLogger(__name__)

CONNECTING, LOADING, RECONNECTING = "connecting", "loading", "reconnecting"


class ShardTracker:
    """Each shard's gateway state, from the shard events the bot dispatches."""

    def __init__(self) -> None:
        self.states: dict[int, str] = {}

    def listen(self, bot: AgoraBot) -> None:
        bot.add_listener(self.on_shard_connect)
        bot.add_listener(self.on_shard_ready)
        bot.add_listener(self.on_shard_resumed)
        bot.add_listener(self.on_shard_disconnect)

    async def on_shard_connect(self, shard_id: int) -> None:
        self.states[shard_id] = LOADING

    async def on_shard_ready(self, shard_id: int) -> None:
        self.states[shard_id] = READY

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.states[shard_id] = READY

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.states[shard_id] = RECONNECTING

    def report(self, bot: AgoraBot) -> dict[int, str]:
        """The state of every shard this process runs (shard 0 before the count is known)."""
        expected = bot.shard_ids or range(bot.shard_count or 1)
        report = {}
        for shard_id in expected:
            state = self.states.get(shard_id, CONNECTING)
            shard = bot.get_shard(shard_id)
            if state == READY and (shard is None or shard.is_closed()):
                state = RECONNECTING
            report[shard_id] = state
        return report


class BotProbes:
    """The endpoint's view of one bot (:class:`bot.operator.Probes`)."""

    def __init__(self, bot: AgoraBot) -> None:
        self._bot = bot
        self._operations = OperationsRepository(bot.db)

    async def readiness(self) -> Readiness:
        bot = self._bot
        if bot.is_closed():
            return Readiness({shard: "closed" for shard in bot.shard_tracker.report(bot)}, "closed")
        return Readiness(bot.shard_tracker.report(bot), await self._database())

    async def _database(self) -> str:
        try:
            await asyncio.wait_for(
                self._bot.meta.set("operator:write_probe", str(time.time())), PROBE_TIMEOUT
            )
        except TimeoutError:
            return f"busy (no write within {PROBE_TIMEOUT:.0f} s)"
        except engine_errors() as exc:  # ValueError: the SQLite connection is closed
            log.warning("readiness: the database refused a write: %s", exc)
            return f"error ({type(exc).__name__})"
        return "ok"

    async def metrics(self) -> bytes:
        bot = self._bot
        pending = paused = math.nan
        try:
            backlog = await self._operations.release_backlog()
            pending, paused = backlog.pending_deliveries, backlog.sources_paused
        except engine_errors() as exc:
            log.warning("metrics: cannot read the release backlog: %s", exc)
        latency = {shard_id: shard.latency for shard_id, shard in bot.shards.items()}
        state = StateSnapshot(len(bot.guilds), latency, pending, paused)
        return bot.metrics.render(state)
