"""The operator endpoint's settings as `agora` meets them: a bad value or a busy address is one
line and exit status 2, before anything else happens."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.core.cli import run_agora
from tests.core.test_exit_paths import assert_one_line
from tests.emulator import DiscordEmulator
from tests.harness import TEST_TOKEN


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        emulator.add_guild("community")
        yield emulator


async def run_with_address(tmp_path: Path, emu: DiscordEmulator, address: str) -> tuple[int, str]:
    env = {
        "DISCORD_TOKEN": TEST_TOKEN,
        "AGORA_DATABASE": str(tmp_path / "agora.db"),
        "DISCORD_API_BASE": emu.api_base,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "AGORA_HTTP_ADDRESS": address,
        "LOG_LEVEL": "ERROR",
    }
    status, _, stderr = await run_agora("run", cwd=tmp_path, env=env)
    return status, stderr


async def test_a_malformed_address_is_one_line_and_exit_2(
    tmp_path: Path, emu: DiscordEmulator
) -> None:
    status, stderr = await run_with_address(tmp_path, emu, "localhost")
    assert_one_line(status, stderr, "AGORA_HTTP_ADDRESS must be host:port", "127.0.0.1:9321")
    assert not emu.requests, "refused before reaching Discord"


@pytest.mark.parametrize("busy", ["taken", "not-here"])
async def test_an_address_it_cannot_listen_on_is_one_line_and_exit_2(
    tmp_path: Path, emu: DiscordEmulator, busy: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        address = f"127.0.0.1:{port}" if busy == "taken" else "192.0.2.1:9321"  # TEST-NET-1
        status, stderr = await run_with_address(tmp_path, emu, address)
    assert_one_line(status, stderr, f"AGORA_HTTP_ADDRESS={address}: cannot listen there")
