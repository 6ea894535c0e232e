"""`/releases …` and the one release radar loop of the bot.

A cycle: every unique due source is fetched once (`Radar.run_cycle`); for each success the
new state and one pending delivery per (matching subscription, new item) are stored in one
transaction; then the pending deliveries (the outbox) are posted oldest first, each with its
deterministic nonce, and recorded. See `bot/migrations/0003_releases.sql`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import require_manager
from bot.errors import UserFacingError
from bot.releases import (
    AnnouncementCard,
    Radar,
    ReleaseFilter,
    SourceError,
    SourceOutcome,
    backoff_seconds,
    build_card,
    parse_filter,
    parse_source,
    should_pause,
)
from bot.repositories.releases import (
    PendingDelivery,
    ReleaseRepository,
    SourceStatus,
    SubscriptionLimitReached,
)
from bot.text import cut, safe_line
from cogs.releases._views import announcement_view, dynamic_items, release_debate_hook, thread_name

if TYPE_CHECKING:
    from bot.client import AgoraBot

log = logging.getLogger(__name__)

#: A community may follow at most this many (source, channel) pairs.
MAX_SUBSCRIPTIONS_PER_GUILD = 50
#: A post that keeps failing (Discord errors other than a missing channel) is dropped after this.
MAX_POST_ATTEMPTS = 5
#: How many items `/releases preview` shows (one message holds 6000 embed characters).
PREVIEW_COUNT = 3
#: Discord's limit for one message's text.
CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000


def code(text: str) -> str:
    """Inline code that a backtick in `text` cannot break."""
    return "`" + text.replace("`", "\u02cb") + "`"


def card_embed(card: AnnouncementCard) -> discord.Embed:
    """The embed of an announcement card (the card already respects Discord's limits)."""
    url = card.url if card.url and card.url.startswith(("https://", "http://")) else None
    embed = discord.Embed(
        title=card.title, url=url, description=card.description or None, colour=card.color
    )
    for item in card.fields:
        embed.add_field(name=item.name, value=item.value, inline=item.inline)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


def chunk_lines(lines: list[str], limit: int = CONTENT_LIMIT) -> list[str]:
    """Join `lines` into as few messages as possible, each at most `limit` characters
    (a longer line is cut)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = cut(line, limit)
        if current and size + 1 + len(line) > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        chunks.append("\n".join(current))
    return chunks


@dataclass
class CycleReport:
    """What one `run_cycle_once` did (for tests and logs)."""

    fetched: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    paused: list[str] = field(default_factory=list)
    queued: int = 0
    posted: int = 0


class ReleasesCog(commands.Cog, name="Releases"):
    """Follow release sources into channels; the radar loop announces new items once."""

    releases = app_commands.Group(
        name="releases",
        description="Announce new open models and AI framework releases in this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: AgoraBot) -> None:
        self.bot = bot
        self.repo = ReleaseRepository(bot.db)
        self.poll_seconds = float(bot.settings.agora_release_poll_seconds)
        self._radar: Radar | None = None
        self._cycle_lock = asyncio.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def radar(self) -> Radar:
        """The bot-wide radar (open between `cog_load` and `cog_unload`)."""
        if self._radar is None:
            raise RuntimeError("the release radar is not running")
        return self._radar

    async def cog_load(self) -> None:
        radar = Radar(self.bot.settings.radar_config())
        await radar.start()
        self._radar = radar
        self.bot.add_dynamic_items(*dynamic_items())
        self.radar_loop.change_interval(seconds=self.poll_seconds)
        self.radar_loop.start()

    async def cog_unload(self) -> None:
        self.radar_loop.cancel()
        task = self.radar_loop.get_task()
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.bot.remove_dynamic_items(*dynamic_items())
        if self._radar is not None:
            await self._radar.close()
            self._radar = None

    # -- the loop -------------------------------------------------------------------------

    @tasks.loop(seconds=300)
    async def radar_loop(self) -> None:
        try:
            if self.radar_loop.current_loop == 0:
                # Right after a (re)start: first finish announcements a crash interrupted,
                # while Discord still remembers their nonces; then fetch as usual.
                await self.drain_outbox()
            await self.run_cycle_once()
        except Exception:  # the loop must never die
            log.exception("release radar cycle failed")

    @radar_loop.before_loop
    async def _before_radar_loop(self) -> None:
        await self.bot.wait_until_ready()

    async def run_cycle_once(self, *, ignore_backoff: bool = False) -> CycleReport:
        """One radar cycle now: fetch each due source once, queue, post. Never raises for a
        single source or item. `ignore_backoff` also fetches sources waiting after failures
        (paused ones stay paused)."""
        report = CycleReport()
        async with self._cycle_lock:
            now = time.time()
            due = await self.repo.due_sources(now, ignore_backoff=ignore_backoff)
            if due:
                outcomes = await self.radar.run_cycle({s.source_key: s.state for s in due})
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
        if outcome.error is not None or outcome.result is None:
            error = outcome.error or SourceError("internal", "no result")
            await self._handle_failure(status, error, report)
            return
        result = outcome.result
        report.fetched.append(key)
        subscriptions = await self.repo.for_source(key)
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
        report.queued += await self.repo.record_success(
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
        pause = should_pause(failures)
        report.failed[key] = error.kind
        log.warning("release source %s failed (%d in a row): %s", key, failures, error)
        newly_paused = await self.repo.record_failure(
            key,
            failures=failures,
            next_attempt_at=time.time() + backoff_seconds(failures, self.poll_seconds),
            pause=pause,
            error=f"{error.kind}: {error.message}",
        )
        if newly_paused:
            # The notice is pending in the same transaction; the drain that ends this
            # cycle sends it (and the first drain after a crash, if it never went out).
            report.paused.append(key)

    async def _send_pending_notices(self) -> None:
        """Send the pause notice of every newly paused source to each channel following it,
        then record it as sent (a crash in between sends it again after the restart)."""
        for status in await self.repo.notices_pending():
            text = cut(
                f"\N{WARNING SIGN} The release source {code(status.source_key)} failed "
                f"{status.failures} times in a row (last error: "
                f"{safe_line(status.last_error or 'unknown')}) and is paused. "
                "A manager can resume it with `/releases resume` once it works again.",
                CONTENT_LIMIT,
            )
            for subscription in await self.repo.for_source(status.source_key):
                try:
                    channel = await self._channel(subscription.channel_id)
                    if channel is None:
                        continue
                    await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
                except discord.HTTPException as exc:
                    log.warning(
                        "cannot send the pause notice to %d: %s", subscription.channel_id, exc
                    )
            await self.repo.notice_sent(status.source_key)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable | None:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
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
            batch = await self.repo.pending(after_id=after, limit=100)
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
            await self.repo.mark_attempt_failed(delivery.id, give_up=True)
            return False
        if delivery.item is not None:
            embed = card_embed(build_card(delivery.item))
        else:
            embed = discord.Embed(title=cut(delivery.title, 256) or "—", url=delivery.url)
        role = delivery.mention_role
        view = announcement_view(delivery.id, with_debate=release_debate_hook(self.bot) is not None)
        try:
            message = await channel.send(
                content=f"<@&{role}>" if role else None,
                embed=embed,
                view=view,
                nonce=delivery.nonce,
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, users=False, roles=[discord.Object(role)]
                )
                if role
                else discord.AllowedMentions.none(),
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("cannot post delivery %d in %d: %s", delivery.id, delivery.channel_id, exc)
            await self.repo.mark_attempt_failed(delivery.id, give_up=True)
            return False
        except discord.HTTPException as exc:
            give_up = delivery.attempts + 1 >= MAX_POST_ATTEMPTS
            log.warning("posting delivery %d failed (%s); give up: %s", delivery.id, exc, give_up)
            await self.repo.mark_attempt_failed(delivery.id, give_up=give_up)
            return False
        settings = await self.bot.guild_repo.get_settings(delivery.guild_id)
        await self.record_posted(delivery, message, settings.announce_threads)
        if settings.announce_threads:
            await self._open_thread(delivery.id, delivery.channel_id, message.id, delivery.title)
        return True

    async def record_posted(
        self, delivery: PendingDelivery, message: discord.Message, thread_pending: bool = False
    ) -> None:
        """Record a posted announcement (the step after posting; a crash before it is
        recovered by re-sending with the same nonce), and whether its thread is still due."""
        await self.repo.mark_posted(delivery.id, message.id, thread_pending=thread_pending)

    async def _open_pending_threads(self) -> None:
        """Retry the threads a crash or a Discord error left unopened."""
        for delivery in await self.repo.threads_pending():
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
        await self.repo.thread_done(delivery_id)

    # -- commands -------------------------------------------------------------------------

    async def source_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The sources this community follows (at most 25; keys over 100 characters are
        typed rather than picked, as Discord caps a choice at 100)."""
        if interaction.guild_id is None:
            return []
        keys = await self.repo.guild_source_keys(interaction.guild_id, current.strip()[:100], 25)
        return [app_commands.Choice(name=k, value=k) for k in keys if len(k) <= 100][:25]

    @releases.command(name="follow", description="Announce a source's new releases in a channel")
    @app_commands.describe(
        source="hf:<author>, github:<owner>/<repo> or feed:<URL> (a web address works too)",
        channel="The channel where new releases are announced",
        mention_role="A role pinged with each announcement (the only ping Agora makes)",
        filter="Optional, e.g. include:llama* exclude:*gguf* min_params:7B license:permissive",
    )
    async def follow(
        self,
        interaction: discord.Interaction,
        source: app_commands.Range[str, 1, 300],
        channel: discord.TextChannel,
        mention_role: discord.Role | None = None,
        filter: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None and interaction.guild_id is not None  # guild_only
        require_manager(interaction, await self.bot.guild_repo.get_settings(guild.id))
        parse_source(source)  # shape errors answer at once
        release_filter = parse_filter(filter)
        if mention_role is not None and (mention_role.is_default() or mention_role.managed):
            raise UserFacingError(
                "Pick a normal role to mention (not @everyone or a bot's role), or leave it empty."
            )
        me = guild.me
        if me is not None:
            permissions = channel.permissions_for(me)
            if not (permissions.send_messages and permissions.embed_links):
                raise UserFacingError(
                    f"I cannot post embeds in {channel.mention}: give me Send Messages and "
                    "Embed Links there, then try again."
                )
        await interaction.response.defer(ephemeral=True, thinking=True)
        key = await self.radar.validate_source(source)
        await self.bot.guild_repo.ensure(guild.id)
        try:
            subscription, created = await self.repo.follow(
                guild.id,
                channel.id,
                key,
                mention_role=mention_role.id if mention_role else None,
                filter_text=release_filter.to_string(),
                created_by=interaction.user.id,
                limit=MAX_SUBSCRIPTIONS_PER_GUILD,
            )
        except SubscriptionLimitReached:
            raise UserFacingError(
                f"This server already has {MAX_SUBSCRIPTIONS_PER_GUILD} subscriptions "
                "(a source followed in a channel counts once per channel); "
                "unfollow one first."
            ) from None
        verb = "Now following" if created else "Updated"
        lines = [f"{verb} {code(key)} in {channel.mention}."]
        lines.append(f"Filter: {code(str(release_filter))}")
        lines.append(f"Mention: {mention_role.mention if mention_role else 'nobody'}")
        if created:
            lines.append(
                "What the source lists now is recorded as a baseline and not announced; "
                "new releases are posted from the next check on "
                f"(every {int(self.poll_seconds)} s)."
            )
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @releases.command(name="unfollow", description="Stop announcing a source")
    @app_commands.describe(
        source="A source this server follows",
        channel="Only stop in this channel (default: every channel)",
    )
    @app_commands.autocomplete(source=source_autocomplete)
    async def unfollow(
        self,
        interaction: discord.Interaction,
        source: app_commands.Range[str, 1, 300],
        channel: discord.TextChannel | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        require_manager(interaction, await self.bot.guild_repo.get_settings(interaction.guild_id))
        key = parse_source(source)
        removed = await self.repo.unfollow(
            interaction.guild_id, key, channel.id if channel else None
        )
        if not removed:
            where = f" in {channel.mention}" if channel else ""
            raise UserFacingError(f"This server does not follow {code(key)}{where}.")
        await interaction.response.send_message(
            f"Stopped following {code(key)} ({removed} channel{'s' if removed != 1 else ''}).",
            ephemeral=True,
        )

    @releases.command(name="list", description="The sources this server follows")
    async def list_subscriptions(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        rows = await self.repo.for_guild(interaction.guild_id)
        if not rows:
            await interaction.response.send_message(
                "This server follows no release source yet: try `/releases follow`.",
                ephemeral=True,
            )
            return
        lines = []
        for subscription, status in rows:
            parts = [f"{code(subscription.source_key)} → <#{subscription.channel_id}>"]
            if subscription.mention_role:
                parts.append(f"mentions <@&{subscription.mention_role}>")
            if subscription.filter_text:
                parts.append(f"filter {code(subscription.filter_text)}")
            if status is not None and status.paused:
                parts.append(
                    f"**paused** ({safe_line(status.last_error or 'failures')[:120]}): "
                    "`/releases resume`"
                )
            elif status is not None and status.failures:
                parts.append(f"{status.failures} failure(s), retrying")
            elif not subscription.baselined:
                parts.append("waiting for its first check")
            lines.append("• " + " · ".join(parts))
        first, *rest = chunk_lines(lines)
        none = discord.AllowedMentions.none()
        await interaction.response.send_message(first, ephemeral=True, allowed_mentions=none)
        for chunk in rest:
            await interaction.followup.send(chunk, ephemeral=True, allowed_mentions=none)

    @releases.command(name="resume", description="Resume a source paused after failures")
    @app_commands.describe(source="A paused source this server follows")
    @app_commands.autocomplete(source=source_autocomplete)
    async def resume(
        self, interaction: discord.Interaction, source: app_commands.Range[str, 1, 300]
    ) -> None:
        assert interaction.guild_id is not None
        require_manager(interaction, await self.bot.guild_repo.get_settings(interaction.guild_id))
        key = parse_source(source)
        status = await self.repo.source_status(key)
        if not await self.repo.resume(interaction.guild_id, key):
            raise UserFacingError(f"This server does not follow {code(key)}.")
        was = "was paused" if status is not None and status.paused else "was not paused"
        await interaction.response.send_message(
            f"{code(key)} {was}; it will be checked at the next cycle.", ephemeral=True
        )

    @releases.command(name="preview", description="See a source's newest items; posts nothing")
    @app_commands.describe(source="hf:<author>, github:<owner>/<repo> or feed:<URL>")
    @app_commands.autocomplete(source=source_autocomplete)
    async def preview(
        self, interaction: discord.Interaction, source: app_commands.Range[str, 1, 300]
    ) -> None:
        parse_source(source)
        await interaction.response.defer(ephemeral=True, thinking=True)
        key = await self.radar.validate_source(source)
        try:
            shown = await self.radar.preview(key, count=PREVIEW_COUNT)
        except SourceError as exc:
            raise UserFacingError(
                f"{code(key)} could not be fetched ({exc.kind}): {safe_line(exc.message)}"
            ) from None
        if not shown:
            await interaction.followup.send(f"{code(key)} lists nothing yet.", ephemeral=True)
            return
        embeds: list[discord.Embed] = []
        total = 0
        for _, card in reversed(shown):  # newest first, as many as fit one message
            if total + card.total_length > EMBED_TOTAL_LIMIT:
                break
            embeds.append(card_embed(card))
            total += card.total_length
        await interaction.followup.send(
            f"The newest {len(embeds)} item(s) of {code(key)}, as they would be announced "
            "(nothing was posted):",
            embeds=embeds,
            ephemeral=True,
        )

    @releases.command(name="latest", description="The last release announcements in this server")
    @app_commands.describe(count="How many (1–10, default 5)")
    async def latest(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10] = 5
    ) -> None:
        assert interaction.guild_id is not None
        deliveries = await self.repo.latest_for_guild(interaction.guild_id, count)
        if not deliveries:
            await interaction.response.send_message(
                "No release has been announced here yet.", ephemeral=True
            )
            return
        lines = []
        for delivery in deliveries:
            link = (
                f"https://discord.com/channels/{delivery.guild_id}/"
                f"{delivery.channel_id}/{delivery.message_id}"
            )
            when = f"<t:{int(delivery.posted_at or 0)}:R>"
            title = discord.utils.escape_markdown(cut(delivery.title, 150))
            lines.append(f"• [{title}]({link}) · {code(delivery.source_key[:80])} · {when}")
        embed = discord.Embed(
            title="Latest release announcements",
            description=cut("\n".join(lines), 4096),
            colour=discord.Colour.blurple(),
        )
        await interaction.response.send_message(embed=embed)
