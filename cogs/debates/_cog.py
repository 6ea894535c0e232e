"""Slash commands, listeners and loops of polls and debates.

The commands are thin: the work is in :mod:`cogs.debates._polls` and
:mod:`cogs.debates._debates`, on top of the domain code in :mod:`bot.debates` and the SQL in
:mod:`bot.repositories.debates`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.debates.coalesce import Coalescer
from bot.debates.options import MAX_MOTION_LENGTH
from bot.error_handler import reply_with_error
from bot.repositories.debates import DebateRepository
from cogs.debates._debates import DebateService
from cogs.debates._polls import EDIT_INTERVAL, PollService, utcnow
from cogs.debates._views import DYNAMIC_ITEMS, argument_submission

if TYPE_CHECKING:
    from bot.client import AgoraBot

log = logging.getLogger(__name__)

#: How often due polls, debate phases and the weekly debates are checked.
TICK_SECONDS = 10.0
#: Free text is checked by the domain code with clear messages; this only caps what Discord sends.
TEXT_CAP = 2000


class DebatesCog(commands.Cog, name="Debates"):
    poll = app_commands.Group(name="poll", description="Community polls", guild_only=True)
    debate = app_commands.Group(
        name="debate", description="Debates on sharing versus safeguarding", guild_only=True
    )

    def __init__(self, bot: AgoraBot) -> None:
        self.bot = bot
        self.repo = DebateRepository(bot.db)
        self.polls = PollService(self)
        self.debates = DebateService(self)
        self.argument_edits: Coalescer[int, None] = Coalescer(
            self.debates.refresh_argument, interval=EDIT_INTERVAL
        )

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.deadlines.start()

    async def cog_unload(self) -> None:
        self.deadlines.cancel()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        await self.polls.edits.aclose()
        await self.argument_edits.aclose()

    # -- loops ------------------------------------------------------------------------------

    @tasks.loop(seconds=TICK_SECONDS)
    async def deadlines(self) -> None:
        """Close due polls, advance debate phases, start weekly debates; never dies."""
        await self.run_due()

    @deadlines.before_loop
    async def _before_deadlines(self) -> None:
        await self.bot.wait_until_ready()

    async def run_due(self) -> None:
        """One pass of the deadline loop (tests call it directly instead of waiting)."""
        now = utcnow()
        for step in (self.polls.run_due, self.debates.run_due, self.debates.run_weekly):
            try:
                await step(now)
            except Exception:
                log.exception("the deadline loop's %s failed", step.__name__)

    # -- listeners --------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self.polls.native_vote(payload, add=True)

    @commands.Cog.listener()
    async def on_raw_poll_vote_remove(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self.polls.native_vote(payload, add=False)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Argument modal submissions (``agora:am:<debate>``), also after a restart."""
        submission = argument_submission(interaction)
        if submission is None:
            return
        debate_id, side, text = submission
        try:
            await self.debates.post_argument(interaction, debate_id, side, text)
        except Exception as exc:
            await reply_with_error(interaction, exc)

    # -- for the release radar --------------------------------------------------------------

    async def start_release_debate(
        self, interaction: discord.Interaction, title: str, url: str | None
    ) -> None:
        """Start a quick debate "Should <title> have been released this openly?" in the
        interaction's channel and answer the interaction (errors answered ephemerally)."""
        try:
            await self.debates.start_release(interaction, title, url)
        except Exception as exc:
            await reply_with_error(interaction, exc)

    # -- /poll ------------------------------------------------------------------------------

    @poll.command(name="create", description="Start a poll with buttons")
    @app_commands.describe(
        question="What the poll asks (up to 300 characters)",
        options="The options, separated by | (2 to 25, up to 80 characters each)",
        duration="How long it runs, like 30m, 2h or 3d (1 minute to 30 days; default 24h)",
        anonymous="Hide who voted what (default: yes; the tally is always public)",
        multiple="How many options one member may pick (default 1)",
        role="Only members with this role may vote",
    )
    async def poll_create(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, TEXT_CAP],
        options: app_commands.Range[str, 1, TEXT_CAP],
        duration: app_commands.Range[str, 1, 50] | None = None,
        anonymous: bool = True,
        multiple: app_commands.Range[int, 1, 25] = 1,
        role: discord.Role | None = None,
    ) -> None:
        await self.polls.create(interaction, question, options, duration, anonymous, multiple, role)

    @poll.command(name="native", description="Start a native Discord poll")
    @app_commands.describe(
        question="What the poll asks (up to 300 characters)",
        options="The answers, separated by | (2 to 10, up to 55 characters each)",
        duration="Whole hours, like 2h or 3d (1 hour to 32 days; default 24h)",
    )
    async def poll_native(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, TEXT_CAP],
        options: app_commands.Range[str, 1, TEXT_CAP],
        duration: app_commands.Range[str, 1, 50] | None = None,
    ) -> None:
        await self.polls.create_native(interaction, question, options, duration)

    @poll.command(name="close", description="Close a poll now and post its result")
    @app_commands.describe(poll="The poll's number (shown in its footer)")
    async def poll_close(
        self, interaction: discord.Interaction, poll: app_commands.Range[int, 1]
    ) -> None:
        await self.polls.close(interaction, poll)

    @poll.command(name="results", description="See a poll's current results")
    @app_commands.describe(poll="The poll's number (shown in its footer)")
    async def poll_results(
        self, interaction: discord.Interaction, poll: app_commands.Range[int, 1]
    ) -> None:
        await self.polls.results(interaction, poll)

    @poll.command(name="export", description="Download a poll's results as CSV")
    @app_commands.describe(poll="The poll's number (shown in its footer)")
    async def poll_export(
        self, interaction: discord.Interaction, poll: app_commands.Range[int, 1]
    ) -> None:
        await self.polls.export(interaction, poll)

    @poll_close.autocomplete("poll")
    @poll_results.autocomplete("poll")
    @poll_export.autocomplete("poll")
    async def _poll_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return await self.polls.autocomplete(interaction, current)

    # -- /debate ----------------------------------------------------------------------------

    @debate.command(name="start", description="Start a debate on a motion")
    @app_commands.describe(
        topic="A topic from the bank (suggestions) or your own motion (10 to 300 characters)",
        duration="How long it runs, like 30m, 2h or 3d (4 minutes to 30 days; default 24h)",
        format="quick: one vote; oxford: vote, discussion, vote again",
    )
    @app_commands.choices(
        format=[
            app_commands.Choice(name="quick (one vote)", value="quick"),
            app_commands.Choice(name="oxford (vote, discussion, vote again)", value="oxford"),
        ]
    )
    async def debate_start(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, MAX_MOTION_LENGTH * 2],
        duration: app_commands.Range[str, 1, 50] | None = None,
        format: str | None = None,
    ) -> None:
        await self.debates.start_from_command(interaction, topic, duration, format)

    @debate_start.autocomplete("topic")
    async def _topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return self.debates.topic_choices(current)

    @debate.command(name="next", description="Move an Oxford debate to its next phase now")
    @app_commands.describe(debate="The debate's number (shown in its footer)")
    async def debate_next(
        self, interaction: discord.Interaction, debate: app_commands.Range[int, 1]
    ) -> None:
        await self.debates.next_phase(interaction, debate)

    @debate.command(name="close", description="End a debate now and post its result")
    @app_commands.describe(debate="The debate's number (shown in its footer)")
    async def debate_close(
        self, interaction: discord.Interaction, debate: app_commands.Range[int, 1]
    ) -> None:
        await self.debates.close(interaction, debate)

    @debate_next.autocomplete("debate")
    @debate_close.autocomplete("debate")
    async def _debate_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return await self.debates.debate_choices(interaction, current)

    @debate.command(name="topics", description="The bank of debate topics")
    async def debate_topics(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            embed=await self.debates.topics_embed(), ephemeral=True
        )

    @debate.command(name="random", description="Start a quick debate on a random topic")
    async def debate_random(self, interaction: discord.Interaction) -> None:
        await self.debates.start_random(interaction)
