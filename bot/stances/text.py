"""Validation of opinion-map statement text (``/stance statement add text``)."""

from __future__ import annotations

import unicodedata

from bot.errors import UserFacingError

MIN_STATEMENT_LENGTH = 10
MAX_STATEMENT_LENGTH = 200

#: Unicode categories dropped outright: controls, format characters (zero-width space,
#: zero-width joiner, bidi overrides, soft hyphen, BOM...) and lone surrogates.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
#: Letters that render as nothing and are used to make text look empty.
_INVISIBLE_LETTERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})


def clean_statement(text: str) -> str:
    """Return the statement as it will be stored and shown, or raise ``UserFacingError``.

    Steps: NFC normalisation; every whitespace character (tabs, newlines, no-break spaces,
    line separators) becomes a space; control, zero-width and other invisible format characters
    are removed (this also splits emoji joined with a zero-width joiner into their parts, a
    price worth paying against invisible padding); runs of spaces collapse to one and the ends
    are trimmed. The result must be 10 to 200 characters (code points) long.
    """
    normalised = unicodedata.normalize("NFC", text)
    kept: list[str] = []
    for char in normalised:
        if char.isspace():
            kept.append(" ")
        elif char in _INVISIBLE_LETTERS or unicodedata.category(char) in _DROPPED_CATEGORIES:
            continue
        else:
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    if not cleaned:
        raise UserFacingError(
            f"The statement is empty. Write a sentence of {MIN_STATEMENT_LENGTH} to "
            f"{MAX_STATEMENT_LENGTH} characters."
        )
    if len(cleaned) < MIN_STATEMENT_LENGTH:
        raise UserFacingError(
            f"The statement is too short ({len(cleaned)} characters); "
            f"it needs at least {MIN_STATEMENT_LENGTH}."
        )
    if len(cleaned) > MAX_STATEMENT_LENGTH:
        raise UserFacingError(
            f"The statement is too long ({len(cleaned)} characters); "
            f"the limit is {MAX_STATEMENT_LENGTH}."
        )
    return cleaned
