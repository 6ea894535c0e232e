"""Where Agora keeps its data: ``AGORA_DATABASE`` as a SQLite file or a PostgreSQL server.

A plain path or ``sqlite:///path`` is a SQLite file (the embedded default, one process); a
``postgresql://`` (or ``postgres://``) URL is a PostgreSQL database (the engine for a cluster
of processes). Anything else is refused with one line naming the fix: an unknown scheme, a URL
without a database name. A URL is never taken as a file path (an operator who wrote a URL must
not end up on a new, empty SQLite file in a folder named ``postgresql:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

# A scheme in front of "://", or a bare "word:" such as "postgresql:agora" (RFC 3986 schemes).
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})


@dataclass(frozen=True)
class SqliteTarget:
    """A SQLite database file."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class PostgresTarget:
    """A PostgreSQL database; ``url`` is given to the driver as it is."""

    url: str
    database: str

    def __str__(self) -> str:
        """The URL with any password masked (for logs and `agora check-config`)."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()


DatabaseTarget = SqliteTarget | PostgresTarget


def parse_database_target(value: str | Path | DatabaseTarget) -> DatabaseTarget:
    """``AGORA_DATABASE`` as a target; ValueError (a reason for one line) when it is neither."""
    if isinstance(value, SqliteTarget | PostgresTarget):
        return value
    if isinstance(value, Path):
        return SqliteTarget(value)
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    scheme = _SCHEME.match(text)
    # "C:\data\agora.db" is a Windows drive, not a scheme.
    if scheme is None or (len(scheme.group(1)) == 1 and "://" not in text):
        return SqliteTarget(Path(text))
    name = scheme.group(1).lower()
    if name == "sqlite":
        if not text.lower().startswith("sqlite:///") or len(text) <= len("sqlite:///"):
            raise ValueError("must be sqlite:///PATH (three slashes, then the file's path)")
        return SqliteTarget(Path(unquote(text[len("sqlite:///") :])))
    if name in _POSTGRES_SCHEMES:
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ValueError("is not a valid PostgreSQL URL") from None
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError("names no server (postgresql://USER@HOST:5432/DATABASE)")
        database = unquote(parts.path.lstrip("/"))
        if not database or "/" in database:
            raise ValueError("names no database (postgresql://USER@HOST:5432/DATABASE)")
        return PostgresTarget(text, database)
    raise ValueError(f"has the unknown scheme {name}:// (Agora supports sqlite and postgresql)")
