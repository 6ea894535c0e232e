"""Shared fixtures: `agora` is the real bot against the local Discord emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import AgoraHarness


@pytest.fixture
async def agora(tmp_path: Path) -> AsyncIterator[AgoraHarness]:
    harness = AgoraHarness(tmp_path)
    await harness.start_emulator()
    await harness.start_bot()
    try:
        yield harness
        harness.check_alive()
    finally:
        await harness.close()  # fails on errors, unknown routes, refused request bodies
