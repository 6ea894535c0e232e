"""What `/stance` does: members' positions, the community's picture, the opinion map, and a
member's or a community's data through the core's lifecycle.

Built from explicit collaborators (the stances repository, the shared observations, the
communities' settings, the chart worker, the core's lifecycle), never from the cog. Statistics,
trend, profile, opinion map and charts are in `bot.stances`. The community's picture comes from
per-day aggregates kept up to date with every observation (small enough for the loop); heavy
numpy (the opinion map's PCA and k-means, a profile's comparison with every member) runs in a
worker thread, charts in the bot's chart worker processes: the event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.charts import ChartWorker
from bot.checks import require_manager
from bot.debates.topics import find_topic
from bot.errors import UserFacingError, ensure_same_community
from bot.lifecycle import Lifecycle, PurgeReport
from bot.repositories.guilds import GuildRepository
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import StanceRepository
from bot.stance_scale import Stance
from bot.stances.charts import (
    describe_community_chart,
    describe_member_history,
    render_community_chart,
    render_member_history,
)
from bot.stances.community import CommunityPicture, community_picture
from bot.stances.export import export_bytes
from bot.stances.map_chart import describe_opinion_map, render_opinion_map
from bot.stances.models import ForgetReport, Observation, Statement, Visibility, VoteWord
from bot.stances.opinion_map import OpinionMap, build_opinion_map
from bot.stances.profile import MemberProfile, build_profile
from bot.stances.text import clean_statement
from cogs.stances.data import FEATURE

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MemberStance:
    """A member's own view (`/stance me`): profile, every observation, visibility, chart (and
    what it shows, in words)."""

    profile: MemberProfile
    observations: list[Observation]
    visibility: Visibility
    chart: bytes
    chart_text: str


@dataclass(frozen=True, slots=True)
class CommunityView:
    """`/stance community`: the picture and its chart, for one topic and period."""

    picture: CommunityPicture
    topic: str | None
    period: str
    chart: bytes
    chart_text: str


@dataclass(frozen=True, slots=True)
class MapView:
    """`/stance map`: the map, the statements it names, its chart."""

    opinion_map: OpinionMap
    statements: dict[int, Statement]
    chart: bytes
    chart_text: str


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """A click on a statement's vote button: the statement, whether the vote was kept (not
    when a manager removed the statement meanwhile), and the member's next statement."""

    statement: Statement
    kept: bool
    next: Statement | None


#: A member's history of up to this many observations is summarised on the event loop (about
#: 4 µs each: under half a millisecond, less than a hop to a worker thread and back costs when
#: many members ask at once); a longer one in a worker thread.
INLINE_PROFILE = 100
#: How many `/stance me` answers are worked on at once (after the deferral, which every member
#: gets at once): read, profile, chart, embed, upload. 50 members asking together used to
#: finish each stage together: when the reads came back, 50 steps of about 1 ms (profile,
#: chart key, submission to the chart pool) in one turn of the event loop; when the charts came
#: back, 20-30 steps of 1.5-2 ms (embed and multipart request of the PNG). Every other task
#: waited for those turns (45-75 ms). A few at a time, each turn holds a few steps: the same
#: work in short turns, and the two chart workers are still kept busy.
ANSWERS_AT_ONCE = 4


class StanceService:
    def __init__(
        self,
        stances: StanceRepository,
        observations: ObservationRepository,
        guilds: GuildRepository,
        charts: ChartWorker,
        lifecycle: Lifecycle,
    ) -> None:
        self._stances = stances
        self._observations = observations
        self._guilds = guilds
        self._charts = charts
        self._lifecycle = lifecycle
        #: The read of a community's position counts under way (guild id -> its task).
        self._counting: dict[int, asyncio.Task[dict[int, int]]] = {}
        self._answering = asyncio.Semaphore(ANSWERS_AT_ONCE)

    async def require_manager(self, interaction: discord.Interaction) -> None:
        """Refuse unless the member may manage Agora in the interaction's community."""
        assert interaction.guild_id is not None
        require_manager(interaction, await self._guilds.get_settings(interaction.guild_id))

    # -- a member's own stance ------------------------------------------------------------

    @staticmethod
    def topic_id(topic: str | None) -> str | None:
        """The bank topic a `topic` option names (None: the general question)."""
        if topic is None:
            return None
        found = find_topic(topic)
        if found is None:
            raise UserFacingError(
                f"`{topic[:100]}` is not a topic of the bank: pick one of the suggestions, "
                "or leave `topic` empty for the general question."
            )
        return found.id

    async def declare(
        self, guild_id: int, member_id: int, value: Stance, topic: str | None
    ) -> None:
        """Record a declared position (``topic``: a bank topic id, None: the general question)."""
        await self._observations.record(guild_id, member_id, value, "declared", topic=topic)

    async def member_stance(self, guild_id: int, member_id: int) -> MemberStance:
        observations, positions, visibility = await asyncio.gather(
            self._stances.member_observations(guild_id, member_id),
            self._position_counts(guild_id),
            self._stances.get_visibility(guild_id, member_id),
        )
        general = [o for o in observations if o.topic is None]
        if len(general) <= INLINE_PROFILE:
            profile = build_profile(member_id, general, positions)
        else:
            profile = await asyncio.to_thread(build_profile, member_id, general, positions)
        history = [(p.at, int(p.value)) for p in profile.history]
        mean = profile.comparison.community_mean if profile.comparison else None
        # "now" to the minute: asked again within it, the same chart comes from the cache.
        now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        chart = await self._charts.render(
            render_member_history, history, now=now, community_mean=mean
        )
        text = describe_member_history(history, mean)
        return MemberStance(profile, observations, visibility, chart, text)

    def answer_slot(self) -> asyncio.Semaphore:
        """Hold it while reading, putting together and sending a `/stance me` answer
        (:data:`ANSWERS_AT_ONCE`)."""
        return self._answering

    async def _position_counts(self, guild_id: int) -> dict[int, int]:
        """How many members hold each position on the general question; the members asking
        at the same moment share one read (50 at once: one database round trip, not 50)."""
        running = self._counting.get(guild_id)
        if running is None:
            running = asyncio.create_task(self._stances.position_counts(guild_id, None))
            self._counting[guild_id] = running
            running.add_done_callback(lambda task: self._counted(guild_id, task))
        return await asyncio.shield(running)

    def _counted(self, guild_id: int, task: asyncio.Task[dict[int, int]]) -> None:
        if self._counting.get(guild_id) is task:
            del self._counting[guild_id]
        if not task.cancelled():
            task.exception()  # retrieved, even when every member waiting for it went away

    async def public_stance(
        self, guild_id: int, member_id: int, viewer_id: int
    ) -> tuple[MemberProfile, list[Observation]] | None:
        """Another member's stance as `/stance user` shows it; None when they keep it private
        (members always see their own)."""
        visibility = await self._stances.get_visibility(guild_id, member_id)
        if visibility is not Visibility.PUBLIC and member_id != viewer_id:
            return None
        observations = await self._stances.member_observations(guild_id, member_id)
        profile = build_profile(member_id, [o for o in observations if o.topic is None], {})
        return profile, observations

    async def set_visibility(self, guild_id: int, member_id: int, visibility: Visibility) -> None:
        await self._stances.set_visibility(guild_id, member_id, visibility)

    # -- a member's data, a community's data ----------------------------------------------

    async def export_file(self, guild_id: int, member_id: int) -> bytes:
        """The member's data file: the stances part at the top level, every other feature's
        part merged in beside it (``poll_votes``, ``release_subscriptions``…)."""
        parts = await self._lifecycle.export_member(guild_id, member_id)
        data: dict[str, Any] = dict(parts.pop(FEATURE, {}))
        for name, part in sorted(parts.items()):
            clashing = data.keys() & part.keys()
            if clashing:  # a feature's bug; keep what was there, say so to the operator
                log.warning("export: %s repeats the keys %s; they are left out", name, clashing)
            data.update({key: value for key, value in part.items() if key not in clashing})
        return export_bytes(data)

    async def forget(self, guild_id: int, member_id: int) -> ForgetReport:
        """Forget the member in every loaded feature; returns what the stances part removed
        (counted just before, in the words of the confirmation)."""
        report = await self._stances.forget_preview(guild_id, member_id)
        await self._lifecycle.forget_member(guild_id, member_id)
        return report

    async def purge(self, guild_id: int, *, by: int) -> PurgeReport:
        """Delete every feature's data of the community now; its settings are kept."""
        report = await self._lifecycle.purge_community(guild_id, keep_settings=True)
        log.info("manager %s purged community %s", by, guild_id)
        return report

    # -- the community --------------------------------------------------------------------

    async def community(
        self, guild_id: int, member_count: int, topic: str | None, period: str
    ) -> CommunityView:
        """Where the community stands on ``topic`` and how it moved over ``period``."""
        daily = await self._stances.daily_changes(guild_id, topic)
        known = max(member_count, await self._stances.known_members(guild_id))
        picture = community_picture(daily, known, period, datetime.now(UTC))
        buckets, trend = picture.summary.buckets, picture.chart_trend
        chart = await self._charts.render(render_community_chart, buckets, trend)
        text = describe_community_chart(buckets, trend)
        return CommunityView(picture, topic, period, chart, text)

    # -- the opinion map ------------------------------------------------------------------

    async def add_statement(self, guild_id: int, author_id: int, text: str) -> Statement:
        return await self._stances.add_statement(guild_id, author_id, clean_statement(text))

    async def remove_statement(self, guild_id: int, number: int) -> None:
        found = await self._stances.statement_by_number(guild_id, number)
        if found is None:
            raise UserFacingError(f"There is no statement #{number} in this server.")
        if not await self._stances.remove_statement(found.id):
            raise UserFacingError(f"Statement #{number} was already removed.")

    async def find_statements(self, guild_id: int, typed: str) -> list[Statement]:
        """Active statements matching what a member typed (autocomplete)."""
        return await self._stances.find_statements(guild_id, typed.strip()[:100])

    async def next_statement(self, guild_id: int, member_id: int) -> Statement | None:
        return await self._stances.next_statement(guild_id, member_id)

    async def vote(
        self, guild_id: int, member_id: int, statement_id: int, word: VoteWord
    ) -> VoteOutcome:
        """Record the member's vote (acknowledged only once committed) and deal the next."""
        statement = await self._stances.statement_by_id(statement_id)
        if statement is None:
            raise UserFacingError("This statement no longer exists. Use `/stance vote` again.")
        ensure_same_community(statement.guild_id, guild_id)
        if not statement.removed:
            await self._stances.record_vote(statement, member_id, word.score)
        following = await self._stances.next_statement(guild_id, member_id)
        return VoteOutcome(statement, not statement.removed, following)

    async def map_statements(self, guild_id: int) -> list[Statement]:
        """The statements the map is about; refused when there is none (before any defer)."""
        statements = await self._stances.active_statements(guild_id)
        if not statements:
            raise UserFacingError(
                "There are no statements yet: add one with `/stance statement add`."
            )
        return statements

    async def opinion_map(self, guild_id: int, statements: list[Statement]) -> MapView:
        matrix = await self._stances.vote_matrix(guild_id, statements)
        result = await asyncio.to_thread(
            build_opinion_map, matrix.votes, matrix.member_ids, matrix.statement_ids
        )
        chart = await self._charts.render(render_opinion_map, result)
        statements_by_id = {s.id: s for s in statements}
        return MapView(result, statements_by_id, chart, describe_opinion_map(result))
