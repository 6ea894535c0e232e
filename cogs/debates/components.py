"""Buttons, the select menu and the argument form of polls and debates.

Every component carries the ids it acts on, so a click works after a restart (the state lives
in SQLite, not in a view's memory). Custom ids, on the one scheme of :mod:`bot.components`:

- ``agora:debates:vote:<poll>:<option>``: one option of a poll, or one stance of a debate vote;
- ``agora:debates:select:<poll>`` and ``agora:debates:withdraw:<poll>``: polls of 21+ options;
- ``agora:debates:argument:<debate>``: opens the argument form;
- ``agora:debates:upvote:<argument>``: upvotes an argument;
- ``agora:debates:argument-form:<debate>``: the argument form (a modal) itself.

Messages posted before this scheme carry ``agora:pv:``, ``agora:ps:``, ``agora:pw:``,
``agora:aa:``, ``agora:au:`` and ``agora:am:`` (same ids, same order): they still work.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot import limits
from bot.components import AgoraButton, AgoraItem, custom_id, service
from bot.debates.arguments import MAX_ARGUMENT_LENGTH, MIN_ARGUMENT_LENGTH
from bot.debates.layout import LayoutKind, plan_layout
from bot.stance_scale import SCALE, Side
from bot.text import cut

if TYPE_CHECKING:
    from cogs.debates.arguments import ArgumentService
    from cogs.debates.polls import PollService

#: The feature's name: in the registry and in every custom id.
FEATURE = "debates"
ARGUMENT_FORM = "argument-form"
#: The argument form's custom id, today's and the one of messages posted before.
_ARGUMENT_FORM_ID = re.compile(rf"(?:agora:{FEATURE}:{ARGUMENT_FORM}|agora:am):([0-9]{{1,20}})")

_STANCE_STYLES = {
    Side.SHARE: discord.ButtonStyle.primary,
    Side.UNDECIDED: discord.ButtonStyle.secondary,
    Side.SAFEGUARD: discord.ButtonStyle.danger,
}


# The services post these components, so they are imported when a click needs them.
def _polls(interaction: discord.Interaction) -> PollService:
    from cogs.debates.polls import PollService

    return service(interaction, PollService)


def _arguments(interaction: discord.Interaction) -> ArgumentService:
    from cogs.debates.arguments import ArgumentService

    return service(interaction, ArgumentService)


class PollOptionButton(
    AgoraButton, feature=FEATURE, kind="vote", fields=(int, int), legacy=("agora:pv",)
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
            poll_id, option, label=cut(label, limits.BUTTON_LABEL), style=style, row=row
        )
        self.option = option

    async def run(self, interaction: discord.Interaction) -> None:
        await _polls(interaction).click(interaction, self.target_id, self.option)


class PollSelect(
    AgoraItem[discord.ui.Select[Any]],
    feature=FEATURE,
    kind="select",
    fields=(int,),
    legacy=("agora:ps",),
):
    """The options of a poll with more than 20 of them; a submission replaces the choices."""

    def __init__(self, poll_id: int, options: tuple[str, ...] = (), max_choices: int = 1) -> None:
        choices = [
            discord.SelectOption(label=cut(text, limits.SELECT_OPTION_LABEL), value=str(index))
            for index, text in enumerate(options)
        ] or [discord.SelectOption(label="option", value="0")]
        super().__init__(
            discord.ui.Select(
                custom_id=self.make_id(poll_id),
                placeholder="Pick your answer" if max_choices == 1 else "Pick your answers",
                min_values=1,
                max_values=min(max_choices, len(choices)),
                options=choices,
                row=0,
            )
        )
        self.poll_id = poll_id

    async def run(self, interaction: discord.Interaction) -> None:
        data: Any = interaction.data or {}
        values = [int(v) for v in data.get("values") or [] if str(v).isdigit()]
        await _polls(interaction).select(interaction, self.poll_id, values)


class WithdrawButton(AgoraButton, feature=FEATURE, kind="withdraw", legacy=("agora:pw",)):
    """Withdraw every vote one holds in a select-menu poll."""

    label = "Withdraw my vote"

    async def run(self, interaction: discord.Interaction) -> None:
        await _polls(interaction).select(interaction, self.target_id, [])


class ArgumentButton(AgoraButton, feature=FEATURE, kind="argument", legacy=("agora:aa",)):
    """Opens the form to post an argument for a side."""

    label, emoji, style = "Add an argument", "✍️", discord.ButtonStyle.success

    async def run(self, interaction: discord.Interaction) -> None:
        await _arguments(interaction).open_form(interaction, self.target_id)


class UpvoteButton(AgoraButton, feature=FEATURE, kind="upvote", legacy=("agora:au",)):
    """Upvote an argument (click again to take the upvote back)."""

    emoji = "👍"

    def __init__(self, argument_id: int, upvotes: int = 0) -> None:
        super().__init__(argument_id, label=f"Upvote · {upvotes}")

    async def run(self, interaction: discord.Interaction) -> None:
        await _arguments(interaction).upvote(interaction, self.target_id)


COMPONENTS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    PollOptionButton,
    PollSelect,
    WithdrawButton,
    ArgumentButton,
    UpvoteButton,
)


class ArgumentForm(discord.ui.Modal):
    """Side (share or safeguard) and the argument's text.

    Only the form: discord.py keeps one live modal per custom id (every member's form of a
    debate shares one) and none across a restart, so the opener stops it once sent and the
    cog's ``on_interaction`` listener hands every submission (:func:`argument_submission`)
    to the service.
    """

    def __init__(self, debate_id: int) -> None:
        super().__init__(
            title="Add an argument",
            custom_id=custom_id(FEATURE, ARGUMENT_FORM, debate_id),
            timeout=None,
        )
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
    """``(debate_id, side, text)`` of a submitted argument form; ``None`` for any other
    interaction."""
    data: Any = interaction.data or {}
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    match = _ARGUMENT_FORM_ID.fullmatch(str(data.get("custom_id", "")))
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
    return int(match.group(1)), side, str(fields.get("text") or "")


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


def stance_view(poll_id: int | None, debate_id: int) -> discord.ui.View:
    """The five stance buttons of a debate vote (when ``poll_id``), and the argument button."""
    view = discord.ui.View(timeout=None)
    if poll_id is not None:
        for index, stance in enumerate(SCALE):
            view.add_item(
                PollOptionButton(
                    poll_id, index, stance.label, row=0, style=_STANCE_STYLES[stance.side]
                )
            )
    view.add_item(ArgumentButton(debate_id, row=1))
    return view


def upvote_view(argument_id: int, upvotes: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(UpvoteButton(argument_id, upvotes))
    return view
