"""Debates: starting them (slash command, weekly schedule, release radar), moving an Oxford
debate through its phases, arguments and upvotes, and the closing result.

A phase change is one transaction (:meth:`DebateRepository.advance_phase`) that only succeeds
from the phase the caller saw, so the deadline loop and ``/debate next`` never both move it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.checks import is_manager
from bot.debates.arguments import can_upvote, new_argument
from bot.debates.debate import (
    DebateFormat,
    format_quick_result,
    parse_debate_format,
    quick_result,
)
from bot.debates.durations import format_duration, parse_debate_duration
from bot.debates.options import MAX_MOTION_LENGTH, clean_motion, clean_text
from bot.debates.oxford import Phase, format_oxford_result, oxford_result, oxford_schedule
from bot.debates.schedule import next_occurrence, parse_weekly_schedule
from bot.debates.topics import (
    THEMES,
    Topic,
    default_topics,
    find_topic,
    pick_random,
    search_topics,
)
from bot.errors import UserFacingError
from bot.repositories.debates import DebateRecord, DebateRepository, PollRecord
from cogs.debates._embeds import (
    FIELD_MAX,
    argument_embed,
    closing_vote_embed,
    debate_embed,
    debate_result_embed,
)
from cogs.debates._polls import response_message_id, utcnow
from cogs.debates._views import ArgumentModal, stance_view, upvote_view

if TYPE_CHECKING:
    from bot.client import AgoraBot
    from cogs.debates._cog import DebatesCog

log = logging.getLogger(__name__)

#: A weekly debate whose slot passed more than this long ago (bot down) is skipped.
WEEKLY_GRACE = timedelta(hours=6)
WEEKLY_DURATION = timedelta(hours=24)
RELEASE_TITLE_MAX = 200
#: The refusal of a button whose custom id names another server's debate or argument.
FOREIGN_BUTTON = "This button belongs to another server; nothing was changed."


class DebateService:
    def __init__(self, cog: DebatesCog) -> None:
        self.cog = cog
        self.bot: AgoraBot = cog.bot
        self.repo: DebateRepository = cog.repo
        self._finalising: set[int] = set()
        #: Closing polls whose message is being posted (the loop must not post them again).
        self._opening: set[int] = set()
        self._rng = random.Random()

    # -- starting ---------------------------------------------------------------------------

    def resolve_topic(self, text: str) -> tuple[Topic | None, str]:
        """A bank topic (by id or motion) or a free-text motion, cleaned and length-checked."""
        topic = find_topic(text)
        if topic is not None:
            return topic, topic.motion
        return None, clean_motion(text)

    async def start_from_command(
        self,
        interaction: discord.Interaction,
        topic_text: str,
        duration: str | None,
        format_text: str | None,
        *,
        source: str = "manual",
    ) -> None:
        await self.cog.polls.require_starter(interaction)
        topic, motion = self.resolve_topic(topic_text)
        debate_format = parse_debate_format(format_text)
        length = parse_debate_duration(duration)
        await self.start(interaction, topic, motion, debate_format, length, source=source)

    async def start(
        self,
        target: discord.Interaction | discord.abc.Messageable,
        topic: Topic | None,
        motion: str,
        debate_format: DebateFormat,
        length: timedelta,
        *,
        source: str,
        guild_id: int | None = None,
        channel_id: int | None = None,
        creator_id: int | None = None,
    ) -> DebateRecord:
        """Store and post a debate: as the interaction's response, or sent to a channel."""
        if isinstance(target, discord.Interaction):
            guild_id, channel_id, creator_id = (
                target.guild_id,
                target.channel_id,
                target.user.id,
            )
        assert guild_id is not None and channel_id is not None and creator_id is not None
        now = utcnow()
        schedule = oxford_schedule(now, length)
        debate, poll = await self.repo.create_debate(
            guild_id,
            channel_id,
            creator_id,
            format=debate_format.value,
            topic=topic.id if topic else None,
            motion=motion,
            source=source,
            schedule=schedule,
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
        await self.repo.set_poll_message(poll.id, message_id)
        return debate

    async def start_random(self, interaction: discord.Interaction) -> None:
        await self.cog.polls.require_starter(interaction)
        assert interaction.guild_id is not None
        recent = await self.repo.recent_topics(interaction.guild_id)
        topic = pick_random(default_topics(), self._rng, exclude=recent)
        await self.start(
            interaction,
            topic,
            topic.motion,
            DebateFormat.QUICK,
            parse_debate_duration(None),
            source="manual",
        )

    async def start_release(
        self, interaction: discord.Interaction, title: str, url: str | None
    ) -> None:
        """A quick debate on a release (the radar's "Debate this release" button)."""
        if interaction.guild_id is None or interaction.channel_id is None:
            raise UserFacingError("Debates run inside a server channel.")
        await self.cog.polls.require_starter(interaction)
        name = clean_text(title) or "this release"
        if len(name) > RELEASE_TITLE_MAX:
            name = name[: RELEASE_TITLE_MAX - 1].rstrip() + "…"
        motion = clean_motion(f"Should {name} have been released this openly?")
        if url and len(motion) + len(url) + 3 <= MAX_MOTION_LENGTH and url.startswith("http"):
            motion = f"{motion} ({url})"
        await self.start(
            interaction,
            None,
            motion,
            DebateFormat.QUICK,
            parse_debate_duration(None),
            source="release",
        )

    async def topics_embed(self) -> discord.Embed:
        embed = discord.Embed(
            title="Debate topics",
            description="Start one with `/debate start topic:<id>`, or `/debate random`.",
            colour=discord.Colour.dark_teal(),
        )
        for theme, title in THEMES.items():
            lines = [f"`{t.id}`: {t.motion}" for t in default_topics() if t.theme == theme]
            value = "\n".join(lines)
            if len(value) > FIELD_MAX:
                value = value[: FIELD_MAX - 1] + "…"
            if value:
                embed.add_field(name=title, value=value, inline=False)
        return embed

    def topic_choices(self, current: str) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=topic.choice_label(100), value=topic.id)
            for topic in search_topics(current, default_topics(), limit=25)
        ]

    async def debate_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        debates = await self.repo.search_debates(interaction.guild_id, current, limit=25)
        return [
            app_commands.Choice(
                name=f"#{d.number} ({d.phase.label.lower()}) {d.motion}"[:100], value=d.number
            )
            for d in debates
        ]

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
        settings = await self.bot.guild_repo.get_settings(interaction.guild_id)
        if interaction.user.id != debate.creator_id and not is_manager(interaction.user, settings):
            raise UserFacingError("Only the debate's creator or a manager can do this.")
        if debate.phase is Phase.RESULT:
            raise UserFacingError(f"Debate #{number} has already ended.")
        return debate

    async def next_phase(self, interaction: discord.Interaction, number: int) -> None:
        debate = await self._find_for_control(interaction, number)
        if debate.format == "quick":
            raise UserFacingError("A quick debate has a single vote: end it with `/debate close`.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated = await self.advance(debate, debate.phase)
        phase = updated.phase.label if updated is not None else "its next phase"
        await interaction.followup.send(
            f"Debate #{number} moved on: {phase.lower()}.", ephemeral=True
        )

    async def close(self, interaction: discord.Interaction, number: int) -> None:
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
        channel = self.bot.get_partial_messageable(updated.channel_id, guild_id=updated.guild_id)
        if updated.phase is Phase.DISCUSSION:
            await self._open_discussion(updated, channel)
        elif updated.phase is Phase.POST_VOTE and change.post_poll is not None:
            await self._open_closing_vote(updated, change.post_poll, channel)
        elif updated.phase is Phase.RESULT:
            await self.finalise(updated)
        return updated

    async def _edit(
        self, channel: discord.PartialMessageable, message_id: int | None, **fields: object
    ) -> None:
        if message_id is None:
            return
        try:
            await channel.get_partial_message(message_id).edit(**fields)  # type: ignore[arg-type]
        except discord.HTTPException as exc:
            log.warning("could not edit debate message %s: %s", message_id, exc)

    async def _open_discussion(
        self, debate: DebateRecord, channel: discord.PartialMessageable
    ) -> None:
        if debate.pre_poll_id is not None:
            self.cog.polls.edits.cancel(debate.pre_poll_id)
        voters = await self._voters(debate.pre_poll_id)
        topic = find_topic(debate.topic) if debate.topic else None
        await self._edit(
            channel,
            debate.message_id,
            embed=debate_embed(debate, voters=voters, topic=topic),
            view=stance_view(None, debate.id),
        )
        if debate.message_id is None:
            return
        try:
            thread = await channel.get_partial_message(debate.message_id).create_thread(
                name=_thread_name(debate), auto_archive_duration=1440
            )
        except discord.HTTPException as exc:
            log.warning("could not open the thread of debate %s: %s", debate.id, exc)
            return
        await self.repo.set_debate_thread(debate.id, thread.id)
        await thread.send(
            embed=discord.Embed(
                title=f"Debate #{debate.number}: discussion",
                description=(
                    f"**{debate.motion}**\n\nThe opening vote closed with {voters} votes. "
                    "Make your case: add an argument for a side, upvote the strongest ones. "
                    f"The closing vote opens {_when(debate.schedule.discussion_end)}."
                ),
                colour=discord.Colour.dark_teal(),
            ),
            view=stance_view(None, debate.id),
        )

    async def _open_closing_vote(
        self, debate: DebateRecord, poll: PollRecord, channel: discord.PartialMessageable
    ) -> None:
        """Post the closing vote. Until its message is recorded the deadline loop posts it
        again (:meth:`repost_closing_votes`); the nonce makes a repeated post return the
        first message instead of a second one."""
        if poll.id in self._opening:
            return
        self._opening.add(poll.id)
        try:
            topic = find_topic(debate.topic) if debate.topic else None
            await self._edit(
                channel,
                debate.message_id,
                embed=debate_embed(debate, topic=topic),
                view=stance_view(None, debate.id),
            )
            try:
                message = await channel.send(
                    embed=closing_vote_embed(debate),
                    view=stance_view(poll.id, debate.id),
                    nonce=f"agora-dpv-{poll.id}",
                )
            except discord.HTTPException as exc:
                log.warning(
                    "could not post the closing vote of debate %s (the deadline loop tries "
                    "again): %s",
                    debate.id,
                    exc,
                )
                return
            await self.repo.set_poll_message(poll.id, message.id)
        finally:
            self._opening.discard(poll.id)
        if debate.thread_id is not None:
            thread = self.bot.get_partial_messageable(debate.thread_id, guild_id=debate.guild_id)
            try:
                await thread.send(
                    f"The closing vote of debate #{debate.number} is open in <#{debate.channel_id}>."
                )
            except discord.HTTPException as exc:
                log.warning("could not post in the thread of debate %s: %s", debate.id, exc)

    async def _voters(self, poll_id: int | None) -> int:
        if poll_id is None:
            return 0
        return len({vote.member_id for vote in await self.repo.votes(poll_id)})

    async def refresh_vote_message(self, poll: PollRecord) -> None:
        """Coalesced: the voter count on a debate's (opening or closing) vote message."""
        if poll.debate_id is None or poll.message_id is None or poll.closed:
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
        channel = self.bot.get_partial_messageable(poll.channel_id)
        await self._edit(channel, poll.message_id, embed=embed)

    async def finalise(self, debate: DebateRecord) -> None:
        """Post a finished debate's result once: the verdict, the chart and the strongest
        arguments; take the voting buttons off its messages."""
        if debate.id in self._finalising or debate.result_message_id is not None:
            return
        self._finalising.add(debate.id)
        try:
            for poll_id in (debate.pre_poll_id, debate.post_poll_id):
                if poll_id is not None:
                    self.cog.polls.edits.cancel(poll_id)
            channel = self.bot.get_partial_messageable(debate.channel_id, guild_id=debate.guild_id)
            arguments = await self.repo.arguments(debate.id)
            pre = await self.repo.stance_votes(debate.pre_poll_id) if debate.pre_poll_id else {}
            from bot.debates.charts import render_oxford_chart, render_quick_chart

            if debate.format == "quick":
                quick = quick_result(pre)
                embed = debate_result_embed(debate, format_quick_result(quick), arguments)
                chart = await asyncio.to_thread(render_quick_chart, quick, debate.motion)
            else:
                post = (
                    await self.repo.stance_votes(debate.post_poll_id) if debate.post_poll_id else {}
                )
                judged = oxford_result(pre, post)
                embed = debate_result_embed(debate, format_oxford_result(judged), arguments)
                chart = await asyncio.to_thread(render_oxford_chart, judged, debate.motion)
            # The vote messages first: the edits can be repeated, and until the result is
            # recorded the deadline loop runs all of this again (the nonce dedupes the post).
            # Recorded first, a crash before the edits left the voting buttons up for good.
            topic = find_topic(debate.topic) if debate.topic else None
            await self._edit(
                channel, debate.message_id, embed=debate_embed(debate, topic=topic), view=None
            )
            if debate.post_poll_id is not None:
                post_poll = await self.repo.get_poll(debate.post_poll_id)
                if post_poll is not None:
                    await self._edit(channel, post_poll.message_id, view=None)
            try:
                message = await channel.send(
                    embed=embed,
                    file=discord.File(io.BytesIO(chart), filename="results.png"),
                    nonce=f"agora-debate-{debate.id}",
                )
            except (discord.NotFound, discord.Forbidden) as exc:
                log.warning("cannot post the result of debate %s: %s", debate.id, exc)
                await self.repo.set_debate_result_message(debate.id, 0)
                return
            await self.repo.set_debate_result_message(debate.id, message.id)
        finally:
            self._finalising.discard(debate.id)

    async def run_due(self, now: datetime) -> None:
        """Advance debates whose phase ended (several phases if the bot was down through
        them) and post results that were never posted."""
        for debate in await self.repo.due_debates(now):
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
        for debate in await self.repo.unposted_debates():
            try:
                await self.finalise(debate)
            except Exception:
                log.exception("could not post the result of debate %s", debate.id)
        await self.repost_closing_votes()

    async def repost_closing_votes(self) -> None:
        """Post the closing votes whose post failed (Discord error, or a crash between the
        phase change and the post): without a message nobody could vote in them."""
        for debate, poll in await self.repo.unposted_closing_votes():
            channel = self.bot.get_partial_messageable(debate.channel_id, guild_id=debate.guild_id)
            try:
                await self._open_closing_vote(debate, poll, channel)
            except Exception:
                log.exception("could not post the closing vote of debate %s", debate.id)

    # -- arguments --------------------------------------------------------------------------

    async def open_argument_modal(self, interaction: discord.Interaction, debate_id: int) -> None:
        debate = await self.repo.get_debate(debate_id)
        if debate is not None and debate.guild_id != interaction.guild_id:
            raise UserFacingError(FOREIGN_BUTTON)
        if debate is None or debate.phase is Phase.RESULT:
            raise UserFacingError("This debate has ended: arguments are closed.")
        modal = ArgumentModal(debate_id)
        await interaction.response.send_modal(modal)
        modal.stop()  # the submission goes to the cog's listener (see ArgumentModal)

    async def post_argument(
        self, interaction: discord.Interaction, debate_id: int, side: str, text: str
    ) -> None:
        argument = new_argument(side, text, interaction.user.id, utcnow())
        owner = await self.repo.get_debate(debate_id)
        if owner is not None and owner.guild_id != interaction.guild_id:
            raise UserFacingError(FOREIGN_BUTTON)
        argument_id = await self.repo.add_argument(
            debate_id, interaction.user.id, argument.side, argument.text, now=utcnow()
        )
        debate = await self.repo.get_debate(debate_id)
        assert debate is not None
        # Answer first (within Discord's 3 s), then post the argument publicly.
        await interaction.response.send_message(
            "Your argument is posted; members can upvote it.", ephemeral=True
        )
        where = debate.thread_id or debate.channel_id
        channel = self.bot.get_partial_messageable(where, guild_id=debate.guild_id)
        try:
            message = await channel.send(
                embed=argument_embed(argument, debate.number), view=upvote_view(argument_id, 0)
            )
        except discord.HTTPException as exc:
            log.warning("could not post argument %s: %s", argument_id, exc)
            return
        await self.repo.set_argument_message(argument_id, message.id)

    async def upvote(self, interaction: discord.Interaction, argument_id: int) -> None:
        member_id = interaction.user.id
        found = await self.repo.get_argument(argument_id)
        owner = await self.repo.get_debate(found[0]) if found is not None else None
        if owner is not None and owner.guild_id != interaction.guild_id:
            raise UserFacingError(FOREIGN_BUTTON)

        def allowed(argument: object) -> None:
            from bot.debates.arguments import Argument

            assert isinstance(argument, Argument)
            if not can_upvote(argument, member_id):
                raise UserFacingError("You can't upvote your own argument.")

        upvoted, count = await self.repo.toggle_upvote(
            argument_id, member_id, now=utcnow(), allowed=allowed
        )
        text = (
            f"You upvoted this argument ({count} upvotes)."
            if upvoted
            else f"Your upvote was taken back ({count} upvotes)."
        )
        await interaction.response.send_message(text, ephemeral=True)
        self.cog.argument_edits.submit(argument_id, None)

    async def refresh_argument(self, argument_id: int, _state: None) -> None:
        """Coalesced: the upvote count on an argument's button."""
        found = await self.repo.get_argument(argument_id)
        if found is None:
            return
        debate_id, argument, message_id = found
        debate = await self.repo.get_debate(debate_id)
        if debate is None or message_id is None:
            return
        where = debate.thread_id or debate.channel_id
        channel = self.bot.get_partial_messageable(where)
        await self._edit(channel, message_id, view=upvote_view(argument_id, argument.upvotes))

    # -- weekly -----------------------------------------------------------------------------

    async def run_weekly(self, now: datetime) -> None:
        """Start each community's weekly debate once per slot; see the README for the rules."""
        for guild in list(self.bot.guilds):
            try:
                await self._weekly_for(guild, now)
            except Exception:
                log.exception("weekly debate of guild %s failed", guild.id)

    async def _weekly_for(self, guild: discord.Guild, now: datetime) -> None:
        settings = await self.bot.guild_repo.get_settings(guild.id)
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
        channel = self.bot.get_partial_messageable(settings.debate_channel, guild_id=guild.id)
        assert self.bot.user is not None
        await self.start(
            channel,
            topic,
            topic.motion,
            DebateFormat.OXFORD,
            WEEKLY_DURATION,
            source="weekly",
            guild_id=guild.id,
            channel_id=settings.debate_channel,
            creator_id=self.bot.user.id,
        )
        log.info(
            "started the weekly debate of guild %s (%s)", guild.id, format_duration(WEEKLY_DURATION)
        )


def _thread_name(debate: DebateRecord) -> str:
    name = f"Debate #{debate.number}: {debate.motion}"
    return name if len(name) <= 100 else name[:99] + "…"


def _when(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:R>"
