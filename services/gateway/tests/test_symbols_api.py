"""`/api/symbols` and `/api/symbol/{symbol}/analysis` on seeded bars and signals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nats.js import JetStreamContext

from swingflow_common import subjects
from swingflow_common.db import repository
from swingflow_common.testing import eventually
from swingflow_gateway.app import create_app

from .factories import Sessions, candidate, day, seed_bars, seed_signal
from .helpers import serve

pytestmark = pytest.mark.integration


async def test_symbols_list_last_close_change_and_bar_count(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    aapl = await seed_bars(db_sessions, "AAPL", 30)
    await seed_bars(db_sessions, "MSFT", 1, start=300.0)
    async with db_sessions.begin() as session:
        await repository.upsert_symbols(session, ["NVDA"])
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        body = (await client.get("/api/symbols")).json()
    items = {item["symbol"]: item for item in body["items"]}
    assert body["total"] == 3
    assert list(items) == ["AAPL", "MSFT", "NVDA"]
    assert items["AAPL"]["bars"] == 30
    assert items["AAPL"]["last_close"] == pytest.approx(aapl[-1].close)
    expected = (aapl[-1].close / aapl[-2].close - 1) * 100
    assert items["AAPL"]["change_pct"] == pytest.approx(expected)
    assert items["AAPL"]["last_ts"].startswith(day(29).date().isoformat())
    assert items["MSFT"]["bars"] == 1
    assert items["MSFT"]["change_pct"] is None  # one bar: nothing to compare with
    assert (items["NVDA"]["bars"], items["NVDA"]["last_close"]) == (0, None)


async def test_analysis_aligns_indicators_with_the_bars_and_lists_signals(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    series = await seed_bars(db_sessions, "AAPL", 400)
    await seed_signal(db_sessions, candidate("AAPL", 390))
    await seed_signal(db_sessions, candidate("AAPL", 395), judged=False)
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        answer = await client.get("/api/symbol/aapl/analysis", params={"bars": 250})
    assert answer.status_code == 200
    body = answer.json()
    assert body["symbol"] == "AAPL"
    assert len(body["bars"]) == 250
    assert body["bars"][-1]["close"] == pytest.approx(series[-1].close)
    assert body["bars"][0]["ts"].startswith(day(150).date().isoformat())
    indicators = body["indicators"]
    assert all(len(values) == 250 for values in indicators.values())
    assert {"sma_50", "rsi_14", "macd", "bb_upper", "atr_14"} <= set(indicators)
    last_50 = [bar.close for bar in series[-50:]]
    assert indicators["sma_50"][-1] == pytest.approx(sum(last_50) / 50)
    # bar 150 is the first returned; the 200-day average needs 200 bars: first at bar 199
    assert indicators["sma_200"][48] is None
    assert indicators["sma_200"][49] is not None
    assert body["latest"]["sma_50"] == pytest.approx(indicators["sma_50"][-1])
    assert [s["status"] for s in body["signals"]] == ["candidate", "confirmed"]
    assert body["latest_evaluation"]["id"] == candidate("AAPL", 390).id


async def test_analysis_returns_only_the_indicators_asked_for(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed_bars(db_sessions, "AAPL", 60)
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        chosen = await client.get(
            "/api/symbol/AAPL/analysis", params={"bars": 20, "indicators": "rsi_14, sma_20"}
        )
        unknown = await client.get("/api/symbol/AAPL/analysis", params={"indicators": "nope"})
    assert sorted(chosen.json()["indicators"]) == ["rsi_14", "sma_20"]
    assert chosen.json()["latest_evaluation"] is None
    assert unknown.status_code == 422
    assert "nope" in unknown.json()["detail"]


async def test_analysis_of_an_unknown_symbol_is_404_with_the_reason(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    async with db_sessions.begin() as session:
        await repository.upsert_symbols(session, ["NVDA"])
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        unknown = await client.get("/api/symbol/ZZZZ/analysis")
        empty = await client.get("/api/symbol/NVDA/analysis")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "ZZZZ is not a known symbol"
    assert empty.status_code == 404
    assert "no daily bars" in empty.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/symbol/AAPL/analysis", {"bars": 0}),
        ("/api/symbol/AAPL/analysis", {"bars": 5001}),
        ("/api/symbol/AAPL/analysis", {"bars": "many"}),
        ("/api/symbol/$$$/analysis", {}),
        ("/api/symbol/ABCDEFGHIJKLMNOPQ/analysis", {}),
    ],
)
async def test_bad_analysis_requests_are_422(
    database_url: str, make_settings: Any, path: str, params: dict[str, Any]
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        answer = await client.get(path, params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"]


async def test_analysis_latest_comes_from_the_scanner_kv_for_the_same_bar(
    database_url: str,
    nats_url: str,
    js: JetStreamContext,
    db_sessions: Sessions,
    make_settings: Any,
) -> None:
    series = await seed_bars(db_sessions, "BRK.B", 60)
    app = create_app(make_settings(database_url, nats_url), warm_up=False)
    async with serve(app) as client:

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready)
        kv = await js.key_value(subjects.ANALYSIS_BUCKET)
        scanned = {"symbol": "BRK.B", "features": {"rsi_14": 51.0, "rs_rank": 0.7}}
        stale = {**scanned, "ts": series[-2].ts.isoformat()}
        await kv.put(subjects.token("BRK.B"), json.dumps(stale).encode())
        computed = (await client.get("/api/symbol/BRK.B/analysis")).json()["latest"]
        fresh = {**scanned, "ts": series[-1].ts.isoformat()}
        await kv.put(subjects.token("BRK.B"), json.dumps(fresh).encode())
        from_kv = (await client.get("/api/symbol/BRK.B/analysis")).json()["latest"]
    assert "rs_rank" not in computed  # another bar's analysis is not shown as this one's
    assert computed["sma_50"] is not None
    assert from_kv == {"rsi_14": 51.0, "rs_rank": 0.7}
