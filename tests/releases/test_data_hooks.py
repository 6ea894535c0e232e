"""The release radar's data hooks (export, forget, purge) on a real SQLite file, alone and
through the core's lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.database import Database
from bot.features import Feature, FeatureRegistry
from bot.lifecycle import Lifecycle, PurgeReport
from bot.releases import SourceState
from bot.releases.records import FORMER_MEMBER
from bot.repositories.guilds import GuildRepository
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import ReleaseData, SubscriptionRepository

from .conftest import entry_item

G1, G2 = 1001, 1002
C1, C2, C3 = 2001, 2002, 2003
ALICE, BOB = 3001, 3002
ROLE = 4001
SHARED, ONLY_G1 = "hf:org", "github:a/b"


@dataclass(frozen=True)
class World:
    db: Database
    subs: SubscriptionRepository
    outbox: OutboxRepository
    hooks: ReleaseData
    lifecycle: Lifecycle


@pytest.fixture
async def world(db: Database) -> World:
    registry = FeatureRegistry()
    hooks = ReleaseData()
    registry.add(Feature(name="releases", data=hooks))
    lifecycle = Lifecycle(db, registry, GuildRepository(db), lambda: ())
    subs, outbox = SubscriptionRepository(db), OutboxRepository(db)
    # Alice follows two sources in G1 (one with a role and a filter) and one in G2; Bob one in G1.
    for guild, channel, key, member, role, filter_text in (
        (G1, C1, SHARED, ALICE, ROLE, "include:llama*"),
        (G1, C2, ONLY_G1, ALICE, None, ""),
        (G1, C3, SHARED, BOB, None, ""),
        (G2, C1, SHARED, ALICE, None, ""),
    ):
        await subs.follow(
            guild, channel, key, mention_role=role, filter_text=filter_text, created_by=member
        )
    baseline = SourceState(seen_ids=("old",), baselined=True)
    for key in (SHARED, ONLY_G1):
        new, skipped = entry_item(f"{key}-new"), entry_item(f"{key}-filtered")
        following = await subs.for_source(key)
        announce = [(s.id, new) for s in following]
        # The ledger: both items seen; the second left out by G1's first subscription's filter.
        skips = [(s.id, skipped.item_id, "include:llama*") for s in following if s.filter_text]
        await outbox.record_success(
            key,
            baseline,
            next_attempt_at=0,
            announce=announce,
            baselined=[],
            listed=[new, skipped],
            skipped=skips,
        )
    return World(db, subs, outbox, hooks, lifecycle)


async def count(db: Database, sql: str, *params: object) -> int:
    return int(await db.fetch_value(sql, params) or 0)


async def test_export_lists_the_subscriptions_the_member_created_here(world: World) -> None:
    export = await world.hooks.export_member(world.db, G1, ALICE)
    rows = export["release_subscriptions"]
    assert [(r["source"], r["channel_id"], r["filter"], r["mention_role"]) for r in rows] == [
        (SHARED, str(C1), "include:llama*", str(ROLE)),
        (ONLY_G1, str(C2), "", None),
    ]
    assert all(r["created_at"].endswith("Z") for r in rows)
    assert await world.hooks.export_member(world.db, G1, 9999) == {"release_subscriptions": []}
    # Through the core: one entry per feature.
    assert await world.lifecycle.export_member(G1, ALICE) == {"releases": export}


async def test_forget_unlinks_the_member_and_keeps_the_community_subscriptions(
    world: World,
) -> None:
    assert await world.lifecycle.forget_member(G1, ALICE) == {"releases": 2}
    assert (await world.hooks.export_member(world.db, G1, ALICE))["release_subscriptions"] == []
    creators = {(s.channel_id, s.created_by) for s, _ in await world.subs.for_guild(G1)}
    assert creators == {(C1, FORMER_MEMBER), (C2, FORMER_MEMBER), (C3, BOB)}
    [(elsewhere, _)] = await world.subs.for_guild(G2)
    assert elsewhere.created_by == ALICE, "another community's data is untouched"
    assert len(await world.outbox.pending()) == 4, "announcements name no member: they stay"
    assert await world.lifecycle.forget_member(G1, ALICE) == {"releases": 0}


async def test_purge_deletes_every_release_row_of_the_community(world: World) -> None:
    db = world.db
    report = await world.lifecycle.purge_community(G1)
    # 3 deliveries + 1 filtered item + 3 subscriptions + the source only G1 followed.
    assert report.rows["releases"] == 8
    assert report.rows["core"] == 0, "the feature's hook left nothing for the core's sweep"
    assert await world.subs.for_guild(G1) == []
    assert await world.outbox.source_status(ONLY_G1) is None
    assert await world.outbox.source_status(SHARED) is not None, "G2 still follows it"
    [(kept, _)] = await world.subs.for_guild(G2)
    assert [p.subscription_id for p in await world.outbox.pending()] == [kept.id]
    assert await count(db, "SELECT count(*) FROM release_deliveries") == 1
    assert await count(db, "SELECT count(*) FROM release_skips") == 0
    seen = await db.fetch_all("SELECT DISTINCT source_key FROM release_items")
    assert [r["source_key"] for r in seen] == [SHARED], "the items of a source nobody follows go"
    again = await world.lifecycle.purge_community(G1)
    assert again == PurgeReport(G1, {"releases": 0, "core": 0})


async def test_purge_hook_alone_orders_children_before_parents(world: World) -> None:
    # Deliveries are deleted (and counted) before their subscriptions, not by the cascade.
    async with world.db.transaction() as tx:
        assert await world.hooks.purge_community(tx, G2) == 2  # 1 delivery + 1 subscription
    assert await world.subs.for_guild(G2) == []
    assert await world.outbox.source_status(SHARED) is not None, "G1 still follows it"
