"""The outside world of the radar benchmark, in its own process (so the bot's CPU time is the
bot's alone): the Discord emulator with N communities, a fake Hugging Face Hub and a feed host
(which also serves GitHub ``releases.atom`` paths).

    python -m bench._radar_servers --communities 10000 --hf 10 --github 20 --feeds 20

Prints one JSON line (URLs, each community's channel, the source keys), then reads commands on
stdin, one a line, answering each with one JSON line:

* ``counts``: requests seen by the fake Hub and the feed host, messages the bot posted,
  gateway events sent to the bot;
* ``publish [K]``: one new release on each of the first K sources (in the order of the keys
  printed at start; every source without K);
* ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from tests.emulator import DiscordEmulator
from tests.fakes.feeds import FeedServer, atom_feed
from tests.fakes.hub import FakeHub

BASELINE = 5  # releases each source already has when the communities follow it


def entry(source: int, n: int) -> dict[str, str]:
    return {
        "id": f"urn:bench:{source}:{n}",
        "title": f"v{n}.0.0: faster kernels, new tokenizer",
        "link": f"https://example.org/{source}/releases/{n}",
        "updated": f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}T12:00:00Z",
        "summary": "<p>Release notes: <b>open weights</b>, Apache-2.0, bug fixes.</p>" * 4,
        "author": "maintainers",
    }


class World:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.emu = DiscordEmulator(validate_requests=False)  # no request check in the timings
        self.hub = FakeHub()
        self.feeds = FeedServer()
        self.feed_entries: dict[str, list[dict[str, str]]] = {}
        self.feed_number: dict[str, int] = {}
        self.hf_orgs: list[str] = []
        self.published = BASELINE
        self.dispatched = 0  # gateway events the bot was sent (its intents decide which)
        dispatch = self.emu.gateway.dispatch

        def counted(*args: Any, **kwargs: Any) -> int:
            delivered = dispatch(*args, **kwargs)
            self.dispatched += delivered
            return delivered

        self.emu.gateway.dispatch = counted  # type: ignore[method-assign]

    async def start(self) -> dict[str, Any]:
        await self.emu.start()
        await self.hub.start()
        await self.feeds.start()
        channels = []
        for n in range(self.args.communities):
            guild = self.emu.add_guild(f"community {n}")
            channels.append([guild.id, guild.general_id])
        keys = []
        for k in range(self.args.hf):
            org = f"org{k}"
            self.hf_orgs.append(org)
            for n in range(BASELINE):
                self.add_model(org, n)
            keys.append(f"hf:{org}")
        for k in range(self.args.github):
            path = f"/owner{k}/repo{k}/releases.atom"
            self.feed_number[path] = k
            self.feed_entries[path] = [entry(k, n) for n in range(BASELINE)]
            keys.append(f"github:owner{k}/repo{k}")
        for k in range(self.args.feeds):
            path = f"/blog{k}.atom"
            self.feed_number[path] = 100 + k
            self.feed_entries[path] = [entry(100 + k, n) for n in range(BASELINE)]
            keys.append(f"feed:{self.feeds.url}{path}")
        self.set_feeds()
        return {
            "api_base": self.emu.api_base,
            "gateway_url": self.emu.gateway_url,
            "hub_url": self.hub.url,
            "feeds_url": self.feeds.url,
            "channels": channels,
            "sources": keys,
        }

    def add_model(self, org: str, n: int) -> None:
        self.hub.add_model(
            f"{org}/Model-{n}-7B",
            created_at=f"2025-{1 + n // 28:02d}-{1 + n % 28:02d}T12:00:00.000Z",
            license="apache-2.0",
            params=7_000_000_000,
            card_data={"base_model": f"{org}/Base", "datasets": [f"{org}/data"]},
        )

    def set_feeds(self) -> None:
        for path, entries in self.feed_entries.items():
            self.feeds.set_feed(path, atom_feed(list(reversed(entries))))

    def publish(self, sources: int | None = None) -> None:
        n = self.published
        self.published += 1
        chosen = [*self.hf_orgs, *self.feed_entries][:sources]
        for org in self.hf_orgs:
            if org in chosen:
                self.add_model(org, n)
        for path, entries in self.feed_entries.items():
            if path in chosen:
                entries.append(entry(self.feed_number[path], n))
        self.set_feeds()

    def counts(self) -> dict[str, int]:
        bot = self.emu.bot.id
        posted = sum(
            1
            for messages in self.emu.messages.values()
            for message in messages
            if int(message["author"]["id"]) == bot
        )
        return {
            "hub_requests": self.hub.total_requests,
            "feed_requests": sum(self.feeds.requests.values()),
            "posted": posted,
            "dispatched": self.dispatched,
        }

    async def stop(self) -> None:
        await self.emu.stop()
        await self.hub.stop()
        await self.feeds.stop()


async def serve(args: argparse.Namespace) -> None:
    world = World(args)
    print(json.dumps(await world.start()), flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line in ("", "quit"):
                break
            if line.startswith("publish"):
                count = line.removeprefix("publish").strip()
                world.publish(int(count) if count else None)
                print(json.dumps({"published": world.published}), flush=True)
            elif line == "counts":
                print(json.dumps(world.counts()), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {line!r}"}), flush=True)
    finally:
        await world.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._radar_servers")
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--hf", type=int, default=10)
    parser.add_argument("--github", type=int, default=20)
    parser.add_argument("--feeds", type=int, default=20)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
