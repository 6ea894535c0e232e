from __future__ import annotations

import pytest

from bot.releases import (
    Grade,
    LicenseClass,
    ModelFacts,
    classify_license,
    classify_licenses,
    format_params,
    grade,
    openness_card,
)


@pytest.mark.parametrize(
    ("license_id", "expected"),
    [
        ("apache-2.0", LicenseClass.PERMISSIVE),
        ("MIT", LicenseClass.PERMISSIVE),
        ("bsd-3-clause", LicenseClass.PERMISSIVE),
        ("cc-by-4.0", LicenseClass.PERMISSIVE),
        ("license:cc0-1.0", LicenseClass.PERMISSIVE),
        ("gpl-3.0", LicenseClass.COPYLEFT),
        ("agpl-3.0", LicenseClass.COPYLEFT),
        ("lgpl-2.1", LicenseClass.COPYLEFT),
        ("mpl-2.0", LicenseClass.COPYLEFT),
        ("cc-by-sa-4.0", LicenseClass.COPYLEFT),
        ("llama2", LicenseClass.RESTRICTED),
        ("llama3.1", LicenseClass.RESTRICTED),
        ("llama3.3", LicenseClass.RESTRICTED),
        ("llama4", LicenseClass.RESTRICTED),
        ("gemma", LicenseClass.RESTRICTED),
        ("openrail", LicenseClass.RESTRICTED),
        ("openrail++", LicenseClass.RESTRICTED),
        ("bigscience-openrail-m", LicenseClass.RESTRICTED),
        ("creativeml-openrail-m", LicenseClass.RESTRICTED),
        ("deepseek", LicenseClass.RESTRICTED),
        ("qwen", LicenseClass.RESTRICTED),
        ("cc-by-nc-4.0", LicenseClass.NON_COMMERCIAL),
        ("cc-by-nc-sa-4.0", LicenseClass.NON_COMMERCIAL),
        ("fair-noncommercial-research-license", LicenseClass.NON_COMMERCIAL),
        ("qwen-research", LicenseClass.NON_COMMERCIAL),
        ("other", LicenseClass.UNKNOWN),
        ("unknown", LicenseClass.UNKNOWN),
        ("my-own-licence", LicenseClass.UNKNOWN),
        (None, LicenseClass.UNKNOWN),
        ("", LicenseClass.UNKNOWN),
    ],
)
def test_classify_license(license_id: str | None, expected: LicenseClass) -> None:
    assert classify_license(license_id) is expected


def test_license_lists_least_open_wins() -> None:
    assert classify_licenses(["apache-2.0", "mit"]) is LicenseClass.PERMISSIVE
    assert classify_licenses(["apache-2.0", "gpl-3.0"]) is LicenseClass.COPYLEFT
    assert classify_licenses(["mit", "cc-by-nc-4.0"]) is LicenseClass.NON_COMMERCIAL
    assert classify_licenses(["mit", "other"]) is LicenseClass.UNKNOWN
    assert classify_licenses([]) is LicenseClass.UNKNOWN


def test_license_other_uses_declared_name_only() -> None:
    assert classify_licenses(["other"]) is LicenseClass.UNKNOWN
    assert classify_licenses(["other"], "qwen") is LicenseClass.RESTRICTED
    assert classify_licenses(["other"], "custom-terms") is LicenseClass.UNKNOWN


def facts(**kw: object) -> ModelFacts:
    return ModelFacts(**kw)


FULL = {"datasets": ("c4",), "papers": ("arxiv:2401.00001",)}


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"licenses": ("apache-2.0",), "gated": False, **FULL}, Grade.A),
        ({"licenses": ("gpl-3.0",), "gated": False, **FULL}, Grade.A),
        ({"licenses": ("apache-2.0",), "gated": "auto", **FULL}, Grade.B),
        ({"licenses": ("apache-2.0",), "gated": False}, Grade.B),
        ({"licenses": ("mit",), "gated": False, "datasets": ("c4",)}, Grade.B),
        ({"licenses": ("apache-2.0",), "gated": "manual", **FULL}, Grade.C),
        ({"licenses": ("apache-2.0",), "gated": None, **FULL}, Grade.C),
        ({"licenses": ("llama3",), "gated": False, **FULL}, Grade.C),
        ({"licenses": ("gemma",), "gated": "manual"}, Grade.C),
        ({"licenses": ("cc-by-nc-4.0",), "gated": False, **FULL}, Grade.D),
        ({"licenses": ("other",), "gated": False, **FULL}, Grade.E),
        ({"licenses": (), "gated": False, **FULL}, Grade.E),
        ({}, Grade.E),
    ],
)
def test_grade_rule(kw: dict[str, object], expected: Grade) -> None:
    assert grade(facts(**kw)) is expected


def test_format_params() -> None:
    assert format_params(7_241_732_096) == "7.2B"
    assert format_params(70_553_706_496) == "70.6B"
    assert format_params(405_000_000_000) == "405B"
    assert format_params(125_000_000) == "125M"
    assert format_params(1_000_000_000_000) == "1T"
    assert format_params(1_500) == "1.5K"
    assert format_params(999) == "999"
    assert format_params(None) == "unknown"


def test_card_shows_unknown_for_missing_metadata() -> None:
    card = openness_card(facts())
    assert card.grade is Grade.E
    assert card.license_text.startswith("unknown")
    assert card.access == "unknown"
    assert card.params == "unknown"
    assert card.lineage.startswith("unknown")
    assert card.training_data.startswith("unknown")
    assert card.paper.startswith("unknown")
    assert card.pipeline == "unknown"


def test_card_declared_metadata() -> None:
    card = openness_card(
        facts(
            licenses=("other",),
            license_name="llama3",
            gated="manual",
            params=8_030_261_248,
            base_models=("meta-llama/Meta-Llama-3-8B",),
            base_relation="finetune",
            datasets=("a", "b", "c", "d", "e", "f"),
            papers=("arxiv:2407.21783",),
            pipeline_tag="text-generation",
        )
    )
    assert card.grade is Grade.C
    assert card.license_text == "other (llama3): Open weights, use restrictions"
    assert card.access == "Gated, manual approval"
    assert card.params == "8B"
    assert card.lineage == "Fine-tune of meta-llama/Meta-Llama-3-8B"
    assert card.training_data == "a, b, c, d, e (+1 more)"
    assert card.paper == "arxiv:2407.21783"
