"""The one base of persistent components: custom-id scheme, legacy ids, generic parsing."""

from __future__ import annotations

from typing import Any, cast

import discord
import pytest

from bot.components import AgoraItem, custom_id


class Vote(
    AgoraItem[discord.ui.Button[Any]],
    feature="demo",
    kind="vote",
    fields=(int, int),
    legacy=("demo:old",),
):
    def __init__(self, poll_id: int, option: int) -> None:
        super().__init__(discord.ui.Button(label="v", custom_id=self.make_id(poll_id, option)))
        self.poll_id, self.option = poll_id, option


class Choice(AgoraItem[discord.ui.Button[Any]], feature="demo", kind="choice", fields=(int, str)):
    def __init__(self, statement: int, word: str) -> None:
        super().__init__(discord.ui.Button(label="c", custom_id=self.make_id(statement, word)))
        self.statement, self.word = statement, word


async def parse(cls: type[AgoraItem[Any]], text: str) -> AgoraItem[Any] | None:
    match = cls.__discord_ui_compiled_template__.fullmatch(text)
    if match is None:
        return None
    return await cls.from_custom_id(cast(discord.Interaction, None), Vote(0, 0).item, match)


def test_new_ids_follow_the_one_scheme() -> None:
    assert Vote(12, 3).custom_id == "agora:demo:vote:12:3"
    assert Choice(5, "agree").custom_id == "agora:demo:choice:5:agree"


async def test_new_and_legacy_ids_parse_to_the_same_component() -> None:
    new = await parse(Vote, "agora:demo:vote:12:3")
    old = await parse(Vote, "demo:old:12:3")
    assert isinstance(new, Vote) and isinstance(old, Vote)
    assert (new.poll_id, new.option) == (old.poll_id, old.option) == (12, 3)
    assert old.custom_id == "agora:demo:vote:12:3"  # re-rendered on the new scheme


@pytest.mark.parametrize(
    "text",
    [
        "agora:demo:vote:12",  # an id missing
        "agora:demo:vote:12:3:4",  # one too many
        "agora:demo:vote:x:3",  # not a number
        "xdemo:old:1:2",
        "agora:other:vote:1:2",  # another feature's kind
    ],
)
async def test_other_ids_do_not_match(text: str) -> None:
    assert await parse(Vote, text) is None


async def test_word_fields_parse_as_text() -> None:
    item = await parse(Choice, "agora:demo:choice:7:pass")
    assert isinstance(item, Choice)
    assert (item.statement, item.word) == (7, "pass")


def test_custom_ids_longer_than_discord_allows_are_refused() -> None:
    with pytest.raises(ValueError, match="100"):
        custom_id("demo", "x" * 100, 1)
