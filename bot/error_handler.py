"""Turn any failure of a slash command or component into a reply the member can act on.

Expected failures (`UserFacingError`, failed checks, bad arguments) get their own clear message.
Anything unexpected gets a short error code, shown to the member and logged with the traceback,
so an operator can find it.
"""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.errors import FOREIGN_COMMUNITY, ForeignCommunityError, UserFacingError
from bot.metrics import ERROR, OUTCOME_KEY, REFUSED, command_name, observe_interaction

log = logging.getLogger("bot.errors")

PERMISSION_NAMES = {"manage_guild": "Manage Server"}


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        if error.__cause__ is None or isinstance(error, app_commands.TransformerError):
            break
        error = error.__cause__
    return error


def message_for(error: BaseException) -> str | None:
    """The member-facing message for an expected error, or None when it is unexpected."""
    error = _unwrap(error)
    if isinstance(error, UserFacingError):
        return error.message
    if isinstance(error, ForeignCommunityError):
        return FOREIGN_COMMUNITY
    if isinstance(error, app_commands.MissingPermissions):
        names = ", ".join(
            PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
        )
        return f"You need the **{names}** permission (or the Agora manager role) to do this."
    if isinstance(error, app_commands.BotMissingPermissions):
        names = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I am missing the **{names}** permission here; ask a server admin to grant it."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only inside a server."
    if isinstance(error, app_commands.TransformerError):
        return f"`{error.value}` is not a valid value here; pick one of the suggestions or check the format."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


async def reply_with_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer the interaction with the error, ephemerally, whether or not it was answered."""
    text = message_for(error)
    interaction.extras[OUTCOME_KEY] = REFUSED if text is not None else ERROR
    if text is None:
        code = secrets.token_hex(3).upper()
        command = interaction.command.qualified_name if interaction.command else interaction.data
        log.error(
            "unexpected error [%s] in %s",
            code,
            command,
            exc_info=_unwrap(error),
            extra={"error_code": code},
        )
        text = (
            f"Something went wrong on our side (error code `{code}`). "
            "Please try again; if it keeps happening, give this code to the server's admins."
        )
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)


class AgoraTree(app_commands.CommandTree["discord.Client"]):
    """The command tree, with one error handler for every slash command, each command observed
    (its outcome and latency counted, its log records tagged with the server and command)."""

    async def _call(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.autocomplete:
            await super()._call(interaction)  # suggestions, not commands: not counted
            return
        async with observe_interaction(interaction, command_name(interaction)):
            try:
                await super()._call(interaction)
            except app_commands.AppCommandError as error:
                # The tree answers it with on_error once this returns: classify it now.
                interaction.extras[OUTCOME_KEY] = REFUSED if message_for(error) else ERROR
                raise

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await reply_with_error(interaction, error)


class AgoraView(discord.ui.View):
    """A view whose item errors reach the member like command errors do."""

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[discord.ui.View],
    ) -> None:
        await reply_with_error(interaction, error)
