"""The heartbeat is timed from the moment it is sent, in the event loop (see
`bot.client.stamp_heartbeats_when_sent`): an ACK read before discord.py's keep-alive thread
wakes up no longer counts from the previous heartbeat."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.client import stamp_heartbeats_when_sent


async def test_the_send_time_is_recorded_before_the_ack_can_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway = discord.gateway.DiscordWebSocket
    monkeypatch.setattr(gateway, "send_heartbeat", gateway.send_heartbeat)  # restored after
    sent: list[Any] = []

    class Socket:
        async def send_str(self, text: str) -> None:
            sent.append(text)

    stamp_heartbeats_when_sent()
    stamp_heartbeats_when_sent()  # idempotent: wrapped once
    ws = object.__new__(gateway)
    ws.socket = Socket()  # type: ignore[assignment]
    keep_alive = SimpleNamespace(_last_send=0.0)
    ws._keep_alive = keep_alive  # type: ignore[assignment]
    before = time.perf_counter()
    await ws.send_heartbeat({"op": 1, "d": 7})
    assert sent == ['{"op":1,"d":7}']
    assert keep_alive._last_send >= before
