"""Messages posted before the one custom-id scheme keep working after the upgrade.

Until this version, polls and debates were posted with ``agora:pv:<poll>:<option>``,
``agora:ps:<poll>``, ``agora:pw:<poll>``, ``agora:aa:<debate>`` and ``agora:au:<argument>``, and
the argument form was ``agora:am:<debate>``. Here the bot posts a poll, a select-menu poll, a
debate and an argument; each message is then given the ids that version wrote (same ids, same
layout), the bot restarts as after an upgrade, and members click through the old ids.
"""

from __future__ import annotations

import re

from bot.errors import FOREIGN_COMMUNITY
from tests.debates.helpers import (
    ARGUMENT,
    ARGUMENT_FORM,
    JSON,
    SELECT,
    UPVOTE,
    VOTE,
    WITHDRAW,
    click,
    custom_ids,
    wait_message,
)
from tests.emulator.messages import walk_components
from tests.harness import AgoraHarness, message_text, reply_text, wait_stored

#: Today's prefix -> the prefix the earlier version posted.
LEGACY = {
    VOTE: "agora:pv:",
    SELECT: "agora:ps:",
    WITHDRAW: "agora:pw:",
    ARGUMENT: "agora:aa:",
    UPVOTE: "agora:au:",
    ARGUMENT_FORM: "agora:am:",
}
TODAY = re.compile(r"^agora:debates:(vote|select|withdraw|argument|upvote):[0-9]+(:[0-9]+)?$")


def as_posted_before(agora: AgoraHarness, message: JSON) -> JSON:
    """Rewrite the stored message's custom ids to the earlier scheme (as that version posted
    it); returns the stored message."""
    stored = agora.emu.get_message(int(message["id"]))
    assert stored is not None
    ids = custom_ids(stored)
    assert ids and all(TODAY.match(cid) for cid in ids), ids  # new messages: today's scheme
    for component in walk_components(stored.get("components") or []):
        cid = component.get("custom_id")
        for today, legacy in LEGACY.items():
            if isinstance(cid, str) and cid.startswith(today):
                component["custom_id"] = legacy + cid.removeprefix(today)
    return stored


async def test_poll_buttons_posted_with_the_earlier_ids_still_vote(agora: AgoraHarness) -> None:
    created = await agora.slash(
        "poll create", {"question": "Which licence?", "options": "MIT | Apache-2.0 | GPL-3.0"}
    )
    assert created.message is not None
    poll = as_posted_before(agora, created.message)
    await wait_stored(agora)
    await agora.restart()
    voted = await click(agora, agora.member, poll, "agora:pv:1:1")
    assert voted.ephemeral and reply_text(voted) == "Your vote: Apache-2.0"
    moved = await click(agora, agora.member, poll, "agora:pv:1:2")
    assert reply_text(moved) == "Your vote: GPL-3.0"
    rows = await agora.running_bot.db.fetch_all("SELECT member_id, option FROM votes")
    assert [tuple(r) for r in rows] == [(agora.member, 2)]
    await agora.wait_for(
        lambda: "1 voter" in message_text(agora.emu.get_message(int(poll["id"])) or {}),
        within=15,
    )


async def test_select_poll_posted_with_the_earlier_ids_still_votes(agora: AgoraHarness) -> None:
    options = " | ".join(f"option {n}" for n in range(22))
    created = await agora.slash(
        "poll create", {"question": "Which one?", "options": options, "multiple": 2}
    )
    assert created.message is not None
    poll = as_posted_before(agora, created.message)
    assert set(custom_ids(poll)) == {"agora:ps:1", "agora:pw:1"}
    await wait_stored(agora)
    await agora.restart()
    picked = await agora.emu.select(
        agora.guild.id, agora.member, int(poll["id"]), "agora:ps:1", ["3", "21"]
    )
    await picked.response(timeout=10)
    assert reply_text(picked) == "Your votes: option 3, option 21"
    withdrawn = await click(agora, agora.member, poll, "agora:pw:1")
    assert reply_text(withdrawn) == "Your vote was withdrawn."
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM votes") == 0


async def test_debate_posted_with_the_earlier_ids_still_votes_argues_and_upvotes(
    agora: AgoraHarness,
) -> None:
    started = await agora.slash(
        "debate start", {"topic": "This house believes open weights make AI safer"}
    )
    assert started.message is not None
    debate = as_posted_before(agora, started.message)
    assert "agora:aa:1" in custom_ids(debate) and "agora:pv:1:0" in custom_ids(debate)
    await wait_stored(agora)
    await agora.restart()

    voted = await click(agora, agora.member, debate, "agora:pv:1:1")
    assert reply_text(voted) == "Your vote: Lean share"
    # The form opened through the earlier button; the earlier version named it agora:am:1.
    opened = await click(agora, agora.member, debate, "agora:aa:1")
    assert opened.modal is not None and opened.modal["custom_id"] == f"{ARGUMENT_FORM}1"
    opened.modal["custom_id"] = "agora:am:1"
    text = "Open weights let anyone audit the model."
    submitted = await agora.emu.submit_modal(
        agora.guild.id, agora.member, "agora:am:1", {"side": ["share"], "text": text}
    )
    await submitted.response(timeout=10)
    assert submitted.ephemeral and "posted" in reply_text(submitted)

    argument = as_posted_before(agora, await wait_message(agora, text))
    assert custom_ids(argument) == ["agora:au:1"]
    upvoted = await click(agora, agora.manager, argument, "agora:au:1")
    assert reply_text(upvoted) == "You upvoted this argument (1 upvotes)."
    # The live count is redrawn with today's ids.
    await agora.wait_for(
        lambda: custom_ids(agora.emu.get_message(int(argument["id"])) or {}) == [f"{UPVOTE}1"],
        within=15,
    )
    row = await agora.running_bot.db.fetch_one("SELECT member_id, option FROM votes")
    assert row is not None and tuple(row) == (agora.member, 1)
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM argument_upvotes") == 1


async def test_earlier_ids_naming_another_servers_poll_are_refused(agora: AgoraHarness) -> None:
    created = await agora.slash("poll create", {"question": "Which licence?", "options": "a | b"})
    assert created.message is not None
    await wait_stored(agora)
    other = agora.guilds[1]
    member = agora.members[other.id]
    # A modified client in the other server sends this server's poll id in the earlier scheme.
    for custom_id in ("agora:pv:1:0", "agora:pw:1"):
        carrier = agora.emu.user_message(
            other.general_id,
            member,
            "forged",
            components=[
                {"type": 1, "components": [{"type": 2, "style": 2, "custom_id": custom_id}]}
            ],
        )
        forged = await agora.emu.click(other.id, member, int(carrier["id"]), custom_id)
        await forged.response(timeout=10)
        assert forged.ephemeral and reply_text(forged) == FOREIGN_COMMUNITY
    assert await agora.running_bot.db.fetch_value("SELECT count(*) FROM votes") == 0
