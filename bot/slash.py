"""Pieces of slash-command declarations that several features share.

:func:`manager_group` is the one shape of a command group only managers see;
:func:`numbered_choices` words the suggestions of a numbered option;
:class:`Suggested` is a typed, bounded option (like ``app_commands.Range``) whose
autocomplete asks a loaded feature, so a cog needs no autocomplete method per option::

    PollNumber = app_commands.Transform[int, Suggested(int, poll_choices, min_value=1)]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord
from discord import app_commands

from bot import limits
from bot.choices import topic_choices
from bot.text import cut

#: An autocomplete callback: the interaction, its server and what the member typed so far.
Suggest = Callable[[discord.Interaction, int, str], Awaitable[list[app_commands.Choice[Any]]]]

_OPTION_TYPES = {
    int: discord.AppCommandOptionType.integer,
    str: discord.AppCommandOptionType.string,
}


def numbered_choices(rows: Iterable[tuple[int, str]]) -> list[app_commands.Choice[int]]:
    """Suggestions ``#<number> <text>`` (cut to Discord's limit) for an option taking the
    number a poll or a debate shows in its footer."""
    return [
        app_commands.Choice(name=cut(f"#{number} {text}", limits.CHOICE_NAME), value=number)
        for number, text in rows
    ]


def manager_group(name: str, description: str) -> app_commands.Group:
    """A guild-only command group hidden from members who cannot manage the server (the
    community's manager role is checked again by each command)."""
    return app_commands.Group(
        name=name,
        description=description,
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )


class Suggested(app_commands.Transformer):
    """An ``int`` or ``str`` option within bounds (lengths for text), suggested by ``suggest``
    (inside a server only: outside one there is nothing to suggest)."""

    def __init__(
        self,
        kind: type[int] | type[str],
        suggest: Suggest,
        *,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> None:
        self._kind = kind
        self._suggest = suggest
        self._min, self._max = min_value, max_value

    @property
    def type(self) -> discord.AppCommandOptionType:
        return _OPTION_TYPES[self._kind]

    @property
    def min_value(self) -> int | None:
        return self._min

    @property
    def max_value(self) -> int | None:
        return self._max

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return self._kind(value)

    async def autocomplete(
        self, interaction: discord.Interaction, value: int | float | str, /
    ) -> list[app_commands.Choice[Any]]:
        if interaction.guild_id is None:
            return []
        return await self._suggest(interaction, interaction.guild_id, str(value))


async def _bank_topics(
    interaction: discord.Interaction, guild_id: int, typed: str
) -> list[app_commands.Choice[Any]]:
    return topic_choices(typed)


def bank_topic(max_length: int) -> Suggested:
    """A ``topic`` option: a topic of the bank (suggested), or text up to ``max_length``."""
    return Suggested(str, _bank_topics, min_value=1, max_value=max_length)
