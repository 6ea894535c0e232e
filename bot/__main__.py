"""`python -m bot` / `agora`: run the bot, or an operator subcommand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import discord

from bot.client import AgoraBot, import_extensions, redirect_discord
from bot.database import Database, DatabaseError, bundled_migrations
from bot.database_copy import migrate_to_postgres
from bot.database_target import SqliteTarget
from bot.errors import OperatorError, UserFacingError
from bot.logs import configure_logging
from bot.releases import check_source, format_check_report, parse_source
from bot.releases.ledger import explain
from bot.repositories.release_ledger import LedgerRepository
from bot.repositories.release_outbox import OutboxRepository
from bot.repositories.release_subscriptions import SubscriptionRepository
from bot.restore import restore_database
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")
_background: set[asyncio.Task[None]] = set()  # keeps the shutdown task referenced


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agora", description="Agora: release radar, debates and stances for Discord."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    backup = sub.add_parser("backup", help="copy the database safely, even while the bot runs")
    backup.add_argument("path", help="file to write the backup to")
    restore = sub.add_parser(
        "restore", help="replace the database with a checked backup (the bot must be stopped)"
    )
    restore.add_argument("path", help="backup file written by `agora backup`")
    move = sub.add_parser(
        "migrate-to-postgres",
        help="copy a SQLite database into an empty PostgreSQL database and compare row counts",
    )
    move.add_argument("sqlite_path", help="the SQLite file (data/agora.db)")
    move.add_argument("postgres_url", help="postgresql://USER@HOST:5432/DATABASE, empty")
    sub.add_parser("sync-commands", help="sync slash commands to Discord now, then exit")
    sub.add_parser("check-config", help="validate the settings and print them (secrets masked)")
    releases = sub.add_parser("releases", help="release radar tools")
    releases_sub = releases.add_subparsers(dest="releases_command", required=True)
    check = releases_sub.add_parser("check", help="print what the radar would announce for SOURCE")
    check.add_argument("source", help="hf:<author>, github:<owner>/<repo> or feed:<url>")
    why = releases_sub.add_parser("why", help="what happened to ITEM of SOURCE in every server")
    why.add_argument("source", help="hf:<author>, github:<owner>/<repo> or feed:<url>")
    why.add_argument("item", help="the item's id (org/Model-7B, a GitHub tag) or its link")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
        if command in {"run", "sync-commands"}:
            settings.require_token()
    except SettingsError as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level_number, settings.log_format)
    try:
        if command == "check-config":
            return check_config(settings)
        if command == "migrate":
            return asyncio.run(migrate(settings))
        if command == "backup":
            return asyncio.run(backup(settings, args.path))
        if command == "restore":
            return restore(settings, Path(args.path))
        if command == "migrate-to-postgres":
            return asyncio.run(move_to_postgres(Path(args.sqlite_path), args.postgres_url))
        if command == "releases" and args.releases_command == "why":
            target = settings.agora_database
            if isinstance(target, SqliteTarget) and not target.path.exists():
                raise UserFacingError(f"there is no database at {target}")
            return asyncio.run(releases_why(settings, args.source, args.item))
        if command == "releases":
            return asyncio.run(releases_check(settings, args.source))
        import_extensions()
        return asyncio.run(run(settings, force_sync=command == "sync-commands"))
    except DatabaseError as exc:
        print(f"agora: database error: {exc}", file=sys.stderr)
        return 2
    except UserFacingError as exc:
        print(f"agora: {exc.message}", file=sys.stderr)
        return 2
    except OperatorError as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print(
            "agora: Discord refused DISCORD_TOKEN: reset the token in the Developer Portal "
            "(Bot > Reset Token) and set it again.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 0


def check_config(settings: Settings) -> int:
    for name, value in settings.masked().items():
        print(f"{name}={value}")
    print("configuration OK")
    return 0


async def migrate(settings: Settings) -> int:
    db = await Database.open(settings.agora_database)
    try:
        applied = await db.migrate()
        version = await db.schema_version()
    finally:
        await db.close()
    print(f"applied {len(applied)} migration(s); schema version {version}")
    return 0


def sqlite_file(settings: Settings, command: str) -> Path:
    """The SQLite file of ``agora backup``/``restore``; refused on PostgreSQL, whose own tools
    (pg_dump, pg_restore) do this."""
    target = settings.agora_database
    if not isinstance(target, SqliteTarget):
        raise UserFacingError(
            f"`agora {command}` copies a SQLite file; AGORA_DATABASE is PostgreSQL: use "
            "pg_dump and pg_restore"
        )
    return target.path


async def backup(settings: Settings, path: str) -> int:
    sqlite_file(settings, "backup")
    db = await Database.open(settings.agora_database)
    try:
        await db.backup(path)
    finally:
        await db.close()
    print(f"backed up {settings.agora_database} to {path}")
    return 0


def restore(settings: Settings, path: Path) -> int:
    report = restore_database(sqlite_file(settings, "restore"), path)
    kept = f"; the replaced database is kept as {report.kept}" if report.kept else ""
    print(
        f"restored {path} into {settings.agora_database} (schema version "
        f"{report.schema_version}){kept}; start the bot to use it"
    )
    return 0


async def move_to_postgres(sqlite_path: Path, url: str) -> int:
    copied = await migrate_to_postgres(sqlite_path, url)
    for table in copied:
        print(f"{table.name}: {table.rows} rows, equal on both sides")
    total = sum(table.rows for table in copied)
    print(
        f"copied {total} rows in {len(copied)} tables into PostgreSQL; point AGORA_DATABASE at it"
    )
    return 0


async def releases_check(settings: Settings, source: str) -> int:
    report = await check_source(source, settings.radar_config())
    print(format_check_report(report))
    return 0 if report.error is None else 1


async def releases_why(settings: Settings, source: str, item: str) -> int:
    """`/releases why` for the operator: the item's fate in every subscription to SOURCE."""
    key = parse_source(source)
    db = await Database.open(settings.agora_database)
    try:
        if await db.schema_version() < bundled_migrations()[-1].version:
            raise UserFacingError("the database is older than this Agora: run `agora migrate`")
        status = await OutboxRepository(db).source_status(key)
        rows = [(s, status) for s in await SubscriptionRepository(db).for_source(key)]
        entries = await LedgerRepository(db).entries(rows, item)
    finally:
        await db.close()
    if not rows:
        print(f"agora: no server follows {key}", file=sys.stderr)
        return 1
    print(f"{item} from {key}, {len(rows)} subscription(s):")
    for entry in entries:
        s = entry.subscription
        where = f"server {s.guild_id} channel {s.channel_id}"
        print("- " + explain(entry, where, lambda t: datetime.fromtimestamp(t, UTC).isoformat()))
    return 0


async def run(settings: Settings, *, force_sync: bool = False) -> int:
    """Run until SIGINT/SIGTERM (or, with `force_sync`, until commands are synced)."""
    redirect_discord(settings.discord_api_base, settings.discord_gateway_url)
    token = settings.require_token()
    db = await Database.open(settings.agora_database)
    try:
        async with AgoraBot(settings, db, force_sync=force_sync) as bot:
            if force_sync:
                await bot.login(token)  # runs setup_hook, which syncs
                print("application commands synced")
                return 0
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, _shutdown, bot, signum)
            await bot.start(token)
    finally:
        await db.close()
    log.info("stopped cleanly")
    return 0


def _shutdown(bot: AgoraBot, signum: int) -> None:
    log.info("received %s; shutting down", signal.Signals(signum).name)
    _background.add(asyncio.get_running_loop().create_task(bot.close()))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
