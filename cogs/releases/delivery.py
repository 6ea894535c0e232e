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
from typing import Any, NamedTuple

import discord
from discord.http import MultipartParameters

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
from bot.releases.ledger import LEDGER_DAYS, refusal
from bot.releases.policy import MAX_POST_ATTEMPTS
from bot.releases.records import Delivery, PendingDelivery, SourceStatus
from bot.text import safe_line
from cogs.releases.components import AnnouncementButtons
from cogs.releases.embeds import (
    blocked_notice,
    card_embed,
    fallback_embed,
    pause_notice,
    thread_name,
)
from cogs.releases.permissions import missing_permissions
from cogs.releases.service import Collaborators

log = logging.getLogger(__name__)

#: The name of the feature's background job (see `bot.features.JobRunner.status`).
RADAR_JOB = "releases.radar"
#: The job that keeps the delivery ledger to its last `LEDGER_DAYS` days, and how often it runs.
LEDGER_JOB = "releases.ledger"
LEDGER_EXPIRY_SECONDS = 6 * 60 * 60


#: How many queued announcements are claimed, posted, then recorded together.
DRAIN_PAGE = 100
#: How long a claim on a page of announcements holds at most (see `OutboxRepository.claim`):
#: well above the time to post a page, short enough that another process takes over the page of
#: a process that died within a radar cycle (the lease is never longer than the cycle). A page
#: still being posted when it lapses is at worst posted twice with the same nonces, which
#: Discord answers with the messages already there.
CLAIM_LEASE_SECONDS = 30.0


class Posted(NamedTuple):
    """An announcement posted in this drain, not recorded yet."""

    delivery: PendingDelivery
    message_id: int
    thread_pending: bool


class _DrainRun:
    """What one drain builds once and reuses for every announcement: each item's embed,
    serialised once per item however many subscriptions it goes to, and the buttons (only
    their ids change). Each announcement's request body is then a few dictionary entries."""

    def __init__(self, *, with_debate: bool) -> None:
        self.buttons = AnnouncementButtons(with_debate=with_debate)
        self._embeds: dict[tuple[str, str], dict[str, Any]] = {}

    def embed(self, delivery: PendingDelivery) -> dict[str, Any]:
        key = (delivery.source_key, delivery.item_id)
        cached = self._embeds.get(key)
        if cached is None:
            embed = (
                card_embed(build_card(delivery.item))
                if delivery.item is not None
                else fallback_embed(delivery.title, delivery.url)
            )
            cached = self._embeds[key] = dict(embed.to_dict())
        return cached

    def message(self, delivery: PendingDelivery) -> dict[str, Any]:
        """The body of the announcement's `POST /channels/{id}/messages`: what
        `Messageable.send` would send, without building it again per subscription (and
        without the `Message` object and view bookkeeping discord.py makes of the answer,
        which the radar never reads: it keeps the message's id)."""
        role = delivery.mention_role
        mentions = (
            discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role)])
            if role
            else discord.AllowedMentions.none()
        )
        return {
            "content": f"<@&{role}>" if role else None,
            "embeds": [self.embed(delivery)],
            "components": self.buttons.for_delivery(delivery.id).to_components(),
            "nonce": delivery.nonce,
            "enforce_nonce": True,  # Discord returns the earlier message for a known nonce
            "tts": False,
            "allowed_mentions": mentions.to_dict(),
        }


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
        """The background job the core runs every `poll_seconds` once the bot is ready, in the
        cluster's leader only (one cycle for every process; see `bot.cluster`)."""
        return Job(RADAR_JOB, self.parts.poll_seconds, self.run_job, once_per_cluster=True)

    def ledger_job(self) -> Job:
        """The background job that deletes ledger rows older than `LEDGER_DAYS` (in the
        cluster's leader: the ledger is every community's)."""
        return Job(LEDGER_JOB, LEDGER_EXPIRY_SECONDS, self.expire_ledger, once_per_cluster=True)

    async def expire_ledger(self) -> int:
        return await self.parts.ledger.expire(time.time() - LEDGER_DAYS * 86400)

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
        skipped: list[tuple[int, str, str]] = []
        for item in result.new:  # oldest first
            for subscription in ready:
                rule = filters[subscription.id].rejection(item)
                if rule is None:
                    announce.append((subscription.id, item))
                else:
                    skipped.append((subscription.id, item.item_id, rule))
        report.queued += await self.parts.outbox.record_success(
            key,
            result.state,
            next_attempt_at=0.0,
            announce=announce,
            baselined=[s.id for s in subscriptions if not s.baselined],
            # The ledger: what is new, or everything listed at the source's baseline.
            listed=result.new if status.state and status.state.baselined else result.items,
            skipped=skipped,
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
                    channel = await self._channel(subscription.guild_id, subscription.channel_id)
                    if channel is None:
                        continue
                    await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
                except discord.HTTPException as exc:
                    log.warning(
                        "cannot send the pause notice to %d: %s", subscription.channel_id, exc
                    )
            await self.parts.outbox.notice_sent(status.source_key)

    async def _channel(self, guild_id: int, channel_id: int) -> discord.abc.Messageable | None:
        """The channel from the cache, through its guild (`Client.get_channel` searches every
        guild: O(communities) per call), else from Discord; None when it is gone or hidden."""
        guild = self._client.get_guild(guild_id)
        channel: object = guild.get_channel_or_thread(channel_id) if guild is not None else None
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
        run = _DrainRun(with_debate=self.parts.registry.get(ReleaseDebates) is not None)
        posted = 0
        after = 0
        blocked: set[int] = set()  # subscriptions with a failed post: keep their order
        while True:
            batch = await self.parts.outbox.claim(
                self.parts.claimer,
                lease_seconds=min(CLAIM_LEASE_SECONDS, self.parts.poll_seconds),
                after_id=after,
                limit=DRAIN_PAGE,
            )
            if not batch:
                return posted
            sent: list[Posted] = []
            for delivery in batch:
                after = delivery.id
                if delivery.subscription_id in blocked:
                    continue
                try:
                    message_id = await self._post(delivery, run)
                except Exception:
                    message_id = None
                    log.exception("announcing delivery %d failed", delivery.id)
                if message_id is None:
                    blocked.add(delivery.subscription_id)
                    continue
                sent.append(Posted(delivery, message_id, delivery.announce_threads))
            if not sent:
                continue
            try:
                await self.record_posted(sent)
            except Exception:
                # Still pending: the next drain re-sends them with the same nonces, and
                # Discord answers with the messages already posted.
                log.exception("recording %d posted announcements failed", len(sent))
                return posted
            posted += len(sent)
            metrics_of(self._client).announcements_posted.inc(len(sent))
            for done in sent:
                if done.thread_pending:
                    await self._open_thread(done.delivery, done.message_id)

    async def _post(self, delivery: PendingDelivery, run: _DrainRun) -> int | None:
        """Post one queued announcement with its nonce; its message id, or None (recorded)
        if it was not posted."""
        channel = await self._channel(delivery.guild_id, delivery.channel_id)
        if channel is None:
            metrics_of(self._client).announcement_failed("channel_gone")
            await self._refused(delivery, refusal(unknown_channel=True, missing=[]), None)
            return None
        body = MultipartParameters(payload=run.message(delivery), multipart=None, files=None)
        try:
            data = await self._client.http.send_message(delivery.channel_id, params=body)
            return int(data["id"])
        except (discord.NotFound, discord.Forbidden) as exc:
            reason = refusal(
                unknown_channel=isinstance(exc, discord.NotFound),
                missing=missing_permissions(channel, threads=False),
                code=exc.code,
            )
            log.warning("cannot post delivery %d in %d: %s", delivery.id, delivery.channel_id, exc)
            metrics_of(self._client).announcement_failed("no_access")
            await self._refused(delivery, reason, channel)
            return None
        except discord.HTTPException as exc:
            give_up = delivery.attempts + 1 >= MAX_POST_ATTEMPTS
            log.warning("posting delivery %d failed (%s); give up: %s", delivery.id, exc, give_up)
            metrics_of(self._client).announcement_failed(f"discord_{exc.status}")
            error = f"HTTP {exc.status}" + (f" ({safe_line(exc.text)[:120]})" if exc.text else "")
            await self.parts.outbox.mark_attempt_failed(delivery.id, give_up=give_up, error=error)
            return None

    async def _refused(
        self,
        delivery: PendingDelivery,
        reason: str,
        channel: discord.abc.Messageable | None,
    ) -> None:
        """A post Discord refused for good (no permission, no channel): the announcement
        leaves the queue with the reason, the subscription is marked blocked, and the first
        time, one notice goes to the channel if it can still be reached."""
        await self.parts.outbox.mark_attempt_failed(delivery.id, give_up=True, error=reason)
        if not await self.parts.outbox.block(delivery.subscription_id, reason):
            return
        if channel is None:
            return
        where = channel.mention if isinstance(channel, discord.abc.GuildChannel) else "this channel"
        try:
            await channel.send(
                blocked_notice(delivery.source_key, reason, where),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            log.warning("cannot tell %d that its posts are refused: %s", delivery.channel_id, exc)

    async def record_posted(self, posted: list[Posted]) -> None:
        """Record posted announcements, a page at a time (the step after posting; a crash
        before it is recovered by re-sending with the same nonces), and whether their thread
        is still due; a subscription that was blocked posts again and is no longer."""
        await self.parts.outbox.mark_posted(
            [(p.delivery.id, p.message_id, p.thread_pending) for p in posted],
            unblock={p.delivery.subscription_id for p in posted if p.delivery.blocked},
        )

    async def _open_pending_threads(self) -> None:
        """Retry the threads a crash or a Discord error left unopened."""
        for delivery in await self.parts.outbox.threads_pending():
            if delivery.message_id is not None:
                await self._open_thread(delivery, delivery.message_id)

    async def _open_thread(self, delivery: Delivery | PendingDelivery, message_id: int) -> None:
        """Open the thread under an announcement (`announce_threads`) and record it done;
        a Discord server error leaves it pending, retried at the next drain."""
        channel = await self._channel(delivery.guild_id, delivery.channel_id)
        if (
            isinstance(channel, discord.TextChannel)
            and channel.guild.get_thread(message_id) is None
        ):
            try:
                await channel.get_partial_message(message_id).create_thread(
                    name=thread_name(delivery.title), auto_archive_duration=1440
                )
            except discord.DiscordServerError as exc:
                log.warning("cannot open a thread under %d yet (%s); will retry", message_id, exc)
                return
            except discord.HTTPException as exc:  # message gone, no access, thread exists
                log.warning("cannot open a thread under announcement %d: %s", message_id, exc)
        await self.parts.outbox.thread_done(delivery.id)
