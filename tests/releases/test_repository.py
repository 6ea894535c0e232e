"""Release radar storage on a real SQLite file with every migration applied."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.database import Database
from bot.releases import SourceState, announcement_nonce
from bot.releases.errors import SubscriptionLimitReached
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import SubscriptionRepository

from .conftest import entry_item

G1, G2 = 1001, 1002
C1, C2 = 2001, 2002
ADMIN = 3001
KEY = "hf:org"


@dataclass(frozen=True)
class Repos:
    subs: SubscriptionRepository
    outbox: OutboxRepository


@pytest.fixture
def repo(db: Database) -> Repos:
    return Repos(SubscriptionRepository(db), OutboxRepository(db))


async def follow(repo: Repos, guild: int = G1, channel: int = C1, key: str = KEY):
    return await repo.subs.follow(
        guild, channel, key, mention_role=None, filter_text="", created_by=ADMIN
    )


BASELINE = SourceState(seen_ids=("a",), baselined=True)


async def test_follow_creates_then_updates(repo: Repos) -> None:
    sub, created = await follow(repo)
    assert created and not sub.baselined and sub.filter_text == ""
    status = await repo.outbox.source_status(KEY)
    assert status is not None and status.state is None and not status.paused
    again, created = await repo.subs.follow(
        G1, C1, KEY, mention_role=55, filter_text="include:x*", created_by=ADMIN
    )
    assert not created and again.id == sub.id
    assert again.mention_role == 55 and again.filter_text == "include:x*"
    assert len(await repo.subs.for_guild(G1)) == 1
    other, created = await follow(repo, channel=C2)
    assert created and other.id != sub.id
    assert len(await repo.subs.for_guild(G1)) == 2 and await repo.subs.for_guild(G2) == []


async def test_follow_limit_counts_only_new_subscriptions(repo: Repos) -> None:
    async def follow_limited(channel: int, key: str, filter_text: str = "") -> bool:
        _, created = await repo.subs.follow(
            G1, channel, key, mention_role=None, filter_text=filter_text, created_by=ADMIN, limit=2
        )
        return created

    assert await follow_limited(C1, KEY) and await follow_limited(C2, KEY)
    # At the limit: updating an existing subscription works, a new one is refused.
    assert not await follow_limited(C1, KEY, "include:x*")
    with pytest.raises(SubscriptionLimitReached) as refused:
        await follow_limited(C1, "hf:other")
    assert (refused.value.guild_id, refused.value.limit) == (G1, 2)
    assert await repo.outbox.source_status("hf:other") is None, "the refused follow left nothing"
    assert [s.filter_text for s, _ in await repo.subs.for_guild(G1)] == ["include:x*", ""]


async def test_follow_of_a_baselined_source_is_baselined_at_once(
    repo: Repos,
) -> None:
    first, _ = await follow(repo)
    await repo.outbox.record_success(
        KEY, BASELINE, next_attempt_at=0, announce=[], baselined=[first.id]
    )
    assert (await repo.subs.get(first.id)).baselined  # type: ignore[union-attr]
    second, _ = await follow(repo, guild=G2, channel=C2)
    assert second.baselined
    # A failing source gives no trustworthy baseline: the next good fetch is one.
    await repo.outbox.record_failure(KEY, failures=1, next_attempt_at=0, pause=False, error="x")
    third, _ = await follow(repo, guild=G2, channel=C1)
    assert not third.baselined


async def test_queue_is_ordered_unique_and_drained(repo: Repos) -> None:
    sub, _ = await follow(repo)
    other, _ = await follow(repo, guild=G2, channel=C2)
    items = [entry_item("i1", "One", url="https://e.org/1"), entry_item("i2", "Two")]
    announce = [(s.id, item) for item in items for s in (sub, other)]
    queued = await repo.outbox.record_success(
        KEY, BASELINE, next_attempt_at=0, announce=announce, baselined=[]
    )
    assert queued == 4
    # The same items again (a crash before the state was stored): nothing new is queued.
    assert (
        await repo.outbox.record_success(
            KEY, BASELINE, next_attempt_at=0, announce=announce, baselined=[]
        )
        == 0
    )
    pending = await repo.outbox.pending()
    assert [(p.subscription_id, p.item_id) for p in pending] == [
        (sub.id, "i1"),
        (other.id, "i1"),
        (sub.id, "i2"),
        (other.id, "i2"),
    ]
    first = pending[0]
    assert first.nonce == announcement_nonce(sub.id, "i1") and len(first.nonce) <= 25
    assert first.item is not None and first.item.title == "One"
    assert first.channel_id == C1 and first.guild_id == G1 and first.url == "https://e.org/1"
    assert [p.id for p in await repo.outbox.pending(after_id=pending[1].id)] == [
        pending[2].id,
        pending[3].id,
    ]

    await repo.outbox.mark_posted([(first.id, 777, False)])
    await repo.outbox.mark_posted([(first.id, 888, False)])  # a second record changes nothing
    await repo.outbox.mark_attempt_failed(pending[1].id, give_up=False, error="HTTP 500")
    await repo.outbox.mark_attempt_failed(pending[3].id, give_up=True, error="unknown channel")
    left = await repo.outbox.pending()
    assert [p.id for p in left] == [pending[1].id, pending[2].id]
    assert left[0].attempts == 1
    records = await repo.outbox.for_subscription(sub.id)
    assert [(d.status, d.message_id) for d in records] == [("posted", 777), ("pending", None)]
    delivery = await repo.outbox.delivery(first.id)
    assert delivery is not None and delivery.title == "One" and delivery.guild_id == G1
    assert [d.id for d in await repo.outbox.latest_for_guild(G1, 5)] == [first.id]
    assert await repo.outbox.latest_for_guild(G2, 5) == []


async def test_failures_pause_once_and_resume(repo: Repos) -> None:
    await follow(repo)
    await follow(repo, key="hf:other")
    now = 1_000_000.0
    assert [s.source_key for s in await repo.outbox.due_sources(now)] == [KEY, "hf:other"]
    paused = await repo.outbox.record_failure(
        KEY, failures=1, next_attempt_at=now + 600, pause=False, error="timeout: slow"
    )
    assert not paused
    assert [s.source_key for s in await repo.outbox.due_sources(now)] == ["hf:other"]
    due = await repo.outbox.due_sources(now, ignore_backoff=True)
    assert [s.source_key for s in due] == [KEY, "hf:other"] and due[0].failures == 1
    assert await repo.outbox.record_failure(
        KEY, failures=5, next_attempt_at=0, pause=True, error="e"
    )
    assert not await repo.outbox.record_failure(
        KEY, failures=6, next_attempt_at=0, pause=True, error="e"
    )
    assert [s.source_key for s in await repo.outbox.due_sources(now, ignore_backoff=True)] == [
        "hf:other"
    ]
    status = await repo.outbox.source_status(KEY)
    assert status is not None and status.paused and status.last_error == "e"

    assert not await repo.subs.resume(G2, KEY), "G2 does not follow it"
    assert await repo.subs.resume(G1, KEY)
    status = await repo.outbox.source_status(KEY)
    assert status is not None and not status.paused and status.failures == 0
    assert KEY in [s.source_key for s in await repo.outbox.due_sources(now)]


async def test_unfollow_cascades_and_forgets_orphan_sources(repo: Repos) -> None:
    sub, _ = await follow(repo)
    other, _ = await follow(repo, guild=G2, channel=C2)
    await repo.outbox.record_success(
        KEY,
        BASELINE,
        next_attempt_at=0,
        announce=[(sub.id, entry_item("i1")), (other.id, entry_item("i1"))],
        baselined=[],
    )
    assert await repo.subs.unfollow(G1, KEY, channel_id=C2) == 0
    assert await repo.subs.unfollow(G1, KEY, channel_id=None) == 1
    assert await repo.outbox.for_subscription(sub.id) == []
    assert [p.subscription_id for p in await repo.outbox.pending()] == [other.id]
    assert await repo.outbox.source_status(KEY) is not None, "G2 still follows it"
    assert await repo.subs.unfollow(G2, KEY, channel_id=C2) == 1
    assert await repo.outbox.source_status(KEY) is None
    assert await repo.outbox.pending() == []


async def test_source_keys_for_autocomplete(repo: Repos) -> None:
    for key in ("hf:org", "hf:org_x", "github:a/b", "feed:https://e.org/100%"):
        await follow(repo, key=key)
    await follow(repo, guild=G2, key="hf:elsewhere")
    assert await repo.subs.guild_source_keys(G1, "") == [
        "feed:https://e.org/100%",
        "github:a/b",
        "hf:org",
        "hf:org_x",
    ]
    assert await repo.subs.guild_source_keys(G1, "_") == ["hf:org_x"]
    assert await repo.subs.guild_source_keys(G1, "%") == ["feed:https://e.org/100%"]
    assert await repo.subs.guild_source_keys(G1, "HF:", limit=1) == ["hf:org"]


async def test_for_guild_joins_source_status(repo: Repos) -> None:
    await follow(repo)
    await repo.outbox.record_failure(KEY, failures=2, next_attempt_at=5, pause=False, error="boom")
    [(sub, status)] = await repo.subs.for_guild(G1)
    assert sub.source_key == KEY and status is not None and status.failures == 2
    assert [s.id for s in await repo.subs.for_source(KEY)] == [sub.id]
