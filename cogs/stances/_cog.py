"""`/stance`: members' positions, the community's picture, the opinion map, data lifecycle.

Thin by design: statistics, trend, profile, opinion map and charts are in `bot.stances`, SQL in
`bot.repositories.stances`. Heavy numpy (a million observations, the opinion map's SVD and
k-means) runs in a worker thread; charts render in a worker *process* (`_render.py`: Agg holds
the GIL long enough to stall the loop past 50 ms from a thread). The event loop stays free.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
import numpy as np
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import require_manager
from bot.community import GuildSettings
from bot.debates.topics import default_topics, find_topic, search_topics
from bot.errors import UserFacingError
from bot.repositories.observations import ObservationRepository
from bot.repositories.stances import ObservationColumns, StanceRepository
from bot.stance_scale import SCALE, Stance
from bot.stances.charts import render_community_chart, render_member_history, render_opinion_map
from bot.stances.export import build_export, export_bytes, with_times_as_text
from bot.stances.models import Observation, Visibility
from bot.stances.opinion_map import OpinionMap, build_opinion_map
from bot.stances.profile import MemberProfile, build_profile
from bot.stances.retention import purge_due
from bot.stances.statistics import CommunitySummary, distribution, latest_positions, summarise
from bot.stances.text import clean_statement
from bot.stances.trend import PERIOD_CHOICES, Trend, TrendPoint, compute_trend, parse_period
from cogs.stances._format import (
    community_embed,
    map_embed,
    position_text,
    profile_embed,
    public_profile_embed,
    topic_positions,
)
from cogs.stances._views import (
    DYNAMIC_ITEMS,
    ForgetButton,
    PurgeButton,
    confirm_view,
    deal_next,
)

if TYPE_CHECKING:
    from bot.client import AgoraBot

log = logging.getLogger(__name__)

RETENTION_CHECK_HOURS = 1.0
POSITION_CHOICES = [app_commands.Choice(name=f"{int(s):+d} {s.label}", value=int(s)) for s in SCALE]


@dataclass(frozen=True, slots=True)
class CommunityPicture:
    summary: CommunitySummary
    trend: Trend | None

    @property
    def chart_trend(self) -> tuple[TrendPoint, ...] | None:
        """The trend to draw: none when the summary's figures are withheld (tiny community)."""
        return None if self.summary.withheld or self.trend is None else self.trend.points


def community_picture(
    columns: ObservationColumns, members_known: int, period: str, now: datetime
) -> CommunityPicture:
    """Everything `/stance community` computes (numpy), for a worker thread."""
    _, current = latest_positions(columns.member_ids, columns.values)
    summary = summarise(distribution(current), members_known)
    trend = None
    if len(columns):
        trend = compute_trend(columns.member_ids, columns.values, columns.timestamps, period, now)
    return CommunityPicture(summary, trend)


def opinion_map_from(
    members: np.ndarray, statements: np.ndarray, values: np.ndarray, statement_ids: list[int]
) -> OpinionMap:
    """The vote matrix and the map (numpy), for a worker thread."""
    member_ids = np.unique(members)
    columns = np.asarray(statement_ids, dtype=np.int64)
    matrix = np.full((member_ids.size, columns.size), np.nan)
    rows = np.searchsorted(member_ids, members)
    cols = np.searchsorted(columns, statements)
    matrix[rows, cols] = values
    return build_opinion_map(matrix, member_ids.tolist(), statement_ids)


def png_file(data: bytes, name: str) -> discord.File:
    return discord.File(io.BytesIO(data), filename=name)


class StancesCog(commands.Cog):
    stance = app_commands.Group(
        name="stance",
        description="Where members stand on sharing versus safeguarding",
        guild_only=True,
    )
    statement = app_commands.Group(
        name="statement", description="Statements of the opinion map", parent=stance
    )

    def __init__(self, bot: AgoraBot) -> None:
        self.bot = bot
        self.repo = StanceRepository(bot.db)
        self.observations = ObservationRepository(bot.db)
        self.renderer = self.bot.charts

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.retention_loop.start()

    async def cog_unload(self) -> None:
        self.retention_loop.cancel()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def _settings(self, guild_id: int) -> GuildSettings:
        return await self.bot.guild_repo.get_settings(guild_id)

    # -- a member's own stance ------------------------------------------------------------

    @stance.command(
        name="set", description="Declare your position (+2 strongly share … -2 strongly safeguard)"
    )
    @app_commands.describe(
        position="Your position", topic="A topic of the bank (default: the general question)"
    )
    @app_commands.choices(position=POSITION_CHOICES)
    async def set_position(
        self,
        interaction: discord.Interaction,
        position: int,
        topic: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        topic_id = self._topic_id(topic)
        value = Stance(position)
        await self.observations.record(
            interaction.guild_id, interaction.user.id, value, "declared", topic=topic_id
        )
        where = "the general question" if topic_id is None else f"topic `{topic_id}`"
        await interaction.response.send_message(
            f"Recorded: **{position_text(int(value))}** on {where}. "
            "See your profile with `/stance me`.",
            ephemeral=True,
        )

    @set_position.autocomplete("topic")
    async def _topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return topic_choices(current)

    @staticmethod
    def _topic_id(topic: str | None) -> str | None:
        if topic is None:
            return None
        found = find_topic(topic)
        if found is None:
            raise UserFacingError(
                f"`{topic[:100]}` is not a topic of the bank: pick one of the suggestions, "
                "or leave `topic` empty for the general question."
            )
        return found.id

    @stance.command(
        name="me", description="Your stance: position, how it formed, history, comparison"
    )
    async def me(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id, member_id = interaction.guild_id, interaction.user.id
        observations = await self.repo.member_observations(guild_id, member_id)
        columns = await self.repo.observation_columns(guild_id, None)
        visibility = await self.repo.get_visibility(guild_id, member_id)
        general = [o for o in observations if o.topic is None]

        def compute() -> MemberProfile:
            members, current = latest_positions(columns.member_ids, columns.values)
            community = dict(zip(members.tolist(), current.tolist(), strict=True))
            return build_profile(member_id, general, community)

        profile = await asyncio.to_thread(compute)
        png = await self.renderer.render(
            render_member_history,
            [(p.at, int(p.value)) for p in profile.history],
            now=datetime.now(UTC),
            community_mean=profile.comparison.community_mean if profile.comparison else None,
        )
        embed = profile_embed(profile, topic_positions(observations), visibility.value)
        embed.set_image(url="attachment://stance-history.png")
        await interaction.followup.send(
            embed=embed, file=png_file(png, "stance-history.png"), ephemeral=True
        )

    @stance.command(name="user", description="Another member's stance, if they made it public")
    @app_commands.describe(member="The member")
    async def user(self, interaction: discord.Interaction, member: discord.Member) -> None:
        assert interaction.guild_id is not None
        visibility = await self.repo.get_visibility(interaction.guild_id, member.id)
        if visibility is not Visibility.PUBLIC and member.id != interaction.user.id:
            await interaction.response.send_message(
                f"{member.mention} keeps their stance private.", ephemeral=True
            )
            return
        observations = await self.repo.member_observations(interaction.guild_id, member.id)
        profile = build_profile(member.id, [o for o in observations if o.topic is None], {})
        embed = public_profile_embed(member.display_name, profile, topic_positions(observations))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @stance.command(name="visibility", description="Whether other members may see your stance")
    @app_commands.describe(
        visibility="public: anyone here can see it with /stance user; private: nobody"
    )
    @app_commands.choices(
        visibility=[app_commands.Choice(name=v.value, value=v.value) for v in Visibility]
    )
    async def visibility(self, interaction: discord.Interaction, visibility: str) -> None:
        assert interaction.guild_id is not None
        chosen = Visibility(visibility)
        await self.repo.set_visibility(interaction.guild_id, interaction.user.id, chosen)
        text = (
            "Your stance is now **public**: members can see it with `/stance user`."
            if chosen is Visibility.PUBLIC
            else "Your stance is now **private**: only you can see it."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @stance.command(
        name="export", description="All your stance data in this server, as a JSON file"
    )
    async def export(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id, member_id = interaction.guild_id, interaction.user.id
        observations = await self.repo.member_observations(guild_id, member_id)
        votes = await self.repo.member_votes(guild_id, member_id)
        statements = await self.repo.statements_for_export(guild_id, member_id)
        visibility = await self.repo.get_visibility(guild_id, member_id)
        declared: dict[str | None, Observation] = {}
        for obs in observations:
            if obs.source == "declared":
                declared[obs.topic] = obs
        data = build_export(
            member_id,
            guild_id,
            declared.values(),
            observations,
            votes,
            {s.id: s.text for s in statements},
            visibility,
        )
        data["statements_authored"] = [
            {
                "number": s.number,
                "statement": s.text,
                "removed": s.removed,
                "at": s.created_at.isoformat(),
            }
            for s in statements
            if s.author_id == member_id
        ]
        data["poll_votes"] = with_times_as_text(
            await self.repo.member_poll_votes(guild_id, member_id)
        )
        data["debate_arguments"] = with_times_as_text(
            await self.repo.member_arguments(guild_id, member_id)
        )
        data["argument_upvotes"] = with_times_as_text(
            await self.repo.member_upvotes(guild_id, member_id)
        )
        await interaction.followup.send(
            "Everything Agora keeps about your stance in this server.",
            file=discord.File(io.BytesIO(export_bytes(data)), filename="stances.json"),
            ephemeral=True,
        )

    @stance.command(name="forget", description="Delete all your stance data in this server")
    async def forget(self, interaction: discord.Interaction) -> None:
        member_id = interaction.user.id
        await interaction.response.send_message(
            "This deletes your recorded positions (declared and from debates), your statement "
            "votes and your visibility choice in this server. Statements you wrote stay, without "
            "your name. Closed polls keep their published totals. This cannot be undone.",
            view=confirm_view(ForgetButton(member_id, True), ForgetButton(member_id, False)),
            ephemeral=True,
        )

    # -- the community --------------------------------------------------------------------

    @stance.command(name="community", description="Where the community stands, and how it moves")
    @app_commands.describe(
        topic="A topic of the bank (default: the general question)",
        period="The trend's period: 7d, 30d, 90d, 365d, all (also 2w, 1y…); default 30d",
    )
    async def community(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, 100] | None = None,
        period: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        assert interaction.guild_id is not None and interaction.guild is not None
        topic_id = self._topic_id(topic)
        parsed = parse_period(period)  # bad input answered before the public defer
        await interaction.response.defer(thinking=True)
        columns = await self.repo.observation_columns(interaction.guild_id, topic_id)
        known = max(
            interaction.guild.member_count or 0, await self.repo.known_members(interaction.guild_id)
        )
        picture = await asyncio.to_thread(
            community_picture, columns, known, parsed.text, datetime.now(UTC)
        )
        png = await self.renderer.render(
            render_community_chart, picture.summary.buckets, picture.chart_trend
        )
        embed = community_embed(picture.summary, picture.trend, topic_id, parsed.text)
        embed.set_image(url="attachment://community.png")
        await interaction.followup.send(embed=embed, file=png_file(png, "community.png"))

    @community.autocomplete("topic")
    async def _community_topic(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return topic_choices(current)

    @community.autocomplete("period")
    async def _community_period(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=p, value=p) for p in PERIOD_CHOICES if current.lower() in p
        ]

    # -- the opinion map ------------------------------------------------------------------

    @statement.command(name="add", description="Add a statement for members to vote on")
    @app_commands.describe(text="One short sentence, 10–200 characters")
    async def statement_add(
        self, interaction: discord.Interaction, text: app_commands.Range[str, 1, 1000]
    ) -> None:
        assert interaction.guild_id is not None
        cleaned = clean_statement(text)
        added = await self.repo.add_statement(interaction.guild_id, interaction.user.id, cleaned)
        await interaction.response.send_message(
            f"Statement **#{added.number}** added: {cleaned}\nMembers get it with `/stance vote`.",
            ephemeral=True,
        )

    @statement.command(
        name="remove", description="Remove a statement from the opinion map (managers)"
    )
    @app_commands.describe(statement="The statement's number")
    async def statement_remove(
        self, interaction: discord.Interaction, statement: app_commands.Range[int, 1, 1_000_000]
    ) -> None:
        assert interaction.guild_id is not None
        require_manager(interaction, await self._settings(interaction.guild_id))
        found = await self.repo.statement_by_number(interaction.guild_id, statement)
        if found is None:
            raise UserFacingError(f"There is no statement #{statement} in this server.")
        if not await self.repo.remove_statement(found.id):
            raise UserFacingError(f"Statement #{statement} was already removed.")
        await interaction.response.send_message(
            f"Statement #{statement} was removed; it is no longer dealt nor on the map.",
            ephemeral=True,
        )

    @statement_remove.autocomplete("statement")
    async def _statement_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        found = await self.repo.find_statements(interaction.guild_id, current.strip()[:100])
        return [
            app_commands.Choice(name=f"#{s.number} {s.text}"[:100], value=s.number)
            for s in found[:25]
        ]

    @stance.command(name="vote", description="Vote on the opinion map's statements, one at a time")
    async def vote(self, interaction: discord.Interaction) -> None:
        await deal_next(interaction, self.repo, "", edit=False)

    @stance.command(
        name="map", description="The opinion groups, what sets them apart, and consensus"
    )
    async def opinion_map(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        statements = await self.repo.active_statements(interaction.guild_id)
        if not statements:
            raise UserFacingError(
                "There are no statements yet: add one with `/stance statement add`."
            )
        await interaction.response.defer(thinking=True)
        members, statement_ids, values = await self.repo.vote_triples(interaction.guild_id)
        ids = [s.id for s in statements]
        result = await asyncio.to_thread(opinion_map_from, members, statement_ids, values, ids)
        png = await self.renderer.render(render_opinion_map, result)
        embed = map_embed(result, {s.id: s for s in statements})
        embed.set_image(url="attachment://opinion-map.png")
        await interaction.followup.send(embed=embed, file=png_file(png, "opinion-map.png"))

    # -- data lifecycle -------------------------------------------------------------------

    @stance.command(
        name="purge", description="Delete all of this server's Agora data now (managers)"
    )
    async def purge(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        require_manager(interaction, await self._settings(interaction.guild_id))
        guild_id = interaction.guild_id
        await interaction.response.send_message(
            "This deletes **all** of this server's Agora data now: stances, statements and votes, "
            "and the data of every other feature (polls, debates, release subscriptions). "
            "The server's settings are kept. This cannot be undone.",
            view=confirm_view(PurgeButton(guild_id, True), PurgeButton(guild_id, False)),
            ephemeral=True,
        )

    async def purge_due_communities(self, now: datetime | None = None) -> list[int]:
        """Purge every community the bot left more than its `retention_days` ago (and has not
        rejoined); returns their ids. One failing community does not stop the others."""
        moment = now or datetime.now(UTC)
        present = {guild.id for guild in self.bot.guilds}
        purged = []
        for guild_id, left_at, raw_settings in await self.repo.communities_left():
            try:
                if guild_id in present:
                    continue
                settings = GuildSettings.model_validate_json(raw_settings or "{}")
                if purge_due(datetime.fromisoformat(left_at), settings.retention_days, moment):
                    await self.repo.purge_community(guild_id)
                    purged.append(guild_id)
            except Exception:
                log.exception("could not purge community %s", guild_id)
        return purged

    @tasks.loop(hours=RETENTION_CHECK_HOURS)
    async def retention_loop(self) -> None:
        try:
            await self.purge_due_communities()
        except Exception:
            log.exception("retention check failed; trying again next hour")

    @retention_loop.before_loop
    async def _before_retention(self) -> None:
        await self.bot.wait_until_ready()


def topic_choices(current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 bank topics matching what the member typed."""
    return [
        app_commands.Choice(name=topic.choice_label(100), value=topic.id)
        for topic in search_topics(current[:100], default_topics(), limit=25)
    ]
