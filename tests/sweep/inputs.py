"""What the bad-input sweep sends: every slash command (read from the bot's command tree) and
hostile values for each kind of option."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.client import AgoraBot, cog_extensions
from bot.database import Database
from bot.settings import Settings
from tests.emulator.interactions import (
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from tests.harness import TEST_TOKEN

JSON = dict[str, Any]
DISCORD_INT = 2**53  # Discord's integer options range over ±2^53


@dataclasses.dataclass(frozen=True)
class Leaf:
    """A command as a member types it (``"stance statement add"``) and its options."""

    path: str
    options: tuple[JSON, ...]
    manager_only: bool

    @property
    def focusable(self) -> list[JSON]:
        """The options with autocomplete."""
        return [o for o in self.options if o.get("autocomplete")]


@dataclasses.dataclass(frozen=True)
class Targets:
    """The community's ids and the hostile strings the values are drawn from."""

    roles: list[int]
    channels: list[int]
    users: list[int]
    hostile: list[str]


def leaves_of(commands: list[JSON]) -> list[Leaf]:
    """Every runnable command (subcommands flattened) of command payloads as synced."""
    out: list[Leaf] = []

    def walk(node: JSON, path: list[str], manager_only: bool) -> None:
        options = node.get("options") or []
        subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if not subs:
            out.append(Leaf(" ".join(path), tuple(options), manager_only))
        for sub in subs:
            walk(sub, [*path, sub["name"]], manager_only)

    for command in commands:
        if int(command.get("type", 1)) == 1:
            walk(command, [command["name"]], command.get("default_member_permissions") is not None)
    return out


def tree_commands() -> list[JSON]:
    """The slash commands exactly as the bot would sync them, read from its command tree with
    every extension loaded, without Discord: what the sweep is parametrized over (so a new
    command is swept without touching the sweep, whatever feature declares it)."""
    return asyncio.run(_tree_commands())


async def _tree_commands() -> list[JSON]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tree.db"
        values: dict[str, Any] = {"discord_token": TEST_TOKEN, "agora_database": path}
        settings = Settings(_env_file=None, **values)
        db = await Database.open(path)
        try:
            await db.migrate()
            async with AgoraBot(settings, db) as bot:
                for extension in cog_extensions():
                    await bot.load_extension(extension)
                return [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
        finally:
            await db.close()


def hostile_strings(guild_id: int, role: int, member: int, channel: int) -> list[str]:
    return [
        "",
        " ",
        "\n\n\t",
        "\u200b",
        "\u200b" * 40,
        "\u200d\u2060\ufeff",
        "\u202eevil\u202c",
        "𝕳𝖊𝖑𝖑𝖔 🎉 中文 العربية עברית",
        "é" * 300,
        "x" * 2001,
        "word " * 130,
        "**bold** __under__ ~~strike~~ ||spoiler|| `code` ```py\nprint(1)\n```",
        "> quote\n# Heading\n- list\n[link](https://evil.example/x)",
        "@everyone",
        "@here",
        "@everyone @here hello",
        f"<@{member}>",
        f"<@!{member}>",
        "<@123456789012345678>",
        f"<@&{role}>",
        f"<@&{guild_id}>",
        "<@&123456789012345678>",
        f"<#{channel}>",
        str(role),
        str(guild_id),
        "http://127.0.0.1/feed",
        "http://127.0.0.1:1/feed.atom",
        "feed:http://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed",
        "feed:http://[::1]:8080/",
        "http://localhost/",
        "http://10.0.0.1/rss",
        "file:///etc/passwd",
        "feed:gopher://127.0.0.1/",
        "hf:../../etc",
        "hf:",
        "github:a/b/../../c",
        "github:",
        "(a+)+$",
        "^(([a-z])+.)+[A-Z]([a-z])+$",
        "(.*a){25}",
        "include:(a+)+$",
        "include:" + "*" * 200 + "a exclude:[",
        "min_params:-1B license:???",
        "min_params:999999999999999999999B",
        "0m",
        "999d",
        "-1h",
        "1m",
        "30d",
        "31d",
        "32d",
        "33d",
        "0h",
        "1.5h",
        "1e9m",
        "٣h",
        "２h",
        "99999999999999999999999h",
        "0",
        "-1",
        "366",
        "NaN",
        "inf",
        "none",
        "None",
        "off",
        "on",
        "fri 18:00",
        "fri 25:99",
        "someday 18:00",
        "'; DROP TABLE polls; --",
        "%s %d {0} {}",
        "a\x00b",
        "a|b",
        "|",
        "||||",
        "yes|no|" * 20,
        "|".join(f"opt{n}" for n in range(26)),
        "|".join("o" * 81 for _ in range(3)),
        "a|a|a",
        # Plausible values too, so that some inputs succeed and data exists to protect.
        "Should open weights be the default?",
        "Open weights should be the default for frontier models",
        "yes|no",
        "share|safeguard|undecided",
        "2h",
        "3d",
        "hf:org",
        "github:huggingface/transformers",
        "include:llama* min_params:7B",
        "openness",
        "7d",
        "1",
        "2",
    ]


def text_strategy(hostile: list[str]) -> st.SearchStrategy[str]:
    fragment = st.one_of(st.sampled_from(hostile), st.text(max_size=20))
    return st.one_of(
        st.sampled_from(hostile),
        st.text(max_size=80),
        st.lists(fragment, min_size=1, max_size=4).map("".join),
        st.lists(fragment, min_size=2, max_size=30).map("|".join),
        st.integers(0, 2100).map(lambda n: "y" * n),
    )


def value_strategy(targets: Targets, option: JSON) -> st.SearchStrategy[Any]:
    kind = int(option["type"])
    choices = [c["value"] for c in option.get("choices") or []]
    if choices:
        wrong: Any = "not-a-choice" if kind == STRING else 99
        return st.sampled_from([*choices, wrong])
    if kind == STRING:
        return text_strategy(targets.hostile)
    if kind in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        edges = [0, -1, 1, 2, 3, 2**31, DISCORD_INT, -DISCORD_INT]
        edges += [v + d for v in (low, high) if v is not None for d in (-1, 0, 1)]
        ints = st.one_of(st.sampled_from(edges), st.integers(-5, 40))
        if kind == NUMBER:
            return st.one_of(ints.map(float), st.floats(-1e6, 1e6, allow_nan=False))
        return ints
    if kind == BOOLEAN:
        return st.booleans()
    if kind == USER:
        return st.sampled_from(targets.users)
    if kind == CHANNEL:
        return st.sampled_from(targets.channels)
    if kind == ROLE:
        return st.sampled_from(targets.roles)
    if kind == MENTIONABLE:
        return st.sampled_from(targets.users + targets.roles)
    raise AssertionError(f"option type {kind} of {option['name']!r} is not swept yet")
