from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.debates.poll import (
    PollSpec,
    apply_selection,
    apply_vote,
    build_poll_spec,
    ensure_can_vote,
    has_required_role,
)
from bot.errors import UserFacingError

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def spec(**changes: object) -> PollSpec:
    values: dict[str, object] = {
        "question": "Open weights?",
        "options": ("yes", "no", "unsure"),
        "deadline": NOW + timedelta(hours=1),
    }
    values.update(changes)
    return PollSpec.model_validate(values)


def test_build_poll_spec_from_command_options() -> None:
    poll = build_poll_spec(
        " Which licence? ", "MIT | Apache-2.0 | GPL", now=NOW, duration="2h", multiple=2
    )
    assert poll.question == "Which licence?"
    assert poll.options == ("MIT", "Apache-2.0", "GPL")
    assert poll.deadline == NOW + timedelta(hours=2)
    assert poll.max_choices == 2 and poll.multiple
    assert not poll.anonymous and poll.role_id is None


def test_build_poll_spec_defaults_and_errors() -> None:
    poll = build_poll_spec("Q?", "a | b", now=NOW)
    assert poll.deadline == NOW + timedelta(hours=24)
    assert not poll.multiple
    with pytest.raises(UserFacingError, match="only 2 options"):
        build_poll_spec("Q?", "a | b", now=NOW, multiple=3)
    with pytest.raises(UserFacingError, match="at least 1"):
        build_poll_spec("Q?", "a | b", now=NOW, multiple=0)
    with pytest.raises(UserFacingError, match="between 1 minute and 30 days"):
        build_poll_spec("Q?", "a | b", now=NOW, duration="31d")
    with pytest.raises(ValueError):
        build_poll_spec("Q?", "a | b", now=datetime(2025, 1, 1))


def test_spec_validates_and_round_trips_json() -> None:
    poll = spec(max_choices=2, anonymous=True, role_id=42)
    assert PollSpec.model_validate_json(poll.model_dump_json()) == poll
    with pytest.raises(ValidationError):
        spec(max_choices=4)
    with pytest.raises(ValidationError):
        spec(options=("only",))
    with pytest.raises(ValidationError):
        spec(deadline=datetime(2025, 1, 1))  # naive


def test_single_choice_toggle_and_change() -> None:
    assert apply_vote(set(), 0, 1) == {0}
    assert apply_vote({0}, 0, 1) == frozenset()  # click again: withdraw
    assert apply_vote({0}, 2, 1) == {2}  # click another: change


def test_multiple_choice_up_to_n() -> None:
    choices = apply_vote(frozenset(), 0, 2)
    choices = apply_vote(choices, 1, 2)
    assert choices == {0, 1}
    with pytest.raises(UserFacingError, match="at most 2 options; remove one first"):
        apply_vote(choices, 2, 2)
    choices = apply_vote(choices, 0, 2)  # withdraw one
    assert choices == {1}
    assert apply_vote(choices, 2, 2) == {1, 2}


def test_apply_selection() -> None:
    assert apply_selection([0, 2], 2, 3) == {0, 2}
    assert apply_selection([], 2, 3) == frozenset()
    with pytest.raises(UserFacingError, match="at most 1"):
        apply_selection([0, 1], 1, 3)
    with pytest.raises(UserFacingError, match="no longer exists"):
        apply_selection([5], 1, 3)


def test_role_restriction() -> None:
    assert has_required_role(None, [])
    assert has_required_role(7, [1, 7])
    assert not has_required_role(7, [1, 2])
    restricted = spec(role_id=7)
    ensure_can_vote(restricted, now=NOW, member_role_ids=[7])
    with pytest.raises(UserFacingError, match="<@&7>"):
        ensure_can_vote(restricted, now=NOW, member_role_ids=[8])


def test_closed_polls_refuse_votes() -> None:
    poll = spec()
    ensure_can_vote(poll, now=NOW, member_role_ids=[])
    with pytest.raises(UserFacingError, match="closed"):
        ensure_can_vote(poll, now=NOW, member_role_ids=[], closed=True)
    with pytest.raises(UserFacingError, match="closed"):
        ensure_can_vote(poll, now=NOW + timedelta(hours=1), member_role_ids=[])
    assert spec(deadline=None).is_closed(NOW + timedelta(days=99)) is False
    # A closed poll says so even to members without the role.
    with pytest.raises(UserFacingError, match="closed"):
        ensure_can_vote(spec(role_id=7), now=NOW, member_role_ids=[], closed=True)
