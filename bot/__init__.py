"""Agora: the Discord bot for communities that follow open AI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agora-bot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
