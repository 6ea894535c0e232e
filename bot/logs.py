"""Logging: human-readable lines (the default) or one JSON object per line (`LOG_FORMAT=json`).

What a record is about (the server, the command) is set once around the handling of an
interaction (:func:`interaction_context`, used by :mod:`bot.metrics`) in a context variable, so
every record logged while handling it carries them without each call passing them; an error
code is passed by the error handler with ``extra={"error_code": code}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class LogContext:
    """What the records logged while handling one interaction are about."""

    guild_id: int | None = None
    command: str | None = None


_context: ContextVar[LogContext | None] = ContextVar("agora_log_context", default=None)
_NO_CONTEXT = LogContext()

TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


@contextlib.contextmanager
def interaction_context(guild_id: int | None, command: str | None) -> Iterator[None]:
    """Records logged inside (and in tasks started inside) carry ``guild_id`` and ``command``."""
    token = _context.set(LogContext(guild_id, command))
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time, level, logger, message, and the guild id,
    command and error code where known; a traceback goes in ``traceback`` (still one line)."""

    def format(self, record: logging.LogRecord) -> str:
        context = _context.get() or _NO_CONTEXT
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        guild_id = getattr(record, "guild_id", None) or context.guild_id
        command = getattr(record, "command", None) or context.command
        error_code = getattr(record, "error_code", None)
        for key, value in (
            ("guild_id", guild_id),
            ("command", command),
            ("error_code", error_code),
        ):
            if value is not None:
                entry[key] = str(value) if key == "guild_id" else value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["traceback"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: int, log_format: str = "text") -> None:
    """Log to standard error at ``level``; discord.py's own loggers never below INFO."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger("discord").setLevel(max(level, logging.INFO))
