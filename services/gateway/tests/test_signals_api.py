"""`/api/signals` and `/api/signals/funnel` on seeded rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from swingflow_gateway.app import create_app

from .factories import Sessions, candidate, seed_signal
from .helpers import serve

pytestmark = pytest.mark.integration


async def seed_mix(sessions: Sessions) -> None:
    """AAPL: 3 confirmed (days 1-3); MSFT: refused by confirmation (day 4), by threshold
    (day 5), by entry timing (day 6, breakout_volume); NVDA: a pending candidate (day 7)."""
    for n in (1, 2, 3):
        await seed_signal(sessions, candidate("AAPL", n))
    await seed_signal(sessions, candidate("MSFT", 4), rejected_by="confirmation")
    await seed_signal(sessions, candidate("MSFT", 5), rejected_by="threshold")
    await seed_signal(sessions, candidate("MSFT", 6, "breakout_volume"), rejected_by="entry_timing")
    await seed_signal(sessions, candidate("NVDA", 7), judged=False)


async def get(settings: Any, path: str, **params: Any) -> Any:
    async with serve(create_app(settings, warm_up=False)) as client:
        return await client.get(path, params=params)


async def test_signals_list_newest_first_with_every_stage(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed_mix(db_sessions)
    answer = await get(make_settings(database_url), "/api/signals")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["limit"], body["offset"]) == (7, 50, 0)
    days = [item["ts"][:10] for item in body["items"]]
    assert days == sorted(days, reverse=True)
    confirmed = next(i for i in body["items"] if i["id"] == candidate("AAPL", 3).id)
    assert (confirmed["status"], confirmed["rejected_by"]) == ("confirmed", None)
    assert [s["stage"] for s in confirmed["stages"]] == [
        "base_signal", "confirmation", "ml_confidence", "entry_timing",
    ]  # fmt: skip
    assert (confirmed["entry"], confirmed["model_version"]) == (100.0, "m1")
    assert confirmed["ml_contributions"][0]["feature"] == "rsi_14"
    pending = next(i for i in body["items"] if i["symbol"] == "NVDA")
    assert (pending["status"], pending["total"]) == ("candidate", None)


@pytest.mark.parametrize(
    ("params", "expected_ids"),
    [
        ({"status": "rejected"}, {("MSFT", 4), ("MSFT", 5), ("MSFT", 6)}),
        ({"symbol": "aapl"}, {("AAPL", 1), ("AAPL", 2), ("AAPL", 3)}),
        ({"setup": "breakout_volume"}, {("MSFT", 6)}),
        ({"from": "2024-01-04", "to": "2024-01-06T00:00:00Z"}, {("AAPL", 3), ("MSFT", 4),
                                                                  ("MSFT", 5)}),
        ({"min_score": 0.6}, {("AAPL", 1), ("AAPL", 2), ("AAPL", 3)}),
    ],
)  # fmt: skip
async def test_signals_filters_select_the_matching_rows(
    database_url: str,
    db_sessions: Sessions,
    make_settings: Any,
    params: dict[str, Any],
    expected_ids: set[tuple[str, int]],
) -> None:
    await seed_mix(db_sessions)
    body = (await get(make_settings(database_url), "/api/signals", **params)).json()
    setups = {("MSFT", 6): "breakout_volume"}
    wanted = {candidate(s, n, setups.get((s, n), "trend_pullback")).id for s, n in expected_ids}
    assert {item["id"] for item in body["items"]} == wanted
    assert body["total"] == len(wanted)


async def test_signals_pages_do_not_overlap_and_cover_everything(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed_mix(db_sessions)
    app = create_app(make_settings(database_url), warm_up=False)
    seen: list[str] = []
    async with serve(app) as client:
        for offset in (0, 3, 6):
            page = (await client.get("/api/signals", params={"limit": 3, "offset": offset})).json()
            assert (page["total"], page["limit"], page["offset"]) == (7, 3, offset)
            seen += [item["id"] for item in page["items"]]
    assert len(set(seen)) == len(seen) == 7


async def test_cursor_pages_follow_the_offset_order_through_ties_and_filters(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed_mix(db_sessions)
    for symbol in ("AMD", "INTC", "QCOM", "TSLA"):  # four more on day 3: a tie on ts
        await seed_signal(db_sessions, candidate(symbol, 3))
    app = create_app(make_settings(database_url), warm_up=False)
    async with serve(app) as client:
        for params in ({}, {"status": "confirmed"}):  # type: dict[str, str]
            whole = (await client.get("/api/signals", params=params)).json()
            assert whole["next_cursor"] is None  # one page holds them all
            by_offset = [item["id"] for item in whole["items"]]
            seen: list[str] = []
            cursor = None
            while True:
                query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
                page = (await client.get("/api/signals", params=query)).json()
                assert page["total"] == whole["total"]
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == by_offset  # same rows, same order, none twice
            days = [item["ts"] for item in whole["items"]]
            assert days == sorted(days, reverse=True)
    assert len(by_offset) == 7  # 3 AAPL + the 4 of the tie, all confirmed


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "maybe"}, "status"),
        ({"min_score": 1.5}, "min_score"),
        ({"min_score": "nan"}, "min_score"),
        ({"from": "yesterday"}, "from"),
        ({"to": "0.5"}, "to"),  # not read as a Unix timestamp
        ({"from": "2024-02-01", "to": "2024-01-01"}, "from"),
        ({"symbol": "AA PL"}, "symbol"),
        ({"setup": "DROP TABLE"}, "setup"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # valid base64 of [1,2], not a (ts, id)
        ({"cursor": "x" * 513}, "cursor"),
    ],
)
async def test_bad_signal_queries_are_422_naming_the_parameter(
    database_url: str, make_settings: Any, params: dict[str, Any], named: str
) -> None:
    answer = await get(make_settings(database_url), "/api/signals", **params)
    assert answer.status_code == 422
    assert named in answer.json()["detail"]


def counts(funnel: dict[str, Any]) -> tuple[int, int, int, int]:
    return funnel["candidates"], funnel["confirmed"], funnel["rejected"], funnel["pending"]


async def test_funnel_follows_signals_through_the_stages_in_order(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed_mix(db_sessions)
    body = (await get(make_settings(database_url), "/api/signals/funnel")).json()
    assert counts(body) == (7, 3, 3, 1)
    flow = {s["stage"]: (s["passed"], s["rejected"]) for s in body["stages"]}
    assert list(flow) == ["base_signal", "confirmation", "ml_confidence", "entry_timing",
                          "threshold"]  # fmt: skip
    assert flow == {
        "base_signal": (6, 0), "confirmation": (5, 1), "ml_confidence": (5, 0),
        "entry_timing": (4, 1), "threshold": (3, 1),
    }  # fmt: skip


async def test_funnel_counts_only_the_period(
    database_url: str, db_sessions: Sessions, make_settings: Any
) -> None:
    await seed_mix(db_sessions)
    settings = make_settings(database_url)
    body = (await get(settings, "/api/signals/funnel", **{"from": "2024-01-06"})).json()
    assert counts(body) == (3, 0, 2, 1)
