"""Buttons, selects and the argument modal of polls and debates.

Every component is a :class:`discord.ui.DynamicItem` whose ``custom_id`` carries the ids it
acts on (poll and option, debate, argument), so a click works after a restart: the state lives
in SQLite, not in a view's memory. Callbacks hand over to the cog's services and turn any
failure into an ephemeral reply.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.ext import commands

from bot.debates.arguments import MAX_ARGUMENT_LENGTH, MIN_ARGUMENT_LENGTH
from bot.debates.layout import LayoutKind, plan_layout
from bot.error_handler import reply_with_error
from bot.stance_scale import SCALE, Side

if TYPE_CHECKING:
    from cogs.debates._cog import DebatesCog

BUTTON_LABEL_MAX = 80
SELECT_LABEL_MAX = 100
_STANCE_STYLES = {
    Side.SHARE: discord.ButtonStyle.primary,
    Side.UNDECIDED: discord.ButtonStyle.secondary,
    Side.SAFEGUARD: discord.ButtonStyle.danger,
}


def _cog(interaction: discord.Interaction) -> DebatesCog:
    client = interaction.client
    cog = client.get_cog("Debates") if isinstance(client, commands.bot.BotBase) else None
    if cog is None:
        raise RuntimeError("the Debates cog is not loaded")
    return cast("DebatesCog", cog)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class PollOptionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"agora:pv:(?P<poll>\d+):(?P<option>\d+)",
):
    """One option of a poll (or one stance of a debate vote); a click toggles it."""

    def __init__(
        self,
        poll_id: int,
        option: int,
        label: str = "vote",
        *,
        row: int | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=_clip(label, BUTTON_LABEL_MAX),
                style=style,
                custom_id=f"agora:pv:{poll_id}:{option}",
                row=row,
            )
        )
        self.poll_id = poll_id
        self.option = option

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PollOptionButton:
        return cls(int(match["poll"]), int(match["option"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await _cog(interaction).polls.click(interaction, self.poll_id, self.option)
        except Exception as exc:
            await reply_with_error(interaction, exc)


class PollSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"agora:ps:(?P<poll>\d+)"
):
    """The options of a poll with more than 20 of them; a submission replaces the choices."""

    def __init__(self, poll_id: int, options: tuple[str, ...] = (), max_choices: int = 1) -> None:
        choices = [
            discord.SelectOption(label=_clip(text, SELECT_LABEL_MAX), value=str(index))
            for index, text in enumerate(options)
        ] or [discord.SelectOption(label="option", value="0")]
        super().__init__(
            discord.ui.Select(
                custom_id=f"agora:ps:{poll_id}",
                placeholder="Pick your answer" if max_choices == 1 else "Pick your answers",
                min_values=1,
                max_values=min(max_choices, len(choices)),
                options=choices,
                row=0,
            )
        )
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> PollSelect:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        data: Any = interaction.data or {}
        values = [int(v) for v in data.get("values") or [] if str(v).isdigit()]
        try:
            await _cog(interaction).polls.select(interaction, self.poll_id, values)
        except Exception as exc:
            await reply_with_error(interaction, exc)


class WithdrawButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"agora:pw:(?P<poll>\d+)"
):
    """Withdraw every vote one holds in a select-menu poll."""

    def __init__(self, poll_id: int, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Withdraw my vote",
                style=discord.ButtonStyle.secondary,
                custom_id=f"agora:pw:{poll_id}",
                row=row,
            )
        )
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> WithdrawButton:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await _cog(interaction).polls.select(interaction, self.poll_id, [])
        except Exception as exc:
            await reply_with_error(interaction, exc)


class ArgumentButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"agora:aa:(?P<debate>\d+)"
):
    """Opens the modal to post an argument for a side."""

    def __init__(self, debate_id: int, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add an argument",
                emoji="✍️",
                style=discord.ButtonStyle.success,
                custom_id=f"agora:aa:{debate_id}",
                row=row,
            )
        )
        self.debate_id = debate_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ArgumentButton:
        return cls(int(match["debate"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await _cog(interaction).debates.open_argument_modal(interaction, self.debate_id)
        except Exception as exc:
            await reply_with_error(interaction, exc)


class UpvoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"agora:au:(?P<argument>\d+)"
):
    """Upvote an argument (click again to take the upvote back)."""

    def __init__(self, argument_id: int, upvotes: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Upvote · {upvotes}",
                emoji="👍",
                style=discord.ButtonStyle.secondary,
                custom_id=f"agora:au:{argument_id}",
            )
        )
        self.argument_id = argument_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> UpvoteButton:
        return cls(int(match["argument"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await _cog(interaction).debates.upvote(interaction, self.argument_id)
        except Exception as exc:
            await reply_with_error(interaction, exc)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    PollOptionButton,
    PollSelect,
    WithdrawButton,
    ArgumentButton,
    UpvoteButton,
)


#: The custom id of the argument modal; its submissions are handled by the cog's listener
#: (:func:`argument_submission`), so they work after a restart like the buttons do.
ARGUMENT_MODAL = re.compile(r"agora:am:(?P<debate>\d+)")


class ArgumentModal(discord.ui.Modal):
    """Side (share or safeguard) and the argument's text.

    Only the form: discord.py keeps one live modal per custom id (every member's modal of a
    debate shares one) and none across a restart, so the opener stops it once sent and the
    cog's ``on_interaction`` listener handles every submission from the stored ids.
    """

    def __init__(self, debate_id: int) -> None:
        super().__init__(title="Add an argument", custom_id=f"agora:am:{debate_id}", timeout=None)
        self.debate_id = debate_id
        self.side: discord.ui.Select[Any] = discord.ui.Select(
            custom_id="side",
            options=[
                discord.SelectOption(label="Share (openness)", value="share"),
                discord.SelectOption(label="Safeguard (caution)", value="safeguard"),
            ],
            min_values=1,
            max_values=1,
        )
        self.text: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="text",
            style=discord.TextStyle.paragraph,
            min_length=MIN_ARGUMENT_LENGTH,
            max_length=MAX_ARGUMENT_LENGTH,
            placeholder="Make one point, in a sentence or two.",
        )
        self.add_item(discord.ui.Label(text="Side", component=self.side))
        self.add_item(discord.ui.Label(text="Your argument", component=self.text))


def argument_submission(interaction: discord.Interaction) -> tuple[int, str, str] | None:
    """``(debate_id, side, text)`` of a submitted argument modal; ``None`` for any other
    interaction."""
    data: Any = interaction.data or {}
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    match = ARGUMENT_MODAL.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    fields: dict[str, Any] = {}

    def walk(components: list[Any]) -> None:
        for component in components:
            if "component" in component:  # a label wraps one component
                walk([component["component"]])
            walk(component.get("components") or [])
            if "custom_id" in component:
                fields[component["custom_id"]] = component.get("values", component.get("value"))

    walk(data.get("components") or [])
    sides = fields.get("side") or []
    side = str(sides[0]) if isinstance(sides, list) and sides else ""
    return int(match["debate"]), side, str(fields.get("text") or "")


def poll_view(poll_id: int, options: tuple[str, ...], max_choices: int) -> discord.ui.View:
    """Buttons (up to 20 options) or a select menu with a withdraw button (21 to 25)."""
    view = discord.ui.View(timeout=None)
    plan = plan_layout(len(options))
    if plan.kind is LayoutKind.SELECT:
        view.add_item(PollSelect(poll_id, options, max_choices))
        view.add_item(WithdrawButton(poll_id, row=plan.controls_row))
        return view
    for row, indices in enumerate(plan.option_rows):
        for index in indices:
            view.add_item(PollOptionButton(poll_id, index, options[index], row=row))
    return view


def stance_view(
    poll_id: int | None, debate_id: int | None, *, arguments: bool = True
) -> discord.ui.View:
    """The five stance buttons of a debate vote (when ``poll_id``), and the argument button."""
    view = discord.ui.View(timeout=None)
    if poll_id is not None:
        for index, stance in enumerate(SCALE):
            view.add_item(
                PollOptionButton(
                    poll_id, index, stance.label, row=0, style=_STANCE_STYLES[stance.side]
                )
            )
    if arguments and debate_id is not None:
        view.add_item(ArgumentButton(debate_id, row=1))
    return view


def upvote_view(argument_id: int, upvotes: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(UpvoteButton(argument_id, upvotes))
    return view
