"""One Agora per database: an exclusive lock on ``<database>.lock``, held while the bot runs.

The running bot takes it at start and holds it until it stops (the system drops it when the
process dies, even by ``kill -9``), so a second bot on the same database and ``agora restore``
both find it taken and refuse with one line. It is an ``flock`` on an open file: two opens in
one process conflict too, which keeps the rule testable in-process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.errors import OperatorError

STOP_HINT = "stop it first (`systemctl stop agora`, or Ctrl-C where it runs)"


def lock_path(database: Path) -> Path:
    """The lock file beside ``database``."""
    return database.with_name(database.name + ".lock")


class InstanceLock:
    """The lock on one database; :meth:`acquire` raises :class:`OperatorError` when taken."""

    def __init__(self, database: Path | None) -> None:
        #: None on a database server (PostgreSQL): processes sharing it is what a cluster is.
        self.path = None if database is None else lock_path(database)
        self._fd: int | None = None

    def acquire(self, doing: str) -> None:
        """Take the lock, or raise naming the process holding it and ``doing`` (what was
        refused, e.g. ``"restore"``)."""
        if self._fd is not None or self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise OperatorError(
                f"cannot {doing}: an Agora bot (pid {holder}) is running on "
                f"{self.path.with_suffix('')}; {STOP_HINT}, then try again"
            ) from None
        except OSError:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor drops the lock
