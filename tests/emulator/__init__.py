"""A fake Discord (REST v10 + gateway websocket) for end-to-end tests of the bot.

It never imports discord: the bot's own discord.py code talks to it over loopback TCP.
"""

from .interactions import EmulatedInteraction
from .messages import ApiError, UploadedFile
from .models import (
    ADMINISTRATOR,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    Channel,
    Guild,
    Member,
    Role,
    User,
)
from .server import DiscordEmulator, Fault, RecordedRequest

__all__ = [
    "ADMINISTRATOR",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "MANAGE_GUILD",
    "ApiError",
    "Channel",
    "DiscordEmulator",
    "EmulatedInteraction",
    "Fault",
    "Guild",
    "Member",
    "RecordedRequest",
    "Role",
    "UploadedFile",
    "User",
]
