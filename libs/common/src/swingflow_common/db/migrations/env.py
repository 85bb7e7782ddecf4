"""Alembic environment: runs on the connection `migrate` hands over, or opens its own."""

from __future__ import annotations

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from swingflow_common.db.engine import engine_from_url
from swingflow_common.db.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, obj: object, _context: AutogenContext) -> str | Literal[False]:
    """Write our UtcDateTime as a plain DateTime, so scripts never import the models."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_own_engine() -> None:
    engine = engine_from_url(config.attributes["url"], poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


shared = config.attributes.get("connection")
if shared is not None:
    run_migrations(shared)
else:
    asyncio.run(run_on_own_engine())
