"""Permission checks done in code, since a server can override command permissions."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.community import GuildSettings


def is_manager(member: discord.Member | discord.User, settings: GuildSettings) -> bool:
    """Manage Server (or Administrator), or the community's `manager_role`."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild or member.guild_permissions.administrator:
        return True
    return settings.manager_role is not None and any(
        role.id == settings.manager_role for role in member.roles
    )


def require_manager(interaction: discord.Interaction, settings: GuildSettings) -> None:
    """Raise MissingPermissions unless the member may configure Agora here."""
    permissions = interaction.permissions
    if permissions.manage_guild or permissions.administrator:
        return
    if is_manager(interaction.user, settings):
        return
    raise app_commands.MissingPermissions(["manage_guild"])


def may_start_debates(member: discord.Member | discord.User, settings: GuildSettings) -> bool:
    """Everyone by default; only `debate_role` (and managers) when the community set one."""
    if settings.debate_role is None or is_manager(member, settings):
        return True
    return isinstance(member, discord.Member) and any(
        role.id == settings.debate_role for role in member.roles
    )
