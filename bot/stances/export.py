"""The shape of ``/stance export``: everything Agora keeps about one member in one community.

The result is plain JSON (ids as strings: snowflakes exceed JavaScript's safe integers; times as
ISO 8601 UTC). :func:`export_bytes` gives the file the cog attaches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.stances.models import (
    Observation,
    Statement,
    StatementVote,
    Visibility,
    VoteWord,
    require_aware,
)

EXPORT_FORMAT = "agora-stances-export"
EXPORT_VERSION = 1


def build_export(
    member_id: int,
    guild_id: int,
    declared: Iterable[Observation],
    observations: Iterable[Observation],
    statement_votes: Iterable[StatementVote],
    statements: Mapping[int, str],
    visibility: Visibility | str,
    *,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """A JSON-serialisable dict of the member's stance data.

    ``declared``: the member's current declared positions (one per topic); ``observations``:
    the full history, every source; ``statement_votes``: the member's opinion-map votes;
    ``statements``: id -> text for (at least) the statements voted on, so the file reads on its
    own; ``visibility``: ``public`` or ``private``. Rows of other members are left out.
    """
    moment = generated_at or datetime.now(UTC)
    require_aware(moment, "generated_at")
    history = sorted((o for o in observations if o.member_id == member_id), key=lambda o: o.at)
    votes = sorted(
        (v for v in statement_votes if v.member_id == member_id), key=lambda v: v.statement_id
    )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": _iso(moment),
        "guild_id": str(guild_id),
        "member_id": str(member_id),
        "visibility": Visibility(visibility).value,
        "declared_positions": [_observation(o) for o in declared if o.member_id == member_id],
        "history": [_observation(o) for o in history],
        "statement_votes": [
            {
                "statement_id": v.statement_id,
                "statement": statements.get(v.statement_id),
                "vote": VoteWord.of(v.value).value,
                "value": v.value,
                "at": None if v.at is None else _iso(v.at),
            }
            for v in votes
        ],
    }


def declared_positions(observations: Iterable[Observation]) -> list[Observation]:
    """The latest declared position per topic (the general question included), from a
    member's observations oldest first; positions that came from debates are left out."""
    latest: dict[str | None, Observation] = {}
    for obs in observations:
        if obs.source == "declared":
            latest[obs.topic] = obs
    return list(latest.values())


def authored_statements(member_id: int, statements: Iterable[Statement]) -> list[dict[str, Any]]:
    """The statements ``member_id`` wrote, for the file's ``statements_authored``."""
    return [
        {
            "number": s.number,
            "statement": s.text,
            "removed": s.removed,
            "at": s.created_at.isoformat(),
        }
        for s in statements
        if s.author_id == member_id
    ]


def with_times_as_text(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the file, with every ``datetime`` value as ISO 8601 UTC."""
    return [
        {key: _iso(value) if isinstance(value, datetime) else value for key, value in row.items()}
        for row in rows
    ]


def export_bytes(export: Mapping[str, Any]) -> bytes:
    """The export as indented UTF-8 JSON, ready to attach as ``stances.json``."""
    return json.dumps(export, ensure_ascii=False, indent=2).encode("utf-8")


def _observation(obs: Observation) -> dict[str, Any]:
    return {
        "topic": obs.topic,
        "value": int(obs.value),
        "label": obs.value.label,
        "source": obs.source,
        "at": _iso(obs.at),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
