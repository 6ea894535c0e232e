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

from bot.components import AgoraItem, service
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
YES, NO = "yes", "no"


class StatementVoteButton(
    AgoraItem[discord.ui.Button[Any]],
    feature="stances",
    kind="vote",
    fields=(int, str),
    legacy=("stance:vote",),
):
    """Agree / disagree / pass on one statement; the vote is the clicking member's."""

    def __init__(self, statement_id: int, vote: str) -> None:
        # Any word parses (the id scheme allows [a-z0-9_]); only the three of VoteWord vote.
        self.word = VoteWord.parse(vote)
        style = discord.ButtonStyle.secondary if self.word is None else _VOTE_STYLES[self.word]
        super().__init__(
            discord.ui.Button(
                label=vote.capitalize(), style=style, custom_id=self.make_id(statement_id, vote)
            )
        )
        self.statement_id = statement_id

    async def run(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        if self.word is None:  # a forged custom id: no button Agora posts says this
            raise UserFacingError("This button is out of date. Use `/stance vote` again.")
        outcome = await service(interaction, StanceService).vote(
            interaction.guild_id, interaction.user.id, self.statement_id, self.word
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


def _confirmation_button(custom_id: str, answer: str, yes_label: str) -> discord.ui.Button[Any]:
    """A deletion's confirm button (red) or its cancel button."""
    confirm = answer == YES
    return discord.ui.Button(
        label=yes_label if confirm else "Cancel",
        style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
        custom_id=custom_id,
    )


async def _end_confirmation(interaction: discord.Interaction, content: str) -> None:
    """Replace the confirmation message (and its buttons) with the outcome."""
    await interaction.response.edit_message(content=content, embed=None, view=None)


class ForgetButton(
    AgoraItem[discord.ui.Button[Any]],
    feature="stances",
    kind="forget",
    fields=(int, str),
    legacy=("stance:forget",),
):
    """Confirm (``yes``) or cancel (anything else) `/stance forget`; only the member it was
    offered to may press it."""

    def __init__(self, member_id: int, answer: str) -> None:
        super().__init__(
            _confirmation_button(
                self.make_id(member_id, answer), answer, "Yes, delete my stance data"
            )
        )
        self.member_id = member_id
        self.answer = answer

    async def run(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.member_id or interaction.guild_id is None:
            raise UserFacingError("Only the member who asked can confirm this.")
        if self.answer != YES:
            await _end_confirmation(interaction, NOTHING_DELETED)
            return
        report = await service(interaction, StanceService).forget(
            interaction.guild_id, interaction.user.id
        )
        await _end_confirmation(interaction, forget_done_text(report))


class PurgeButton(
    AgoraItem[discord.ui.Button[Any]],
    feature="stances",
    kind="purge",
    fields=(int, str),
    legacy=("stance:purge",),
):
    """Confirm (``yes``) or cancel (anything else) `/stance purge`; the community and the
    permission are checked again on the click."""

    def __init__(self, guild_id: int, answer: str) -> None:
        super().__init__(
            _confirmation_button(
                self.make_id(guild_id, answer), answer, "Yes, delete this server's data"
            )
        )
        self.guild_id = guild_id
        self.answer = answer

    async def run(self, interaction: discord.Interaction) -> None:
        stances = service(interaction, StanceService)
        ensure_same_community(self.guild_id, interaction.guild_id)
        await stances.require_manager(interaction)
        if self.answer != YES:
            await _end_confirmation(interaction, NOTHING_DELETED)
            return
        report = await stances.purge(self.guild_id, by=interaction.user.id)
        await _end_confirmation(interaction, purge_done_text(report.total))


def confirm_view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


COMPONENTS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    StatementVoteButton,
    ForgetButton,
    PurgeButton,
)
