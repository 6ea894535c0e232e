"""`/releases why` and the permission checks, end to end: the real bot, the emulator (which
refuses posts the bot has no permission for), a fake Hub and a feed host."""

from __future__ import annotations

import discord

from bot.releases import PAUSE_AFTER_FAILURES
from tests.emulator.models import CREATE_PUBLIC_THREADS, EMBED_LINKS
from tests.fakes.feeds import atom_feed, feed_entry
from tests.harness import reply_text, response_text
from tests.releases.test_e2e_releases import Env, settled


def bot_role(env: Env) -> int:
    return next(r.id for r in env.h.guild.roles.values() if r.bot_id == env.h.emu.bot.id)


async def follow_into(env: Env, channel_id: int, source: str, **options: str) -> str:
    values = {"source": source, "channel": channel_id, **options}
    interaction = await env.h.slash("releases follow", values, user=env.h.manager)
    await settled(env.h, interaction)
    return reply_text(interaction)


async def why(env: Env, item: str) -> list[str]:
    """The lines of `/releases why item` (ephemeral), without the heading."""
    interaction = await env.h.slash("releases why", {"item": item}, user=env.h.manager)
    assert interaction.ephemeral
    return response_text(interaction).splitlines()[1:]


async def test_why_explains_each_outcome(env: Env) -> None:
    h, hub = env.h, env.hub
    plain = env.channel()
    gguf = h.emu.add_channel(h.guild.id, "gguf-free")
    await h.wait_for(lambda: h.running_bot.get_channel(gguf))
    hub.add_model("org/old", created_at="2024-01-01T00:00:00.000Z")
    await follow_into(env, plain, "hf:org")
    await follow_into(env, gguf, "hf:org", filter="exclude:*gguf*")
    await env.radar.run_cycle_once()

    # Listed when the channels started following: the baseline (and suggested).
    ask = await h.emu.autocomplete(
        h.guild.id, h.manager, "releases why", {"item": "old"}, focused="item"
    )
    assert [c["value"] for c in await ask.wait_choices()] == ["org/old"]
    lines = await why(env, "org/old")
    assert len(lines) == 2
    assert all("already listed when this channel started following" in line for line in lines)

    # Announced in one channel (with the link), filtered out by the other's filter word.
    hub.add_model("org/Model-GGUF", created_at="2024-02-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    [post] = env.posts(plain)
    lines = await why(env, post["embeds"][0]["url"])  # the item's link works as well as its id
    link = f"https://discord.com/channels/{h.guild.id}/{plain}/{post['id']}"
    announced, filtered = lines
    assert announced.startswith(f"• <#{plain}>: announced <t:") and announced.endswith(link)
    assert filtered.startswith(f"• <#{gguf}>: filtered out by `exclude:*gguf*` (<t:")
    assert "remove `exclude:*gguf*` from the filter" in filtered
    one_channel = await h.slash(
        "releases why", {"item": "org/Model-GGUF", "channel": gguf}, user=h.manager
    )
    assert response_text(one_channel).splitlines()[1:] == [filtered]

    # A Discord server error: pending, with the attempts and the last error.
    h.emu.fail_next("POST", rf"/channels/{plain}/messages$", status=503)
    h.expect_error_log(r"posting delivery \d+ failed")  # logged as a warning; harmless
    hub.add_model("org/c", created_at="2024-03-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    [pending, posted] = await why(env, "org/c")  # channels in the order of their ids
    assert pending.startswith(f"• <#{plain}>: waiting to be posted: 1 failed attempt(s)")
    assert "HTTP 503" in pending
    assert posted.startswith(f"• <#{gguf}>: announced")

    # Embed Links taken away in one channel: the post fails, the subscription is marked, one
    # notice goes to the channel, and `why` says what to grant where.
    h.emu.set_overwrite(gguf, bot_role(env), deny=EMBED_LINKS)
    await h.wait_for(
        lambda: (
            not h.running_bot.get_channel(gguf)
            .permissions_for(  # type: ignore[union-attr]
                h.running_bot.get_guild(h.guild.id).me  # type: ignore[union-attr]
            )
            .embed_links
        )
    )
    hub.add_model("org/d", created_at="2024-04-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    lines = await why(env, "org/d")
    assert (
        f"• <#{gguf}>: not posted: missing permission: Embed Links; grant Embed Links in <#{gguf}>"
        in lines
    )
    assert any(line.startswith(f"• <#{plain}>: announced") for line in lines)
    [notice] = [p for p in env.posts(gguf) if not p.get("embeds")]
    assert "Embed Links" in notice["content"] and notice["mention_roles"] == []
    listed = await h.slash("releases list", user=h.manager)
    assert "**blocked**: missing permission: Embed Links" in response_text(listed)
    hub.add_model("org/e", created_at="2024-05-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    assert len([p for p in env.posts(gguf) if not p.get("embeds")]) == 1, "one notice only"

    # Granted again: the next post goes through and the mark is gone.
    h.emu.set_overwrite(gguf, bot_role(env))
    await h.wait_for(
        lambda: (
            h.running_bot.get_channel(gguf)
            .permissions_for(  # type: ignore[union-attr]
                h.running_bot.get_guild(h.guild.id).me  # type: ignore[union-attr]
            )
            .embed_links
        )
    )
    hub.add_model("org/f", created_at="2024-06-01T00:00:00.000Z")
    await env.radar.run_cycle_once()
    assert (await why(env, "org/f"))[1].startswith(f"• <#{gguf}>: announced")
    listed = await h.slash("releases list", user=h.manager)
    assert "blocked" not in response_text(listed)


async def test_why_names_a_paused_source_and_an_item_never_seen(env: Env) -> None:
    h, feeds = env.h, env.feeds
    env.hub.add_model("org/a", created_at="2024-01-01T00:00:00.000Z")
    feeds.set_feed("/lab.atom", atom_feed([feed_entry(1)]))
    source = f"feed:{feeds.url}/lab.atom"
    await follow_into(env, env.channel(), "hf:org")
    await follow_into(env, env.channel(), source)
    await env.radar.run_cycle_once()
    for _ in range(PAUSE_AFTER_FAILURES):
        feeds.fault("/lab.atom", "500")
        await env.radar.run_cycle_once(ignore_backoff=True)

    lines = await why(env, "Post 2")
    channel = f"<#{env.channel()}>"
    assert len(lines) == 2
    [hub_line] = [line for line in lines if "`hf:org`" in line]
    assert hub_line.startswith(f"• {channel}: `hf:org` never listed this item (last fetched <t:")
    [feed_line] = [line for line in lines if "`hf:org`" not in line]
    assert feed_line.startswith(f"• {channel}: `{source}` is paused after 5 failed checks")
    assert "server_error" in feed_line and "`/releases resume`" in feed_line

    # A member without Manage Server is refused.
    refused = await h.slash("releases why", {"item": "org/a"}, user=h.member, validate=False)
    assert refused.ephemeral and "Manage Server" in response_text(refused)


async def test_following_where_the_bot_cannot_embed_is_refused_and_stores_nothing(
    env: Env,
) -> None:
    h = env.h
    channel = env.channel()
    h.emu.set_overwrite(channel, bot_role(env), deny=EMBED_LINKS)
    bot = h.running_bot

    def me_in_channel() -> discord.Permissions:
        guild = bot.get_guild(h.guild.id)
        target = bot.get_channel(channel)
        assert guild is not None and isinstance(target, discord.TextChannel)
        return target.permissions_for(guild.me)

    await h.wait_for(lambda: not me_in_channel().embed_links)
    interaction = await h.slash(
        "releases follow", {"source": "hf:org", "channel": channel}, user=h.manager
    )
    assert interaction.ephemeral
    assert f"I cannot announce in <#{channel}>: I lack **Embed Links** there" in response_text(
        interaction
    )
    assert await env.radar.parts.subscriptions.for_guild(h.guild.id) == []

    # With a thread under every announcement, the thread permissions count too.
    h.emu.set_overwrite(channel, bot_role(env), deny=CREATE_PUBLIC_THREADS)
    await h.wait_for(lambda: me_in_channel().embed_links)
    await h.slash("agora settings", {"setting": "announce_threads", "value": "on"}, user=h.manager)
    interaction = await h.slash(
        "releases follow", {"source": "hf:org", "channel": channel}, user=h.manager
    )
    assert "I lack **Create Public Threads** there" in response_text(interaction)
    assert await env.radar.parts.subscriptions.for_guild(h.guild.id) == []
