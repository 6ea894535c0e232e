"""One base for every persistent component (buttons and selects that survive restarts).

A component is a :class:`discord.ui.DynamicItem` whose ``custom_id`` carries the ids it acts on,
in one scheme for every feature: ``agora:<feature>:<kind>:<id>[:<id>…]``. A subclass declares
its place in that scheme and the types of its ids; the base writes the template, parses the
custom id (``from_custom_id`` once, here), and reports any failure of the click through the
tree-level error handler (its wording, its error code)::

    class PollOptionButton(
        AgoraItem[discord.ui.Button[Any]],
        feature="debates", kind="vote", fields=(int, int), legacy=("agora:pv",),
    ):
        def __init__(self, poll_id: int, option: int, label: str = "vote") -> None:
            super().__init__(discord.ui.Button(label=label, custom_id=self.make_id(poll_id, option)))
            ...

        async def run(self, interaction: discord.Interaction) -> None:
            await service(interaction, PollService).click(interaction, self.poll_id, self.option)

A button acting on one row whose look never changes only declares it
(:class:`AgoraButton`); a yes/cancel confirmation is a :class:`ConfirmButton`.

``legacy`` lists the prefixes of earlier schemes (same ids, same order), so buttons on messages
posted by an earlier version keep working. The constructor's first positional parameters must be
the ids, in the order of ``fields``.

Refusing a component used in another server is the service's job (it knows which server owns
the poll or the announcement): it calls :func:`bot.errors.ensure_same_community`, whose one
wording the error handler shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

import discord

from bot.error_handler import reply_with_error
from bot.features import FeatureRegistry
from bot.metrics import observe_interaction

ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])
T = TypeVar("T")

#: Converters a field may use, and the pattern of each in the custom id.
_FIELD_PATTERNS: dict[Any, str] = {int: r"[0-9]{1,20}", str: r"[a-z0-9_]{1,20}"}
SCHEME_PREFIX = "agora"


def custom_id(feature: str, kind: str, *ids: object) -> str:
    """``agora:<feature>:<kind>:<id>…`` (Discord allows 100 characters)."""
    text = ":".join((SCHEME_PREFIX, feature, kind, *(str(i) for i in ids)))
    if len(text) > 100:
        raise ValueError(f"custom id longer than 100 characters: {text!r}")
    return text


class AgoraItem(discord.ui.DynamicItem[ItemT], template=r"(?!)"):
    """A persistent component on Agora's one custom-id scheme (see the module docstring).

    The base's own template matches nothing; each subclass gets its own from its declaration.
    """

    feature: ClassVar[str]
    kind: ClassVar[str]
    fields: ClassVar[tuple[Callable[[str], Any], ...]]

    def __init_subclass__(
        cls,
        *,
        feature: str | None = None,
        kind: str | None = None,
        fields: Sequence[Callable[[str], Any]] | None = None,
        legacy: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        if fields is not None:
            cls.fields = tuple(fields)
        if feature is None or kind is None:  # a shared base (AgoraButton): matches nothing
            super().__init_subclass__(template=r"(?!)", **kwargs)
            return
        cls.feature, cls.kind = feature, kind
        prefixes = "|".join(re.escape(p) for p in (f"{SCHEME_PREFIX}:{feature}:{kind}", *legacy))
        ids = ":".join(f"({_FIELD_PATTERNS.get(f, _FIELD_PATTERNS[str])})" for f in cls.fields)
        super().__init_subclass__(template=f"(?:{prefixes}):{ids}", **kwargs)

    @classmethod
    def make_id(cls, *ids: object) -> str:
        """This component's custom id for ``ids`` (in the order of ``fields``)."""
        return custom_id(cls.feature, cls.kind, *ids)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AgoraItem[ItemT]:
        values = [convert(raw) for convert, raw in zip(cls.fields, match.groups(), strict=True)]
        return cls(*values)

    async def callback(self, interaction: discord.Interaction) -> None:
        async with observe_interaction(interaction, f"{self.feature}:{self.kind}"):
            try:
                await self.run(interaction)
            except Exception as exc:
                await reply_with_error(interaction, exc)

    async def run(self, interaction: discord.Interaction) -> None:
        """What a click does; errors reach the member through the tree-level handler."""
        raise NotImplementedError


def registry_of(client: discord.Client) -> FeatureRegistry:
    """The feature registry of the bot that received an interaction."""
    registry = getattr(client, "registry", None)
    if not isinstance(registry, FeatureRegistry):
        raise RuntimeError("this client has no Agora feature registry")
    return registry


def service(interaction: discord.Interaction, interface: type[T]) -> T:
    """The loaded feature's implementation of ``interface`` (its service) for a component."""
    return registry_of(interaction.client).require(interface)


class AgoraButton(AgoraItem[discord.ui.Button[Any]], fields=(int,)):
    """A persistent button acting on one row (``target_id``, then any further ids of its
    ``fields``), its look declared on the class or given to the constructor::

    class DiscussButton(AgoraButton, feature="releases", kind="discuss"):
        label, emoji = "Discuss", "\N{SPEECH BALLOON}"

        async def run(self, interaction: discord.Interaction) -> None: ...
    """

    label: ClassVar[str] = ""
    emoji: ClassVar[str | None] = None
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init__(
        self,
        target_id: int,
        *more_ids: object,
        label: str | None = None,
        style: discord.ButtonStyle | None = None,
        row: int | None = None,
    ) -> None:
        look = type(self)
        super().__init__(
            discord.ui.Button(
                label=look.label if label is None else label,
                emoji=look.emoji,
                style=look.style if style is None else style,
                custom_id=self.make_id(target_id, *more_ids),
                row=row,
            )
        )
        self.target_id = target_id


#: The answers of a :class:`ConfirmButton` (any answer but ``yes`` cancels).
YES, NO = "yes", "no"


class ConfirmButton(AgoraItem[discord.ui.Button[Any]], fields=(int, str)):
    """One answer to a confirmation, ids ``(owner, answer)``: confirm (``yes``, red,
    ``yes_label``) or cancel. Nothing lives in a view's memory: :meth:`check` runs again on
    every click, then the outcome (:meth:`confirm`'s text, or ``cancelled``) replaces the
    message and its buttons."""

    yes_label: ClassVar[str]
    #: The text that replaces the message when the member cancels.
    cancelled: ClassVar[str]

    def __init__(self, owner_id: int, answer: str) -> None:
        confirming = answer == YES
        super().__init__(
            discord.ui.Button(
                label=self.yes_label if confirming else "Cancel",
                style=discord.ButtonStyle.danger if confirming else discord.ButtonStyle.secondary,
                custom_id=self.make_id(owner_id, answer),
            )
        )
        self.owner_id = owner_id
        self.answer = answer

    @classmethod
    def prompt_view(cls, owner_id: int) -> discord.ui.View:
        """The confirmation's two buttons: confirm, then cancel."""
        view = discord.ui.View(timeout=None)
        view.add_item(cls(owner_id, YES))
        view.add_item(cls(owner_id, NO))
        return view

    async def run(self, interaction: discord.Interaction) -> None:
        await self.check(interaction)
        content = await self.confirm(interaction) if self.answer == YES else self.cancelled
        await interaction.response.edit_message(content=content, embed=None, view=None)

    async def check(self, interaction: discord.Interaction) -> None:
        """Refuse a member who may not answer (raise a :class:`bot.errors.UserFacingError`)."""

    async def confirm(self, interaction: discord.Interaction) -> str:
        """Do what was confirmed; the text that replaces the message."""
        raise NotImplementedError
