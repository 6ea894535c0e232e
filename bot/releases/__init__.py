"""Release radar domain code (no Discord here): sources, openness cards, filters, policy.

Public API for the feature (``cogs/releases``) and the CLI (see each module for details):

* ``RadarConfig``: settings; ``Radar``: fetch sources (``fetch``, ``run_cycle``, ``preview``,
  ``validate_source``); ``check_source``/``format_check_report``: ``agora releases check``.
* ``parse_source``: normalised key from admin input; ``parse_filter``/``ReleaseFilter``.
* ``ReleaseItem``/``ModelFacts``/``SourceState``/``FetchResult``; ``new_items``/``remember``.
* ``build_card``/``AnnouncementCard``: embed data within Discord's limits.
* ``SourceError``; ``backoff_seconds``/``should_pause``; ``announcement_nonce``.
* Stored records and their errors: ``bot.releases.records``, ``bot.releases.errors``.
* The delivery ledger's outcomes and words (``/releases why``): ``bot.releases.ledger``.
"""

from __future__ import annotations

from bot.releases.card import AnnouncementCard, CardField, build_card
from bot.releases.config import RadarConfig
from bot.releases.errors import SourceError, SourceErrorKind
from bot.releases.filters import FILTER_HELP, ReleaseFilter, parse_filter
from bot.releases.models import (
    FetchResult,
    ModelFacts,
    ReleaseItem,
    SourceState,
    new_items,
    remember,
    sort_items,
)
from bot.releases.openness import (
    Grade,
    LicenseClass,
    OpennessCard,
    classify_license,
    classify_licenses,
    format_params,
    grade,
    openness_card,
)
from bot.releases.policy import (
    PAUSE_AFTER_FAILURES,
    announcement_nonce,
    backoff_seconds,
    should_pause,
)
from bot.releases.radar import CheckReport, Radar, SourceOutcome, check_source, format_check_report
from bot.releases.sources.keys import SOURCE_HELP, SourceRef, parse_source, parse_source_ref

__all__ = [
    "FILTER_HELP",
    "PAUSE_AFTER_FAILURES",
    "SOURCE_HELP",
    "AnnouncementCard",
    "CardField",
    "CheckReport",
    "FetchResult",
    "Grade",
    "LicenseClass",
    "ModelFacts",
    "OpennessCard",
    "Radar",
    "RadarConfig",
    "ReleaseFilter",
    "ReleaseItem",
    "SourceError",
    "SourceErrorKind",
    "SourceOutcome",
    "SourceRef",
    "SourceState",
    "announcement_nonce",
    "backoff_seconds",
    "build_card",
    "check_source",
    "classify_license",
    "classify_licenses",
    "format_check_report",
    "format_params",
    "grade",
    "new_items",
    "openness_card",
    "parse_filter",
    "parse_source",
    "parse_source_ref",
    "remember",
    "should_pause",
    "sort_items",
]
