"""Arguments of a debate: the form behind the "Add an argument" button, posting an argument
(in the debate's thread when it has one), upvotes and the live upvote count.

An upvote is one transaction that also checks the debate is still running; the count on the
argument's button is refreshed through this service's coalescer.
"""

from __future__ import annotations

import logging

import discord

from bot.debates.arguments import Argument, can_upvote, new_argument
from bot.debates.coalesce import Coalescer
from bot.debates.errors import ArgumentNotFound, DebateEnded
from bot.debates.oxford import Phase
from bot.debates.records import DebateRecord
from bot.errors import UserFacingError, ensure_same_community
from bot.repositories.debates import DebateRepository
from cogs.debates.components import ArgumentForm, upvote_view
from cogs.debates.embeds import argument_embed
from cogs.debates.service import EDIT_INTERVAL, utcnow

log = logging.getLogger(__name__)

ARGUMENTS_CLOSED = "This debate has ended: arguments are closed."


class ArgumentService:
    def __init__(self, bot: discord.Client, debates: DebateRepository) -> None:
        self._bot = bot
        self._debates = debates
        #: Upvote counts on argument messages, by argument id.
        self.edits: Coalescer[int, None] = Coalescer(self._refresh, interval=EDIT_INTERVAL)

    async def _running(self, interaction: discord.Interaction, debate_id: int) -> DebateRecord:
        """The debate a component names: this server's, and not ended."""
        debate = await self._debates.get_debate(debate_id)
        if debate is not None:
            ensure_same_community(debate.guild_id, interaction.guild_id)
        if debate is None or debate.phase is Phase.RESULT:
            raise UserFacingError(ARGUMENTS_CLOSED)
        return debate

    async def open_form(self, interaction: discord.Interaction, debate_id: int) -> None:
        await self._running(interaction, debate_id)
        form = ArgumentForm(debate_id)
        await interaction.response.send_modal(form)
        form.stop()  # the submission goes to the cog's listener (see ArgumentForm)

    async def post(
        self, interaction: discord.Interaction, debate_id: int, side: str, text: str
    ) -> None:
        """A submitted argument form: store the argument, answer, then post it publicly."""
        argument = new_argument(side, text, interaction.user.id, utcnow())
        debate = await self._running(interaction, debate_id)
        try:
            argument_id = await self._debates.add_argument(
                debate_id, interaction.user.id, argument.side, argument.text, now=utcnow()
            )
        except DebateEnded:
            raise UserFacingError(ARGUMENTS_CLOSED) from None
        # Answer first (within Discord's 3 s), then post the argument publicly.
        await interaction.response.send_message(
            "Your argument is posted; members can upvote it.", ephemeral=True
        )
        channel = self._bot.get_partial_messageable(
            debate.thread_id or debate.channel_id, guild_id=debate.guild_id
        )
        try:
            message = await channel.send(
                embed=argument_embed(argument, debate.number), view=upvote_view(argument_id, 0)
            )
        except discord.HTTPException as exc:
            log.warning("could not post argument %s: %s", argument_id, exc)
            return
        await self._debates.set_argument_message(argument_id, message.id)

    async def upvote(self, interaction: discord.Interaction, argument_id: int) -> None:
        member_id = interaction.user.id
        found = await self._debates.get_argument(argument_id)
        owner = await self._debates.get_debate(found.debate_id) if found is not None else None
        if owner is not None:
            ensure_same_community(owner.guild_id, interaction.guild_id)

        def allowed(argument: Argument) -> None:
            if not can_upvote(argument, member_id):
                raise UserFacingError("You can't upvote your own argument.")

        try:
            upvoted, count = await self._debates.toggle_upvote(
                argument_id, member_id, now=utcnow(), allowed=allowed
            )
        except ArgumentNotFound:
            raise UserFacingError("This argument no longer exists.") from None
        except DebateEnded:
            raise UserFacingError("This debate has ended: upvotes are closed.") from None
        text = (
            f"You upvoted this argument ({count} upvotes)."
            if upvoted
            else f"Your upvote was taken back ({count} upvotes)."
        )
        await interaction.response.send_message(text, ephemeral=True)
        if not self.edits.closed:
            self.edits.submit(argument_id, None)

    async def _refresh(self, argument_id: int, _state: None) -> None:
        """Coalesced: the upvote count on an argument's button."""
        found = await self._debates.get_argument(argument_id)
        if found is None or found.message_id is None:
            return
        debate = await self._debates.get_debate(found.debate_id)
        if debate is None:
            return
        channel = self._bot.get_partial_messageable(debate.thread_id or debate.channel_id)
        try:
            await channel.get_partial_message(found.message_id).edit(
                view=upvote_view(argument_id, found.argument.upvotes)
            )
        except discord.HTTPException as exc:
            log.warning("could not update the upvotes of argument %s: %s", argument_id, exc)
