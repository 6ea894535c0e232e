"""What differs between the engines inside SQL the repositories write once.

A repository writes a statement once and asks ``db.dialect`` for the one part that differs
(``Database.dialect``, chosen by the database's engine).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    #: Ends a ``SELECT`` (a subquery) that claims rows: rows another open transaction locked
    #: are skipped, not waited for. PostgreSQL needs it when several processes claim; SQLite
    #: has one writing process (and no row locks), so a plain select is enough.
    skip_locked: str


SQLITE = Dialect("sqlite", skip_locked="")
POSTGRESQL = Dialect("postgresql", skip_locked=" FOR UPDATE SKIP LOCKED")

#: By `Database.engine`.
DIALECTS = {SQLITE.name: SQLITE, POSTGRESQL.name: POSTGRESQL}
