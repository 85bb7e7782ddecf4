"""Alembic migrations, run from code: `migrate(url)` upgrades a database to the newest schema.

The migration scripts ship inside the package (`swingflow_common/db/migrations/`), so an
installed service can migrate its database with no `alembic.ini` on disk: the
configuration an `alembic.ini` would hold is built by `alembic_config`.

`migrate` is idempotent (a database at head is left alone) and safe to run from several
processes at once on PostgreSQL (an advisory lock serializes them). On SQLite, start
the processes after one `migrate`, as `swingflow up` does.

The deploy one-shot (docker compose's `migrate`, ECS's `migrate` task) runs
`python -m swingflow_common.db.migrate upgrade` with `DATABASE_URL` set.

To write the next migration after changing `models.py`:

    .venv/bin/python -m swingflow_common.db.migrate revision "add a column" sqlite:///var/dev.db
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import URL, Connection

from swingflow_common.db.engine import engine_from_url, normalize_url

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x5F10  # PostgreSQL advisory lock id held while migrating


def alembic_config(url: str | URL) -> Config:
    """The Alembic configuration (script location, target URL) built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = normalize_url(url)  # kept out of the ini parser: no % escaping
    return config


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate_async(url: str | URL, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (default: the newest)."""
    engine = engine_from_url(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, alembic_config(url), revision)
    finally:
        await engine.dispose()


def migrate(url: str | URL, revision: str = "head") -> None:
    """Blocking `migrate_async`, for the CLI and scripts; in async code await that instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(migrate_async(url, revision))
        return
    raise RuntimeError("migrate() called inside a running event loop: await migrate_async(url)")


USAGE = (
    "usage: python -m swingflow_common.db.migrate upgrade [DATABASE_URL]\n"
    "       python -m swingflow_common.db.migrate revision MESSAGE DATABASE_URL"
)


def _main(argv: list[str]) -> None:
    """`upgrade [URL]`: migrate to head (URL default: $DATABASE_URL), the deploy one-shot.
    `revision MESSAGE URL`: autogenerate the next migration against a database at head."""
    if argv[:1] == ["upgrade"] and len(argv) <= 2:
        url = argv[1] if len(argv) == 2 else os.environ.get("DATABASE_URL", "")
        if not url:
            sys.exit("upgrade: give a DATABASE_URL argument or set $DATABASE_URL")
        migrate(url)
        print(f"database at head: {normalize_url(url).render_as_string(hide_password=True)}")
        return
    if len(argv) != 3 or argv[0] != "revision":
        sys.exit(USAGE)
    message, url = argv[1], argv[2]
    migrate(url)
    command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
