"""Embeds and texts of the stances feature (no database, no I/O): the words members read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.debates.topics import default_topics
from bot.limits import AUTHOR_NAME, EMBED_TITLE, FIELD_VALUE
from bot.stance_scale import Stance
from bot.stances.models import ForgetReport, Observation, SourceKind, Statement, VoteWord
from bot.stances.opinion_map import MIN_GROUP_SIZE, OpinionMap
from bot.stances.profile import MemberProfile
from bot.stances.statistics import CommunitySummary
from bot.stances.trend import Trend
from bot.text import cut

COLOUR = discord.Colour.from_rgb(0, 114, 178)


def topic_title(topic: str | None) -> str:
    if topic is None:
        return "the general question (sharing versus safeguarding)"
    for item in default_topics():
        if item.id == topic:
            return cut(item.motion, 200)
    return topic


def position_text(value: int) -> str:
    stance = Stance(value)
    return f"{stance.label} ({signed(int(stance))})"


def signed(value: int) -> str:
    """+2, +1, 0, -1, -2 (the scale's own notation: no sign on zero)."""
    return f"{value:+d}" if value else "0"


_EVERY = {"day": "daily", "week": "weekly", "month": "monthly"}


def topic_positions(observations: Sequence[Observation]) -> dict[str, Observation]:
    """The latest observation per bank topic (the general question excluded)."""
    latest: dict[str, Observation] = {}
    for obs in observations:  # oldest first: later ones replace earlier ones
        if obs.topic is not None:
            latest[obs.topic] = obs
    return latest


def topics_field(latest: Mapping[str, Observation], limit: int = 10) -> str:
    lines = [
        f"• {cut(topic_title(topic), 80)}: {position_text(int(obs.value))}"
        for topic, obs in sorted(latest.items(), key=lambda kv: kv[1].at, reverse=True)[:limit]
    ]
    if len(latest) > limit:
        lines.append(f"… and {len(latest) - limit} more (see `/stance export`)")
    return cut("\n".join(lines), FIELD_VALUE)


def profile_embed(
    profile: MemberProfile, topics: Mapping[str, Observation], visibility: str
) -> discord.Embed:
    embed = discord.Embed(title="Your stance", colour=COLOUR)
    if profile.current is None:
        embed.description = profile.formed_text
    else:
        embed.description = f"**{position_text(int(profile.current))}**\n{profile.formed_text}"
    if profile.comparison is not None:
        embed.add_field(
            name="Compared with the community", value=profile.comparison.text, inline=False
        )
    if topics:
        embed.add_field(name="On topics", value=topics_field(topics), inline=False)
    embed.set_footer(
        text=f"Visibility: {visibility} (change it with /stance visibility). "
        "Export or delete your data with /stance export and /stance forget."
    )
    return embed


def public_profile_embed(
    name: str, profile: MemberProfile, topics: Mapping[str, Observation]
) -> discord.Embed:
    embed = discord.Embed(title=cut(f"{name}'s stance", EMBED_TITLE), colour=COLOUR)
    if profile.current is None or profile.current_since is None:
        embed.description = "This member has no position yet."
    else:
        source = profile.current_source
        if source is None or source.kind is SourceKind.DECLARED:
            how = "declared"
        else:
            how = f"from a vote in {source.kind.value} #{source.ref}"
        embed.description = (
            f"**{position_text(int(profile.current))}**, {how} on {profile.current_since:%Y-%m-%d}."
        )
    if topics:
        embed.add_field(name="On topics", value=topics_field(topics), inline=False)
    return embed


def community_embed(
    summary: CommunitySummary, trend: Trend | None, topic: str | None, period: str
) -> discord.Embed:
    embed = discord.Embed(
        title="Where the community stands",
        description=f'On {topic_title(topic)}. Buckets with one or two members show "<3".',
        colour=COLOUR,
    )
    embed.add_field(
        name="Current positions",
        value="\n".join(
            f"{b.stance.label} ({signed(int(b.stance))}): **{b.text}**" for b in summary.buckets
        ),
        inline=False,
    )
    embed.add_field(name="Members with a position", value=summary.total_text)
    embed.add_field(name="Mean", value=summary.mean_text)
    embed.add_field(name="Polarisation (0–1)", value=summary.polarisation_text)
    embed.add_field(name="Participation", value=summary.participation_text)
    if trend is not None and not summary.withheld:
        shown = [p for p in trend.points if p.mean is not None]
        if len(shown) >= 2:
            text = (
                f"{shown[0].mean:+.2f} on {shown[0].start:%Y-%m-%d} → {shown[-1].mean:+.2f} "
                f"on {shown[-1].start:%Y-%m-%d} ({_EVERY[trend.granularity.value]} points)"
            )
        elif shown:
            text = f"{shown[-1].mean:+.2f} (a single {trend.granularity.value} with enough members)"
        else:
            text = "not enough members over this period"
        embed.add_field(name=f"Trend over {period}", value=text, inline=False)
    embed.set_footer(
        text="Polarisation: mean distance of members from the community mean, divided by 2 "
        "(0 all agree, 1 an even split between the extremes)."
    )
    return embed


def statement_embed(statement: Statement | None, note: str) -> discord.Embed:
    """The statement dealt to a member (or "nothing left"), under the outcome of their last
    vote (``note``, may be empty)."""
    if statement is None:
        embed = discord.Embed(
            title="Nothing left to vote on",
            description="You have voted on every statement. Add one with "
            "`/stance statement add`, or see the result with `/stance map`.",
            colour=discord.Colour.green(),
        )
    else:
        embed = discord.Embed(
            title=f"Statement #{statement.number}",
            description=statement.text,
            colour=COLOUR,
        ).set_footer(
            text="Do you agree? Your vote is private; only the opinion map's groups are shown."
        )
    if note:
        embed.set_author(name=cut(note, AUTHOR_NAME))
    return embed


def _statement_line(number: int | None, text: str, detail: str, limit: int = 140) -> str:
    label = f"#{number}" if number is not None else "#?"
    return f"{label} {cut(text, limit)} — {detail}"


def map_embed(opinion_map: OpinionMap, statements: Mapping[int, Statement]) -> discord.Embed:
    embed = discord.Embed(title="Opinion map", colour=COLOUR)
    if opinion_map.is_empty:
        embed.description = (
            f"Nobody is on the map yet: it appears once at least {MIN_GROUP_SIZE} members have "
            f"voted on {opinion_map.min_votes} statements with `/stance vote`."
        )
        return embed
    embed.description = (
        f"{len(opinion_map.member_ids)} members on the map "
        f"({opinion_map.excluded} more have voted on fewer than {opinion_map.min_votes} "
        f"statements), {len(opinion_map.statement_ids)} statements, "
        f"{len(opinion_map.groups)} opinion group{'s' if len(opinion_map.groups) != 1 else ''}."
    )
    for group in opinion_map.groups[:5]:
        lines = []
        for rep in group.representative[:3]:
            statement = statements.get(rep.statement_id)
            text = statement.text if statement else "(removed)"
            lines.append(
                "• "
                + _statement_line(
                    statement.number if statement else None,
                    text,
                    f"{rep.probability:.0%} {rep.direction}",
                )
            )
        embed.add_field(
            name=f"Group {group.name} ({group.size} members)",
            value=cut("\n".join(lines) or "No statement sets this group apart yet.", FIELD_VALUE),
            inline=False,
        )
    consensus = []
    for item in opinion_map.consensus[:5]:
        statement = statements.get(item.statement_id)
        if statement is None:
            continue
        detail = f"all {item.direction} {item.score:.2f}"
        consensus.append("• " + _statement_line(statement.number, statement.text, detail))
    embed.add_field(
        name="Consensus (every group tends the same way)",
        value=cut(
            "\n".join(consensus) or "No statement has every group's agreement yet.", FIELD_VALUE
        ),
        inline=False,
    )
    embed.set_footer(
        text="pol.is's method: PCA, base clusters, groups by silhouette (2–5). Consensus: "
        "product over groups of (agrees + 1) / (votes + 2), or the same for disagrees."
    )
    return embed


def vote_note(statement: Statement, kept: bool, word: VoteWord) -> str:
    """What became of a member's click on a statement's vote button."""
    if not kept:
        return f"Statement #{statement.number} was removed by a manager; your vote was not kept."
    return f"Your vote on #{statement.number} was recorded: **{word.value}**."


FORGET_PROMPT = (
    "This deletes your recorded positions (declared and from debates), your statement "
    "votes and your visibility choice in this server. Statements you wrote stay, without "
    "your name. Closed polls keep their published totals. This cannot be undone."
)
PURGE_PROMPT = (
    "This deletes **all** of this server's Agora data now: stances, statements and votes, "
    "and the data of every other feature (polls, debates, release subscriptions). "
    "The server's settings are kept. This cannot be undone."
)
NOTHING_DELETED = "Nothing was deleted."


def purge_done_text(records: int) -> str:
    return (
        f"Deleted all of this server's Agora data ({records} records). "
        "The server's settings were kept."
    )


def forget_done_text(report: ForgetReport) -> str:
    return (
        "Your stance data in this server was deleted: "
        f"{report.observations} recorded position(s), {report.statement_votes} statement "
        f"vote(s), your visibility choice. {report.statements_unlinked} statement(s) you wrote "
        "keep their text but no longer name you. Closed polls keep their published totals."
    )
