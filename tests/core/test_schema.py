"""The migrations of both engines build the same schema: the same tables, the same columns
in each, the same indexes (by name); and a PostgreSQL database reports its schema version."""

from __future__ import annotations

from pathlib import Path

from bot.database import Database, bundled_migrations
from tests.engines import create_target, drop_target


async def sqlite_schema(db: Database) -> dict[str, set[str]]:
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    schema = {}
    for (table,) in [tuple(r) for r in tables]:
        columns = await db.fetch_all("SELECT name FROM pragma_table_info(?)", (table,))
        schema[str(table)] = {str(c[0]) for c in columns}
    return schema


async def sqlite_indexes(db: Database) -> set[str]:
    rows = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    )
    return {str(r[0]) for r in rows}


async def postgres_schema(db: Database) -> dict[str, set[str]]:
    rows = await db.fetch_all(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
        "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.table_name <> 'agora_schema'"
    )
    schema: dict[str, set[str]] = {}
    for table, column in [tuple(r) for r in rows]:
        schema.setdefault(str(table), set()).add(str(column))
    return schema


async def postgres_indexes(db: Database) -> set[str]:
    """Indexes the migrations created (not those behind a primary key or UNIQUE constraint,
    which SQLite names sqlite_autoindex_*)."""
    rows = await db.fetch_all(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    return {str(r[0]) for r in rows}


async def test_both_engines_build_the_same_tables_columns_and_indexes(tmp_path: Path) -> None:
    assert [m.version for m in bundled_migrations("sqlite")] == [
        m.version for m in bundled_migrations("postgresql")
    ]
    sqlite_target = await create_target("sqlite", tmp_path)
    postgres_target = await create_target("postgresql", tmp_path, migrated=False)
    lite = await Database.open(sqlite_target)
    pg = await Database.open(postgres_target)
    try:
        await lite.migrate()
        assert [m.name for m in bundled_migrations("postgresql")] == await pg.migrate()
        assert (
            await pg.schema_version()
            == await lite.schema_version()
            == bundled_migrations()[-1].version
        )
        assert await pg.migrate() == []
        lite_schema, pg_schema = await sqlite_schema(lite), await postgres_schema(pg)
        assert sorted(lite_schema) == sorted(pg_schema)
        for table, columns in lite_schema.items():
            assert columns == pg_schema[table], table
        assert await sqlite_indexes(lite) == await postgres_indexes(pg)
    finally:
        await lite.close()
        await pg.close()
        await drop_target(postgres_target)
