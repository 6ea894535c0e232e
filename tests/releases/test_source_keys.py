from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.releases import parse_source, parse_source_ref


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("hf:meta-llama", "hf:meta-llama"),
        ("  HF:Qwen ", "hf:Qwen"),
        ("hf:mistralai", "hf:mistralai"),
        ("hf:google.research_x", "hf:google.research_x"),
        ("https://huggingface.co/deepseek-ai", "hf:deepseek-ai"),
        ("github:huggingface/transformers", "github:huggingface/transformers"),
        ("github:Ollama/Ollama", "github:ollama/ollama"),
        ("gh:pytorch/pytorch.git", "github:pytorch/pytorch"),
        ("https://github.com/vllm-project/vllm/releases", "github:vllm-project/vllm"),
        ("feed:https://Blog.Example.org/feed.xml#top", "feed:https://blog.example.org/feed.xml"),
        ("feed:http://example.org", "feed:http://example.org/"),
        ("https://example.org/atom?x=1", "feed:https://example.org/atom?x=1"),
        ("https://github.com/o/r/releases.atom", "feed:https://github.com/o/r/releases.atom"),
        ("feed:https://example.org:8443/f", "feed:https://example.org:8443/f"),
    ],
)
def test_valid_sources_are_normalised(text: str, key: str) -> None:
    assert parse_source(text) == key


def test_ref_parts() -> None:
    ref = parse_source_ref("github:a/b")
    assert (ref.kind, ref.target, ref.key, str(ref)) == (
        "github",
        "a/b",
        "github:a/b",
        "github:a/b",
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("meta-llama", "unknown source type"),
        ("npm:left-pad", "unknown source type"),
        ("hf:", "not a Hugging Face"),
        ("hf:-bad", "not a Hugging Face"),
        ("hf:bad--name", "not a Hugging Face"),
        ("hf:has space", "not a Hugging Face"),
        ("hf:" + "a" * 97, "not a Hugging Face"),
        ("hf:<@123>", "not a Hugging Face"),
        ("github:owner", "github:<owner>/<repo>"),
        ("github:owner/repo/extra", "github:<owner>/<repo>"),
        ("github:-owner/repo", "not a GitHub owner"),
        ("github:owner/re po", "not a GitHub repository"),
        ("github:owner/..", "not a GitHub repository"),
        ("feed:ftp://example.org/feed", "https://"),
        ("feed:javascript:alert(1)", "https://"),
        ("feed:file:///etc/passwd", "https://"),
        ("feed:https://user:pw@example.org/feed", "user name or password"),
        ("feed:https:///nohost", "no host"),
        ("feed:https://exa mple.org/", "spaces"),
        ("feed:https://bad_host!.org/", "not a valid host"),
        ("feed:https://example.org:99999/", "not a valid URL"),
        ("feed:https://example.org/" + "a" * 300, "longer than 300"),
    ],
)
def test_invalid_sources_raise_user_facing_error(text: str, fragment: str) -> None:
    with pytest.raises(UserFacingError) as info:
        parse_source(text)
    assert fragment in info.value.message
    # Every message says what to do.
    assert "hf:<author>" in info.value.message
