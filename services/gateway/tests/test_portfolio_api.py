"""`/api/portfolio` (positions marked to market) and `/api/allocations` (paged)."""

from __future__ import annotations

from typing import Any

import pytest

from swingflow_common.db import repository
from swingflow_gateway.app import create_app

from .factories import Sessions, allocation, day, seed_bars, seed_positions
from .helpers import serve

pytestmark = pytest.mark.integration


async def test_portfolio_marks_positions_to_their_last_price(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    msft = await seed_bars(db_sessions, "MSFT", 5, start=210.0)
    async with db_sessions.begin() as session:
        await seed_positions(session, cash=50_000.0)
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        body = (await client.get("/api/portfolio")).json()
    positions = {p["symbol"]: p for p in body["positions"]}
    msft_price = msft[-1].close  # no price from the portfolio service: the last stored close
    equity = 50_000.0 + 10 * 110.0 + 5 * msft_price
    assert body["cash"] == 50_000.0
    assert body["equity"] == pytest.approx(equity)
    assert body["as_of"].startswith(day(4).date().isoformat())
    aapl = positions["AAPL"]
    assert aapl["last_price"] == 110.0
    assert aapl["market_value"] == pytest.approx(1_100.0)
    assert aapl["unrealized_pnl"] == pytest.approx(100.0)
    assert aapl["weight"] == pytest.approx(1_100.0 / equity)
    assert (aapl["stop"], aapl["target"]) == (95.0, 120.0)
    assert positions["MSFT"]["last_price"] == pytest.approx(msft_price)
    assert positions["MSFT"]["unrealized_pnl"] == pytest.approx((msft_price - 200.0) * 5)


async def test_portfolio_before_any_snapshot_starts_from_the_initial_cash(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        body = (await client.get("/api/portfolio")).json()
    assert (body["cash"], body["equity"], body["positions"]) == (100_000.0, 100_000.0, [])


async def test_allocations_newest_first_in_pages(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    async with db_sessions.begin() as session:
        for n in range(5):
            await repository.save_allocation(session, allocation(n))
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        first = (await client.get("/api/allocations", params={"limit": 2})).json()
        last = (await client.get("/api/allocations", params={"limit": 2, "offset": 4})).json()
        too_many = await client.get("/api/allocations", params={"limit": 501})
    assert [a["id"] for a in first["items"]] == ["alloc-4", "alloc-3"]
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert first["items"][0]["type"] == "allocation"
    assert first["items"][0]["quantity"] == 14
    assert [a["id"] for a in last["items"]] == ["alloc-0"]
    assert too_many.status_code == 422
