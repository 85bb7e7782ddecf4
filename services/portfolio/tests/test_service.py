"""The portfolio service on a real nats-server and database: confirmed signals become
allocations (stored, then announced), bars fill them at the next open and close them at
their levels, exactly as the pure domain computes; the book survives a restart, duplicates
change nothing, bad messages are dead-lettered, and two replicas keep one consistent book."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from faststream.nats import TestApp
from nats.js import JetStreamContext
from portfolio_helpers import (
    RISK,
    allocations_on_nats,
    bar,
    confirmed,
    dead_letters,
    fills_on_nats,
)
from prometheus_client import REGISTRY

from swingflow_common import subjects
from swingflow_common.bus import publish
from swingflow_common.db import engine_from_url, repository, session_factory
from swingflow_common.db.models import PositionRow, TradeRow
from swingflow_common.db.portfolio_repository import list_trades, read_book
from swingflow_common.messages import Allocation, Fill
from swingflow_common.portfolio import Book, Position, allocate, on_bar
from swingflow_common.testing import eventually
from swingflow_portfolio.app import PortfolioService, build_service
from swingflow_portfolio.settings import Settings


def settings(nats_url: str, database_url: str, config_path: Path) -> Settings:
    return Settings(nats_url=nats_url, database_url=database_url, swingflow_config=config_path,
                    fetch_timeout=0.1)  # fmt: skip


def without_stamp(message: Allocation | Fill) -> dict[str, object]:
    return message.model_dump(exclude={"ts_event"})


async def count(js: JetStreamContext, what: str, n: int) -> bool:
    found = await (allocations_on_nats(js) if what == "allocations" else fills_on_nats(js))
    return len(found) == n


async def test_signals_become_allocations_and_bars_fill_and_close_them(
    js: JetStreamContext, nats_url: str, database_url: str, config_path: Path
) -> None:
    signal = confirmed("AAPL")
    day1, day2 = bar("AAPL", 1, 101, 103, 100, 102), bar("AAPL", 2, 102, 107, 100, 105)
    book, expected = allocate(signal, Book.open(RISK.initial_cash), RISK)
    entry = on_bar(book, day1, RISK)
    exit_ = on_bar(entry.book, day2, RISK)
    engine = engine_from_url(database_url)
    sessions = session_factory(engine)
    try:
        async with TestApp(build_service(settings(nats_url, database_url, config_path)).app):
            await publish(js, subjects.confirmed("AAPL"), signal)
            await eventually(lambda: count(js, "allocations", 1))
            await publish(js, subjects.bars("AAPL"), day1)
            await eventually(lambda: count(js, "fills", 1))
            async with sessions() as session:
                (position,) = (await session.scalars(sa.select(PositionRow))).all()
            await publish(js, subjects.bars("AAPL"), day2)
            await eventually(lambda: count(js, "fills", 2))
            (allocation,) = await allocations_on_nats(js)
            fills = await fills_on_nats(js)
        async with sessions() as session:
            stored_allocations = await repository.list_allocations(session)
            (trade,) = await list_trades(session)
            stored_book = await read_book(session)
            left = await session.get(PositionRow, "AAPL")
    finally:
        await engine.dispose()

    assert isinstance(expected, Allocation)
    assert without_stamp(allocation) == without_stamp(expected)
    assert [a.id for a in stored_allocations] == [expected.id]
    assert fills == [*entry.fills, *exit_.fills]
    assert [(f.side, f.reason) for f in fills] == [("buy", "entry at the next open"),
                                                   ("sell", "target")]  # fmt: skip
    assert position.quantity == 150
    assert left is None
    assert isinstance(trade, TradeRow)
    assert (trade.status, trade.exit_reason) == ("closed", "target")
    assert trade.pnl == pytest.approx(exit_.closed[0].pnl)
    assert stored_book == exit_.book


async def test_the_book_survives_a_restart(
    js: JetStreamContext, nats_url: str, sqlite_url: str, config_path: Path
) -> None:
    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await publish(js, subjects.confirmed("AAPL"), confirmed("AAPL"))
        await eventually(lambda: count(js, "allocations", 1))

    restarted = build_service(settings(nats_url, sqlite_url, config_path))
    async with TestApp(restarted.app):
        assert len((await restarted.ledger.read()).pending) == 1
        await publish(js, subjects.bars("AAPL"), bar("AAPL", 1, 101, 103, 100, 102))
        await eventually(lambda: count(js, "fills", 1))
        book = await restarted.ledger.read()

    assert [p.symbol for p in book.positions] == ["AAPL"]
    assert book.pending == ()


async def test_duplicates_and_a_second_setup_on_a_pending_symbol_change_nothing(
    js: JetStreamContext, nats_url: str, sqlite_url: str, config_path: Path
) -> None:
    signal, same_day_other_setup = confirmed("AAPL"), confirmed("AAPL", setup="breakout_volume")
    day1 = bar("AAPL", 1, 101, 103, 100, 102)
    rejected = "swingflow_portfolio_rejections_total"
    before = REGISTRY.get_sample_value(rejected, {"reason": "already_pending"}) or 0.0
    service = build_service(settings(nats_url, sqlite_url, config_path))

    async with TestApp(service.app):
        for message in (signal, signal, same_day_other_setup):  # no Nats-Msg-Id: all stored
            await js.publish(subjects.confirmed("AAPL"), message.model_dump_json().encode())
        await eventually(lambda: REGISTRY.get_sample_value(rejected, {"reason": "already_pending"})
                         == before + 1)  # fmt: skip
        for _ in range(2):
            await js.publish(subjects.bars("AAPL"), day1.model_dump_json().encode())
        await eventually(lambda: count(js, "fills", 1))
        again = await service.ledger.apply_bars([day1], redelivered=True)
        await service.ledger.announce(again.fills)
        allocations, fills = await allocations_on_nats(js), await fills_on_nats(js)
        book = await service.ledger.read()

    assert [a.signal_id for a in allocations] == [signal.id]
    assert [f.id for f in again.fills] == [f"{signal.id}-buy"]  # re-announced...
    assert len(fills) == 1  # ...and dropped by the server as a duplicate
    assert len(book.positions) == 1


async def test_bad_messages_are_dead_lettered_and_the_service_goes_on(
    js: JetStreamContext, nats_url: str, sqlite_url: str, config_path: Path
) -> None:
    bad_bar = (b'{"type": "bar", "schema_version": 1, "symbol": "AAPL", "interval": "1d", '
               b'"ts": "2024-03-02T00:00:00Z", "open": 10, "high": 9, "low": 11, "close": 10, '
               b'"volume": 5}')  # fmt: skip
    async with TestApp(build_service(settings(nats_url, sqlite_url, config_path)).app):
        await js.publish(subjects.confirmed("AAPL"), b"[]")
        await js.publish(subjects.bars("AAPL"), bad_bar)
        await publish(js, subjects.confirmed("MSFT"), confirmed("MSFT"))
        await eventually(lambda: count(js, "allocations", 1))
        await eventually(lambda: two_letters(js))
        letters = await dead_letters(js, "portfolio")

    assert sorted(letter.subject for letter in letters) == [subjects.bars("AAPL"),
                                                            subjects.confirmed("AAPL")]  # fmt: skip
    by_subject = {letter.subject: letter.reason for letter in letters}
    assert "below low" in by_subject[subjects.bars("AAPL")]
    assert by_subject[subjects.confirmed("AAPL")]


async def two_letters(js: JetStreamContext) -> bool:
    return len(await dead_letters(js, "portfolio")) == 2


def by_symbol(book: Book) -> list[Position]:
    return sorted(book.positions, key=lambda p: p.symbol)


async def run_until(service: PortfolioService, stop: asyncio.Event) -> None:
    async with TestApp(service.app):
        await stop.wait()


async def test_a_standby_waits_then_takes_over_the_same_book(
    js: JetStreamContext, nats_url: str, database_url: str, config_path: Path
) -> None:
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "META"]
    signals = [confirmed(s) for s in symbols]
    day1 = [bar(s, 1, 101, 103, 100, 102) for s in symbols]
    day2 = [bar(s, 2, 101, 101.5, 95, 97) if s in ("AAPL", "NVDA") else
            bar(s, 2, 102, 103, 101, 102.5) for s in symbols]  # fmt: skip
    expected = Book.open(RISK.initial_cash)
    for signal in signals:
        expected, _ = allocate(signal, expected, RISK)
    for b in (*day1, *day2):
        expected = on_bar(expected, b, RISK).book
    active = build_service(settings(nats_url, database_url, config_path))
    standby = build_service(settings(nats_url, database_url, config_path))
    stop = asyncio.Event()

    async with TestApp(active.app):
        waiting = asyncio.create_task(run_until(standby, stop))
        await eventually(lambda: standby.lease is not None)
        assert standby.lease is not None
        assert not standby.lease.held
        for signal in signals:
            await publish(js, subjects.confirmed(signal.symbol), signal)
        await eventually(lambda: count(js, "allocations", 5))
        for b in day1:
            await publish(js, subjects.bars(b.symbol), b)
        await eventually(lambda: count(js, "fills", 5))
        assert not standby.lease.held
    await eventually(lambda: standby.lease is not None and standby.lease.held)
    for b in day2:
        await publish(js, subjects.bars(b.symbol), b)
    await eventually(lambda: count(js, "fills", 7))
    book = await standby.ledger.read()
    stop.set()
    await waiting

    assert book.model_dump(exclude={"positions"}) == expected.model_dump(exclude={"positions"})
    assert by_symbol(book) == by_symbol(expected)
