"""What the release radar shows: announcement embeds, notices and the lines of its replies."""

from __future__ import annotations

import discord

from bot import limits
from bot.releases import AnnouncementCard
from bot.releases.ledger import refusal_advice
from bot.releases.records import Delivery, SourceStatus, Subscription
from bot.text import cut, escape_markdown, safe_line

#: A thread opened under an announcement whose title is empty gets this name.
DEFAULT_THREAD_NAME = "Release discussion"


def code(text: str) -> str:
    """Inline code that a backtick in `text` cannot break."""
    return "`" + text.replace("`", "\u02cb") + "`"


def discord_time(moment: float) -> str:
    """A moment as Discord shows it in each reader's time zone ("3 hours ago")."""
    return f"<t:{int(moment)}:R>"


def card_embed(card: AnnouncementCard) -> discord.Embed:
    """The embed of an announcement card (the card already respects Discord's limits)."""
    url = card.url if card.url and card.url.startswith(("https://", "http://")) else None
    embed = discord.Embed(
        title=card.title, url=url, description=card.description or None, colour=card.color
    )
    for item in card.fields:
        embed.add_field(name=item.name, value=item.value, inline=item.inline)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


def fallback_embed(title: str, url: str | None) -> discord.Embed:
    """The embed of a queued announcement whose stored item no longer parses."""
    return discord.Embed(title=cut(title, limits.EMBED_TITLE) or "—", url=url)


def preview_embeds(cards: list[AnnouncementCard]) -> list[discord.Embed]:
    """The embeds of `cards` (newest first), as many as fit one message."""
    embeds: list[discord.Embed] = []
    total = 0
    for card in cards:
        if total + card.total_length > limits.EMBED_TOTAL:
            break
        embeds.append(card_embed(card))
        total += card.total_length
    return embeds


def thread_name(title: str) -> str:
    """A thread name from an announcement title."""
    return cut(" ".join(title.split()), limits.THREAD_NAME) or DEFAULT_THREAD_NAME


def pause_notice(status: SourceStatus) -> str:
    """The message sent to each channel following a source the radar just paused."""
    return cut(
        f"\N{WARNING SIGN} The release source {code(status.source_key)} failed "
        f"{status.failures} times in a row (last error: "
        f"{safe_line(status.last_error or 'unknown')}) and is paused. "
        "A manager can resume it with `/releases resume` once it works again.",
        limits.MESSAGE,
    )


def blocked_notice(source_key: str, reason: str, channel: str) -> str:
    """The one message sent to a channel that refused an announcement (when it can still be
    reached): what failed and what to do."""
    return cut(
        f"\N{WARNING SIGN} I could not post a release of {code(source_key)} here: "
        f"{safe_line(reason)}. To get its announcements, {refusal_advice(reason, channel)}; "
        "`/releases list` shows the subscriptions that are blocked.",
        limits.MESSAGE,
    )


def chunk_lines(lines: list[str], limit: int = limits.MESSAGE) -> list[str]:
    """Join `lines` into as few messages as possible, each at most `limit` characters
    (a longer line is cut)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = cut(line, limit)
        if current and size + 1 + len(line) > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        chunks.append("\n".join(current))
    return chunks


def subscription_line(subscription: Subscription, status: SourceStatus | None) -> str:
    """One line of `/releases list`."""
    parts = [f"{code(subscription.source_key)} → <#{subscription.channel_id}>"]
    if subscription.mention_role:
        parts.append(f"mentions <@&{subscription.mention_role}>")
    if subscription.filter_text:
        parts.append(f"filter {code(subscription.filter_text)}")
    if subscription.blocked:
        advice = refusal_advice(subscription.blocked, f"<#{subscription.channel_id}>")
        parts.append(f"**blocked**: {safe_line(subscription.blocked)[:120]} ({advice})")
    if status is not None and status.paused:
        parts.append(
            f"**paused** ({safe_line(status.last_error or 'failures')[:120]}): `/releases resume`"
        )
    elif status is not None and status.failures:
        parts.append(f"{status.failures} failure(s), retrying")
    elif not subscription.baselined:
        parts.append("waiting for its first check")
    return "• " + " · ".join(parts)


def latest_embed(deliveries: list[Delivery]) -> discord.Embed:
    """`/releases latest`: links to the community's last announcements, newest first."""
    lines = []
    for delivery in deliveries:
        link = (
            f"https://discord.com/channels/{delivery.guild_id}/"
            f"{delivery.channel_id}/{delivery.message_id}"
        )
        when = discord_time(delivery.posted_at or 0)
        title = escape_markdown(cut(delivery.title, 150))
        lines.append(f"• [{title}]({link}) · {code(delivery.source_key[:80])} · {when}")
    return discord.Embed(
        title="Latest release announcements",
        description=cut("\n".join(lines), limits.EMBED_DESCRIPTION),
        colour=discord.Colour.blurple(),
    )
