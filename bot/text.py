"""Text hygiene for anything that ends up in Discord: control characters, mentions, markdown, length."""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

ELLIPSIS = "…"

# Bidirectional overrides/isolates can make a title render as something else.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_WS = re.compile(r"\s+")
_ZWSP = "\u200b"
# <@123>, <@!123>, <@&123> and the two mass mentions.
_USER_OR_ROLE_MENTION = re.compile(r"<@(?!\u200b)([!&]?)")
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_MARKDOWN_SPECIALS = re.compile(r"([\\*_~`|>\[\]#])")


def strip_control(text: str) -> str:
    """Drop control and bidi-override characters; newlines and tabs become spaces."""
    out: list[str] = []
    for ch in text:
        if ch in "\n\r\t":
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def neutralise_mentions(text: str) -> str:
    """Make ``@everyone``, ``@here``, ``<@id>``, ``<@!id>`` and ``<@&id>`` inert.

    A zero-width space after the ``@`` keeps the text readable but stops Discord from
    parsing a mention (``allowed_mentions`` is the real guard; this is belt and braces).
    """
    text = _MASS_MENTION.sub(lambda m: "@" + _ZWSP + m.group(1), text)
    return _USER_OR_ROLE_MENTION.sub(lambda m: "<@" + _ZWSP + m.group(1), text)


def safe_line(text: str | None) -> str:
    """One line of plain text: no control characters, collapsed spaces, mentions neutralised."""
    if not text:
        return ""
    return neutralise_mentions(_WS.sub(" ", strip_control(text)).strip())


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown so plain text shows as typed (no masked links)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str | None) -> str:
    """Visible text of an HTML fragment (feed summaries), as one safe line."""
    if not markup:
        return ""
    if "<" not in markup:
        return safe_line(html.unescape(markup))
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is a last resort against odd input
        return safe_line(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return safe_line("".join(parser.parts))


def cut(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, at a word boundary, ending with "…".

    Text that fits is returned unchanged. A cut never leaves a dangling markdown escape
    backslash. If there is no space in the second half, the word is cut.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    head = text[: limit - 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= (limit - 1) // 2:
        head = head[:space]
    head = head.rstrip()
    # Do not leave half of a "\*" escape at the end.
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2 == 1:
        head = head[:-1]
    return head.rstrip() + ELLIPSIS
