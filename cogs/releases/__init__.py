"""Release radar: `/releases …`, the announcement buttons and the job that announces new
releases once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features import Feature
from bot.releases import Radar
from bot.repositories.release_ledger import LedgerRepository
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import ReleaseData, SubscriptionRepository
from cogs.releases.commands import ReleasesCog
from cogs.releases.components import COMPONENTS, FEATURE
from cogs.releases.delivery import ReleaseDelivery
from cogs.releases.service import Collaborators, ReleaseService

if TYPE_CHECKING:
    from bot.client import AgoraBot


async def setup(bot: AgoraBot) -> None:
    radar = Radar(bot.settings.radar_config())
    await radar.start()
    parts = Collaborators(
        subscriptions=SubscriptionRepository(bot.db),
        outbox=OutboxRepository(bot.db),
        ledger=LedgerRepository(bot.db),
        guilds=bot.guild_repo,
        radar=radar,
        registry=bot.registry,
        poll_seconds=float(bot.settings.agora_release_poll_seconds),
        claimer=bot.cluster.node_id,
    )
    service = ReleaseService(parts)
    delivery = ReleaseDelivery(bot, parts)
    feature = Feature(
        name=FEATURE,
        cog=ReleasesCog(service),
        components=COMPONENTS,
        jobs=(delivery.job(), delivery.ledger_job()),
        data=ReleaseData(),
        provides={ReleaseService: service, ReleaseDelivery: delivery},
        close=radar.close,  # idempotent: the bot closes features, then unloads extensions
    )
    try:
        await bot.add_feature(feature)
    except BaseException:
        await radar.close()
        raise


async def teardown(bot: AgoraBot) -> None:
    await bot.remove_feature(FEATURE)
