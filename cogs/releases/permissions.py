"""What the radar needs in a channel to announce there, checked against discord.py's cache
before a follow is stored, and named when Discord refuses a post."""

from __future__ import annotations

import discord

#: Announcing needs these, in the order a manager would grant them: (attribute, name).
ANNOUNCE = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)
#: With the community's `announce_threads` on, opening the thread under each one needs these.
THREADS = (
    ("create_public_threads", "Create Public Threads"),
    ("send_messages_in_threads", "Send Messages in Threads"),
)


def missing_permissions(channel: object, *, threads: bool) -> list[str]:
    """The names of the permissions the bot lacks in `channel` to announce there (empty when
    it has them all, or when the channel or the bot's member is not known)."""
    if not isinstance(channel, discord.abc.GuildChannel):
        return []
    me = channel.guild.me
    if me is None:
        return []
    granted = channel.permissions_for(me)
    needed = ANNOUNCE + (THREADS if threads else ())
    return [name for attribute, name in needed if not getattr(granted, attribute)]
