"""Embeds of polls and debates. Members' text goes into embeds, where a mention never pings."""

from __future__ import annotations

from datetime import datetime

import discord

from bot import limits
from bot.attachments import describe_chart
from bot.debates.arguments import Argument, strongest_arguments
from bot.debates.charts import describe_results_chart
from bot.debates.oxford import Phase
from bot.debates.records import DebateFormat, DebateRecord, PollRecord
from bot.debates.tally import Tally, format_results
from bot.debates.topics import THEMES, Topic, default_topics
from bot.stance_scale import Side
from bot.text import cut

POLL_COLOUR = discord.Colour.blurple()
DEBATE_COLOUR = discord.Colour.dark_teal()
CLOSED_COLOUR = discord.Colour.dark_grey()


def when(moment: datetime | None) -> str:
    """A Discord timestamp shown in each member's time zone."""
    return "never" if moment is None else f"<t:{int(moment.timestamp())}:R>"


def poll_embed(poll: PollRecord, tally: Tally, *, eligible: int | None = None) -> discord.Embed:
    """A custom poll's message: the question, the live (or final) tally, the footer number."""
    spec = poll.spec()
    status = "Closed" if poll.closed else f"Closes {when(poll.deadline)}"
    rules = []
    if spec.multiple:
        rules.append(f"up to {spec.max_choices} choices")
    if poll.role_id is not None:
        rules.append(f"only <@&{poll.role_id}> can vote")
    if not poll.closed:
        rules.append("click again to withdraw")
    description = (
        f"**{spec.question}**\n\n"
        f"{format_results(tally, spec, eligible=eligible, closed=poll.closed)}\n\n"
        f"{status}" + (f" · {' · '.join(rules)}" if rules else "")
    )
    embed = discord.Embed(
        description=description, colour=CLOSED_COLOUR if poll.closed else POLL_COLOUR
    )
    embed.set_footer(text=f"Poll #{poll.number}" + (" · anonymous" if spec.anonymous else ""))
    return embed


def result_embed(poll: PollRecord, tally: Tally, *, eligible: int | None) -> discord.Embed:
    """The result posted when a poll closes, with the chart as its image."""
    spec = poll.spec()
    embed = discord.Embed(
        title=f"Result of poll #{poll.number}",
        description=f"**{spec.question}**\n\n"
        + format_results(tally, spec, eligible=eligible, closed=True),
        colour=POLL_COLOUR,
    )
    embed.set_image(url="attachment://results.png")
    describe_chart(embed, describe_results_chart(tally, spec))
    embed.set_footer(text=f"Poll #{poll.number}")
    return embed


def debate_embed(
    debate: DebateRecord, *, voters: int = 0, topic: Topic | None = None
) -> discord.Embed:
    """The debate's opening message: the motion, the phase, the deadline."""
    quick = debate.format is DebateFormat.QUICK
    title = f"Debate #{debate.number}: {'quick debate' if quick else 'Oxford debate'}"
    lines = [f"**{debate.motion}**", ""]
    if topic is not None:
        lines.append(f"🔵 *Share:* {topic.share_case}")
        lines.append(f"🟠 *Safeguard:* {topic.safeguard_case}")
        lines.append("")
    if debate.phase is Phase.RESULT:
        lines.append("This debate has ended; the result is posted below.")
    elif quick:
        lines.append(
            f"Vote where you stand, from strongly share to strongly safeguard. "
            f"Voting closes {when(debate.deadline)}. {voters} voted so far."
        )
    elif debate.phase is Phase.PRE_VOTE:
        lines.append(
            f"**Opening vote**: where do you stand before the debate? Closes "
            f"{when(debate.deadline)}. {voters} voted so far."
        )
    elif debate.phase is Phase.DISCUSSION:
        lines.append(
            f"**Discussion** in the thread until {when(debate.deadline)}; the closing vote "
            "follows. Add your arguments and upvote the best ones."
        )
    else:
        lines.append("**Closing vote** is open: see the message below.")
    embed = discord.Embed(
        title=title,
        description="\n".join(lines),
        colour=CLOSED_COLOUR if debate.phase is Phase.RESULT else DEBATE_COLOUR,
    )
    embed.set_footer(
        text=f"Debate #{debate.number}" + (f" · {debate.topic}" if debate.topic else "")
    )
    return embed


def closing_vote_embed(debate: DebateRecord, *, voters: int = 0) -> discord.Embed:
    """The Oxford closing vote's message."""
    embed = discord.Embed(
        title=f"Debate #{debate.number}: closing vote",
        description=(
            f"**{debate.motion}**\n\nAfter the discussion, where do you stand now? "
            f"Closes {when(debate.schedule.post_vote_end)}. {voters} voted so far."
        ),
        colour=DEBATE_COLOUR,
    )
    embed.set_footer(text=f"Debate #{debate.number}")
    return embed


def discussion_embed(debate: DebateRecord, voters: int) -> discord.Embed:
    """The first message of an Oxford debate's discussion thread."""
    return discord.Embed(
        title=f"Debate #{debate.number}: discussion",
        description=(
            f"**{debate.motion}**\n\nThe opening vote closed with {voters} votes. "
            "Make your case: add an argument for a side, upvote the strongest ones. "
            f"The closing vote opens {when(debate.schedule.discussion_end)}."
        ),
        colour=DEBATE_COLOUR,
    )


def author_text(member_id: int) -> str:
    """An argument's author; 0 is an author who asked to be forgotten (`/stance forget`)."""
    return "a former member" if member_id == 0 else f"<@{member_id}>"


def argument_embed(argument: Argument, number: int) -> discord.Embed:
    side = "share" if argument.side is Side.SHARE else "safeguard"
    embed = discord.Embed(
        title=f"Argument for {side}",
        description=f"{argument.text}\n\n— {author_text(argument.author)}",
        colour=discord.Colour.blue() if argument.side is Side.SHARE else discord.Colour.orange(),
    )
    embed.set_footer(text=f"Debate #{number}")
    return embed


def _strongest_field(embed: discord.Embed, arguments: list[Argument]) -> None:
    best = strongest_arguments(arguments)
    for side, name in ((Side.SHARE, "share"), (Side.SAFEGUARD, "safeguard")):
        items = best[side]
        if not items:
            continue
        lines = [f"{a.upvotes} 👍 · {a.text} ({author_text(a.author)})" for a in items]
        value = cut("\n".join(lines), limits.FIELD_VALUE)
        embed.add_field(name=f"Strongest arguments for {name}", value=value, inline=False)


def debate_result_embed(
    debate: DebateRecord, summary: str, arguments: list[Argument], chart_text: str
) -> discord.Embed:
    """A debate's result (quick or Oxford): the motion, the formatted result, the strongest
    arguments and the chart attached as ``results.png`` (``chart_text``: what it shows)."""
    embed = discord.Embed(
        title=f"Result of debate #{debate.number}",
        description=f"**{debate.motion}**\n\n{summary}",
        colour=DEBATE_COLOUR,
    )
    _strongest_field(embed, arguments)
    embed.set_image(url="attachment://results.png")
    describe_chart(embed, chart_text)
    embed.set_footer(text=f"Debate #{debate.number}")
    return embed


def topics_embed() -> discord.Embed:
    """The bank of debate topics, one field per theme (``/debate topics``)."""
    embed = discord.Embed(
        title="Debate topics",
        description="Start one with `/debate start topic:<id>`, or `/debate random`.",
        colour=DEBATE_COLOUR,
    )
    for theme, title in THEMES.items():
        lines = [f"`{t.id}`: {t.motion}" for t in default_topics() if t.theme == theme]
        value = cut("\n".join(lines), limits.FIELD_VALUE)
        if value:
            embed.add_field(name=title, value=value, inline=False)
    return embed
