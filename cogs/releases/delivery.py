"""The release radar's outbox worker: the one radar cycle of the bot and the drain of pending
announcements, run by the core as the feature's background job.

A cycle: every unique due source is fetched once (`Radar.run_cycle`); for each success the
new state and one pending delivery per (matching subscription, new item) are stored in one
transaction; then the pending deliveries (the outbox) are posted oldest first, each with its
deterministic nonce, and recorded. See `bot/migrations/0003_releases.sql`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import discord

from bot.errors import UserFacingError
from bot.features import Job
from bot.interfaces import ReleaseDebates
from bot.metrics import metrics_of
from bot.releases import (
    ReleaseFilter,
    SourceError,
    SourceOutcome,
    backoff_seconds,
    build_card,
    parse_filter,
    should_pause,
)
from bot.releases.policy import MAX_POST_ATTEMPTS
from bot.releases.records import PendingDelivery, SourceStatus
from cogs.releases.components import announcement_view
from cogs.releases.embeds import card_embed, fallback_embed, pause_notice, thread_name
from cogs.releases.service import Collaborators

log = logging.getLogger(__name__)

#: The name of the feature's background job (see `bot.features.JobRunner.status`).
RADAR_JOB = "releases.radar"


@dataclass
class CycleReport:
    """What one `run_cycle_once` did (for tests and logs)."""

    fetched: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    paused: list[str] = field(default_factory=list)
    queued: int = 0
    posted: int = 0


class ReleaseDelivery:
    """Fetches due sources, queues what is new and posts the queue, exactly once."""

    def __init__(self, client: discord.Client, parts: Collaborators) -> None:
        self._client = client
        self.parts = parts
        self._cycle_lock = asyncio.Lock()
        self._drained_since_start = False

    def job(self) -> Job:
        """The background job the core runs every `poll_seconds` once the bot is ready."""
        return Job(RADAR_JOB, self.parts.poll_seconds, self.run_job)

    async def run_job(self) -> None:
        if not self._drained_since_start:
            # Right after a (re)start: first finish announcements a crash interrupted,
            # while Discord still remembers their nonces; then fetch as usual.
            await self.drain_outbox()
            self._drained_since_start = True
        await self.run_cycle_once()

    # -- the cycle ------------------------------------------------------------------------

    async def run_cycle_once(self, *, ignore_backoff: bool = False) -> CycleReport:
        """One radar cycle now: fetch each due source once, queue, post. Never raises for a
        single source or item. `ignore_backoff` also fetches sources waiting after failures
        (paused ones stay paused)."""
        report = CycleReport()
        async with self._cycle_lock:
            due = await self.parts.outbox.due_sources(time.time(), ignore_backoff=ignore_backoff)
            if due:
                outcomes = await self.parts.radar.run_cycle({s.source_key: s.state for s in due})
                for status in due:
                    outcome = outcomes.get(status.source_key)
                    if outcome is None:
                        continue
                    try:
                        await self._handle_outcome(status, outcome, report)
                    except Exception:
                        log.exception(
                            "release source %s: storing the cycle failed", status.source_key
                        )
            report.posted = await self._drain_unlocked()
        if report.fetched or report.failed:
            log.info(
                "release cycle: %d fetched, %d failed, %d queued, %d posted",
                len(report.fetched),
                len(report.failed),
                report.queued,
                report.posted,
            )
        return report

    async def drain_outbox(self) -> int:
        """Post every pending announcement now; returns how many were posted."""
        async with self._cycle_lock:
            return await self._drain_unlocked()

    async def _handle_outcome(
        self, status: SourceStatus, outcome: SourceOutcome, report: CycleReport
    ) -> None:
        key = status.source_key
        metrics_of(self._client).fetched(key, outcome.error.kind if outcome.error else None)
        if outcome.error is not None or outcome.result is None:
            error = outcome.error or SourceError("internal", "no result")
            await self._handle_failure(status, error, report)
            return
        result = outcome.result
        report.fetched.append(key)
        subscriptions = await self.parts.subscriptions.for_source(key)
        announce = []
        ready = [s for s in subscriptions if s.baselined]
        filters: dict[int, ReleaseFilter] = {}
        for subscription in ready:
            try:
                filters[subscription.id] = parse_filter(subscription.filter_text)
            except UserFacingError:
                log.warning(
                    "subscription %d has an unreadable filter; announcing everything",
                    subscription.id,
                )
                filters[subscription.id] = ReleaseFilter()
        for item in result.new:  # oldest first
            for subscription in ready:
                if filters[subscription.id].matches(item):
                    announce.append((subscription.id, item))
        report.queued += await self.parts.outbox.record_success(
            key,
            result.state,
            next_attempt_at=0.0,
            announce=announce,
            baselined=[s.id for s in subscriptions if not s.baselined],
        )

    async def _handle_failure(
        self, status: SourceStatus, error: SourceError, report: CycleReport
    ) -> None:
        key = status.source_key
        failures = status.failures + 1
        report.failed[key] = error.kind
        log.warning("release source %s failed (%d in a row): %s", key, failures, error)
        newly_paused = await self.parts.outbox.record_failure(
            key,
            failures=failures,
            next_attempt_at=time.time() + backoff_seconds(failures, self.parts.poll_seconds),
            pause=should_pause(failures),
            error=f"{error.kind}: {error.message}",
        )
        if newly_paused:
            # The notice is pending in the same transaction; the drain that ends this
            # cycle sends it (and the first drain after a crash, if it never went out).
            report.paused.append(key)

    async def _send_pending_notices(self) -> None:
        """Send the pause notice of every newly paused source to each channel following it,
        then record it as sent (a crash in between sends it again after the restart)."""
        for status in await self.parts.outbox.notices_pending():
            text = pause_notice(status)
            for subscription in await self.parts.subscriptions.for_source(status.source_key):
                try:
                    channel = await self._channel(subscription.channel_id)
                    if channel is None:
                        continue
                    await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
                except discord.HTTPException as exc:
                    log.warning(
                        "cannot send the pause notice to %d: %s", subscription.channel_id, exc
                    )
            await self.parts.outbox.notice_sent(status.source_key)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._client.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                return None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    # -- posting --------------------------------------------------------------------------

    async def _drain_unlocked(self) -> int:
        for step in (self._send_pending_notices, self._open_pending_threads):
            try:
                await step()
            except Exception:
                log.exception("release follow-up %s failed", step.__name__)
        posted = 0
        after = 0
        blocked: set[int] = set()  # subscriptions with a failed post: keep their order
        while True:
            batch = await self.parts.outbox.pending(after_id=after, limit=100)
            if not batch:
                return posted
            for delivery in batch:
                after = delivery.id
                if delivery.subscription_id in blocked:
                    continue
                try:
                    if await self._deliver(delivery):
                        posted += 1
                    else:
                        blocked.add(delivery.subscription_id)
                except Exception:
                    blocked.add(delivery.subscription_id)
                    log.exception("announcing delivery %d failed", delivery.id)

    async def _deliver(self, delivery: PendingDelivery) -> bool:
        """Post one queued announcement with its nonce and record it; False if not posted."""
        channel = await self._channel(delivery.channel_id)
        if channel is None:
            log.warning(
                "channel %d is gone; dropping delivery %d", delivery.channel_id, delivery.id
            )
            metrics_of(self._client).announcement_failed("channel_gone")
            await self.parts.outbox.mark_attempt_failed(delivery.id, give_up=True)
            return False
        if delivery.item is not None:
            embed = card_embed(build_card(delivery.item))
        else:
            embed = fallback_embed(delivery.title, delivery.url)
        role = delivery.mention_role
        with_debate = self.parts.registry.get(ReleaseDebates) is not None
        try:
            message = await channel.send(
                content=f"<@&{role}>" if role else None,
                embed=embed,
                view=announcement_view(delivery.id, with_debate=with_debate),
                nonce=delivery.nonce,
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, users=False, roles=[discord.Object(role)]
                )
                if role
                else discord.AllowedMentions.none(),
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("cannot post delivery %d in %d: %s", delivery.id, delivery.channel_id, exc)
            metrics_of(self._client).announcement_failed("no_access")
            await self.parts.outbox.mark_attempt_failed(delivery.id, give_up=True)
            return False
        except discord.HTTPException as exc:
            give_up = delivery.attempts + 1 >= MAX_POST_ATTEMPTS
            log.warning("posting delivery %d failed (%s); give up: %s", delivery.id, exc, give_up)
            metrics_of(self._client).announcement_failed(f"discord_{exc.status}")
            await self.parts.outbox.mark_attempt_failed(delivery.id, give_up=give_up)
            return False
        settings = await self.parts.guilds.get_settings(delivery.guild_id)
        await self.record_posted(delivery, message, settings.announce_threads)
        metrics_of(self._client).announcements_posted.inc()
        if settings.announce_threads:
            await self._open_thread(delivery.id, delivery.channel_id, message.id, delivery.title)
        return True

    async def record_posted(
        self, delivery: PendingDelivery, message: discord.Message, thread_pending: bool = False
    ) -> None:
        """Record a posted announcement (the step after posting; a crash before it is
        recovered by re-sending with the same nonce), and whether its thread is still due."""
        await self.parts.outbox.mark_posted(delivery.id, message.id, thread_pending=thread_pending)

    async def _open_pending_threads(self) -> None:
        """Retry the threads a crash or a Discord error left unopened."""
        for delivery in await self.parts.outbox.threads_pending():
            if delivery.message_id is not None:
                await self._open_thread(
                    delivery.id, delivery.channel_id, delivery.message_id, delivery.title
                )

    async def _open_thread(
        self, delivery_id: int, channel_id: int, message_id: int, title: str
    ) -> None:
        """Open the thread under an announcement (`announce_threads`) and record it done;
        a Discord server error leaves it pending, retried at the next drain."""
        channel = await self._channel(channel_id)
        if (
            isinstance(channel, discord.TextChannel)
            and channel.guild.get_thread(message_id) is None
        ):
            try:
                await channel.get_partial_message(message_id).create_thread(
                    name=thread_name(title), auto_archive_duration=1440
                )
            except discord.DiscordServerError as exc:
                log.warning("cannot open a thread under %d yet (%s); will retry", message_id, exc)
                return
            except discord.HTTPException as exc:  # message gone, no access, thread exists
                log.warning("cannot open a thread under announcement %d: %s", message_id, exc)
        await self.parts.outbox.thread_done(delivery_id)
