from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.text import ELLIPSIS, cut, escape_markdown, html_to_text, neutralise_mentions, safe_line


def test_safe_line_strips_controls_and_bidi() -> None:
    assert safe_line("a\x00b\x1b[31mc\u202ed\n e\t") == "ab[31mcd e"
    assert safe_line(None) == ""


def test_mentions_neutralised_and_idempotent() -> None:
    text = "@everyone @HERE <@123> <@!456> <@&789> mail@example.org"
    once = neutralise_mentions(text)
    assert "@everyone" not in once and "@HERE" not in once
    assert "<@123>" not in once and "<@!456>" not in once and "<@&789>" not in once
    assert "mail@example.org" in once
    assert neutralise_mentions(once) == once


def test_html_to_text() -> None:
    assert html_to_text("<p>Hello <b>world</b></p><script>x()</script>&amp; more") == (
        "Hello world & more"
    )
    assert html_to_text("plain &lt;tag&gt;") == "plain <tag>"
    assert html_to_text(None) == ""


def test_cut_word_boundary() -> None:
    assert cut("short", 10) == "short"
    assert cut("hello wonderful world", 12) == "hello" + ELLIPSIS
    assert cut("abcdefghij", 5) == "abcd" + ELLIPSIS
    assert cut("abc", 0) == ""
    # Never leaves half of an escape.
    assert not cut(escape_markdown("a" * 8 + "*" * 10), 12).removesuffix(ELLIPSIS).endswith("a\\")


@given(st.text(max_size=500), st.integers(min_value=0, max_value=600))
def test_cut_never_exceeds_limit(text: str, limit: int) -> None:
    out = cut(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text


@given(st.text(max_size=200))
def test_escaped_cut_has_no_dangling_backslash(text: str) -> None:
    out = cut(escape_markdown(text), 50).removesuffix(ELLIPSIS)
    trailing = len(out) - len(out.rstrip("\\"))
    assert trailing % 2 == 0
