"""The openness card: licence class, access, and an overall grade, from declared metadata only.

Grade rule (also in the README). A model gets the first grade whose condition
holds, checked from A down; nothing missing is ever assumed to be open:

* **A · Open**: every licence is OSI-style open (permissive or copyleft), the repository
  is not gated, training data is named and a paper is linked.
* **B · Mostly open**: every licence is OSI-style open and access is not manual
  (not gated, or gated with automatic approval); training data or paper may be missing.
* **C · Restricted**: open weights under use restrictions (Llama, Gemma, OpenRAIL,
  DeepSeek, Qwen ... licences), or an OSI-style licence behind manual approval or with
  unknown gating.
* **D · Non-commercial**: a non-commercial or research-only licence.
* **E · Unknown / closed-ish**: no licence declared, ``other``/``unknown``, or a licence
  the radar does not recognise.

With several licences the least open one decides (a component under a non-commercial
licence restricts the whole release; an unrecognised one makes it unknown).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from bot.enums import LabelledEnum
from bot.releases.models import ModelFacts

UNKNOWN = "unknown"


class LicenseClass(LabelledEnum):
    """Licence families, from most to least open (the order matters: see ``least_open``)."""

    PERMISSIVE = "permissive", "OSI permissive"
    COPYLEFT = "copyleft", "Copyleft"
    RESTRICTED = "restricted", "Open weights, use restrictions"
    NON_COMMERCIAL = "noncommercial", "Non-commercial"
    UNKNOWN = "unknown", "Unknown / other"


_OPENNESS_ORDER = list(LicenseClass)

# Checked in order, first match wins: narrower patterns (cc-by-nc-*) come before wider ones.
# Identifiers are the Hub's licence ids (https://huggingface.co/docs/hub/repositories-licenses).
_LICENSE_RULES: tuple[tuple[str, LicenseClass], ...] = (
    ("other", LicenseClass.UNKNOWN),
    ("unknown", LicenseClass.UNKNOWN),
    ("cc-by-nc*", LicenseClass.NON_COMMERCIAL),
    ("*noncommercial*", LicenseClass.NON_COMMERCIAL),
    ("*non-commercial*", LicenseClass.NON_COMMERCIAL),
    ("*research*", LicenseClass.NON_COMMERCIAL),
    ("apple-amlr", LicenseClass.NON_COMMERCIAL),
    ("deepfloyd-if-license", LicenseClass.NON_COMMERCIAL),
    ("mnpl*", LicenseClass.NON_COMMERCIAL),
    ("mrl", LicenseClass.NON_COMMERCIAL),
    ("cc-by-sa*", LicenseClass.COPYLEFT),
    ("cc-by-nd*", LicenseClass.RESTRICTED),
    ("cc0*", LicenseClass.PERMISSIVE),
    ("cc-by-*", LicenseClass.PERMISSIVE),
    ("apache*", LicenseClass.PERMISSIVE),
    ("mit", LicenseClass.PERMISSIVE),
    ("mit-*", LicenseClass.PERMISSIVE),
    ("bsd*", LicenseClass.PERMISSIVE),
    ("isc", LicenseClass.PERMISSIVE),
    ("unlicense", LicenseClass.PERMISSIVE),
    ("zlib", LicenseClass.PERMISSIVE),
    ("bsl-1.0", LicenseClass.PERMISSIVE),
    ("afl-3.0", LicenseClass.PERMISSIVE),
    ("artistic-2.0", LicenseClass.PERMISSIVE),
    ("ecl-2.0", LicenseClass.PERMISSIVE),
    ("postgresql", LicenseClass.PERMISSIVE),
    ("ncsa", LicenseClass.PERMISSIVE),
    ("wtfpl", LicenseClass.PERMISSIVE),
    ("pddl", LicenseClass.PERMISSIVE),
    ("odc-by", LicenseClass.PERMISSIVE),
    ("cdla-permissive*", LicenseClass.PERMISSIVE),
    ("etalab-2.0", LicenseClass.PERMISSIVE),
    ("openmdw*", LicenseClass.PERMISSIVE),
    ("agpl*", LicenseClass.COPYLEFT),
    ("lgpl*", LicenseClass.COPYLEFT),
    ("gpl*", LicenseClass.COPYLEFT),
    ("mpl*", LicenseClass.COPYLEFT),
    ("epl*", LicenseClass.COPYLEFT),
    ("eupl*", LicenseClass.COPYLEFT),
    ("osl-3.0", LicenseClass.COPYLEFT),
    ("odbl", LicenseClass.COPYLEFT),
    ("cdla-sharing*", LicenseClass.COPYLEFT),
    ("gfdl*", LicenseClass.COPYLEFT),
    ("lppl*", LicenseClass.COPYLEFT),
    ("ms-pl", LicenseClass.COPYLEFT),
    ("ofl*", LicenseClass.COPYLEFT),
    ("llama*", LicenseClass.RESTRICTED),
    ("gemma*", LicenseClass.RESTRICTED),
    ("*openrail*", LicenseClass.RESTRICTED),
    ("bigscience-bloom-rail*", LicenseClass.RESTRICTED),
    ("deepseek*", LicenseClass.RESTRICTED),
    ("qwen*", LicenseClass.RESTRICTED),
    ("tongyi-qianwen*", LicenseClass.RESTRICTED),
    ("c-uda", LicenseClass.RESTRICTED),
    ("falcon*", LicenseClass.RESTRICTED),
)


def classify_license(license_id: str | None) -> LicenseClass:
    """The class of one Hub licence id (case-insensitive); unrecognised ids are UNKNOWN."""
    if not license_id:
        return LicenseClass.UNKNOWN
    ident = license_id.strip().lower().removeprefix("license:")
    for pattern, cls in _LICENSE_RULES:
        if fnmatch.fnmatchcase(ident, pattern):
            return cls
    return LicenseClass.UNKNOWN


def least_open(classes: list[LicenseClass]) -> LicenseClass:
    """The least open of several classes; no classes at all is UNKNOWN."""
    if not classes:
        return LicenseClass.UNKNOWN
    return max(classes, key=_OPENNESS_ORDER.index)


def classify_licenses(
    licenses: tuple[str, ...] | list[str], license_name: str | None = None
) -> LicenseClass:
    """The class of a model's licence list; the least open licence decides.

    ``license: other`` stays UNKNOWN unless the card's ``license_name`` is itself a
    recognised licence family (e.g. ``other`` + ``license_name: qwen``): that name is what
    the author declared, not a guess.
    """
    classes: list[LicenseClass] = []
    for lic in licenses:
        cls = classify_license(lic)
        if cls is LicenseClass.UNKNOWN and lic.strip().lower() == "other" and license_name:
            cls = classify_license(license_name)
        classes.append(cls)
    return least_open(classes)


class Grade(LabelledEnum):
    A = "A", "Open"
    B = "B", "Mostly open"
    C = "C", "Restricted"
    D = "D", "Non-commercial"
    E = "E", "Unknown / closed-ish"

    @property
    def color(self) -> int:
        """An embed colour (0xRRGGBB) for the grade, green to grey."""
        return _GRADE_COLORS[self]


_GRADE_COLORS = {
    Grade.A: 0x2ECC71,
    Grade.B: 0x27AE60,
    Grade.C: 0xF1C40F,
    Grade.D: 0xE67E22,
    Grade.E: 0x95A5A6,
}


@dataclass(frozen=True, slots=True)
class OpennessCard:
    """Human-readable openness facts of a model; every missing fact reads "unknown"."""

    grade: Grade
    license_class: LicenseClass
    license_text: str
    access: str
    params: str
    lineage: str
    training_data: str
    paper: str
    pipeline: str


def grade(facts: ModelFacts) -> Grade:
    """The overall grade of a model: the first rule that holds, from A down (module docstring)."""
    cls = classify_licenses(facts.licenses, facts.license_name)
    osi = cls in (LicenseClass.PERMISSIVE, LicenseClass.COPYLEFT)
    if osi and facts.gated is False and facts.datasets and facts.papers:
        return Grade.A
    if osi and facts.gated in (False, "auto"):
        return Grade.B
    if osi or cls is LicenseClass.RESTRICTED:
        return Grade.C
    if cls is LicenseClass.NON_COMMERCIAL:
        return Grade.D
    return Grade.E


def format_params(count: int | None) -> str:
    """A parameter count for humans: 7241732096 -> "7.2B", 125000000 -> "125M"; None -> "unknown"."""
    if count is None or count < 0:
        return UNKNOWN
    for threshold, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= threshold:
            value = count / threshold
            text = f"{value:.0f}" if value >= 100 else f"{value:.1f}".removesuffix(".0")
            return text + suffix
    return str(count)


def describe_access(gated: bool | str | None) -> str:
    """``False`` -> open download, ``"auto"``/``"manual"`` -> gated, ``None`` -> unknown."""
    if gated is False:
        return "Open download (not gated)"
    if gated == "auto":
        return "Gated, automatic approval"
    if gated == "manual":
        return "Gated, manual approval"
    return UNKNOWN


_RELATIONS = {
    "finetune": "Fine-tune of",
    "quantized": "Quantized from",
    "adapter": "Adapter for",
    "merge": "Merge of",
}


def _join(values: tuple[str, ...], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    if len(values) > limit:
        shown += f" (+{len(values) - limit} more)"
    return shown


def openness_card(facts: ModelFacts) -> OpennessCard:
    """Compute the openness card of a model from its declared facts."""
    cls = classify_licenses(facts.licenses, facts.license_name)
    if facts.licenses:
        names = list(facts.licenses)
        if facts.license_name and "other" in (lic.lower() for lic in names):
            names = [
                f"other ({facts.license_name})" if lic.lower() == "other" else lic for lic in names
            ]
        license_text = f"{', '.join(names)}: {cls.label}"
    else:
        license_text = f"{UNKNOWN}: no licence declared"
    if facts.base_models:
        relation = _RELATIONS.get(facts.base_relation or "", "Derived from")
        lineage = f"{relation} {_join(facts.base_models, 3)}"
    else:
        lineage = f"{UNKNOWN} (no base model declared)"
    return OpennessCard(
        grade=grade(facts),
        license_class=cls,
        license_text=license_text,
        access=describe_access(facts.gated),
        params=format_params(facts.params),
        lineage=lineage,
        training_data=_join(facts.datasets) if facts.datasets else f"{UNKNOWN} (not named)",
        paper=", ".join(facts.papers[:3]) if facts.papers else f"{UNKNOWN} (none linked)",
        pipeline=facts.pipeline_tag or UNKNOWN,
    )
