"""`agora restore PATH`: put a backup in place of the database, checked, atomically.

The order of the steps is the argument:

1. Take the database's instance lock (:mod:`bot.instance_lock`): a running bot holds it, so a
   restore under a running bot is refused, and no bot can start while the restore runs.
2. Copy the backup with SQLite's backup API into a temporary file in the database's folder
   (the same file system, so the final rename is atomic; the API also reads a ``-wal`` left
   beside the backup), then check *that copy*: ``PRAGMA integrity_check`` and a schema version
   this Agora knows. A refused backup leaves everything as it was.
3. Keep the replaced database as ``<name>.before-restore-<UTC time>`` (a hard link, so the
   database never disappears); its unfinished ``-wal`` is checkpointed first, or moved with
   it if it cannot be, so the restored database never reads the old one's WAL.
4. ``fsync`` the copy, rename it over the database, ``fsync`` the folder.

The file operations are synchronous on purpose: this runs in the operator's command, never in
the bot's event loop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.database import bundled_migrations
from bot.database_sqlite import copy_file
from bot.errors import OperatorError
from bot.instance_lock import InstanceLock

SIDECARS = ("-wal", "-shm")


@dataclass(frozen=True)
class RestoreReport:
    schema_version: int
    kept: Path | None  # where the replaced database was kept (None: there was none)


def restore_database(database: Path, backup: Path, *, now: datetime | None = None) -> RestoreReport:
    """Replace ``database`` with a checked copy of ``backup``; :class:`OperatorError` (one
    line saying what to do) when the backup is refused or a bot holds the database."""
    if not backup.is_file():
        raise OperatorError(f"cannot restore: {backup} is not a file: give the path of a backup")
    lock = InstanceLock(database)
    lock.acquire("restore")
    temporary = database.with_name(f".{database.name}.restoring-{os.getpid()}")
    try:
        _copy(backup, temporary)
        version = _check(backup, temporary)
        _fsync(temporary)
        kept = _keep(database, now or datetime.now(UTC))
        os.replace(temporary, database)
        _fsync(database.parent, directory=True)
        return RestoreReport(version, kept)
    finally:
        for leftover in (temporary, *(_sidecar(temporary, s) for s in SIDECARS)):
            leftover.unlink(missing_ok=True)
        lock.release()


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _copy(backup: Path, temporary: Path) -> None:
    # Read-only; without a WAL beside it the backup is read as immutable, so SQLite creates no
    # -wal/-shm files beside it either (a backup written by `agora backup` has none).
    mode = "mode=ro" if _sidecar(backup, "-wal").exists() else "immutable=1"
    try:
        copy_file(f"{backup.resolve().as_uri()}?{mode}", temporary)
    except sqlite3.Error as exc:
        raise OperatorError(
            f"cannot restore: {backup} is not a readable SQLite database ({exc}): use another backup"
        ) from None


def _check(backup: Path, temporary: Path) -> int:
    """The copy's schema version, after its integrity check."""
    latest = bundled_migrations()[-1].version
    try:
        conn = sqlite3.connect(temporary)
        try:
            problems = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        problems, version = [str(exc)], 0
    if problems != ["ok"]:
        raise OperatorError(
            f"cannot restore: {backup} is damaged (integrity check: {problems[0]}): "
            "use another backup"
        )
    if version > latest:
        raise OperatorError(
            f"cannot restore: {backup} has schema version {version}, but this Agora knows only up "
            f"to {latest}: upgrade Agora first, then restore"
        )
    if version == 0:
        raise OperatorError(
            f"cannot restore: {backup} holds no Agora data (schema version 0): "
            "give the path of a file written by `agora backup`"
        )
    return version


def _keep(database: Path, now: datetime) -> Path | None:
    """Keep the current database (and what its WAL still holds) beside it; its path."""
    if not database.exists():
        return None
    with contextlib.suppress(sqlite3.Error):  # a damaged database is kept as it is
        conn = sqlite3.connect(database)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = database.with_name(f"{database.name}.before-restore-{stamp}-{n}")
    try:
        os.link(database, kept)
    except OSError:  # a file system without hard links
        shutil.copy2(database, kept)
    wal = _sidecar(database, "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        os.replace(wal, _sidecar(kept, "-wal"))
    for suffix in SIDECARS:
        _sidecar(database, suffix).unlink(missing_ok=True)
    return kept


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
