"""`agora releases why SOURCE ITEM`: the ledger of one item across every server, for the
operator, read from the real database (a SQLite file, or a PostgreSQL database)."""

from __future__ import annotations

from pathlib import Path

from bot.database import Database
from bot.database_target import DatabaseTarget
from bot.releases import SourceState
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import SubscriptionRepository
from tests.core.cli import run_agora
from tests.releases.conftest import model_item


async def test_why_prints_the_item_in_every_server(
    tmp_path: Path, database_target: DatabaseTarget
) -> None:
    db = await Database.open(database_target)
    await db.migrate()
    subscriptions, outbox = SubscriptionRepository(db), OutboxRepository(db)
    plain, _ = await subscriptions.follow(
        1, 10, "hf:org", mention_role=None, filter_text="", created_by=5
    )
    gguf, _ = await subscriptions.follow(
        2, 20, "hf:org", mention_role=None, filter_text="exclude:*gguf*", created_by=6
    )
    item = model_item("org/Model-GGUF")
    await outbox.record_success(
        "hf:org",
        SourceState(seen_ids=(item.item_id,), baselined=True),
        next_attempt_at=0.0,
        announce=[(plain.id, item)],
        baselined=[],
        listed=[item],
        skipped=[(gguf.id, item.item_id, "exclude:*gguf*")],
    )
    [queued] = await outbox.pending()
    await outbox.mark_posted([(queued.id, 777, False)])
    await db.close()

    env = {"AGORA_DATABASE": str(database_target)}
    code, out, err = await run_agora(
        "releases", "why", "hf:org", "org/Model-GGUF", cwd=tmp_path, env=env
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "org/Model-GGUF from hf:org, 2 subscription(s):"
    assert lines[1].startswith("- server 1 channel 10: announced 20")
    assert lines[1].endswith("https://discord.com/channels/1/10/777")
    assert lines[2].startswith("- server 2 channel 20: filtered out by `exclude:*gguf*`")

    code, out, err = await run_agora("releases", "why", "hf:other", "x", cwd=tmp_path, env=env)
    assert (code, err.strip()) == (1, "agora: no server follows hf:other")
    env = {"AGORA_DATABASE": str(tmp_path / "missing.db")}
    code, out, err = await run_agora("releases", "why", "hf:org", "x", cwd=tmp_path, env=env)
    assert code == 2 and err.strip() == f"agora: there is no database at {tmp_path / 'missing.db'}"
