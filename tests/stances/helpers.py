"""Stance data of two members in two communities, on a real database (storage and lifecycle
tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.database import Database
from bot.repositories.guilds import GuildRepository
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from bot.stances.models import Visibility

GUILD, OTHER_GUILD = 100, 200
ALICE, BOB = 1, 2
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def populate(db: Database) -> StanceRepository:
    """In each community: both members with three observations (two declared, one from a
    debate, one of them on topic ``t1``), a statement by each, both voting on both, and Alice's
    stance public."""
    repo = StanceRepository(db)
    obs = ObservationRepository(db)
    for guild in (GUILD, OTHER_GUILD):
        await GuildRepository(db).ensure(guild)
        for member, value in ((ALICE, Stance.LEAN_SHARE), (BOB, Stance.STRONGLY_SAFEGUARD)):
            await obs.record(guild, member, value, "declared", at=T0)
            await obs.record(guild, member, Stance.UNDECIDED, "debate:7", at=T0 + timedelta(days=1))
            await obs.record(guild, member, value, "declared", topic="t1", at=T0)
        by_alice = await repo.add_statement(guild, ALICE, "Open weights build trust in models.")
        by_bob = await repo.add_statement(guild, BOB, "Release only after a red-team review.")
        for member in (ALICE, BOB):
            await repo.record_vote(by_alice, member, 1)
            await repo.record_vote(by_bob, member, -1 if member == ALICE else 0)
        await repo.set_visibility(guild, ALICE, Visibility.PUBLIC)
    return repo
