from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.releases import Grade, LicenseClass, ReleaseFilter, parse_filter
from bot.releases.filters import VALID_KEYS, format_param_value, parse_params

from .conftest import entry_item, model_item

EXAMPLE = (
    "include:llama* exclude:*gguf* min_params:7B license:permissive,copyleft "
    "pipeline:text-generation"
)


def test_parse_example() -> None:
    f = parse_filter(EXAMPLE)
    assert f.include == ("llama*",)
    assert f.exclude == ("*gguf*",)
    assert f.min_params == 7_000_000_000
    assert f.licenses == (LicenseClass.PERMISSIVE, LicenseClass.COPYLEFT)
    assert f.pipelines == ("text-generation",)
    assert f.to_string() == EXAMPLE


def test_empty_filter_matches_everything() -> None:
    assert parse_filter("") == ReleaseFilter()
    assert parse_filter(None) == ReleaseFilter()
    assert parse_filter("   ").matches(entry_item("x"))
    assert str(ReleaseFilter()) == "(everything)"


def test_round_trip_is_canonical() -> None:
    f = parse_filter(
        "INCLUDE:Llama*,qwen* pipeline:Text-Generation min-params:1.5b include:mistral*"
    )
    assert f.include == ("llama*", "qwen*", "mistral*")
    text = f.to_string()
    assert text == "include:llama*,qwen*,mistral* min_params:1.5B pipeline:text-generation"
    assert parse_filter(text) == f


def test_include_matches_repo_name_case_insensitively() -> None:
    f = parse_filter("include:llama*")
    assert f.matches(model_item("meta-llama/Llama-3.1-8B"))
    assert not f.matches(model_item("meta-llama/CodeShield"))
    # Whole id also works.
    assert parse_filter("include:meta-llama/*").matches(model_item("meta-llama/CodeShield"))


def test_exclude_wins() -> None:
    f = parse_filter("include:llama* exclude:*gguf*")
    assert f.matches(model_item("org/llama-7b"))
    assert not f.matches(model_item("org/Llama-7B-GGUF"))


def test_params_conditions_never_guess() -> None:
    f = parse_filter("min_params:7B max_params:70B")
    assert f.matches(model_item(params=7_000_000_000))
    assert not f.matches(model_item(params=6_900_000_000))
    assert not f.matches(model_item(params=71_000_000_000))
    assert not f.matches(model_item(params=None))  # unknown size: not shown
    assert not f.matches(entry_item("x"))  # no model facts at all


def test_license_pipeline_and_grade() -> None:
    f = parse_filter("license:permissive,restricted")
    assert f.matches(model_item(licenses=("mit",)))
    assert f.matches(model_item(licenses=("llama3.1",)))
    assert not f.matches(model_item(licenses=("cc-by-nc-4.0",)))
    assert not f.matches(model_item(licenses=()))
    assert parse_filter("license:unknown").matches(model_item(licenses=()))
    p = parse_filter("pipeline:text-generation")
    assert p.matches(model_item(pipeline_tag="text-generation"))
    assert not p.matches(model_item(pipeline_tag="image-to-text"))
    assert not p.matches(model_item(pipeline_tag=None))
    g = parse_filter("min_grade:b")
    assert g.min_grade is Grade.B
    assert g.matches(model_item(licenses=("apache-2.0",), gated=False))
    assert not g.matches(model_item(licenses=("gemma",), gated=False))


def test_entries_without_facts_pass_name_filters() -> None:
    f = parse_filter("include:*release*")
    assert f.matches(entry_item("id-1", title="Big Release 2.0"))
    assert not f.matches(entry_item("id-2", title="Blog post"))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("colour:red", "unknown key `colour`"),
        ("llama", "is not `key:value`"),
        ("include:", "needs a value"),
        ("min_params:lots", "not a parameter count"),
        ("min_params:7B,8B", "single value"),
        ("min_params:7B min_params:8B", "single value"),
        ("min_params:70B max_params:7B", "larger than"),
        ("license:gratis", "not a licence class"),
        ("pipeline:Text_Gen!", "not a pipeline tag"),
        ("min_grade:F", "not a grade"),
        ("include:" + "a" * 101, "longer than 100"),
        ("include:" + "*a" * 11, "more than 10"),
        ("include:[abc", "unbalanced"),
        ("include:" + ",".join(f"p{i}" for i in range(11)), "at most 10"),
        ("include:x " * 100, "longer than 500"),
        ("include:a\x07b", "control characters"),
    ],
)
def test_bad_filters_explain_valid_keys(text: str, fragment: str) -> None:
    with pytest.raises(UserFacingError) as info:
        parse_filter(text)
    assert fragment in info.value.message
    for key in VALID_KEYS:
        assert key in info.value.message


def test_glob_not_regex() -> None:
    # Regex syntax is literal text for a glob: "(a+)+" matches only itself.
    f = parse_filter("include:(a+)+$")
    assert f.matches(entry_item("x", title="(a+)+$"))
    assert not f.matches(entry_item("y", title="aaaa"))


def test_param_values() -> None:
    assert parse_params("7B") == 7_000_000_000
    assert parse_params("1.5b") == 1_500_000_000
    assert parse_params("500M") == 500_000_000
    assert parse_params("12") == 12
    assert format_param_value(7_000_000_000) == "7B"
    assert format_param_value(2_500_000) == "2.5M"
    assert format_param_value(123_456_789) == "123456789"  # no short exact spelling


_pattern = st.text(alphabet="abcxyz0123-_.*?/", min_size=1, max_size=20)


@given(
    include=st.lists(_pattern, max_size=3, unique=True),
    exclude=st.lists(_pattern, max_size=3, unique=True),
    min_params=st.one_of(st.none(), st.integers(min_value=0, max_value=10**12)),
    licenses=st.lists(st.sampled_from(list(LicenseClass)), max_size=5, unique=True),
    pipelines=st.lists(st.sampled_from(["text-generation", "fill-mask", "asr"]), unique=True),
    min_grade=st.one_of(st.none(), st.sampled_from(list(Grade))),
)
def test_round_trip_property(
    include: list[str],
    exclude: list[str],
    min_params: int | None,
    licenses: list[LicenseClass],
    pipelines: list[str],
    min_grade: Grade | None,
) -> None:
    f = ReleaseFilter(
        include=tuple(include),
        exclude=tuple(exclude),
        min_params=min_params,
        licenses=tuple(licenses),
        pipelines=tuple(pipelines),
        min_grade=min_grade,
    )
    assert parse_filter(f.to_string()) == f
