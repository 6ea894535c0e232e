"""`/stance`: members' positions, the community's picture, the opinion map, data lifecycle.

Thin by design: options in, a call to :class:`cogs.stances.service.StanceService`, the answer
out (embeds and texts in :mod:`cogs.stances.embeds`, buttons in :mod:`cogs.stances.components`).
"""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import chart_file
from bot.limits import CHOICE_NAME, CHOICES
from bot.slash import Suggested, bank_topic
from bot.stance_scale import SCALE, Stance
from bot.stances.models import Visibility
from bot.stances.trend import PERIOD_CHOICES, parse_period
from cogs.stances.components import ForgetButton, PurgeButton, vote_message
from cogs.stances.embeds import (
    FORGET_PROMPT,
    PURGE_PROMPT,
    community_embed,
    map_embed,
    position_text,
    profile_embed,
    public_profile_embed,
    topic_positions,
)
from cogs.stances.service import StanceService


async def period_choices(
    interaction: discord.Interaction, guild_id: int, typed: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=p, value=p) for p in PERIOD_CHOICES if typed.lower() in p]


BankTopic = app_commands.Transform[str, bank_topic(100)]
Period = app_commands.Transform[str, Suggested(str, period_choices, min_value=1, max_value=20)]
POSITION_CHOICES = [app_commands.Choice(name=f"{int(s):+d} {s.label}", value=int(s)) for s in SCALE]


async def own_request(interaction: discord.Interaction) -> tuple[int, int]:
    """The server and the member of a request about the member's own data, answered
    privately once ready (a chart or a file takes a moment)."""
    assert interaction.guild_id is not None
    await interaction.response.defer(ephemeral=True, thinking=True)
    return interaction.guild_id, interaction.user.id


class StancesCog(commands.Cog):
    stance = app_commands.Group(
        name="stance",
        description="Where members stand on sharing versus safeguarding",
        guild_only=True,
    )
    statement = app_commands.Group(
        name="statement", description="Statements of the opinion map", parent=stance
    )

    def __init__(self, service: StanceService) -> None:
        self.service = service

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
        topic: BankTopic | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        topic_id = self.service.topic_id(topic)
        value = Stance(position)
        await self.service.declare(interaction.guild_id, interaction.user.id, value, topic_id)
        where = "the general question" if topic_id is None else f"topic `{topic_id}`"
        await interaction.response.send_message(
            f"Recorded: **{position_text(int(value))}** on {where}. "
            "See your profile with `/stance me`.",
            ephemeral=True,
        )

    @stance.command(
        name="me", description="Your stance: position, how it formed, history, comparison"
    )
    async def me(self, interaction: discord.Interaction) -> None:
        request = await own_request(interaction)  # deferred: "thinking" shows at once
        async with self.service.answer_slot():
            mine = await self.service.member_stance(*request)
            embed = profile_embed(
                mine.profile, topic_positions(mine.observations), mine.visibility.value
            )
            chart = chart_file(embed, mine.chart, "stance-history.png", mine.chart_text)
            await interaction.followup.send(embed=embed, file=chart, ephemeral=True)

    @stance.command(name="user", description="Another member's stance, if they made it public")
    @app_commands.describe(member="The member")
    async def user(self, interaction: discord.Interaction, member: discord.Member) -> None:
        assert interaction.guild_id is not None
        shown = await self.service.public_stance(
            interaction.guild_id, member.id, interaction.user.id
        )
        if shown is None:
            await interaction.response.send_message(
                f"{member.mention} keeps their stance private.", ephemeral=True
            )
            return
        profile, observations = shown
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
        await self.service.set_visibility(interaction.guild_id, interaction.user.id, chosen)
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
        data = await self.service.export_file(*await own_request(interaction))
        await interaction.followup.send(
            "Everything Agora keeps about your stance in this server.",
            file=discord.File(io.BytesIO(data), filename="stances.json"),
            ephemeral=True,
        )

    @stance.command(name="forget", description="Delete all your stance data in this server")
    async def forget(self, interaction: discord.Interaction) -> None:
        view = ForgetButton.prompt_view(interaction.user.id)
        await interaction.response.send_message(FORGET_PROMPT, view=view, ephemeral=True)

    # -- the community --------------------------------------------------------------------

    @stance.command(name="community", description="Where the community stands, and how it moves")
    @app_commands.describe(
        topic="A topic of the bank (default: the general question)",
        period="The trend's period: 7d, 30d, 90d, 365d, all (also 2w, 1y…); default 30d",
    )
    async def community(
        self,
        interaction: discord.Interaction,
        topic: BankTopic | None = None,
        period: Period | None = None,
    ) -> None:
        assert interaction.guild_id is not None and interaction.guild is not None
        topic_id = self.service.topic_id(topic)
        parsed = parse_period(period)  # bad input answered before the public defer
        await interaction.response.defer(thinking=True)
        view = await self.service.community(
            interaction.guild_id, interaction.guild.member_count or 0, topic_id, parsed.text
        )
        embed = community_embed(view.picture.summary, view.picture.trend, view.topic, view.period)
        chart = chart_file(embed, view.chart, "community.png", view.chart_text)
        await interaction.followup.send(embed=embed, file=chart)

    # -- the opinion map ------------------------------------------------------------------

    @statement.command(name="add", description="Add a statement for members to vote on")
    @app_commands.describe(text="One short sentence, 10–200 characters")
    async def statement_add(
        self, interaction: discord.Interaction, text: app_commands.Range[str, 1, 1000]
    ) -> None:
        assert interaction.guild_id is not None
        added = await self.service.add_statement(interaction.guild_id, interaction.user.id, text)
        await interaction.response.send_message(
            f"Statement **#{added.number}** added: {added.text}\n"
            "Members get it with `/stance vote`.",
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
        await self.service.require_manager(interaction)
        await self.service.remove_statement(interaction.guild_id, statement)
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
        found = await self.service.find_statements(interaction.guild_id, current)
        return [
            app_commands.Choice(name=f"#{s.number} {s.text}"[:CHOICE_NAME], value=s.number)
            for s in found[:CHOICES]
        ]

    @stance.command(name="vote", description="Vote on the opinion map's statements, one at a time")
    async def vote(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        statement = await self.service.next_statement(interaction.guild_id, interaction.user.id)
        embed, view = vote_message(statement, "")
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    @stance.command(
        name="map", description="The opinion groups, what sets them apart, and consensus"
    )
    async def opinion_map(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        statements = await self.service.map_statements(interaction.guild_id)
        await interaction.response.defer(thinking=True)
        view = await self.service.opinion_map(interaction.guild_id, statements)
        embed = map_embed(view.opinion_map, view.statements)
        chart = chart_file(embed, view.chart, "opinion-map.png", view.chart_text)
        await interaction.followup.send(embed=embed, file=chart)

    # -- a community's data ---------------------------------------------------------------

    @stance.command(
        name="purge", description="Delete all of this server's Agora data now (managers)"
    )
    async def purge(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        await self.service.require_manager(interaction)
        view = PurgeButton.prompt_view(interaction.guild_id)
        await interaction.response.send_message(PURGE_PROMPT, view=view, ephemeral=True)
