"""The Agora bot: intents, mentions, database, cogs and command sync."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import pkgutil
import time
from typing import Any

import discord
import yarl
from discord.ext import commands

import cogs
from bot.charts import ChartWorker
from bot.cluster import cluster_for
from bot.database import Database
from bot.error_handler import AgoraTree
from bot.features import Feature, FeatureRegistry, JobRunner
from bot.health import BotProbes, ShardTracker
from bot.instance_lock import InstanceLock
from bot.lifecycle import Lifecycle
from bot.memory import CacheFreezer, tune_collector
from bot.metrics import Metrics
from bot.operator import OperatorEndpoint
from bot.repositories.guilds import GuildRepository, MetaRepository
from bot.settings import Settings

log = logging.getLogger(__name__)


def redirect_discord(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py's REST and gateway at another host (API proxies, the local emulator)."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def yield_between_gateway_events() -> None:
    """Let the event loop run other work after every gateway event a shard handles.

    discord.py reads the next event at once when the websocket already holds it, so a burst
    (thousands of GUILD_CREATE at start, a flood of MESSAGE_CREATE) is parsed in one go without
    ever yielding: measured, 0.27 s of the loop with 2,500 communities on a shard, and every
    interaction, heartbeat and vote waits meanwhile. One `sleep(0)` per event costs one turn
    of the loop. Installed once per process (`AgoraBot` calls it)."""
    websocket = discord.gateway.DiscordWebSocket
    original = websocket.poll_event
    if getattr(original, "yields", False):
        return

    async def poll_event(self: discord.gateway.DiscordWebSocket) -> None:
        await original(self)
        await asyncio.sleep(0)

    poll_event.yields = True  # type: ignore[attr-defined]
    websocket.poll_event = poll_event  # type: ignore[method-assign]


def agora_intents() -> discord.Intents:
    """Guilds (channels, roles, threads) and poll votes; nothing privileged.

    No guild messages: nothing in Agora reads messages (component clicks and slash commands
    arrive as interactions, which need no intent), and with the intent the bot would receive
    each of its own posts back as a MESSAGE_CREATE, 12,500 of them in one radar fan-out
    (see docs/performance.md, "Radar fan-out")."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_polls = True
    return intents


#: discord.py sweeps its rate-limit buckets for idle ones (5 minutes) at most this often.
BUCKET_SWEEP_SECONDS = 60.0


def throttle_bucket_sweep(http: discord.http.HTTPClient) -> None:
    """discord.py scans every rate-limit bucket each time it creates one, and it creates one
    per channel posted to: a radar fan-out to 12,500 channels scanned ~78 million buckets
    (quadratic, ~3 ms of CPU per announcement at the end). The sweep only drops buckets idle
    for 5 minutes, so running it at most once a minute keeps the same memory bound."""
    sweep = http._try_clear_expired_ratelimits
    last = -BUCKET_SWEEP_SECONDS

    def throttled() -> None:
        nonlocal last
        moment = time.monotonic()
        if moment - last >= BUCKET_SWEEP_SECONDS:
            last = moment
            sweep()

    http._try_clear_expired_ratelimits = throttled  # type: ignore[method-assign]


def stamp_heartbeats_when_sent() -> None:
    """Time each heartbeat from the moment it is written, in the event loop.

    discord.py's keep-alive thread records the send time only once it wakes up after the
    send, but the loop may read the acknowledgement first (under load the thread waits for
    the GIL, and a nearby gateway answers within a millisecond): the latency is then measured
    from the *previous* heartbeat, one interval (41 s) too early, and discord.py warns
    "Can't keep up ... 41.3s behind" although the ACK came at once. Recording the time in the
    coroutine that sends, before the loop can read the ACK, removes the race; the thread's
    own later stamp changes nothing. Idempotent."""
    gateway = discord.gateway.DiscordWebSocket
    if getattr(gateway.send_heartbeat, "agora_stamped", False):
        return
    send = gateway.send_heartbeat

    async def send_heartbeat(self: discord.gateway.DiscordWebSocket, data: Any) -> None:
        await send(self, data)
        if self._keep_alive is not None:
            self._keep_alive._last_send = time.perf_counter()

    send_heartbeat.agora_stamped = True  # type: ignore[attr-defined]
    gateway.send_heartbeat = send_heartbeat  # type: ignore[method-assign]


class AgoraBot(commands.AutoShardedBot):
    """The bot. `main()` owns the settings and the database and hands them in."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        force_sync: bool = False,
        **options: Any,
    ) -> None:
        options.setdefault("intents", agora_intents())
        if settings.agora_shard_count is not None:  # cluster mode: this process's shards
            options.setdefault("shard_count", settings.agora_shard_count)
            options.setdefault("shard_ids", list(settings.shard_ids or ()))
        yield_between_gateway_events()
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=AgoraTree,
            **options,
        )
        throttle_bucket_sweep(self.http)
        stamp_heartbeats_when_sent()
        self.settings = settings
        self.db = db
        self.guild_repo = GuildRepository(db)
        self.meta = MetaRepository(db)
        self.force_sync = force_sync
        self.started_monotonic = time.monotonic()
        #: The loaded features, their interfaces and data hooks (see `bot.features`).
        self.registry = FeatureRegistry()
        #: This process's shards, the cluster's leadership and IDENTIFY spacing (bot.cluster).
        self.cluster = cluster_for(settings)
        self.jobs = JobRunner(self.wait_until_ready, self.cluster.leadership)
        #: The chart workers (a process per core, a cache by data) for every feature's charts.
        self.charts = ChartWorker()
        self._features_closed = False
        self.lifecycle = Lifecycle(
            db, self.registry, self.guild_repo, self._present_guild_ids, self.cluster.shards
        )
        #: What the bot did, for operators (`GET /metrics`); its own registry per bot.
        self.metrics = Metrics()
        self.shard_tracker = ShardTracker()
        self.shard_tracker.listen(self)
        #: Held while the bot runs: no second bot, no restore under it (`bot.instance_lock`).
        self.instance_lock = InstanceLock(db.path)
        #: The operator endpoint, when `AGORA_HTTP_ADDRESS` is set (started in `setup_hook`).
        self.operator: OperatorEndpoint | None = None
        #: The community cache, frozen out of the garbage collector as it loads (bot/memory.py).
        self.freezer = CacheFreezer()

    def _present_guild_ids(self) -> set[int]:
        return {guild.id for guild in self.guilds}

    # -- the feature contract ---------------------------------------------------------------

    async def add_feature(self, feature: Feature) -> None:
        """Load a feature: its cog, its persistent components, its jobs, its hooks."""
        self.registry.add(feature)
        if feature.cog is not None:
            await self.add_cog(feature.cog)
        if feature.components:
            self.add_dynamic_items(*feature.components)
        for job in feature.jobs:
            self.jobs.start(job)

    async def remove_feature(self, name: str) -> None:
        """Unload a feature (its extension's `teardown`): jobs stopped first, then the rest."""
        feature = self.registry.remove(name)
        if feature is None:
            return
        for job in feature.jobs:
            await self.jobs.stop(job.name)
        if feature.components:
            self.remove_dynamic_items(*feature.components)
        if feature.cog is not None:
            await self.remove_cog(feature.cog.qualified_name)
        if feature.close is not None:
            await feature.close()

    async def launch_shards(self) -> None:
        # AutoShardedBot connects to the URL that GET /gateway/bot returns and only uses
        # DEFAULT_GATEWAY when the shard count is known: ask for the count, so a configured
        # DISCORD_GATEWAY_URL is used from the first connection on.
        gate = self.cluster.identify
        if (self.settings.discord_gateway_url and self.shard_count is None) or gate is not None:
            count, _, limits = await self.http.get_bot_gateway()
            if self.shard_count is None:
                self.shard_count = count
            if gate is not None:
                gate.max_concurrency = int(limits.get("max_concurrency") or 1)
        await super().launch_shards()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """In a cluster, one IDENTIFY per bucket every 5 s across all processes (Discord's
        ``max_concurrency``); alone, discord.py's own spacing."""
        gate = self.cluster.identify
        if gate is None:
            await super().before_identify_hook(shard_id, initial=initial)
        else:
            await gate.before_identify(shard_id or 0)

    async def setup_hook(self) -> None:
        tune_collector()
        if not self.force_sync:  # `agora sync-commands` runs beside a running bot
            await self._start_operations()
        await self.db.migrate()
        if not self.force_sync:  # `agora sync-commands` must not take the leadership, even briefly
            await self.cluster.start()
        self.jobs.start(self.lifecycle.retention_job())
        for extension in cog_extensions():
            await self.load_extension(extension)
            log.info("loaded %s", extension)
        await self.sync_commands_if_changed()

    async def sync_commands_if_changed(self) -> bool:
        """Sync application commands when their definition changed (or when forced); in a
        cluster only the process running shard 0 does (commands are the application's, once
        for every process)."""
        if not self.force_sync and not self.cluster.shards.holds_shard(0):
            log.info("application commands are synced by the process running shard 0")
            return False
        guild = (
            discord.Object(self.settings.agora_dev_guild) if self.settings.agora_dev_guild else None
        )
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        scope = f"guild:{guild.id}" if guild else "global"
        digest = self.commands_digest(guild)
        key = f"commands_hash:{scope}"
        if not self.force_sync and await self.meta.get(key) == digest:
            log.info("application commands unchanged (%s); not syncing", scope)
            return False
        await self.tree.sync(guild=guild)
        await self.meta.set(key, digest)
        log.info("synced application commands (%s)", scope)
        return True

    async def _start_operations(self) -> None:
        """The core's services for operators: the instance lock, the loop monitor and, when
        configured, the HTTP endpoint (up before the gateway, so `/healthz` answers at once)."""
        self.instance_lock.acquire("start")
        self.metrics.loop_monitor.start()
        address = self.settings.http_address
        if address is not None:
            endpoint = OperatorEndpoint(*address, BotProbes(self))
            await endpoint.start()
            self.operator = endpoint

    async def _stop_operations(self) -> None:
        if self.operator is not None:
            await self.operator.stop()
        await self.metrics.loop_monitor.stop()
        self.instance_lock.release()

    def commands_digest(self, guild: discord.abc.Snowflake | None = None) -> str:
        """A hash of the command definitions exactly as they would be sent to Discord."""
        payload = [cmd.to_dict(self.tree) for cmd in self.tree.get_commands(guild=guild)]
        payload.sort(key=lambda c: (c.get("type", 1), c["name"]))
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    async def close(self) -> None:
        """Stop every background job, close the features and the chart worker, disconnect.

        Runs its own part once: SIGTERM closes the bot, and leaving ``async with`` closes again.
        """
        if not self._features_closed:
            self._features_closed = True
            await self.jobs.stop_all()
            await self.cluster.close()
            for feature in self.registry:
                if feature.close is not None:
                    await feature.close()
            await self.charts.close()
        await super().close()
        await self._stop_operations()
        self.freezer.release()

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    async def on_ready(self) -> None:
        # A server that removed the bot while it was offline sends no GUILD_DELETE: start its
        # retention period now.
        present = {guild.id for guild in self.guilds}
        self.freezer.freeze()
        try:
            # Only this process's shards: the others' communities are not in its cache.
            for guild_id in self.cluster.shards.only_held(await self.guild_repo.present_ids()):
                if guild_id not in present:
                    await self.guild_repo.mark_left(guild_id)
                    log.info("server %s removed Agora while it was offline", guild_id)
        except Exception:
            if self.is_closed():  # shut down meanwhile; the next start does it again
                return
            raise

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.guild_repo.ensure(guild.id)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.freezer.community_loaded()
        await self.guild_repo.ensure(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.guild_repo.mark_left(guild.id)


def cog_extensions() -> list[str]:
    """Every feature package under `cogs/`, found automatically."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if module.ispkg and not module.name.startswith("_")
    )


def import_extensions() -> None:
    """Import every feature package (and what it imports) now, before the event loop runs:
    `load_extension` in `setup_hook` then finds its modules loaded and blocks the loop for
    no import (about half a second otherwise)."""
    for extension in cog_extensions():
        importlib.import_module(extension)
