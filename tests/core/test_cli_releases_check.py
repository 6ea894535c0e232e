"""`agora releases check SOURCE`: what the radar would announce, printed, without Discord."""

from __future__ import annotations

from pathlib import Path

from tests.core.cli import run_agora
from tests.fakes.feeds import FeedServer, atom_feed


async def run_check(source: str, cwd: Path, **env: str) -> tuple[int, str, str]:
    env["AGORA_DATABASE"] = str(cwd / "unused.db")
    return await run_agora("releases", "check", source, cwd=cwd, env=env)


async def test_check_prints_github_releases_without_a_token(tmp_path: Path) -> None:
    async with FeedServer() as server:
        server.set_feed(
            "/acme/llm/releases.atom",
            atom_feed(
                [
                    {
                        "id": "tag:github.com,2008:Repository/1/v2.0",
                        "title": "v2.0 @everyone",
                        "link": "https://github.com/acme/llm/releases/tag/v2.0",
                        "updated": "2026-11-02T10:00:00Z",
                    },
                    {
                        "id": "tag:github.com,2008:Repository/1/v1.0",
                        "title": "v1.0",
                        "link": "https://github.com/acme/llm/releases/tag/v1.0",
                        "updated": "2026-10-01T10:00:00Z",
                    },
                ]
            ),
        )
        code, out, err = await run_check("github:acme/llm", tmp_path, AGORA_GITHUB_BASE=server.url)
        assert server.requests["/acme/llm/releases.atom"] == 1
    assert code == 0, err
    assert "github:acme/llm" in out
    assert out.index("v1.0") < out.index("v2.0"), "items are listed oldest first"
    assert "@everyone" not in out.replace("@\u200beveryone", "")
    assert not (tmp_path / "unused.db").exists(), "the check stores nothing"


async def test_check_refuses_a_private_feed_url(tmp_path: Path) -> None:
    code, out, err = await run_check("feed:http://127.0.0.1:9/feed.xml", tmp_path)
    assert code != 0
    assert "Traceback" not in err
    assert "127.0.0.1" in out + err


async def test_check_refuses_an_invalid_source_in_one_line(tmp_path: Path) -> None:
    code, out, err = await run_check("hf:bad name!", tmp_path)
    assert code == 2
    assert "Traceback" not in err
    assert err.strip().startswith("agora: Invalid source") and len(err.strip().splitlines()) == 1
