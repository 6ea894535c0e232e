"""Polls: creating them, counting clicks, live tallies, closing and posting results.

Every vote goes through :meth:`PollRepository.vote` (one transaction that also reads whether
the poll is closed) and is acknowledged only once that returned, i.e. after the commit. The
poll message's tally is refreshed through this service's :class:`Coalescer`, so a burst of
clicks becomes a few edits; a debate's stance vote is counted here too and its message is
refreshed by the :class:`DebateService`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import discord
from discord import app_commands

from bot import limits
from bot.checks import is_manager
from bot.debates.charts import render_results_chart
from bot.debates.coalesce import Coalescer
from bot.debates.durations import format_duration, parse_native_hours
from bot.debates.errors import PollNotFound
from bot.debates.export import VoterRow, export_csv
from bot.debates.options import clean_native_question, parse_native_options
from bot.debates.poll import (
    PollSpec,
    apply_selection,
    apply_vote,
    build_poll_spec,
    ensure_can_vote,
)
from bot.debates.records import Decide, PollKind, PollRecord
from bot.debates.tally import Tally
from bot.errors import UserFacingError, ensure_same_community
from bot.metrics import metrics_of
from bot.slash import numbered_choices
from bot.stance_scale import SCALE
from cogs.debates.components import poll_view
from cogs.debates.debates import DebateService
from cogs.debates.embeds import poll_embed, result_embed
from cogs.debates.service import (
    EDIT_INTERVAL,
    DebateParts,
    response_message_id,
    utcnow,
)

log = logging.getLogger(__name__)

#: Attempts at one tally edit that Discord answers with a server error (5xx) or a rate limit.
EDIT_RETRIES = 5


def role_ids(user: discord.Member | discord.User) -> list[int]:
    return [role.id for role in user.roles] if isinstance(user, discord.Member) else []


class PollService:
    def __init__(self, parts: DebateParts, debates: DebateService) -> None:
        self.parts = parts
        #: The poll repository (public for tests that simulate a crash in it).
        self.repo = parts.polls
        self._debates = debates
        self.edits: Coalescer[int, None] = Coalescer(self._refresh, interval=EDIT_INTERVAL)
        self._finalising: set[int] = set()
        self._edit_failures: dict[int, int] = {}

    # -- commands ---------------------------------------------------------------------------

    async def create(
        self,
        interaction: discord.Interaction,
        question: str,
        options: str,
        duration: str | None,
        anonymous: bool,
        multiple: int,
        role: discord.Role | None,
    ) -> None:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        await self.parts.require_starter(interaction)
        now = utcnow()
        spec = build_poll_spec(
            question,
            options,
            now=now,
            duration=duration,
            multiple=multiple,
            anonymous=anonymous,
            role_id=role.id if role is not None and not role.is_default() else None,
        )
        poll = await self.repo.create_poll(
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            PollKind.CUSTOM,
            spec,
            now=now,
        )
        callback = await interaction.response.send_message(
            embed=poll_embed(poll, Tally.empty(len(spec.options)), eligible=self.eligible(poll)),
            view=poll_view(poll.id, spec.options, spec.max_choices),
        )
        message_id = await response_message_id(interaction, callback)
        await self.repo.set_poll_message(poll.id, message_id)

    async def create_native(
        self, interaction: discord.Interaction, question: str, options: str, duration: str | None
    ) -> None:
        assert interaction.guild_id is not None and interaction.channel_id is not None
        await self.parts.require_starter(interaction)
        clean = clean_native_question(question)
        answers = parse_native_options(options)
        hours = parse_native_hours(duration)
        now = utcnow()
        spec = PollSpec(
            question=clean,
            options=tuple(answers),
            anonymous=False,  # Discord shows who voted for what in a native poll
            deadline=now + timedelta(hours=hours),
        )
        poll = await self.repo.create_poll(
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            PollKind.NATIVE,
            spec,
            now=now,
        )
        native = discord.Poll(question=clean, duration=timedelta(hours=hours))
        for answer in answers:
            native.add_answer(text=answer)
        callback = await interaction.response.send_message(
            f"Poll #{poll.number} · closes in {format_duration(timedelta(hours=hours))}",
            poll=native,
        )
        message_id = await response_message_id(interaction, callback)
        await self.repo.set_poll_message(poll.id, message_id)

    async def find(self, interaction: discord.Interaction, number: int) -> PollRecord:
        assert interaction.guild_id is not None
        poll = await self.repo.poll_by_number(interaction.guild_id, number)
        if poll is None:
            raise UserFacingError(
                f"There is no poll #{number} in this server: pick one from the suggestions."
            )
        return poll

    async def close_poll(self, interaction: discord.Interaction, number: int) -> None:
        assert interaction.guild_id is not None
        poll = await self.find(interaction, number)
        if poll.kind is PollKind.DEBATE:
            raise UserFacingError(
                f"Poll #{number} is a debate vote: end the debate with `/debate close`."
            )
        settings = await self.parts.guilds.get_settings(interaction.guild_id)
        if interaction.user.id != poll.creator_id and not is_manager(interaction.user, settings):
            raise UserFacingError("Only the poll's creator or a manager can close it.")
        if not await self.repo.close_poll(poll.id, now=utcnow()):
            raise UserFacingError(f"Poll #{number} is already closed.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        closed = await self.repo.get_poll(poll.id)
        assert closed is not None
        await self.finalise(closed)
        await interaction.followup.send(
            f"Poll #{number} is closed; its result is posted.", ephemeral=True
        )

    async def results(self, interaction: discord.Interaction, number: int) -> None:
        poll = await self.find(interaction, number)
        tally = await self.tally(poll)
        await interaction.response.send_message(
            embed=poll_embed(poll, tally, eligible=self.eligible(poll)), ephemeral=True
        )

    async def export(self, interaction: discord.Interaction, number: int) -> None:
        poll = await self.find(interaction, number)
        spec = poll.spec()
        tally = await self.tally(poll)
        rows: list[VoterRow] | None = None
        if not spec.anonymous:
            guild = interaction.guild
            rows = []
            for member_id, option, voted_at in await self.repo.voter_rows(poll.id):
                member = guild.get_member(member_id) if guild is not None else None
                name = member.display_name if member is not None else str(member_id)
                rows.append(VoterRow(member_id, name, option, voted_at))
        data = export_csv(spec, tally, rows)
        note = "" if rows is not None else " (anonymous: totals only)"
        await interaction.response.send_message(
            f"Poll #{poll.number} as CSV{note}.",
            file=discord.File(io.BytesIO(data), filename=f"poll-{poll.number}.csv"),
            ephemeral=True,
        )

    async def poll_choices(self, guild_id: int, typed: str) -> list[app_commands.Choice[int]]:
        polls = await self.repo.search_polls(guild_id, typed, limits.CHOICES)
        return numbered_choices(
            (p.number, f"({'closed' if p.closed else 'open'}) {p.question}") for p in polls
        )

    # -- votes ------------------------------------------------------------------------------

    async def click(self, interaction: discord.Interaction, poll_id: int, option: int) -> None:
        def toggle(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
            if not 0 <= option < len(poll.options):
                raise UserFacingError("That option no longer exists.")
            return apply_vote(current, option, poll.max_choices)

        await self._vote(interaction, poll_id, toggle)

    async def select(
        self, interaction: discord.Interaction, poll_id: int, values: Sequence[int]
    ) -> None:
        def replace(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
            return apply_selection(values, poll.max_choices, len(poll.options))

        await self._vote(interaction, poll_id, replace)

    @staticmethod
    def _check_open(poll: PollRecord, now: datetime, roles: list[int]) -> None:
        if poll.kind is PollKind.DEBATE:
            # Past the deadline the vote is over even before the job's next run closes it.
            if poll.closed or (poll.deadline is not None and now >= poll.deadline):
                raise UserFacingError("This vote is closed: votes are no longer counted.")
            return
        if poll.kind is PollKind.NATIVE:
            raise UserFacingError("Vote in a native poll with Discord's own poll controls.")
        ensure_can_vote(poll.spec(), now=now, member_role_ids=roles, closed=poll.closed)

    async def _vote(self, interaction: discord.Interaction, poll_id: int, choose: Decide) -> None:
        """Store the member's new choices (``choose``), checked inside the vote's transaction:
        the poll belongs to this server and is open to the member."""
        now = utcnow()
        roles = role_ids(interaction.user)
        guild_id = interaction.guild_id

        def decide(poll: PollRecord, current: frozenset[int]) -> frozenset[int]:
            # Ids in custom ids are global; a forged one may name another server's poll.
            ensure_same_community(poll.guild_id, guild_id)
            self._check_open(poll, now, roles)
            return choose(poll, current)

        try:
            change = await self.repo.vote(poll_id, interaction.user.id, decide, now=now)
        except PollNotFound:
            raise UserFacingError("This poll no longer exists.") from None
        # Committed: only now may the member read that the vote counts.
        metrics_of(interaction.client).votes_stored.inc()
        poll = change.poll
        if poll.kind is PollKind.DEBATE:
            labels = [SCALE[i].label for i in sorted(change.after)]
        else:
            labels = [poll.options[i] for i in sorted(change.after)]
        if not labels:
            text = "Your vote was withdrawn."
        elif len(labels) == 1:
            text = f"Your vote: {labels[0]}"
        else:
            text = "Your votes: " + ", ".join(labels)
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
        if change.before == change.after:
            return
        if poll.kind is PollKind.DEBATE:
            self._debates.vote_counted(poll.id)
        elif not self.edits.closed:
            self.edits.submit(poll.id, None)

    async def native_vote(self, payload: discord.RawPollVoteActionEvent, *, add: bool) -> None:
        """Record a native poll vote event (answers are numbered from 1)."""
        if payload.guild_id is None:
            return
        await self.repo.native_vote(
            payload.message_id, payload.user_id, payload.answer_id - 1, add=add, now=utcnow()
        )

    # -- tallies and results ----------------------------------------------------------------

    async def tally(self, poll: PollRecord) -> Tally:
        return Tally.from_votes(await self.repo.votes(poll.id), len(poll.options))

    def eligible(self, poll: PollRecord) -> int | None:
        """How many members may vote, when known (the whole server for unrestricted polls)."""
        guild = self.parts.bot.get_guild(poll.guild_id)
        if guild is None:
            return None
        if poll.role_id is not None:
            role = guild.get_role(poll.role_id)
            return len(role.members) or None if role is not None else None
        return guild.member_count

    async def _refresh(self, poll_id: int, _state: None) -> None:
        """Coalesced: redraw the live tally on a custom poll's message."""
        poll = await self.repo.get_poll(poll_id)
        if poll is None or poll.message_id is None or poll.closed:
            return
        message = self.parts.bot.get_partial_messageable(poll.channel_id).get_partial_message(
            poll.message_id
        )
        try:
            await message.edit(
                embed=poll_embed(poll, await self.tally(poll), eligible=self.eligible(poll))
            )
        except (discord.DiscordServerError, discord.RateLimited) as exc:
            # Discord failed for now: try again after the interval, or the last votes of a
            # burst would stay missing from the message until the next vote.
            failures = self._edit_failures.get(poll.id, 0) + 1
            if failures < EDIT_RETRIES and not self.edits.closed:
                self._edit_failures[poll.id] = failures
                log.warning("could not update poll %s (%s); trying again", poll.id, exc)
                self.edits.submit(poll.id, None)
            else:
                self._edit_failures.pop(poll.id, None)
                log.warning("could not update poll %s: %s", poll.id, exc)
            return
        except discord.HTTPException as exc:
            log.warning("could not update poll %s: %s", poll.id, exc)
            return
        self._edit_failures.pop(poll.id, None)

    async def finalise(self, poll: PollRecord) -> None:
        """Post a closed poll's result (counts, percentages, turnout, chart) once, and show
        the final tally on the poll message without buttons."""
        if poll.id in self._finalising or poll.result_message_id is not None:
            return
        self._finalising.add(poll.id)
        try:
            self.edits.cancel(poll.id)
            channel = self.parts.bot.get_partial_messageable(
                poll.channel_id, guild_id=poll.guild_id
            )
            tally = await self.tally(poll)
            if poll.kind is PollKind.NATIVE:
                tally = await self._native_tally(poll, channel) or tally
            spec = poll.spec()
            eligible = self.eligible(poll)
            chart = await self.parts.charts.render(render_results_chart, tally, spec)
            # The poll message first: the edit can be repeated, and until the result is
            # recorded a restart runs all of this again (the result's nonce dedupes its post).
            # The other way round, a crash between the two left the closed poll showing
            # "Closes …" and its buttons for good.
            if poll.kind is PollKind.CUSTOM and poll.message_id is not None:
                try:
                    await channel.get_partial_message(poll.message_id).edit(
                        embed=poll_embed(poll, tally, eligible=eligible), view=None
                    )
                except discord.HTTPException as exc:
                    log.warning("could not show poll %s as closed: %s", poll.id, exc)
            embed = result_embed(poll, tally, eligible=eligible)
            posted = await self.parts.post_result(channel, embed, chart, "poll", poll.id)
            await self.repo.set_poll_result_message(poll.id, posted)
        finally:
            self._finalising.discard(poll.id)

    async def _native_tally(
        self, poll: PollRecord, channel: discord.PartialMessageable
    ) -> Tally | None:
        """End a native poll and return Discord's final counts: the stored votes miss those
        cast while the bot was offline (they never reached it as gateway events). ``None``
        when Discord can't be asked (the caller falls back to the stored votes)."""
        if poll.message_id is None:
            return None
        message = channel.get_partial_message(poll.message_id)
        try:
            ended = await message.end_poll()
        except discord.HTTPException:
            try:  # already ended by Discord at its expiry
                ended = await message.fetch()
            except discord.HTTPException as exc:
                log.warning("could not read the final counts of poll %s: %s", poll.id, exc)
                return None
        answers = sorted(ended.poll.answers, key=lambda a: a.id) if ended.poll else []
        if len(answers) != len(poll.options):
            return None
        counts = tuple(answer.vote_count for answer in answers)
        # Native polls are created single-choice: every vote is a distinct voter.
        return Tally(counts=counts, voters=sum(counts))

    async def run_due(self, now: datetime) -> None:
        """Close polls past their deadline and post results that were never posted (those of
        this process's communities, in a cluster)."""
        shards = self.parts.shards
        for poll in shards.held(await self.repo.due_polls(now)):
            await self.repo.close_poll(poll.id, now=now)
        for poll in shards.held(await self.repo.unposted_polls()):
            try:
                await self.finalise(poll)
            except Exception:
                log.exception("could not post the result of poll %s", poll.id)
