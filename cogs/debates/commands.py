"""Slash commands and listeners of polls and debates: options in, a service call, the answer.

The work is in :mod:`cogs.debates.polls`, :mod:`cogs.debates.debates` and
:mod:`cogs.debates.arguments`; the deadline job in :mod:`cogs.debates.service`.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.components import service
from bot.debates.options import MAX_MOTION_LENGTH, MAX_OPTIONS
from bot.debates.records import DebateFormat
from bot.error_handler import reply_with_error
from bot.slash import Suggested, bank_topic
from cogs.debates.components import argument_submission
from cogs.debates.debates import DebateService
from cogs.debates.embeds import topics_embed
from cogs.debates.polls import PollService
from cogs.debates.service import DebateServices

PollNumber = app_commands.Transform[
    int,
    Suggested(
        int, lambda i, guild, typed: service(i, PollService).poll_choices(guild, typed), min_value=1
    ),
]
DebateNumber = app_commands.Transform[
    int,
    Suggested(
        int,
        lambda i, guild, typed: service(i, DebateService).debate_choices(guild, typed),
        min_value=1,
    ),
]
#: The free-text options of `/poll create` and `/poll native` (each is checked in the domain).
PollText = app_commands.Range[str, 1, limits.MESSAGE]
Duration = app_commands.Range[str, 1, 50]
QUESTION = "What the poll asks (up to 300 characters)"
POLL_NUMBER = "The poll's number (shown in its footer)"
DEBATE_NUMBER = "The debate's number (shown in its footer)"


class DebatesCog(commands.Cog, name="Debates"):
    poll = app_commands.Group(name="poll", description="Community polls", guild_only=True)
    debate = app_commands.Group(
        name="debate", description="Debates on sharing versus safeguarding", guild_only=True
    )

    def __init__(self, services: DebateServices) -> None:
        self._services = services

    # -- listeners --------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_raw_poll_vote_add(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._services.polls.native_vote(payload, add=True)

    @commands.Cog.listener()
    async def on_raw_poll_vote_remove(self, payload: discord.RawPollVoteActionEvent) -> None:
        await self._services.polls.native_vote(payload, add=False)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Submitted argument forms, also after a restart (see ``ArgumentForm``)."""
        submission = argument_submission(interaction)
        if submission is None:
            return
        debate_id, side, text = submission
        try:
            await self._services.arguments.post(interaction, debate_id, side, text)
        except Exception as exc:
            await reply_with_error(interaction, exc)

    # -- /poll ------------------------------------------------------------------------------

    @poll.command(name="create", description="Start a poll with buttons")
    @app_commands.describe(
        question=QUESTION,
        options="The options, separated by | (2 to 25, up to 80 characters each)",
        duration="How long it runs, like 30m, 2h or 3d (1 minute to 30 days; default 24h)",
        anonymous="Hide who voted what (default: yes; the tally is always public)",
        multiple="How many options one member may pick (default 1)",
        role="Only members with this role may vote",
    )
    async def poll_create(
        self,
        interaction: discord.Interaction,
        question: PollText,
        options: PollText,
        duration: Duration | None = None,
        anonymous: bool = True,
        multiple: app_commands.Range[int, 1, MAX_OPTIONS] = 1,
        role: discord.Role | None = None,
    ) -> None:
        await self._services.polls.create(
            interaction, question, options, duration, anonymous, multiple, role
        )

    @poll.command(name="native", description="Start a native Discord poll")
    @app_commands.describe(
        question=QUESTION,
        options="The answers, separated by | (2 to 10, up to 55 characters each)",
        duration="Whole hours, like 2h or 3d (1 hour to 32 days; default 24h)",
    )
    async def poll_native(
        self,
        interaction: discord.Interaction,
        question: PollText,
        options: PollText,
        duration: Duration | None = None,
    ) -> None:
        await self._services.polls.create_native(interaction, question, options, duration)

    @poll.command(name="close", description="Close a poll now and post its result")
    @app_commands.describe(poll=POLL_NUMBER)
    async def poll_close(self, interaction: discord.Interaction, poll: PollNumber) -> None:
        await self._services.polls.close_poll(interaction, poll)

    @poll.command(name="results", description="See a poll's current results")
    @app_commands.describe(poll=POLL_NUMBER)
    async def poll_results(self, interaction: discord.Interaction, poll: PollNumber) -> None:
        await self._services.polls.results(interaction, poll)

    @poll.command(name="export", description="Download a poll's results as CSV")
    @app_commands.describe(poll=POLL_NUMBER)
    async def poll_export(self, interaction: discord.Interaction, poll: PollNumber) -> None:
        await self._services.polls.export(interaction, poll)

    # -- /debate ----------------------------------------------------------------------------

    @debate.command(name="start", description="Start a debate on a motion")
    @app_commands.describe(
        topic="A topic from the bank (suggestions) or your own motion (10 to 300 characters)",
        duration="How long it runs, like 30m, 2h or 3d (4 minutes to 30 days; default 24h)",
        format="quick: one vote; oxford: vote, discussion, vote again",
    )
    @app_commands.choices(
        format=[app_commands.Choice(name=kind.label, value=kind.value) for kind in DebateFormat]
    )
    async def debate_start(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Transform[str, bank_topic(MAX_MOTION_LENGTH * 2)],
        duration: Duration | None = None,
        format: str | None = None,
    ) -> None:
        await self._services.debates.start_from_command(interaction, topic, duration, format)

    @debate.command(name="next", description="Move an Oxford debate to its next phase now")
    @app_commands.describe(debate=DEBATE_NUMBER)
    async def debate_next(self, interaction: discord.Interaction, debate: DebateNumber) -> None:
        await self._services.debates.next_phase(interaction, debate)

    @debate.command(name="close", description="End a debate now and post its result")
    @app_commands.describe(debate=DEBATE_NUMBER)
    async def debate_close(self, interaction: discord.Interaction, debate: DebateNumber) -> None:
        await self._services.debates.close_debate(interaction, debate)

    @debate.command(name="topics", description="The bank of debate topics")
    async def debate_topics(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(embed=topics_embed(), ephemeral=True)

    @debate.command(name="random", description="Start a quick debate on a random topic")
    async def debate_random(self, interaction: discord.Interaction) -> None:
        await self._services.debates.start_random(interaction)
