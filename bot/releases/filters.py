"""Per-subscription filters, typed by an admin as ``key:value`` words.

Example: ``include:llama* exclude:*gguf* min_params:7B license:permissive,copyleft
pipeline:text-generation``. Patterns are case-insensitive shell globs (``*``, ``?``,
``[abc]``, via ``fnmatch``), never regular expressions. Values are separated by commas;
a key may be repeated (its values add up). A filter round-trips: ``parse_filter(f.to_string())
== f``; store ``to_string()``.
"""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

from bot.errors import UserFacingError
from bot.releases.models import ReleaseItem
from bot.releases.openness import Grade, LicenseClass, classify_licenses, grade

MAX_FILTER_LENGTH = 500
MAX_PATTERN_LENGTH = 100
MAX_VALUES_PER_KEY = 10
MAX_WILDCARDS = 10

VALID_KEYS = ("include", "exclude", "min_params", "max_params", "license", "pipeline", "min_grade")
FILTER_HELP = (
    "Valid keys: `include:<glob>` and `exclude:<glob>` (name patterns such as `llama*` or "
    "`*gguf*`), `min_params:<n>` and `max_params:<n>` (like `7B`, `500M`), "
    "`license:<classes>` (permissive, copyleft, restricted, noncommercial, unknown), "
    "`pipeline:<task>` (e.g. `text-generation`), `min_grade:<A-E>`. "
    "Separate several values with commas, e.g. `license:permissive,copyleft`."
)

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_PARAMS = re.compile(r"^(\d+(?:\.\d+)?)([kmbt]?)$")
_PIPELINE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_LICENSE_ALIASES = {
    "permissive": LicenseClass.PERMISSIVE,
    "osi": LicenseClass.PERMISSIVE,
    "copyleft": LicenseClass.COPYLEFT,
    "restricted": LicenseClass.RESTRICTED,
    "open-weights": LicenseClass.RESTRICTED,
    "noncommercial": LicenseClass.NON_COMMERCIAL,
    "non-commercial": LicenseClass.NON_COMMERCIAL,
    "nc": LicenseClass.NON_COMMERCIAL,
    "unknown": LicenseClass.UNKNOWN,
    "other": LicenseClass.UNKNOWN,
}
_GRADE_ORDER = list(Grade)


def _bad(message: str) -> UserFacingError:
    return UserFacingError(f"Invalid filter: {message}. {FILTER_HELP}")


def parse_params(text: str) -> int:
    """``"7B"`` -> 7_000_000_000, ``"1.5b"``, ``"500M"``, ``"7000"``; ``UserFacingError`` if bad."""
    match = _PARAMS.match(text.strip().lower())
    if not match or len(text) > 20:
        raise _bad(
            f"`{text[:30]}` is not a parameter count (use a number with K, M, B or T, like `7B`)"
        )
    try:
        value = Decimal(match.group(1)) * _UNITS[match.group(2)]
    except InvalidOperation:  # pragma: no cover - the regex only lets decimals through
        raise _bad(f"`{text[:30]}` is not a number") from None
    if value > 10**15:
        raise _bad(f"`{text[:30]}` is too large")
    return int(value)


def format_param_value(count: int) -> str:
    """The shortest exact spelling of a parameter count (``7B``, ``1.5B``, ``123``)."""
    for suffix in ("t", "b", "m", "k"):
        unit = _UNITS[suffix]
        if count >= unit:
            value = Decimal(count) / unit
            text = format(value.normalize(), "f")
            if int(Decimal(text) * unit) == count and len(text) <= 8:
                return text + suffix.upper()
    return str(count)


def _check_pattern(pattern: str) -> str:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise _bad(f"a pattern is longer than {MAX_PATTERN_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in pattern):
        raise _bad("patterns cannot contain control characters")
    if pattern.count("*") > MAX_WILDCARDS:
        raise _bad(f"a pattern has more than {MAX_WILDCARDS} `*`")
    if pattern.count("[") != pattern.count("]"):
        raise _bad(f"`{pattern[:40]}` has an unbalanced `[` … `]`")
    return pattern.lower()


def _grade_rank(value: Grade) -> int:
    return _GRADE_ORDER.index(value)


class ReleaseFilter(BaseModel):
    """A parsed filter; the empty filter matches everything.

    Model-only conditions (params, licence, pipeline, grade) never match an item without
    model facts, and an unknown value (e.g. no parameter count) never satisfies them.
    """

    model_config = ConfigDict(frozen=True)

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_params: int | None = None
    max_params: int | None = None
    licenses: tuple[LicenseClass, ...] = ()
    pipelines: tuple[str, ...] = ()
    min_grade: Grade | None = None

    @property
    def needs_model_facts(self) -> bool:
        return bool(
            self.min_params is not None
            or self.max_params is not None
            or self.licenses
            or self.pipelines
            or self.min_grade is not None
        )

    def matches(self, item: ReleaseItem) -> bool:
        """Whether ``item`` passes every condition of the filter."""
        return self.rejection(item) is None

    def rejection(self, item: ReleaseItem) -> str | None:
        """The first rule of the filter that leaves ``item`` out, as written in the filter
        (``exclude:*gguf*``, ``min_params:7B``); None when the item passes."""
        names = {item.safe_title.lower(), item.item_id.lower(), item.short_name.lower()}
        if self.include and not any(
            fnmatch.fnmatchcase(name, pattern) for pattern in self.include for name in names
        ):
            return "include:" + ",".join(self.include)
        for pattern in self.exclude:
            if any(fnmatch.fnmatchcase(name, pattern) for name in names):
                return f"exclude:{pattern}"
        if not self.needs_model_facts:
            return None
        facts = item.facts
        params = facts.params if facts is not None else None
        if self.min_params is not None and (params is None or params < self.min_params):
            return "min_params:" + format_param_value(self.min_params)
        if self.max_params is not None and (params is None or params > self.max_params):
            return "max_params:" + format_param_value(self.max_params)
        if self.licenses and (
            facts is None
            or classify_licenses(facts.licenses, facts.license_name) not in self.licenses
        ):
            return "license:" + ",".join(c.value for c in self.licenses)
        if self.pipelines and (
            facts is None or (facts.pipeline_tag or "").lower() not in self.pipelines
        ):
            return "pipeline:" + ",".join(self.pipelines)
        if self.min_grade is not None and (
            facts is None or _grade_rank(grade(facts)) > _grade_rank(self.min_grade)
        ):
            return "min_grade:" + self.min_grade.value
        return None

    def to_string(self) -> str:
        """The canonical text form (fixed key order); ``""`` for the empty filter."""
        parts: list[str] = []
        if self.include:
            parts.append("include:" + ",".join(self.include))
        if self.exclude:
            parts.append("exclude:" + ",".join(self.exclude))
        if self.min_params is not None:
            parts.append("min_params:" + format_param_value(self.min_params))
        if self.max_params is not None:
            parts.append("max_params:" + format_param_value(self.max_params))
        if self.licenses:
            parts.append("license:" + ",".join(c.value for c in self.licenses))
        if self.pipelines:
            parts.append("pipeline:" + ",".join(self.pipelines))
        if self.min_grade is not None:
            parts.append("min_grade:" + self.min_grade.value)
        return " ".join(parts)

    def __str__(self) -> str:
        return self.to_string() or "(everything)"


def _add(existing: tuple[str, ...], values: list[str], key: str) -> tuple[str, ...]:
    merged = tuple(dict.fromkeys(existing + tuple(values)))
    if len(merged) > MAX_VALUES_PER_KEY:
        raise _bad(f"`{key}` takes at most {MAX_VALUES_PER_KEY} values")
    return merged


def parse_filter(text: str | None) -> ReleaseFilter:
    """Parse an admin's filter string; raise ``UserFacingError`` listing valid keys if bad."""
    text = (text or "").strip()
    if not text:
        return ReleaseFilter()
    if len(text) > MAX_FILTER_LENGTH:
        raise _bad(f"it is longer than {MAX_FILTER_LENGTH} characters")
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    pipelines: tuple[str, ...] = ()
    single: dict[str, str] = {}
    for word in text.split():
        key, sep, raw = word.partition(":")
        key = key.lower().replace("-", "_")
        if not sep:
            raise _bad(f"`{word[:40]}` is not `key:value`")
        if key not in VALID_KEYS:
            raise _bad(f"unknown key `{key[:30]}`")
        values = [v for v in raw.split(",") if v]
        if not values:
            raise _bad(f"`{key}` needs a value")
        if key == "include":
            include = _add(include, [_check_pattern(v) for v in values], key)
        elif key == "exclude":
            exclude = _add(exclude, [_check_pattern(v) for v in values], key)
        elif key == "license":
            classes = []
            for value in values:
                cls = _LICENSE_ALIASES.get(value.lower())
                if cls is None:
                    raise _bad(f"`{value[:30]}` is not a licence class")
                classes.append(cls.value)
            licenses = _add(licenses, classes, key)
        elif key == "pipeline":
            for value in values:
                if not _PIPELINE.match(value.lower()):
                    raise _bad(f"`{value[:30]}` is not a pipeline tag")
            pipelines = _add(pipelines, [v.lower() for v in values], key)
        else:
            if key in single or len(values) != 1:
                raise _bad(f"`{key}` takes a single value")
            single[key] = values[0]
    min_params = parse_params(single["min_params"]) if "min_params" in single else None
    max_params = parse_params(single["max_params"]) if "max_params" in single else None
    if min_params is not None and max_params is not None and min_params > max_params:
        raise _bad("`min_params` is larger than `max_params`")
    min_grade: Grade | None = None
    if "min_grade" in single:
        try:
            min_grade = Grade(single["min_grade"].upper())
        except ValueError:
            raise _bad(f"`{single['min_grade'][:10]}` is not a grade A–E") from None
    return ReleaseFilter(
        include=include,
        exclude=exclude,
        min_params=min_params,
        max_params=max_params,
        licenses=tuple(LicenseClass(v) for v in licenses),
        pipelines=pipelines,
        min_grade=min_grade,
    )
