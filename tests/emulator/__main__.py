"""Run the emulator as a process: ``python -m tests.emulator --port 8765 --state state.json``.

``--state`` receives the URLs and the ids of the guilds, channels and members created with
``--guilds`` / ``--members`` once the server listens, so another process can drive the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path

from .server import DiscordEmulator


async def _serve(args: argparse.Namespace) -> None:
    emu = DiscordEmulator(port=args.port, token=args.token, validate_requests=not args.no_validate)
    await emu.start()
    guilds = []
    for index in range(args.guilds):
        guild = emu.add_guild(f"guild-{index + 1}")
        members = [emu.add_member(guild.id, f"member-{n + 1}") for n in range(args.members)]
        manager = emu.add_member(guild.id, "manager", manage_guild=True)
        guilds.append(
            {
                "id": guild.id,
                "general": guild.general_id,
                "members": members,
                "manager": manager,
                "owner": guild.owner_id,
            }
        )
    state = {
        "api_base": emu.api_base,
        "gateway_url": emu.gateway_url,
        "application_id": emu.application_id,
        "guilds": guilds,
    }
    if args.state:
        await asyncio.to_thread(Path(args.state).write_text, json.dumps(state, indent=2))
    print(json.dumps(state), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", help="write URLs and ids to this JSON file")
    parser.add_argument("--token", help="accept only this bot token")
    parser.add_argument("--guilds", type=int, default=1)
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="do not check request bodies against Discord's OpenAPI description (its "
        "refusals are logged as warnings otherwise)",
    )
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
