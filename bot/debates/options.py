"""Cleaning the text members type: poll questions, option lists, motions.

Text is NFC-normalised, stripped of zero-width and control characters (they make two options
look equal while differing, or an option look empty while not) and its whitespace collapsed to
single spaces. The limits are Discord's: a button label holds 80 characters, a native poll
takes 10 answers of 55 characters, and questions are kept to 300.
"""

from __future__ import annotations

import re
import unicodedata

from bot import limits
from bot.errors import UserFacingError

MAX_QUESTION_LENGTH = 300
MIN_OPTIONS = 2
#: A select menu's options (a poll of 21 to 25 options is one select menu).
MAX_OPTIONS = limits.SELECT_OPTIONS
#: An option is a button's label.
MAX_OPTION_LENGTH = limits.BUTTON_LABEL

NATIVE_MAX_QUESTION_LENGTH = limits.POLL_QUESTION
NATIVE_MAX_ANSWERS = limits.POLL_ANSWERS
NATIVE_MAX_ANSWER_LENGTH = limits.POLL_ANSWER

MIN_MOTION_LENGTH = 10
MAX_MOTION_LENGTH = 300

OPTION_SEPARATOR = "|"

#: Invisible characters removed from every text: zero-width space/joiners, word joiner,
#: byte-order mark, soft hyphen, Mongolian vowel separator, and the bidi controls.
ZERO_WIDTH = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

_WHITESPACE = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """Normalise ``text``: NFC, no invisible or control characters, single spaces, stripped."""
    normalised = unicodedata.normalize("NFC", text or "")
    kept = []
    for char in normalised:
        if char in ZERO_WIDTH:
            continue
        if unicodedata.category(char) == "Cc" and not char.isspace():
            continue
        kept.append(char)
    return _WHITESPACE.sub(" ", "".join(kept)).strip()


def clean_question(text: str | None, max_length: int = MAX_QUESTION_LENGTH) -> str:
    """A poll question, cleaned, non-empty and at most ``max_length`` characters."""
    question = clean_text(text)
    if not question:
        raise UserFacingError("The question is empty: write the question the poll asks.")
    if len(question) > max_length:
        raise UserFacingError(
            f"The question is {len(question)} characters long; the limit is {max_length}. "
            "Shorten it."
        )
    return question


def clean_native_question(text: str | None) -> str:
    """A native Discord poll's question (at most 300 characters)."""
    return clean_question(text, NATIVE_MAX_QUESTION_LENGTH)


def parse_options(
    text: str | None,
    *,
    max_options: int = MAX_OPTIONS,
    max_length: int = MAX_OPTION_LENGTH,
) -> list[str]:
    """Split ``"a | b | c"`` into cleaned options, in the order given.

    A leading or trailing ``|`` is forgiven; an empty option between two separators is not
    (it is probably a typo). Options must differ case-insensitively, number from 2 to
    ``max_options`` and be at most ``max_length`` characters each.
    """
    raw = clean_text(text)
    parts = [clean_text(part) for part in raw.split(OPTION_SEPARATOR)]
    while parts and not parts[-1]:
        parts.pop()
    while parts and not parts[0]:
        parts.pop(0)
    if len(parts) < MIN_OPTIONS:
        raise UserFacingError(
            f"A poll needs at least {MIN_OPTIONS} options, separated by `|`, "
            "for example `yes | no | not sure`."
        )
    for number, part in enumerate(parts, start=1):
        if not part:
            raise UserFacingError(
                f"Option {number} is empty: remove the extra `|` or write the option."
            )
    if len(parts) > max_options:
        raise UserFacingError(
            f"You gave {len(parts)} options; a poll takes at most {max_options}. "
            "Remove some or merge similar ones."
        )
    for number, part in enumerate(parts, start=1):
        if len(part) > max_length:
            raise UserFacingError(
                f"Option {number} ({part[:20]}…) is {len(part)} characters long; "
                f"the limit is {max_length}. Shorten it."
            )
    seen: dict[str, int] = {}
    for number, part in enumerate(parts, start=1):
        key = part.casefold()
        if key in seen:
            raise UserFacingError(
                f"Options {seen[key]} and {number} are the same (`{part}`): "
                "each option must be different."
            )
        seen[key] = number
    return parts


def parse_native_options(text: str | None) -> list[str]:
    """Answers of a native Discord poll: 2 to 10, at most 55 characters each."""
    return parse_options(text, max_options=NATIVE_MAX_ANSWERS, max_length=NATIVE_MAX_ANSWER_LENGTH)


def clean_motion(text: str | None) -> str:
    """A free-text debate motion (10 to 300 characters), for topics not in the bank."""
    motion = clean_text(text)
    if len(motion) < MIN_MOTION_LENGTH:
        raise UserFacingError(
            f"The motion is too short: write at least {MIN_MOTION_LENGTH} characters, "
            "for example `This house believes open weights make AI safer`, "
            "or pick a topic from `/debate topics`."
        )
    if len(motion) > MAX_MOTION_LENGTH:
        raise UserFacingError(
            f"The motion is {len(motion)} characters long; the limit is {MAX_MOTION_LENGTH}. "
            "Shorten it."
        )
    return motion
