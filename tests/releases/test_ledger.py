"""The delivery ledger: its words (Discord-free) and its storage on a real SQLite file."""

from __future__ import annotations

from bot.database import Database
from bot.releases import SourceState, parse_filter
from bot.releases.ledger import LedgerEntry, Outcome, explain, refusal, refusal_advice
from bot.releases.records import Subscription
from bot.repositories.release_ledger import LedgerRepository
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import SubscriptionRepository

from .conftest import entry_item, model_item


def test_the_filter_names_the_rule_that_leaves_an_item_out() -> None:
    release_filter = parse_filter("include:org/* exclude:*gguf*,*awq* min_params:7B")
    assert release_filter.rejection(model_item("org/Big-AWQ", params=70_000_000_000)) == (
        "exclude:*awq*"
    )
    assert release_filter.rejection(model_item("org/Small", params=1_000_000_000)) == (
        "min_params:7B"
    )
    assert release_filter.rejection(model_item("other/Big", params=9_000_000_000)) == (
        "include:org/*"
    )
    assert release_filter.rejection(model_item("org/Big", params=9_000_000_000)) is None
    assert parse_filter("license:permissive").rejection(entry_item("x")) == "license:permissive"


def test_refusals_say_what_to_grant_where() -> None:
    assert refusal(unknown_channel=False, missing=["Embed Links", "Send Messages"]) == (
        "missing permission: Embed Links"
    )
    assert refusal_advice("missing permission: Embed Links", "#models") == (
        "grant Embed Links in #models"
    )
    assert refusal_advice(refusal(unknown_channel=False, missing=[], code=50001), "#m") == (
        "grant View Channel in #m"
    )
    gone = refusal(unknown_channel=True, missing=["Embed Links"])
    assert "`/releases unfollow`" in refusal_advice(gone, "#m")
    subscription = Subscription(1, 2, 3, "hf:org", None, "", True, 4, 0.0)
    failed = LedgerEntry(subscription, Outcome.FAILED, "org/x", detail="HTTP 500", attempts=5)
    assert explain(failed, "#m", str) == (
        "#m: not posted: HTTP 500; it failed too often and is not retried"
    )


async def test_the_ledger_suggests_recent_items_and_expires_old_rows(db: Database) -> None:
    subscriptions, outbox, ledger = (
        SubscriptionRepository(db),
        OutboxRepository(db),
        LedgerRepository(db),
    )
    sub, _ = await subscriptions.follow(
        1, 10, "hf:org", mention_role=None, filter_text="exclude:*b*", created_by=5
    )
    await subscriptions.follow(2, 20, "hf:other", mention_role=None, filter_text="", created_by=5)
    items = [model_item("org/a"), model_item("org/b")]
    await outbox.record_success(
        "hf:org",
        SourceState(baselined=True),
        next_attempt_at=0,
        announce=[],
        baselined=[],
        listed=items,
        skipped=[(sub.id, "org/b", "exclude:*b*")],
    )
    assert sorted(await ledger.recent_items(1, "org/")) == ["org/a", "org/b"]
    assert await ledger.recent_items(1, "b") == ["org/b"]
    assert await ledger.recent_items(2, "org") == [], "another server's sources"
    [entry] = await ledger.entries([(sub, None)], "ORG/B")  # ids match whatever the case
    assert (entry.outcome, entry.detail) == (Outcome.FILTERED, "exclude:*b*")

    # Expiry is relative to the moment the fetch stamped its rows, not to the wall clock.
    seen = await db.fetch_value("SELECT max(seen_at) FROM release_items")
    assert await db.fetch_value("SELECT max(at) FROM release_skips") == seen
    assert await ledger.expire(seen) == 0, "rows not older than the limit stay"
    assert await ledger.expire(seen + 1) == 3  # 2 items seen + 1 filtered out
    [entry] = await ledger.entries([(sub, None)], "org/b")
    assert entry.outcome is Outcome.UNSEEN
