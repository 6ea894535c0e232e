"""What the bot does, counted for operators (Prometheus, `GET /metrics`), and the loop monitor.

Each bot owns one :class:`Metrics` with its own ``CollectorRegistry`` (never the process-wide
default), so several bots in one process (tests) count apart. Counters move where things
happen, one line each:

- interactions, their outcome and latency: :func:`observe_interaction`, around every slash
  command (the tree) and every persistent component (:class:`bot.components.AgoraItem`);
- votes stored, announcements posted or failed, radar fetches: ``metrics_of(client).…`` at the
  place the feature does it.

Gauges that describe state (pending deliveries, paused sources, guilds, gateway latency, the
longest loop stall) are read when scraped (:meth:`Metrics.render` is given a fresh
:class:`StateSnapshot`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import discord
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.logs import interaction_context

MetricT = TypeVar("MetricT", Counter, Gauge)

#: The Content-Type of :meth:`Metrics.render` (Prometheus text format 0.0.4).
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Outcomes of an interaction: answered, refused with a reason (the member's mistake, a
#: missing permission), or failed with an error code.
OK, REFUSED, ERROR = "ok", "refused", "error"

#: Where an interaction's outcome is noted while it is handled (``interaction.extras``).
OUTCOME_KEY = "agora_outcome"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


@dataclass(frozen=True)
class StateSnapshot:
    """The bot's state when scraped."""

    guilds: int = 0
    gateway_latency: Mapping[int, float] = field(default_factory=dict)  # shard id -> seconds
    pending_deliveries: float = 0  # NaN when the database could not be read
    sources_paused: float = 0


class LoopMonitor:
    """A cheap event-loop lag monitor: a task wakes every ``interval`` seconds and measures how
    late it woke; the longest delay is kept (a loop blocked by synchronous work shows here)."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._watch(), name="agora-loop-monitor"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.longest = max(self.longest, loop.time() - expected)


class Metrics:
    """Every metric of one bot, in its own registry; names start with ``agora_``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counter, gauge = self._metric(Counter), self._metric(Gauge)
        self.interactions = counter(
            "agora_interactions",
            "Slash commands and component clicks handled, by command and outcome.",
            "command",
            "outcome",
        )
        self.interaction_latency = Histogram(
            "agora_interaction_latency_seconds",
            "Time from the start of an interaction's handling to its end.",
            ["command"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.votes_stored = counter(
            "agora_votes_stored", "Votes committed and acknowledged to the member."
        )
        self.announcements_posted = counter(
            "agora_announcements_posted", "Release announcements posted."
        )
        self.announcements_failed = counter(
            "agora_announcements_failed",
            "Release announcements that could not be posted, by reason.",
            "reason",
        )
        self.radar_fetches = counter(
            "agora_radar_fetches",
            "Release source fetches, by source kind (hf, github, feed) and outcome.",
            "source_kind",
            "outcome",
        )
        self.pending_deliveries = gauge(
            "agora_pending_deliveries", "Announcements queued and not posted yet."
        )
        self.sources_paused = gauge(
            "agora_sources_paused", "Release sources paused after repeated failures."
        )
        self.gateway_latency = gauge(
            "agora_gateway_latency_seconds", "Gateway heartbeat latency, per shard.", "shard"
        )
        self.guilds = gauge("agora_guilds", "Servers the bot is in.")
        self.loop_stall = gauge(
            "agora_event_loop_stall_seconds_max",
            "Longest delay of the event loop seen since the start (the loop could not run).",
        )
        self.loop_monitor = LoopMonitor()

    def _metric(self, kind: Callable[..., MetricT]) -> Callable[..., MetricT]:
        """``kind(name, documentation, *labels)`` in this bot's registry."""

        def make(name: str, documentation: str, *labels: str) -> MetricT:
            return kind(name, documentation, list(labels), registry=self.registry)

        return make

    # -- one line at each place where things happen ---------------------------------------------

    def fetched(self, source_key: str, error_kind: str | None) -> None:
        """One radar fetch of ``source_key`` (``hf:…``), ok or failed with ``error_kind``."""
        kind = source_key.partition(":")[0] or "unknown"
        self.radar_fetches.labels(source_kind=kind, outcome=error_kind or OK).inc()

    def announcement_failed(self, reason: str) -> None:
        self.announcements_failed.labels(reason=reason).inc()

    # -- scraping ---------------------------------------------------------------------------

    def render(self, state: StateSnapshot) -> bytes:
        """The Prometheus text exposition, with the gauges set from ``state``."""
        self.guilds.set(state.guilds)
        self.pending_deliveries.set(state.pending_deliveries)
        self.sources_paused.set(state.sources_paused)
        self.gateway_latency.clear()
        for shard_id, latency in sorted(state.gateway_latency.items()):
            if math.isfinite(latency):
                self.gateway_latency.labels(shard=str(shard_id)).set(latency)
        self.loop_stall.set(self.loop_monitor.longest)
        return generate_latest(self.registry)


_DETACHED = Metrics()


def metrics_of(client: discord.Client) -> Metrics:
    """The metrics of the bot that ``client`` is (a detached set for a client without any:
    a test's bare client counts into nothing that is ever scraped)."""
    metrics = getattr(client, "metrics", None)
    return metrics if isinstance(metrics, Metrics) else _DETACHED


def command_name(interaction: discord.Interaction) -> str:
    """The command's full name (``poll create``), or its name as sent when it is unknown."""
    command = interaction.command
    if command is not None:
        return command.qualified_name
    data: Mapping[str, object] = interaction.data or {}
    return str(data.get("name") or "unknown")


@contextlib.asynccontextmanager
async def observe_interaction(interaction: discord.Interaction, name: str) -> AsyncIterator[None]:
    """Handle one interaction inside: its log records carry the server and ``name``; when it
    ends its outcome (:data:`OUTCOME_KEY`, noted by the error handler; ``ok`` when nothing
    was noted) and latency are counted. An exception leaving the block is an error unless the
    error handler already classified it."""
    metrics = metrics_of(interaction.client)
    started = time.perf_counter()
    with interaction_context(interaction.guild_id, name):
        try:
            yield
        except BaseException:
            interaction.extras.setdefault(OUTCOME_KEY, ERROR)
            raise
        finally:
            outcome = str(interaction.extras.get(OUTCOME_KEY, OK))
            metrics.interactions.labels(command=name, outcome=outcome).inc()
            metrics.interaction_latency.labels(command=name).observe(time.perf_counter() - started)
