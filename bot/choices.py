"""Autocomplete choices shared by features (Discord's side of a Discord-free search)."""

from __future__ import annotations

from discord import app_commands

from bot.debates.topics import default_topics, search_topics
from bot.limits import CHOICE_NAME, CHOICES


def topic_choices(current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 bank topics matching what the member typed (name: the motion, value: its id)."""
    return [
        app_commands.Choice(name=topic.choice_label(CHOICE_NAME), value=topic.id)
        for topic in search_topics(current[:CHOICE_NAME], default_topics(), limit=CHOICES)
    ]
