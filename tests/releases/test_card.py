from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.limits import (
    EMBED_DESCRIPTION,
    EMBED_FIELDS,
    EMBED_TITLE,
    EMBED_TOTAL,
    FIELD_NAME,
    FIELD_VALUE,
)
from bot.releases import AnnouncementCard, Grade, build_card
from bot.text import ELLIPSIS

from .conftest import entry_item, model_item


def test_model_card_contents() -> None:
    item = model_item(
        "org/Open-7B",
        licenses=("apache-2.0",),
        gated=False,
        params=7_241_732_096,
        datasets=("allenai/dolma",),
        papers=("arxiv:2402.00838",),
        pipeline_tag="text-generation",
    )
    card = build_card(item)
    assert card.title == "org/Open-7B"
    assert card.url == "https://huggingface.co/org/Open-7B"
    assert card.color == Grade.A.color
    values = {f.name: f.value for f in card.fields}
    assert values["Openness"] == "A · Open"
    assert values["Parameters"] == "7.2B"
    assert values["Access"] == "Open download (not gated)"
    assert values["Training data"] == "allenai/dolma"
    assert values["Paper"] == "[arXiv:2402.00838](https://arxiv.org/abs/2402.00838)"
    assert values["Base model"].startswith("unknown")
    assert "2024-05-01" in card.description
    assert card.footer.startswith("hf:org")


def test_model_card_missing_everything_says_unknown() -> None:
    card = build_card(model_item("org/x", published=None))
    values = {f.name: f.value for f in card.fields}
    assert values["Openness"] == "E · Unknown / closed-ish"
    assert values["Parameters"] == "unknown"
    assert values["Access"] == "unknown"
    assert "created unknown" in card.description


def test_feed_card_is_plain_text_and_safe() -> None:
    item = entry_item(
        "id-1",
        title="Release\x00 @everyone <@123> \u202eevil",
        summary="[click](https://evil.example) **bold** @here",
        url="https://example.org/post",
        author="Ann",
        published=datetime(2024, 5, 2, 8, 30, tzinfo=UTC),
    )
    card = build_card(item)
    assert "\x00" not in card.title and "\u202e" not in card.title
    assert "@everyone" not in card.title and "<@123>" not in card.title
    assert "@\u200beveryone" in card.title
    assert "@here" not in card.description
    assert "\\[click\\]" in card.description  # no masked link
    assert "\\*\\*bold\\*\\*" in card.description
    values = {f.name: f.value for f in card.fields}
    assert values == {"Published": "2024-05-02 08:30 UTC", "Author": "Ann"}


def test_github_card_title_names_repo() -> None:
    item = entry_item("tag:1", title="v1.2.0").model_copy(
        update={"kind": "release", "source_key": "github:ollama/ollama"}
    )
    card = build_card(item)
    assert card.title == "ollama/ollama · v1.2.0"


def test_fitted_respects_every_limit() -> None:
    card = AnnouncementCard.fitted(
        title="word " * 100,
        url=None,
        description="lorem ipsum " * 1000,
        fields=[(f"name {i} " * 40, "value text " * 200, i % 2 == 0) for i in range(40)],
        footer="foot " * 1000,
    )
    assert len(card.title) <= EMBED_TITLE and card.title.endswith(ELLIPSIS)
    assert len(card.description) <= EMBED_DESCRIPTION
    assert len(card.fields) <= EMBED_FIELDS
    assert all(len(f.name) <= FIELD_NAME and len(f.value) <= FIELD_VALUE for f in card.fields)
    assert card.total_length <= EMBED_TOTAL
    # Cut at a word boundary: no half word before the ellipsis.
    assert card.title.removesuffix(ELLIPSIS).endswith("word")


def test_fitted_keeps_short_cards_intact_and_fills_empty_values() -> None:
    card = AnnouncementCard.fitted(
        title="t", url="https://x", description="d", fields=[("a", "", True)], footer="f"
    )
    assert (card.title, card.description, card.footer) == ("t", "d", "f")
    assert card.fields[0].value == "—"
    assert card.fields[0].inline is True


@given(
    title=st.text(max_size=600),
    description=st.text(max_size=9000),
    fields=st.lists(
        st.tuples(st.text(max_size=400), st.text(max_size=1500), st.booleans()), max_size=30
    ),
)
def test_fitted_limits_property(
    title: str, description: str, fields: list[tuple[str, str, bool]]
) -> None:
    card = AnnouncementCard.fitted(title=title, url=None, description=description, fields=fields)
    assert 0 < len(card.title) <= EMBED_TITLE
    assert len(card.description) <= EMBED_DESCRIPTION
    assert len(card.fields) <= EMBED_FIELDS
    assert all(0 < len(f.name) <= FIELD_NAME and 0 < len(f.value) <= 1024 for f in card.fields)
    assert card.total_length <= EMBED_TOTAL
