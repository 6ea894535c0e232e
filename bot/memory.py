"""The garbage collector, tuned for a heap that is mostly one long-lived cache.

Most of what the bot holds is discord.py's cache of its communities (guilds, channels, roles),
loaded once from the gateway and kept for the whole session, plus the modules. CPython's cyclic
collector rescans all of it at every full collection: with 10,000 communities a full
collection stopped the process for 200 to 400 ms (a late heartbeat, late answers to members).
Two measures, measured in ``bench/bench_footprint.py`` (with and without them):

- :func:`tune_collector`: a larger young generation (:data:`THRESHOLDS`), so the collector runs
  seven times less often while the bot allocates its burst of short-lived objects per
  event; each young collection stays short (it only sees the young objects);
- :class:`CacheFreezer`: ``gc.freeze()`` moves everything alive into the permanent
  generation, which no collection scans: every :data:`FREEZE_EVERY` communities while the
  cache loads, and once more when the bot is ready. Later full collections only scan what was
  allocated after. ``gc.unfreeze()`` when the bot closes gives it all back to the collector.

What freezing costs: a cycle of frozen objects that becomes garbage later (a community the
bot leaves) is not collected until the next unfreeze; objects without cycles are freed by
reference counting as usual.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

#: ``gc.set_threshold``: young collections every 5,000 new container objects instead of
#: CPython's 700; the older generations keep CPython's ratios.
THRESHOLDS = (5_000, 10, 10)

#: Freeze the cache after this many communities became available while it loads.
FREEZE_EVERY = 500


def tune_collector() -> None:
    """Set :data:`THRESHOLDS` (once per process; logged with the previous values)."""
    before = gc.get_threshold()
    if before != THRESHOLDS:
        gc.set_threshold(*THRESHOLDS)
        log.info("garbage collector thresholds %s -> %s", before, THRESHOLDS)


class CacheFreezer:
    """Moves the long-lived cache out of the collector's reach as it loads."""

    def __init__(self, every: int = FREEZE_EVERY) -> None:
        self._every = every
        self._loaded = 0
        self.frozen = False

    def community_loaded(self) -> None:
        """A community became available (at start, in bulk): freeze every ``every`` of them."""
        self._loaded += 1
        if self._loaded % self._every == 0:
            self.freeze()

    def freeze(self) -> None:
        """Move every object alive now out of the collector's generations."""
        gc.freeze()  # O(1): the generations' lists are spliced onto the permanent one
        self.frozen = True

    def release(self) -> None:
        """Give the frozen objects back to the collector (the bot is closing)."""
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
