"""The opinion map held against pol.is itself, on three public pol.is conversations
(``../shared/polis/``, see its README): the same number of groups as pol.is showed, and an
adjusted Rand index of at least 0.75 against pol.is's own grouping of the participants both
place in a group."""

from __future__ import annotations

import pytest

from bot.stances.opinion_map import build_opinion_map
from tests.stances.polis_data import CONVERSATIONS, POLIS_DIR, adjusted_rand_index, load

MIN_ARI = 0.75


def test_adjusted_rand_index_hand_computed() -> None:
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    # Table [[2, 1], [0, 2]]: index 1 + 1 = 2; rows 3 + 1 = 4; columns 1 + 3 = 4 of 10 pairs:
    # expected 4 · 4 / 10 = 1.6, maximum (4 + 4) / 2 = 4, so (2 - 1.6) / (4 - 1.6) = 1/6.
    assert adjusted_rand_index([0, 0, 0, 1, 1], [0, 0, 1, 1, 1]) == pytest.approx(1 / 6)


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_groups_match_pol_is(name: str) -> None:
    assert POLIS_DIR.is_dir(), f"pol.is's conversations are expected in {POLIS_DIR}"
    conversation = load(name)
    result = build_opinion_map(
        conversation.votes, conversation.participants, conversation.statements
    )
    ours = dict(zip(result.member_ids, result.labels.tolist(), strict=True))
    theirs = dict(zip(conversation.participants, conversation.polis_group, strict=True))
    both = [p for p in conversation.participants if theirs[p] is not None and p in ours]
    index = adjusted_rand_index([ours[p] for p in both], [theirs[p] or 0 for p in both])
    print(
        f"\n{name}: {conversation.votes.shape[0]} participants × {conversation.votes.shape[1]} "
        f"statements; groups pol.is / Agora {conversation.polis_groups} / {len(result.groups)} "
        f"(sizes {[g.size for g in result.groups]}); adjusted Rand index {index:.3f} "
        f"on {len(both)} participants placed by both"
    )
    assert len(result.groups) == conversation.polis_groups
    assert index >= MIN_ARI
