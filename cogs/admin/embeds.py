"""What `/about` and `/agora settings` show."""

from __future__ import annotations

import discord

from bot.community import SETTING_NAMES, GuildSettings, describe_setting
from cogs.admin.service import AboutFacts

SETTING_HELP = {name: str(field.description) for name, field in GuildSettings.model_fields.items()}


def human_duration(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{sec}s")
    return " ".join(parts)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def about_embed(facts: AboutFacts) -> discord.Embed:
    embed = discord.Embed(
        title="Agora",
        description="Release radar, debates and stances for communities that follow open AI.",
        colour=discord.Colour.blurple(),
    )
    embed.add_field(name="Version", value=facts.version)
    embed.add_field(name="Uptime", value=human_duration(facts.uptime_seconds))
    embed.add_field(
        name="Gateway latency",
        value="measuring…" if facts.latency is None else f"{facts.latency * 1000:.0f} ms",
    )
    embed.add_field(name="Servers", value=str(facts.servers))
    embed.add_field(name="Shards", value=str(facts.shards))
    embed.add_field(name="Database", value=human_bytes(facts.database_bytes))
    embed.add_field(name="Features", value=", ".join(facts.features) or "none", inline=False)
    return embed


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Agora settings", colour=discord.Colour.blurple())
    for name in SETTING_NAMES:
        embed.add_field(
            name=name,
            value=f"{describe_setting(settings, name)}\n-# {SETTING_HELP[name]}",
            inline=False,
        )
    embed.set_footer(text="Change one with /agora settings setting:<name> value:<value>")
    return embed
