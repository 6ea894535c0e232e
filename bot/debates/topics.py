"""The bank of debate motions shipped in ``data/topics.json``.

Each topic is a motion in the Oxford form ("This house believes ...") with a one-line case for
each side, filed under one of the themes of the sharing-versus-safeguarding question.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from bot.debates.options import clean_text

#: ``data/topics.json`` at the repository root (two levels above this package).
DEFAULT_TOPICS_PATH = Path(__file__).resolve().parents[2] / "data" / "topics.json"

#: Theme slug -> title shown to members.
THEMES: dict[str, str] = {
    "transparency-trust": "Transparency and trust",
    "democratised-access": "Democratised access",
    "speed-of-innovation": "Speed of innovation",
    "competitive-advantage": "Competitive advantage behind openness",
    "misuse-deepfakes": "Misuse and deepfakes",
    "surveillance": "Surveillance",
    "biased-models": "Biased models at scale",
    "release-responsibility": "Responsibility when releasing",
}

MOTION_PREFIX = "This house believes"


class Topic(BaseModel):
    """One motion of the bank."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60)
    theme: str
    motion: str = Field(min_length=len(MOTION_PREFIX) + 5, max_length=300)
    share_case: str = Field(min_length=10, max_length=200)
    safeguard_case: str = Field(min_length=10, max_length=200)

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str) -> str:
        if value not in THEMES:
            raise ValueError(f"unknown theme {value!r}; known: {', '.join(THEMES)}")
        return value

    @field_validator("motion")
    @classmethod
    def _oxford_form(cls, value: str) -> str:
        if not value.startswith(MOTION_PREFIX):
            raise ValueError(f"a motion starts with {MOTION_PREFIX!r}")
        return value

    @property
    def theme_title(self) -> str:
        return THEMES[self.theme]

    def choice_label(self, limit: int = 100) -> str:
        """The motion shortened to ``limit`` characters (an autocomplete choice holds 100)."""
        if len(self.motion) <= limit:
            return self.motion
        return self.motion[: limit - 1].rstrip() + "…"


_TOPIC_LIST = TypeAdapter(list[Topic])


def load_topics(path: Path | str | None = None) -> list[Topic]:
    """Read and validate the topic bank (default: :data:`DEFAULT_TOPICS_PATH`).

    Raises :class:`pydantic.ValidationError` for a malformed entry and :class:`ValueError`
    for a repeated id: the bank ships with the bot, so a bad file is a bug to see at startup.
    """
    file = Path(path) if path is not None else DEFAULT_TOPICS_PATH
    topics = _TOPIC_LIST.validate_python(json.loads(file.read_text(encoding="utf-8")))
    seen: set[str] = set()
    for topic in topics:
        if topic.id in seen:
            raise ValueError(f"topic id {topic.id!r} appears twice in {file}")
        seen.add(topic.id)
    return topics


@lru_cache(maxsize=1)
def default_topics() -> tuple[Topic, ...]:
    """The shipped bank, read once."""
    return tuple(load_topics())


def pick_random(
    topics: Sequence[Topic],
    rng: random.Random,
    *,
    theme: str | None = None,
    exclude: Sequence[str] = (),
) -> Topic:
    """A random topic, optionally of one ``theme`` and avoiding ids in ``exclude``
    (e.g. recent debates). If excluding leaves nothing, the exclusion is ignored."""
    pool = [t for t in topics if theme is None or t.theme == theme]
    if not pool:
        raise ValueError("no topic to pick from")
    fresh = [t for t in pool if t.id not in set(exclude)]
    return rng.choice(fresh or pool)


def find_topic(id_or_text: str, topics: Sequence[Topic] | None = None) -> Topic | None:
    """The bank topic an autocomplete value or typed text refers to, or ``None``.

    Matches the id (case-insensitively), then the whole motion text (ignoring case and
    spacing). ``None`` means free text: the cog can debate it as a custom motion
    (see :func:`bot.debates.options.clean_motion`).
    """
    pool = default_topics() if topics is None else topics
    wanted = clean_text(id_or_text).casefold()
    if not wanted:
        return None
    for topic in pool:
        if topic.id == wanted:
            return topic
    for topic in pool:
        if clean_text(topic.motion).casefold() == wanted:
            return topic
    return None


def search_topics(query: str, topics: Sequence[Topic], limit: int = 25) -> list[Topic]:
    """Topics whose id, theme or motion contains every word of ``query``; for autocomplete
    (Discord shows at most 25 choices). An empty query lists the first ``limit``."""
    words = clean_text(query).casefold().split()
    hits = [
        topic
        for topic in topics
        if all(
            word in f"{topic.id} {topic.theme} {topic.theme_title} {topic.motion}".casefold()
            for word in words
        )
    ]
    return hits[:limit]
