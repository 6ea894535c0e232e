"""Buttons of the stances feature, as `DynamicItem`s whose `custom_id` carries the ids.

Nothing lives in a view's memory: a vote button names its statement, a confirmation names the
member or community, so every button keeps working after a restart. Errors in a callback are
answered to the member with `reply_with_error` (discord.py would only log them).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self, cast

import discord

from bot.checks import require_manager
from bot.error_handler import reply_with_error
from bot.errors import UserFacingError
from bot.repositories.stances import StanceRepository, Statement
from cogs.stances._format import forget_done_text, statement_embed

if TYPE_CHECKING:
    from bot.client import AgoraBot

log = logging.getLogger(__name__)

VOTE_WORDS: dict[str, int] = {"agree": 1, "disagree": -1, "pass": 0}


def _bot(interaction: discord.Interaction) -> AgoraBot:
    return cast("AgoraBot", interaction.client)


def _repo(interaction: discord.Interaction) -> StanceRepository:
    return StanceRepository(_bot(interaction).db)


class StatementVoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stance:vote:(?P<statement>[0-9]{1,19}):(?P<vote>agree|disagree|pass)",
):
    """Agree / disagree / pass on one statement; the vote is the clicking member's."""

    def __init__(self, statement_id: int, vote: str) -> None:
        style = {
            "agree": discord.ButtonStyle.success,
            "disagree": discord.ButtonStyle.danger,
            "pass": discord.ButtonStyle.secondary,
        }[vote]
        super().__init__(
            discord.ui.Button(
                label=vote.capitalize(),
                style=style,
                custom_id=f"stance:vote:{statement_id}:{vote}",
            )
        )
        self.statement_id = statement_id
        self.vote = vote

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(int(match["statement"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._vote(interaction)
        except Exception as exc:
            await reply_with_error(interaction, exc)

    async def _vote(self, interaction: discord.Interaction) -> None:
        repo = _repo(interaction)
        statement = await repo.statement_by_id(self.statement_id)
        if statement is None or statement.guild_id != interaction.guild_id:
            raise UserFacingError("This statement no longer exists. Use `/stance vote` again.")
        note = ""
        if statement.removed:
            note = (
                f"Statement #{statement.number} was removed by a manager; your vote was not kept."
            )
        else:
            # Acknowledged only once the vote is committed.
            await repo.record_vote(statement, interaction.user.id, VOTE_WORDS[self.vote])
            note = f"Your vote on #{statement.number} was recorded: **{self.vote}**."
        await deal_next(interaction, repo, note, edit=True)


async def deal_next(
    interaction: discord.Interaction, repo: StanceRepository, note: str, *, edit: bool
) -> None:
    """Show the member their next unvoted statement (or say there is none)."""
    assert interaction.guild_id is not None
    statement = await repo.next_statement(interaction.guild_id, interaction.user.id)
    embed, view = vote_message(statement, note)
    if edit:
        await interaction.response.edit_message(content=None, embed=embed, view=view)
    else:
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


def vote_message(statement: Statement | None, note: str) -> tuple[discord.Embed, discord.ui.View]:
    """The dealt statement with its three buttons, or the "all done" message without any."""
    view = discord.ui.View(timeout=None)
    if statement is None:
        embed = discord.Embed(
            title="Nothing left to vote on",
            description="You have voted on every statement. Add one with "
            "`/stance statement add`, or see the result with `/stance map`.",
            colour=discord.Colour.green(),
        )
    else:
        embed = statement_embed(statement)
        for vote in VOTE_WORDS:
            view.add_item(StatementVoteButton(statement.id, vote))
    if note:
        embed.set_author(name=note[:256])
    return embed, view


def _deletion_button(id_prefix: str, confirm: bool, yes_label: str) -> discord.ui.Button[Any]:
    """A deletion's confirm button (red, ``{id_prefix}:yes``) or its cancel (``{id_prefix}:no``)."""
    return discord.ui.Button(
        label=yes_label if confirm else "Cancel",
        style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
        custom_id=f"{id_prefix}:{'yes' if confirm else 'no'}",
    )


async def _end_confirmation(interaction: discord.Interaction, content: str) -> None:
    """Replace the confirmation message (and its buttons) with the outcome."""
    await interaction.response.edit_message(content=content, embed=None, view=None)


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stance:forget:(?P<member>[0-9]{1,20}):(?P<action>yes|no)",
):
    """Confirm (or cancel) `/stance forget`; only the member it was offered to may press it."""

    def __init__(self, member_id: int, confirm: bool) -> None:
        super().__init__(
            _deletion_button(f"stance:forget:{member_id}", confirm, "Yes, delete my stance data")
        )
        self.member_id = member_id
        self.confirm = confirm

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(int(match["member"]), match["action"] == "yes")

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if interaction.user.id != self.member_id or interaction.guild_id is None:
                raise UserFacingError("Only the member who asked can confirm this.")
            if not self.confirm:
                await _end_confirmation(interaction, "Nothing was deleted.")
                return
            report = await _repo(interaction).forget_member(
                interaction.guild_id, interaction.user.id
            )
            await _end_confirmation(interaction, forget_done_text(report))
        except Exception as exc:
            await reply_with_error(interaction, exc)


class PurgeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stance:purge:(?P<guild>[0-9]{1,20}):(?P<action>yes|no)",
):
    """Confirm (or cancel) `/stance purge`; the permission is checked again on the click."""

    def __init__(self, guild_id: int, confirm: bool) -> None:
        super().__init__(
            _deletion_button(f"stance:purge:{guild_id}", confirm, "Yes, delete this server's data")
        )
        self.guild_id = guild_id
        self.confirm = confirm

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(int(match["guild"]), match["action"] == "yes")

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if interaction.guild_id != self.guild_id:
                raise UserFacingError("This button belongs to another server.")
            bot = _bot(interaction)
            require_manager(interaction, await bot.guild_repo.get_settings(self.guild_id))
            if not self.confirm:
                await _end_confirmation(interaction, "Nothing was deleted.")
                return
            deleted = await _repo(interaction).purge_community(self.guild_id, keep_settings=True)
            log.info("manager %s purged community %s", interaction.user.id, self.guild_id)
            await _end_confirmation(
                interaction,
                f"Deleted all of this server's Agora data ({deleted} records). "
                "The server's settings were kept.",
            )
        except Exception as exc:
            await reply_with_error(interaction, exc)


def confirm_view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    StatementVoteButton,
    ForgetButton,
    PurgeButton,
)
