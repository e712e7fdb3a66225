"""Applying the migrations at start: once, whichever replicas start together.

Every process takes the same session-level advisory lock before it looks at the version table,
so a second replica waits until the first has finished and then finds nothing left to do. Each
migration and its version row are one transaction: a crash leaves the previous version whole.
"""

from __future__ import annotations

import logging

from psycopg import AsyncConnection

from bot.tickets.pg.migrations import MIGRATIONS

log = logging.getLogger(__name__)

# An arbitrary constant of our own: the key of the advisory lock that serialises migrations.
MIGRATION_LOCK = 0x46524F4E5444  # "FRONTD"


async def migrate(conn: AsyncConnection[tuple[object, ...]]) -> list[int]:
    """Apply what is missing on an autocommit connection; returns the versions applied here."""
    applied: list[int] = []
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT version FROM schema_migrations")
        done = {int(str(row[0])) for row in await cur.fetchall()}
        for version, name, script in MIGRATIONS:
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(script)  # no parameters: several statements in one
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (version, name),
                )
            log.info("database migration %s applied: %s", version, name)
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return applied


def schema_version() -> int:
    return max(version for version, _, _ in MIGRATIONS)
