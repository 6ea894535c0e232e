import json
import random
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.debates.topics import (
    DEFAULT_TOPICS_PATH,
    MOTION_PREFIX,
    THEMES,
    Topic,
    default_topics,
    find_topic,
    load_topics,
    pick_random,
    search_topics,
)


def test_shipped_bank_loads_and_covers_every_theme() -> None:
    topics = load_topics()
    assert DEFAULT_TOPICS_PATH.name == "topics.json" and DEFAULT_TOPICS_PATH.parent.name == "data"
    assert len(topics) >= 24
    assert {t.theme for t in topics} == set(THEMES)
    assert len({t.id for t in topics}) == len(topics)
    assert len({t.motion.casefold() for t in topics}) == len(topics)
    for topic in topics:
        assert topic.motion.startswith(MOTION_PREFIX)
        assert topic.share_case != topic.safeguard_case
        assert topic.theme_title == THEMES[topic.theme]
    assert tuple(topics) == default_topics()


def write(tmp_path: Path, entries: list[dict[str, str]]) -> Path:
    path = tmp_path / "topics.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


GOOD = {
    "id": "a-topic",
    "theme": "surveillance",
    "motion": "This house believes something worth debating.",
    "share_case": "A case for sharing.",
    "safeguard_case": "A case for safeguarding.",
}


def test_validation_of_a_bad_bank(tmp_path: Path) -> None:
    assert load_topics(write(tmp_path, [GOOD]))[0].id == "a-topic"
    for change in (
        {"id": "Not A Slug"},
        {"theme": "weather"},
        {"motion": "We should debate this interesting thing."},
        {"extra": "field"},
    ):
        with pytest.raises(ValidationError):
            load_topics(write(tmp_path, [GOOD | change]))
    with pytest.raises(ValueError, match="appears twice"):
        load_topics(write(tmp_path, [GOOD, GOOD]))


def test_pick_random_is_reproducible_and_filters() -> None:
    topics = load_topics()
    assert pick_random(topics, random.Random(7)) == pick_random(topics, random.Random(7))
    picked = pick_random(topics, random.Random(1), theme="surveillance")
    assert picked.theme == "surveillance"
    one_left = [t.id for t in topics if t.theme == "surveillance"][1:]
    picked = pick_random(topics, random.Random(1), theme="surveillance", exclude=one_left)
    assert picked.id not in one_left
    everything = [t.id for t in topics]
    assert pick_random(topics, random.Random(1), exclude=everything) in topics
    with pytest.raises(ValueError):
        pick_random([], random.Random(1))


def test_find_topic() -> None:
    topics = load_topics()
    first = topics[0]
    assert find_topic(first.id, topics) == first
    assert find_topic(first.id.upper(), topics) == first
    assert find_topic("  " + first.motion.upper() + " ", topics) == first
    assert find_topic(first.id) == first  # default bank
    assert find_topic("This house believes pineapple belongs on pizza.", topics) is None
    assert find_topic("", topics) is None


def test_search_topics_for_autocomplete() -> None:
    topics = load_topics()
    assert len(search_topics("", topics)) == min(25, len(topics))
    hits = search_topics("face recognition", topics)
    assert hits and all("face recognition" in t.motion.casefold() for t in hits)
    assert all(t.theme == "surveillance" for t in search_topics("Surveillance", topics)[:1])
    assert search_topics("zzzz-nothing", topics) == []
    for topic in topics:
        label = topic.choice_label()
        assert len(label) <= 100
        assert label == topic.motion or label.endswith("…")


def test_topic_is_frozen() -> None:
    topic = Topic.model_validate(GOOD)
    with pytest.raises(ValidationError):
        topic.id = "other"  # type: ignore[misc]
