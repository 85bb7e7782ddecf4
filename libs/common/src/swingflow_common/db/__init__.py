"""Storage: SQLAlchemy 2 async models, engines, Alembic migrations and the repository.

engine = engine_from_url(settings.database_url)      # sqlite+aiosqlite or postgresql+asyncpg
await migrate_async(settings.database_url)            # or migrate(url) outside a loop
sessions = session_factory(engine)
async with sessions.begin() as session:
    await repository.upsert_bars(session, bars)
"""

from swingflow_common.db import repository
from swingflow_common.db.engine import (
    autocommit,
    engine_from_url,
    normalize_url,
    session_factory,
)
from swingflow_common.db.migrate import alembic_config, migrate, migrate_async
from swingflow_common.db.models import Base
from swingflow_common.db.writer import Writer

__all__ = [
    "Base",
    "Writer",
    "alembic_config",
    "autocommit",
    "engine_from_url",
    "migrate",
    "migrate_async",
    "normalize_url",
    "repository",
    "session_factory",
]
