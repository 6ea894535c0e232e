import pytest

from bot.errors import UserFacingError
from bot.stances.text import MAX_STATEMENT_LENGTH, clean_statement


def test_collapses_whitespace_and_trims() -> None:
    assert clean_statement("  Open   weights\n\tshould be\u00a0the default ") == (
        "Open weights should be the default"
    )


def test_strips_zero_width_and_control_characters() -> None:
    text = "Open\u200b models\u200d are\u2060 safer\x00\x07 than\ufeff closed\u202e ones"
    assert clean_statement(text) == "Open models are safer than closed ones"


def test_invisible_padding_does_not_count_towards_length() -> None:
    with pytest.raises(UserFacingError, match="too short"):
        clean_statement("ok" + "\u200b" * 50 + "\u3164" * 20)


def test_empty_after_cleaning() -> None:
    with pytest.raises(UserFacingError, match="empty"):
        clean_statement(" \u200b\n\t ")


def test_length_limits_are_inclusive() -> None:
    assert clean_statement("a" * 10) == "a" * 10
    assert clean_statement("a" * MAX_STATEMENT_LENGTH) == "a" * MAX_STATEMENT_LENGTH
    with pytest.raises(UserFacingError, match=r"too short \(9 characters\)"):
        clean_statement("a" * 9)
    with pytest.raises(UserFacingError, match=r"too long \(201 characters\); the limit is 200"):
        clean_statement("a" * 201)


def test_long_text_with_collapsible_spaces_fits() -> None:
    assert len(clean_statement("word    " * 40)) == 40 * 5 - 1


def test_normalises_to_nfc() -> None:
    assert clean_statement("Cafe\u0301 culture is open") == "Caf\u00e9 culture is open"
