"""Crash points while a poll closes: the result is posted once and the poll message shows it
closed, whichever step the process died after (in-process, like test_radar_crashes)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.database import Database
from cogs.debates.polls import PollService
from cogs.debates.service import DEADLINE_JOB, DeadlineService, utcnow
from tests.debates.helpers import channel_messages, click, option_id, poll_id_of, wait_until
from tests.harness import AgoraHarness, message_text, provided, reply_text
from tests.resilience.test_radar_crashes import Killed


async def snapshot(agora: AgoraHarness) -> tuple[int, list[tuple[Any, ...]]]:
    writes = sum(1 for r in agora.emu.requests if r.method in ("POST", "PATCH"))
    db = await Database.open(agora.database)  # a second connection: what is committed
    try:
        rows = [tuple(r) for r in await db.fetch_all("SELECT * FROM polls ORDER BY id")]
    finally:
        await db.close()
    return writes, rows


@pytest.mark.parametrize("point", ["before recording the result", "after recording the result"])
async def test_crash_while_closing_a_poll(
    agora: AgoraHarness, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    created = await agora.slash(
        "poll create", {"question": "Open weights?", "options": "yes | no", "duration": "1h"}
    )
    message = created.message
    assert message is not None, reply_text(created)
    poll_id = poll_id_of(message)
    voters = [agora.emu.add_member(agora.guild.id, f"v{n}") for n in range(3)]
    for n, member in enumerate(voters):
        await click(agora, member, message, option_id(message, n % 2))
    polls = provided(agora.running_bot, PollService)
    # This process's deadline job stays out of it; the restarted one recovers.
    await agora.running_bot.jobs.stop(DEADLINE_JOB)
    repo = polls.repo
    original = repo.set_poll_result_message
    me = asyncio.current_task()

    async def crashing(poll: int, message_id: int) -> None:
        if asyncio.current_task() is me and point == "after recording the result":
            await original(poll, message_id)
        raise Killed(point)

    monkeypatch.setattr(repo, "set_poll_result_message", crashing)
    assert await repo.close_poll(poll_id, now=utcnow())
    closed = await repo.get_poll(poll_id)
    assert closed is not None
    with pytest.raises(Killed):
        await polls.finalise(closed)
    at_crash = await snapshot(agora)
    await agora.stop_bot()
    assert await snapshot(agora) == at_crash, "the bot went on after its crash"

    await agora.start_bot()  # its deadline job posts what a crash left unposted

    async def recorded() -> bool:
        poll = await provided(agora.running_bot, PollService).repo.get_poll(poll_id)
        return poll is not None and poll.result_message_id is not None

    await wait_until(recorded, what="the result to be recorded")
    await provided(agora.running_bot, DeadlineService).run_due()
    results = [m for m in channel_messages(agora) if "Result of poll #1" in message_text(m)]
    assert len(results) == 1 and "2 votes · 67%" in message_text(results[0])
    assert agora.emu.nonce_hits == (1 if point == "before recording the result" else 0)
    final = agora.emu.get_message(int(message["id"])) or {}
    assert "Closed" in message_text(final) and not final.get("components"), message_text(final)
