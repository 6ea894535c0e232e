from collections.abc import Callable

import pytest

from bot.debates.options import (
    MAX_OPTIONS,
    clean_motion,
    clean_native_question,
    clean_question,
    clean_text,
    parse_native_options,
    parse_options,
)
from bot.errors import UserFacingError


def test_clean_text_strips_invisible_and_collapses_spaces() -> None:
    assert clean_text("  a\u200b b\u200d\n\n c\ufeff ") == "a b c"
    assert clean_text("\u200b\u200c") == ""
    assert clean_text(None) == ""
    assert clean_text("cafe\u0301") == "café"  # NFC


def test_clean_question() -> None:
    assert clean_question("  Open   weights? ") == "Open weights?"
    assert clean_question("q" * 300) == "q" * 300


def test_parse_options_basic() -> None:
    assert parse_options("a | b | c") == ["a", "b", "c"]
    assert parse_options("  Yes|No  ") == ["Yes", "No"]
    assert parse_options("| yes | no |") == ["yes", "no"]  # stray outer separators forgiven


@pytest.mark.parametrize(
    ("clean", "text", "refusal"),
    [
        (clean_question, "\u200b  ", "empty"),
        (clean_question, "q" * 301, "301 characters long; the limit is 300"),
        (clean_native_question, "q" * 301, "limit is 300"),
        (clean_motion, "short", "too short"),
        (clean_motion, "m" * 301, "limit is 300"),
        (
            parse_options,
            " | ".join(f"o{i}" for i in range(MAX_OPTIONS)) + " | extra",
            "26 options; a poll takes at most 25",
        ),
        (parse_options, "a" * 81 + " | b", "Option 1 .* 81 characters long; the limit is 80"),
        (parse_native_options, " | ".join(str(i) for i in range(11)), "at most 10"),
        (parse_native_options, "a" * 56 + " | b", "limit is 55"),
        (parse_options, "a || b", "Option 2 is empty"),
        (parse_options, "a | \u200b | b", "Option 2 is empty"),
        (parse_options, "", "at least 2 options"),
        (parse_options, "only one", "at least 2 options"),
        (parse_options, "one |", "at least 2 options"),
        (parse_options, "|||", "at least 2 options"),
        (parse_options, "Yes | No | yes", "Options 1 and 3 are the same"),  # case-insensitive
        (parse_options, "Open\u200b | open", "same"),
    ],
)
def test_refusals(clean: Callable[[str], object], text: str, refusal: str) -> None:
    with pytest.raises(UserFacingError, match=refusal):
        clean(text)


def test_option_count_limit() -> None:
    options = " | ".join(f"o{i}" for i in range(MAX_OPTIONS))
    assert len(parse_options(options)) == 25


def test_option_length_limit() -> None:
    assert parse_options("a" * 80 + " | b")[0] == "a" * 80


def test_native_limits() -> None:
    assert len(parse_native_options(" | ".join(str(i) for i in range(10)))) == 10


def test_clean_motion() -> None:
    assert clean_motion("  This house believes X  ") == "This house believes X"
