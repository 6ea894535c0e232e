"""Discord-free announcement cards that already respect Discord's embed limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from bot import limits
from bot.releases.models import ReleaseItem
from bot.releases.openness import Grade, openness_card
from bot.text import cut, escape_markdown, neutralise_mentions, safe_line

#: A feed summary is cut to this length in the description (a card, not the article).
SUMMARY_LIMIT = 700

COLOR_GITHUB = 0x24292E
COLOR_FEED = 0x3498DB
FOOTER_SUFFIX = "Agora release radar"


class CardField(NamedTuple):
    """One embed field: ``(name, value, inline)``."""

    name: str
    value: str
    inline: bool = False


def _clean(text: str) -> str:
    return neutralise_mentions(text)


@dataclass(frozen=True, slots=True)
class AnnouncementCard:
    """What an announcement embed shows. Built by ``AnnouncementCard.fitted`` (or
    ``build_card``) it respects Discord's limits: title 256, description 4096, 25 fields
    with names 256 and values 1024, footer 2048, 6000 characters in total; text is cut at
    a word boundary with "…". ``cogs/releases/embeds.py`` maps it 1:1 onto ``discord.Embed``.
    """

    title: str
    url: str | None
    description: str
    fields: list[CardField] = field(default_factory=list)
    footer: str = ""
    color: int = COLOR_FEED

    @classmethod
    def fitted(
        cls,
        *,
        title: str,
        url: str | None,
        description: str,
        fields: Iterable[tuple[str, str, bool]] = (),
        footer: str = "",
        color: int = COLOR_FEED,
    ) -> AnnouncementCard:
        """A card with every part cut to its limit and the total kept under 6000.

        Over the total, the description is shortened first, then fields are dropped from
        the end. Empty field names/values become "—" (Discord refuses empty ones).
        """
        title = cut(_clean(title), limits.EMBED_TITLE) or "—"
        description = cut(_clean(description), limits.EMBED_DESCRIPTION)
        footer = cut(_clean(footer), limits.FOOTER)
        clean_fields = [
            CardField(
                cut(_clean(name), limits.FIELD_NAME) or "—",
                cut(_clean(value), limits.FIELD_VALUE) or "—",
                bool(inline),
            )
            for name, value, inline in list(fields)[: limits.EMBED_FIELDS]
        ]
        fixed = len(title) + len(footer) + sum(len(f.name) + len(f.value) for f in clean_fields)
        if fixed + len(description) > limits.EMBED_TOTAL:
            room = limits.EMBED_TOTAL - fixed
            description = cut(description, max(room, 0))
        while clean_fields and fixed + len(description) > limits.EMBED_TOTAL:
            dropped = clean_fields.pop()
            fixed -= len(dropped.name) + len(dropped.value)
        return cls(title, url, description, clean_fields, footer, color)

    @property
    def total_length(self) -> int:
        """Characters Discord counts towards the 6000 limit."""
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer)
            + sum(len(f.name) + len(f.value) for f in self.fields)
        )

    def as_text(self) -> str:
        """A plain-text rendering (for the operator's ``releases check`` command)."""
        lines = [self.title]
        if self.url:
            lines.append(self.url)
        if self.description:
            lines.append(self.description)
        lines.extend(f"  {f.name}: {f.value}" for f in self.fields)
        if self.footer:
            lines.append(f"  [{self.footer}]")
        return "\n".join(lines)


def _md(text: str | None) -> str:
    return escape_markdown(safe_line(text))


def _date(item: ReleaseItem) -> str:
    return item.published.strftime("%Y-%m-%d %H:%M UTC") if item.published else "unknown"


def _paper_links(papers: tuple[str, ...]) -> str:
    links = []
    for paper in papers[:3]:
        if paper.startswith("arxiv:"):
            ident = escape_markdown(safe_line(paper.removeprefix("arxiv:")))
            links.append(f"[arXiv:{ident}](https://arxiv.org/abs/{ident})")
        else:
            links.append(f"<{safe_line(paper)}>")
    return ", ".join(links)


def build_card(item: ReleaseItem, footer_note: str | None = None) -> AnnouncementCard:
    """The announcement card of an item: an openness card for Hub models, a plain card else."""
    footer = " · ".join(p for p in (item.source_key, footer_note, FOOTER_SUFFIX) if p)
    if item.kind == "model" and item.facts is not None:
        return _model_card(item, footer)
    title = item.safe_title
    if item.kind == "release":
        repo = item.source_key.removeprefix("github:")
        if repo.lower() not in title.lower():
            title = f"{repo} · {title}"
    description = cut(escape_markdown(safe_line(item.summary)), SUMMARY_LIMIT)
    fields: list[tuple[str, str, bool]] = [("Published", _date(item), True)]
    if item.author:
        fields.append(("Author", _md(item.author), True))
    return AnnouncementCard.fitted(
        title=title,
        url=item.url,
        description=description,
        fields=fields,
        footer=footer,
        color=COLOR_GITHUB if item.kind == "release" else COLOR_FEED,
    )


def _model_card(item: ReleaseItem, footer: str) -> AnnouncementCard:
    assert item.facts is not None
    facts = item.facts
    card = openness_card(facts)
    grade: Grade = card.grade
    author = _md(item.author) if item.author else "unknown"
    description = f"New model from **{author}** · created {_date(item)}"
    datasets = (
        ", ".join(_md(d) for d in facts.datasets[:5])
        + (f" (+{len(facts.datasets) - 5} more)" if len(facts.datasets) > 5 else "")
        if facts.datasets
        else card.training_data
    )
    fields: list[tuple[str, str, bool]] = [
        ("Openness", f"{grade.value} · {grade.label}", True),
        ("Licence", _md(card.license_text), True),
        ("Access", card.access, True),
        ("Parameters", card.params, True),
        ("Task", _md(card.pipeline), True),
        ("Base model", _md(card.lineage), False),
        ("Training data", datasets, False),
        ("Paper", _paper_links(facts.papers) if facts.papers else card.paper, False),
    ]
    return AnnouncementCard.fitted(
        title=item.safe_title,
        url=item.url,
        description=description,
        fields=fields,
        footer=footer,
        color=grade.color,
    )
