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
        feature: str,
        kind: str,
        fields: Sequence[Callable[[str], Any]],
        legacy: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        cls.feature, cls.kind, cls.fields = feature, kind, tuple(fields)
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
