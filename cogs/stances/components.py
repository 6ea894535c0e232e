"""Buttons of the stances feature, on the one base for persistent components.

Nothing lives in a view's memory: a vote button names its statement, a confirmation names the
member or the community, so every button keeps working after a restart. Custom ids:
``agora:stances:vote:<statement>:<agree|disagree|pass>``, ``agora:stances:forget:<member>:<yes|no>``
and ``agora:stances:purge:<community>:<yes|no>``; messages posted before this scheme carry
``stance:vote:…``, ``stance:forget:…`` and ``stance:purge:…``, which still parse.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.components import AgoraButton, ConfirmButton, service
from bot.errors import UserFacingError, ensure_same_community
from bot.stances.models import Statement, VoteWord
from cogs.stances.embeds import (
    NOTHING_DELETED,
    forget_done_text,
    purge_done_text,
    statement_embed,
    vote_note,
)
from cogs.stances.service import StanceService

_VOTE_STYLES = {
    VoteWord.AGREE: discord.ButtonStyle.success,
    VoteWord.DISAGREE: discord.ButtonStyle.danger,
    VoteWord.PASS: discord.ButtonStyle.secondary,
}


class StatementVoteButton(
    AgoraButton, feature="stances", kind="vote", fields=(int, str), legacy=("stance:vote",)
):
    """Agree / disagree / pass on one statement; the vote is the clicking member's."""

    def __init__(self, statement_id: int, vote: str) -> None:
        # Any word parses (the id scheme allows [a-z0-9_]); only the three of VoteWord vote.
        self.word = VoteWord.parse(vote)
        style = discord.ButtonStyle.secondary if self.word is None else _VOTE_STYLES[self.word]
        super().__init__(statement_id, vote, label=vote.capitalize(), style=style)

    async def run(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        if self.word is None:  # a forged custom id: no button Agora posts says this
            raise UserFacingError("This button is out of date. Use `/stance vote` again.")
        outcome = await service(interaction, StanceService).vote(
            interaction.guild_id, interaction.user.id, self.target_id, self.word
        )
        note = vote_note(outcome.statement, outcome.kept, self.word)
        embed, view = vote_message(outcome.next, note)
        await interaction.response.edit_message(content=None, embed=embed, view=view)


def vote_message(statement: Statement | None, note: str) -> tuple[discord.Embed, discord.ui.View]:
    """The dealt statement with its three buttons, or the "all done" message without any."""
    view = discord.ui.View(timeout=None)
    if statement is not None:
        for vote in VoteWord:
            view.add_item(StatementVoteButton(statement.id, vote.value))
    return statement_embed(statement, note), view


class ForgetButton(ConfirmButton, feature="stances", kind="forget", legacy=("stance:forget",)):
    """Confirm (``yes``) or cancel (anything else) `/stance forget`; only the member it was
    offered to may press it."""

    yes_label, cancelled = "Yes, delete my stance data", NOTHING_DELETED

    async def check(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.owner_id or interaction.guild_id is None:
            raise UserFacingError("Only the member who asked can confirm this.")

    async def confirm(self, interaction: discord.Interaction) -> str:
        assert interaction.guild_id is not None
        stances = service(interaction, StanceService)
        return forget_done_text(await stances.forget(interaction.guild_id, interaction.user.id))


class PurgeButton(ConfirmButton, feature="stances", kind="purge", legacy=("stance:purge",)):
    """Confirm (``yes``) or cancel (anything else) `/stance purge`; the community and the
    permission are checked again on the click."""

    yes_label, cancelled = "Yes, delete this server's data", NOTHING_DELETED

    async def check(self, interaction: discord.Interaction) -> None:
        stances = service(interaction, StanceService)
        ensure_same_community(self.owner_id, interaction.guild_id)
        await stances.require_manager(interaction)

    async def confirm(self, interaction: discord.Interaction) -> str:
        report = await service(interaction, StanceService).purge(
            self.owner_id, by=interaction.user.id
        )
        return purge_done_text(report.total)


COMPONENTS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    StatementVoteButton,
    ForgetButton,
    PurgeButton,
)
