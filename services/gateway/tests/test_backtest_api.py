"""Backtest runs over the API: stored runs listed and read whole, trades CSV, the offline
report, and `POST /api/backtest` running a real (small) backtest as a job with its
progress on the WebSocket channel `jobs`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from swingflow_common.backtest.result import BacktestResult
from swingflow_common.backtest.sample import sample_result
from swingflow_common.db import backtest_repository as runs
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.testing import eventually
from swingflow_gateway.app import create_app

from .helpers import TOKEN, running, serve

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SMALL = {"universe": "synthetic:3x300:5", "symbols": ["SYN0001", "SYN0002"]}


async def store(url: str, *results: BacktestResult) -> None:
    engine = engine_from_url(url)
    async with session_factory(engine).begin() as session:
        for result in results:
            await runs.save_run(session, result)
    await engine.dispose()


async def test_runs_are_listed_newest_first_and_read_whole(
    database_url: str, make_settings: Any
) -> None:
    older = sample_result("bt-old", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    newer = sample_result("bt-new", walk_forward=True)
    await store(database_url, older, newer)
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        page = (await client.get("/api/backtest/results", params={"limit": 1})).json()
        second = (await client.get("/api/backtest/results?limit=1&offset=1")).json()
        whole = await client.get("/api/backtest/runs/bt-new")
        by_query = await client.get("/api/backtest/results", params={"id": "bt-new"})

    assert page["total"] == 2
    assert [r["id"] for r in page["items"]] == ["bt-new"]
    assert [r["id"] for r in second["items"]] == ["bt-old"]
    assert page["items"][0]["metrics"]["win_rate"] == 0.6
    assert page["items"][0]["walk_forward_windows"] == 2
    assert "trades" not in page["items"][0]
    assert BacktestResult.model_validate(whole.json()) == newer
    assert by_query.json() == whole.json()


async def test_trades_csv_and_report_of_a_stored_run(database_url: str, make_settings: Any) -> None:
    await store(database_url, sample_result("bt-1"))
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        trades = await client.get("/api/backtest/runs/bt-1/trades.csv")
        report = await client.get("/api/backtest/runs/bt-1/report.html")

    assert trades.headers["content-type"].startswith("text/csv")
    assert "bt-1-trades.csv" in trades.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(trades.text)))
    assert [r["exit_reason"] for r in rows] == ["target", "stop", "time", "stop", "end_of_data"]
    assert report.headers["content-type"].startswith("text/html")
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    assert report.text.count("<svg ") == 5


@pytest.mark.parametrize(
    "path",
    ["/api/backtest/runs/nope", "/api/backtest/runs/nope/trades.csv",
     "/api/backtest/runs/nope/report.html", "/api/backtest/results?id=nope", "/api/jobs/nope"],
)  # fmt: skip
async def test_unknown_ids_are_404_with_a_reason(
    database_url: str, make_settings: Any, path: str
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        answer = await client.get(path)
    assert answer.status_code == 404
    assert "nope" in answer.json()["detail"]


async def test_starting_a_backtest_needs_the_token_and_a_valid_request(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        anonymous = await client.post("/api/backtest", json=SMALL)
        bad_universe = await client.post("/api/backtest", json={"universe": "/etc"}, headers=AUTH)
        backwards = await client.post(
            "/api/backtest", json={"start": "2024-02-01", "end": "2024-01-01"}, headers=AUTH
        )
        half_wf = await client.post("/api/backtest", json={"in_sample_bars": 100}, headers=AUTH)
        jobs = (await client.get("/api/jobs")).json()

    assert anonymous.status_code == 401
    assert bad_universe.status_code == 422
    assert "universe" in bad_universe.json()["detail"]
    assert backwards.status_code == 422
    assert "after end" in backwards.json()["detail"]
    assert "out_of_sample_bars" in half_wf.json()["detail"]
    assert jobs == []


async def frames_until_done(address: str, started: asyncio.Event) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with connect(f"ws://{address}/ws") as ws:
        await ws.send(json.dumps({"type": "subscribe", "channels": ["jobs"]}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 300))
            if frame["type"] == "hello" and "jobs" in frame["data"]["channels"]:
                started.set()
            if frame["channel"] == "jobs":
                frames.append(frame)
                if frame["data"]["status"] in ("done", "failed"):
                    return frames


async def test_a_posted_backtest_runs_reports_progress_and_is_stored(
    database_url: str, make_settings: Any
) -> None:
    app = create_app(make_settings(database_url), warm_up=False)
    async with running(app) as address:
        subscribed = asyncio.Event()
        listener = asyncio.create_task(frames_until_done(address, subscribed))
        await asyncio.wait_for(subscribed.wait(), 30)
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as client:
            accepted = await client.post("/api/backtest", json=SMALL, headers=AUTH)
            assert accepted.status_code == 202, accepted.text
            job = accepted.json()
            assert accepted.headers["location"] == f"/api/jobs/{job['job_id']}"
            frames = await asyncio.wait_for(listener, 600)

            async def done() -> bool:
                state = (await client.get(f"/api/jobs/{job['job_id']}")).json()
                return bool(state["status"] == "done")

            await eventually(done)
            state = (await client.get(f"/api/jobs/{job['job_id']}")).json()
            listed = (await client.get("/api/backtest/results")).json()

    assert frames[-1]["type"] == "job_progress"
    assert frames[-1]["data"]["status"] == "done", frames[-1]
    assert any(f["data"]["status"] == "running" and f["data"]["total"] > 0 for f in frames)
    assert state["result_id"] == frames[-1]["data"]["result_id"]
    assert [r["id"] for r in listed["items"]] == [state["result_id"]]
    assert listed["items"][0]["symbols"] == SMALL["symbols"]
    assert listed["items"][0]["mode"] == "pipeline"
