"""Debates: starting them (slash command, weekly schedule, release radar), moving an Oxford
debate through its phases, and the closing result (arguments: :mod:`cogs.debates.arguments`).

A phase change is one transaction (:meth:`DebateRepository.advance_phase`) that only succeeds
from the phase the caller saw, so the deadline job and ``/debate next`` never both move it.
The voter count on a vote message is refreshed through this service's coalescer, so a burst
of clicks becomes a few edits.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import discord
from discord import app_commands

from bot import limits
from bot.checks import is_manager
from bot.community import GuildSettings
from bot.debates.charts import (
    describe_oxford_chart,
    describe_quick_chart,
    render_oxford_chart,
    render_quick_chart,
)
from bot.debates.coalesce import Coalescer
from bot.debates.debate import format_quick_result, parse_debate_format, quick_result
from bot.debates.durations import format_duration, parse_debate_duration
from bot.debates.options import MAX_MOTION_LENGTH, clean_motion, clean_text
from bot.debates.oxford import Phase, format_oxford_result, oxford_result, oxford_schedule
from bot.debates.records import DebateFormat, DebateRecord, DebateSource, PollRecord
from bot.debates.schedule import next_occurrence, parse_weekly_schedule
from bot.debates.topics import Topic, default_topics, find_topic, pick_random
from bot.errors import UserFacingError
from bot.slash import numbered_choices
from bot.stance_scale import Stance
from bot.text import cut
from cogs.debates.components import stance_view
from cogs.debates.embeds import (
    closing_vote_embed,
    debate_embed,
    debate_result_embed,
    discussion_embed,
)
from cogs.debates.service import (
    EDIT_INTERVAL,
    DebateParts,
    response_message_id,
    utcnow,
)

log = logging.getLogger(__name__)

#: A weekly debate whose slot passed more than this long ago (bot down) is skipped.
WEEKLY_GRACE = timedelta(hours=6)
WEEKLY_DURATION = timedelta(hours=24)
#: The longest release title in a motion (the motion itself has at most 300 characters).
RELEASE_TITLE_MAX = 200


class DebateService:
    def __init__(self, parts: DebateParts) -> None:
        self.parts = parts
        self.repo = parts.debates
        #: Voter counts on vote messages, by poll id.
        self.edits: Coalescer[int, None] = Coalescer(
            self.refresh_vote_message, interval=EDIT_INTERVAL
        )
        self._finalising: set[int] = set()
        #: Closing polls whose message is being posted (the job must not post them again).
        self._opening: set[int] = set()
        self._rng = random.Random()

    # -- starting ---------------------------------------------------------------------------

    async def start_from_command(
        self,
        interaction: discord.Interaction,
        topic_text: str,
        duration: str | None,
        format_text: str | None,
    ) -> None:
        await self.parts.require_starter(interaction)
        topic = find_topic(topic_text)
        motion = topic.motion if topic is not None else clean_motion(topic_text)
        debate_format = parse_debate_format(format_text)
        length = parse_debate_duration(duration)
        await self.start(interaction, topic, motion, debate_format, length, DebateSource.MANUAL)

    async def start(
        self,
        target: discord.Interaction | discord.PartialMessageable,
        topic: Topic | None,
        motion: str,
        debate_format: DebateFormat,
        length: timedelta,
        source: DebateSource,
    ) -> DebateRecord:
        """Store and post a debate: as the interaction's response (the member starts it), or
        sent to a server's channel (the bot starts it)."""
        creator: discord.abc.User | None
        if isinstance(target, discord.Interaction):
            guild_id, channel_id, creator = target.guild_id, target.channel_id, target.user
        else:
            guild_id, channel_id, creator = target.guild_id, target.id, self.parts.bot.user
        assert guild_id is not None and channel_id is not None and creator is not None
        now = utcnow()
        debate, poll = await self.repo.create_debate(
            guild_id,
            channel_id,
            creator.id,
            format=debate_format,
            topic=topic.id if topic else None,
            motion=motion,
            source=source,
            schedule=oxford_schedule(now, length),
            now=now,
        )
        embed = debate_embed(debate, topic=topic)
        view = stance_view(poll.id, debate.id)
        if isinstance(target, discord.Interaction):
            callback = await target.response.send_message(embed=embed, view=view)
            message_id = await response_message_id(target, callback)
        else:
            message_id = (await target.send(embed=embed, view=view)).id
        await self.repo.set_debate_message(debate.id, message_id)
        await self.parts.polls.set_poll_message(poll.id, message_id)
        return debate

    async def start_random(self, interaction: discord.Interaction) -> None:
        await self.parts.require_starter(interaction)
        assert interaction.guild_id is not None
        recent = await self.repo.recent_topics(interaction.guild_id)
        topic = pick_random(default_topics(), self._rng, exclude=recent)
        await self.start(
            interaction,
            topic,
            topic.motion,
            DebateFormat.QUICK,
            parse_debate_duration(None),
            DebateSource.MANUAL,
        )

    async def start_release_debate(
        self, interaction: discord.Interaction, title: str, url: str | None
    ) -> None:
        """A quick debate "Should <title> have been released this openly?" in the
        interaction's channel (:class:`bot.interfaces.ReleaseDebates`, for the release
        radar's "Debate this release" button); errors are raised to the caller."""
        if interaction.guild_id is None or interaction.channel_id is None:
            raise UserFacingError("Debates run inside a server channel.")
        await self.parts.require_starter(interaction)
        name = cut(clean_text(title) or "this release", RELEASE_TITLE_MAX)
        motion = clean_motion(f"Should {name} have been released this openly?")
        if url and len(motion) + len(url) + 3 <= MAX_MOTION_LENGTH and url.startswith("http"):
            motion = f"{motion} ({url})"
        await self.start(
            interaction,
            None,
            motion,
            DebateFormat.QUICK,
            parse_debate_duration(None),
            DebateSource.RELEASE,
        )

    async def debate_choices(self, guild_id: int, typed: str) -> list[app_commands.Choice[int]]:
        debates = await self.repo.search_debates(guild_id, typed, limits.CHOICES)
        return numbered_choices(
            (d.number, f"({d.phase.label.lower()}) {d.motion}") for d in debates
        )

    # -- moving on --------------------------------------------------------------------------

    async def _find_for_control(
        self, interaction: discord.Interaction, number: int
    ) -> DebateRecord:
        assert interaction.guild_id is not None
        debate = await self.repo.debate_by_number(interaction.guild_id, number)
        if debate is None:
            raise UserFacingError(
                f"There is no debate #{number} in this server: pick one from the suggestions."
            )
        settings = await self.parts.guilds.get_settings(interaction.guild_id)
        if interaction.user.id != debate.creator_id and not is_manager(interaction.user, settings):
            raise UserFacingError("Only the debate's creator or a manager can do this.")
        if debate.phase is Phase.RESULT:
            raise UserFacingError(f"Debate #{number} has already ended.")
        return debate

    async def next_phase(self, interaction: discord.Interaction, number: int) -> None:
        debate = await self._find_for_control(interaction, number)
        if debate.format is DebateFormat.QUICK:
            raise UserFacingError("A quick debate has a single vote: end it with `/debate close`.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated = await self.advance(debate, debate.phase)
        phase = updated.phase.label if updated is not None else "its next phase"
        await interaction.followup.send(
            f"Debate #{number} moved on: {phase.lower()}.", ephemeral=True
        )

    async def close_debate(self, interaction: discord.Interaction, number: int) -> None:
        debate = await self._find_for_control(interaction, number)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.advance(debate, debate.phase, to_result=True)
        await interaction.followup.send(
            f"Debate #{number} is closed; its result is posted.", ephemeral=True
        )

    async def advance(
        self, debate: DebateRecord, expected: Phase, *, to_result: bool = False
    ) -> DebateRecord | None:
        """Move ``debate`` on from ``expected`` and do what the new phase needs on Discord."""
        change = await self.repo.advance_phase(
            debate.id, expected, now=utcnow(), to_result=to_result
        )
        if change is None:
            return None
        updated = change.debate
        channel = self._channel(updated.channel_id, updated.guild_id)
        if updated.phase is Phase.DISCUSSION:
            await self._open_discussion(updated, channel)
        elif updated.phase is Phase.POST_VOTE and change.post_poll is not None:
            await self._open_closing_vote(updated, change.post_poll, channel)
        elif updated.phase is Phase.RESULT:
            await self.finalise(updated)
        return updated

    def _channel(self, channel_id: int, guild_id: int | None = None) -> discord.PartialMessageable:
        return self.parts.bot.get_partial_messageable(channel_id, guild_id=guild_id)

    async def _edit(
        self, channel: discord.PartialMessageable, message_id: int | None, **fields: object
    ) -> None:
        if message_id is None:
            return
        try:
            await channel.get_partial_message(message_id).edit(**fields)  # type: ignore[arg-type]
        except discord.HTTPException as exc:
            log.warning("could not edit debate message %s: %s", message_id, exc)

    async def _show_opening(
        self, debate: DebateRecord, channel: discord.PartialMessageable, *, voters: int = 0
    ) -> None:
        """The opening message without its stance buttons (the opening vote is over)."""
        topic = find_topic(debate.topic) if debate.topic else None
        await self._edit(
            channel,
            debate.message_id,
            embed=debate_embed(debate, voters=voters, topic=topic),
            view=stance_view(None, debate.id),
        )

    async def _open_discussion(
        self, debate: DebateRecord, channel: discord.PartialMessageable
    ) -> None:
        if debate.pre_poll_id is not None:
            self.edits.cancel(debate.pre_poll_id)
        voters = await self._voters(debate.pre_poll_id)
        await self._show_opening(debate, channel, voters=voters)
        if debate.message_id is None:
            return
        try:
            thread = await channel.get_partial_message(debate.message_id).create_thread(
                name=cut(f"Debate #{debate.number}: {debate.motion}", limits.THREAD_NAME),
                auto_archive_duration=1440,
            )
        except discord.HTTPException as exc:
            log.warning("could not open the thread of debate %s: %s", debate.id, exc)
            return
        await self.repo.set_debate_thread(debate.id, thread.id)
        await thread.send(embed=discussion_embed(debate, voters), view=stance_view(None, debate.id))

    async def _open_closing_vote(
        self, debate: DebateRecord, poll: PollRecord, channel: discord.PartialMessageable
    ) -> None:
        """Post the closing vote. Until its message is recorded the deadline job posts it
        again (:meth:`repost_closing_votes`); the nonce makes a repeated post return the
        first message instead of a second one."""
        if poll.id in self._opening:
            return
        self._opening.add(poll.id)
        try:
            await self._show_opening(debate, channel)
            try:
                message = await channel.send(
                    embed=closing_vote_embed(debate),
                    view=stance_view(poll.id, debate.id),
                    nonce=f"agora-dpv-{poll.id}",
                )
            except discord.HTTPException as exc:
                log.warning(
                    "could not post the closing vote of debate %s (the deadline job tries "
                    "again): %s",
                    debate.id,
                    exc,
                )
                return
            await self.parts.polls.set_poll_message(poll.id, message.id)
        finally:
            self._opening.discard(poll.id)
        if debate.thread_id is not None:
            thread = self._channel(debate.thread_id, debate.guild_id)
            try:
                await thread.send(
                    f"The closing vote of debate #{debate.number} is open in <#{debate.channel_id}>."
                )
            except discord.HTTPException as exc:
                log.warning("could not post in the thread of debate %s: %s", debate.id, exc)

    async def _voters(self, poll_id: int | None) -> int:
        if poll_id is None:
            return 0
        return len({vote.member_id for vote in await self.parts.polls.votes(poll_id)})

    def vote_counted(self, poll_id: int) -> None:
        """A member's stance changed in a debate vote: refresh its voter count (coalesced)."""
        if not self.edits.closed:
            self.edits.submit(poll_id, None)

    async def refresh_vote_message(self, poll_id: int, _state: None) -> None:
        """Coalesced: the voter count on a debate's (opening or closing) vote message."""
        poll = await self.parts.polls.get_poll(poll_id)
        if poll is None or poll.debate_id is None or poll.message_id is None or poll.closed:
            return
        debate = await self.repo.get_debate(poll.debate_id)
        if debate is None or debate.phase is Phase.RESULT:
            return
        voters = await self._voters(poll.id)
        if poll.id == debate.post_poll_id:
            embed = closing_vote_embed(debate, voters=voters)
        else:
            topic = find_topic(debate.topic) if debate.topic else None
            embed = debate_embed(debate, voters=voters, topic=topic)
        await self._edit(self._channel(poll.channel_id), poll.message_id, embed=embed)

    async def finalise(self, debate: DebateRecord) -> None:
        """Post a finished debate's result once: the verdict, the chart and the strongest
        arguments; take the voting buttons off its messages."""
        if debate.id in self._finalising or debate.result_message_id is not None:
            return
        self._finalising.add(debate.id)
        try:
            for poll_id in (debate.pre_poll_id, debate.post_poll_id):
                if poll_id is not None:
                    self.edits.cancel(poll_id)
            channel = self._channel(debate.channel_id, debate.guild_id)
            arguments = await self.repo.arguments(debate.id)
            pre = await self._stance_votes(debate.pre_poll_id)
            if debate.format is DebateFormat.QUICK:
                quick = quick_result(pre)
                embed = debate_result_embed(
                    debate, format_quick_result(quick), arguments, describe_quick_chart(quick)
                )
                chart = await self.parts.charts.render(render_quick_chart, quick, debate.motion)
            else:
                judged = oxford_result(pre, await self._stance_votes(debate.post_poll_id))
                embed = debate_result_embed(
                    debate, format_oxford_result(judged), arguments, describe_oxford_chart(judged)
                )
                chart = await self.parts.charts.render(render_oxford_chart, judged, debate.motion)
            # The vote messages first: the edits can be repeated, and until the result is
            # recorded the deadline job runs all of this again (the nonce dedupes the post).
            # Recorded first, a crash before the edits left the voting buttons up for good.
            topic = find_topic(debate.topic) if debate.topic else None
            await self._edit(
                channel, debate.message_id, embed=debate_embed(debate, topic=topic), view=None
            )
            if debate.post_poll_id is not None:
                post_poll = await self.parts.polls.get_poll(debate.post_poll_id)
                if post_poll is not None:
                    await self._edit(channel, post_poll.message_id, view=None)
            posted = await self.parts.post_result(channel, embed, chart, "debate", debate.id)
            await self.repo.set_debate_result_message(debate.id, posted)
        finally:
            self._finalising.discard(debate.id)

    async def _stance_votes(self, poll_id: int | None) -> dict[int, Stance]:
        return await self.parts.polls.stance_votes(poll_id) if poll_id is not None else {}

    async def run_due(self, now: datetime) -> None:
        """Advance debates whose phase ended (several phases if the bot was down through
        them) and post results that were never posted (this process's communities)."""
        shards = self.parts.shards
        for debate in shards.held(await self.repo.due_debates(now)):
            current: DebateRecord | None = debate
            for _ in range(len(Phase)):
                if current is None or current.phase is Phase.RESULT:
                    break
                deadline = current.deadline
                if deadline is None or deadline > now:
                    break
                try:
                    current = await self.advance(current, current.phase)
                except Exception:
                    log.exception("could not advance debate %s", debate.id)
                    break
        for debate in shards.held(await self.repo.unposted_debates()):
            try:
                await self.finalise(debate)
            except Exception:
                log.exception("could not post the result of debate %s", debate.id)
        await self.repost_closing_votes()

    async def repost_closing_votes(self) -> None:
        """Post the closing votes whose post failed (Discord error, or a crash between the
        phase change and the post): without a message nobody could vote in them."""
        for debate, poll in await self.repo.unposted_closing_votes():
            if not self.parts.shards.holds(debate.guild_id):
                continue
            channel = self._channel(debate.channel_id, debate.guild_id)
            try:
                await self._open_closing_vote(debate, poll, channel)
            except Exception:
                log.exception("could not post the closing vote of debate %s", debate.id)

    # -- weekly -----------------------------------------------------------------------------

    async def run_weekly(self, now: datetime) -> None:
        """Start each community's weekly debate once per slot; see the README for the rules.
        The settings come in one query for the communities whose weekly debate may be on."""
        scheduled = await self.parts.guilds.with_weekly_debate()
        for guild in list(self.parts.bot.guilds):
            settings = scheduled.get(guild.id)
            if settings is None:
                continue
            try:
                await self._weekly_for(guild, settings, now)
            except Exception:
                log.exception("weekly debate of guild %s failed", guild.id)

    async def _weekly_for(
        self, guild: discord.Guild, settings: GuildSettings, now: datetime
    ) -> None:
        schedule = parse_weekly_schedule(settings.weekly_debate)
        if not schedule.enabled or settings.debate_channel is None:
            return
        due = next_occurrence(schedule, now - timedelta(days=7))
        assert due is not None
        last = await self.repo.last_weekly_slot(guild.id)
        if last is not None and last >= due:
            return
        if not await self.repo.claim_weekly_slot(guild.id, due):
            return
        if last is None or now - due > WEEKLY_GRACE:
            # First time we see this schedule (the slot before it was set), or a slot
            # missed long ago while the bot was down: wait for the next one.
            return
        recent = await self.repo.recent_topics(guild.id)
        topic = pick_random(default_topics(), self._rng, exclude=recent)
        await self.start(
            self._channel(settings.debate_channel, guild.id),
            topic,
            topic.motion,
            DebateFormat.OXFORD,
            WEEKLY_DURATION,
            DebateSource.WEEKLY,
        )
        log.info(
            "started the weekly debate of guild %s (%s)", guild.id, format_duration(WEEKLY_DURATION)
        )
