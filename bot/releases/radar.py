"""The storage-agnostic radar: fetch sources, one cycle at a time, and the operator's check.

The feature's outbox worker (``cogs/releases/delivery.py``) owns storage: it keeps one
``SourceState`` per source key and, per subscription, which items were announced. A cycle is::

    async with Radar(config) as radar:
        outcomes = await radar.run_cycle(states)       # {key: SourceOutcome}
        for key, outcome in outcomes.items():
            if outcome.error: ...                      # failures += 1; backoff / pause
            else:
                for item in outcome.result.new:         # oldest first
                    for sub in subscriptions[key]:
                        if sub.filter.matches(item): announce(build_card(item), nonce=...)
                save(key, outcome.result.state)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.errors import UserFacingError
from bot.releases.card import AnnouncementCard, build_card
from bot.releases.config import RadarConfig
from bot.releases.errors import SourceError
from bot.releases.filters import ReleaseFilter
from bot.releases.models import FetchResult, ReleaseItem, SourceState
from bot.releases.net import HttpFetcher, Resource, validate_feed_url
from bot.releases.sources import Source, make_source
from bot.releases.sources.keys import parse_source_ref

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """One source's share of a cycle: a ``result`` or an ``error``, never both."""

    source_key: str
    result: FetchResult | None = None
    error: SourceError | None = None


class Radar(Resource):
    """Fetches release sources. Owns the feed HTTP session: use ``async with`` (or
    ``start``/``close``). One instance serves the whole bot."""

    def __init__(self, config: RadarConfig) -> None:
        self.config = config
        self.fetcher = HttpFetcher(config)

    async def start(self) -> None:
        await self.fetcher.start()

    async def close(self) -> None:
        await self.fetcher.close()

    def source(self, key: str) -> Source:
        """The ``Source`` object for a key (``UserFacingError`` if the key is invalid)."""
        return make_source(key, self.config, self.fetcher)

    async def validate_source(self, text: str) -> str:
        """Parse what an admin typed and, for feeds, check the host is public.

        Returns the normalised key; raises ``UserFacingError`` with what to do.
        Use it in ``/releases follow`` before storing a subscription.
        """
        ref = parse_source_ref(text)
        if ref.kind == "feed":
            await validate_feed_url(ref.target, self.config.allow_private_urls)
        return ref.key

    async def fetch(self, key: str, state: SourceState | None = None) -> FetchResult:
        """Fetch one source now. Raises ``SourceError`` (and ``UserFacingError`` for a bad key)."""
        return await self.source(key).fetch(state)

    async def fetch_outcome(self, key: str, state: SourceState | None = None) -> SourceOutcome:
        """Like ``fetch`` but never raises: failures become ``SourceOutcome.error``."""
        try:
            return SourceOutcome(key, result=await self.fetch(key, state))
        except SourceError as exc:
            return SourceOutcome(key, error=exc)
        except UserFacingError as exc:
            return SourceOutcome(key, error=SourceError("invalid_source", exc.message))
        except Exception as exc:  # one broken source must not stop the cycle
            log.exception("release source %s failed unexpectedly", key)
            return SourceOutcome(key, error=SourceError("internal", type(exc).__name__))

    async def run_cycle(
        self,
        states: Mapping[str, SourceState | None] | Iterable[str],
    ) -> dict[str, SourceOutcome]:
        """Fetch each source once, at most ``config.concurrency`` at a time.

        ``states`` maps each unique source key to its stored state (``None`` for a source
        never fetched: a baseline), or is just the keys. Returns an outcome per key, in the
        same order; no exception escapes for a single source.
        """
        pairs: dict[str, SourceState | None] = (
            dict(states) if isinstance(states, Mapping) else dict.fromkeys(states)
        )
        limit = asyncio.Semaphore(max(1, self.config.concurrency))

        async def one(key: str, state: SourceState | None) -> SourceOutcome:
            async with limit:
                return await self.fetch_outcome(key, state)

        outcomes = await asyncio.gather(*(one(key, state) for key, state in pairs.items()))
        return {outcome.source_key: outcome for outcome in outcomes}

    async def preview(
        self, key: str, count: int = 5, release_filter: ReleaseFilter | None = None
    ) -> list[tuple[ReleaseItem, AnnouncementCard]]:
        """The newest ``count`` items (matching the filter) as they would be announced.

        Nothing is stored; raises ``SourceError``/``UserFacingError``.
        """
        result = await self.fetch(key, None)
        items = [i for i in result.items if release_filter is None or release_filter.matches(i)]
        chosen = items[-count:] if count > 0 else []
        return [(item, build_card(item)) for item in chosen]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``agora releases check SOURCE`` found."""

    source_key: str
    listed: int = 0
    cards: list[AnnouncementCard] = field(default_factory=list)
    filtered_out: int = 0
    error: SourceError | None = None
    filter_text: str = ""


async def check_source(
    source: str,
    config: RadarConfig,
    *,
    count: int = 5,
    release_filter: ReleaseFilter | None = None,
) -> CheckReport:
    """Fetch ``source`` once and build the cards the radar would post for its newest items.

    Invalid input raises ``UserFacingError``; a failing source is reported in
    ``CheckReport.error`` rather than raised.
    """
    key = parse_source_ref(source).key
    filter_text = release_filter.to_string() if release_filter else ""
    async with Radar(config) as radar:
        outcome = await radar.fetch_outcome(key, None)
    if outcome.error is not None or outcome.result is None:
        return CheckReport(key, error=outcome.error, filter_text=filter_text)
    items = list(outcome.result.items)
    kept = [i for i in items if release_filter is None or release_filter.matches(i)]
    chosen = kept[-count:] if count > 0 else []
    return CheckReport(
        source_key=key,
        listed=len(items),
        cards=[build_card(item) for item in chosen],
        filtered_out=len(items) - len(kept),
        filter_text=filter_text,
    )


def format_check_report(report: CheckReport) -> str:
    """Plain text for the operator's terminal."""
    lines = [f"Source: {report.source_key}"]
    if report.filter_text:
        lines.append(f"Filter: {report.filter_text}")
    if report.error is not None:
        lines.append(f"FAILED ({report.error.kind}): {report.error.message}")
        return "\n".join(lines)
    lines.append(
        f"Listed {report.listed} item(s); {report.filtered_out} filtered out; "
        f"showing the newest {len(report.cards)} as they would be announced."
    )
    lines.append(
        "(Following this source records these as a baseline: only items published later are announced.)"
    )
    if not report.cards:
        lines.append("Nothing to announce.")
    for number, card in enumerate(report.cards, start=1):
        lines.append("")
        lines.append(f"--- {number} ---")
        lines.append(card.as_text())
    return "\n".join(lines)
