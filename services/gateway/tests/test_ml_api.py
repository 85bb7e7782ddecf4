"""`/api/ml`: the registered models with their out-of-sample figures, one model's whole
report, the token-guarded training job, and `ml.models.updated` relayed on `models`."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js import JetStreamContext
from websockets.asyncio.client import connect

from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.ml import registry
from swingflow_common.testing import eventually
from swingflow_gateway.app import create_app

from .helpers import TOKEN, running, serve
from .ml_factories import PARAMS, later, register, trained

AUTH = {"Authorization": f"Bearer {TOKEN}"}
# 2 synthetic symbols x 500 bars: the smallest universe with enough labeled candidates
SMALL = {"universes": ["synthetic:2x500:21"], "params": {"n_folds": 3, "n_estimators": 20,
                                                          "n_bootstrap": 100}}  # fmt: skip


async def seed_two(url: str, directory: Path) -> None:
    """m-old (promoted), then m-new (not): the list must show the newest first."""
    engine = engine_from_url(url)
    try:
        sessions = session_factory(engine)
        result = trained()
        await register(sessions, result, directory, "m-old", promote=True, created=later(0))
        await register(sessions, result, directory, "m-new", created=later(5))
    finally:
        await engine.dispose()


async def test_models_are_listed_newest_first_with_their_out_of_sample_headline(
    database_url: str, make_settings: Any, tmp_path: Path
) -> None:
    await seed_two(database_url, tmp_path)
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        page = (await client.get("/api/ml/models")).json()
        second = (await client.get("/api/ml/models", params={"limit": 1, "offset": 1})).json()

    assert [m["version"] for m in page["items"]] == ["m-new", "m-old"]
    assert [m["promoted"] for m in page["items"]] == [False, True]
    assert page["total"] == 2
    assert [m["version"] for m in second["items"]] == ["m-old"]
    new = page["items"][0]
    summary = trained().summary
    assert new["metrics"]["oos_brier"] == pytest.approx(summary["oos_brier"])
    assert new["metrics"]["oos_auc"] == pytest.approx(summary["oos_auc"])
    assert new["samples"] == 360
    assert new["n_features"] == 4
    assert new["train_start"].startswith("2020-01-01")
    lo, hi = new["expectancy_lift_ci"]
    assert lo <= summary["oos_expectancy_lift"] <= hi
    assert new["promotion_reason"] == "not promoted in the test"


async def test_a_model_reads_whole_folds_calibration_lift_and_importance(
    database_url: str, make_settings: Any, tmp_path: Path
) -> None:
    await seed_two(database_url, tmp_path)
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        answer = await client.get("/api/ml/models/m-old")
    assert answer.status_code == 200
    model = answer.json()
    report = trained().report
    oos = report["out_of_sample"]

    assert model["promoted"] is True
    assert model["features"] == ["f0", "f1", "f2", "f3"]
    assert len(model["folds"]) == PARAMS.n_folds
    assert sum(f["n"] for f in model["folds"]) == model["out_of_sample"]["n"] == oos["n"]
    assert all(f["test_start"] <= f["test_end"] for f in model["folds"])
    assert sum(b["n"] for b in model["calibration"]) == oos["n"]
    assert all(0 <= b["observed"] <= 1 and b["low"] <= b["predicted"] <= b["high"]
               for b in model["calibration"])  # fmt: skip
    lift = model["lift"]
    assert lift["kept"] == oos["lift"]["kept"]
    assert lift["expectancy_lift"] == pytest.approx(
        lift["expectancy_kept"] - lift["expectancy_all"]
    )
    assert len(lift["win_rate_lift_ci"]) == 2
    # the outcome leans on f0 only: it must carry the most weight out of sample
    importance = [i["mean_abs_shap"] for i in model["importance"]]
    assert model["importance"][0]["feature"] == "f0"
    assert importance == sorted(importance, reverse=True)
    assert model["params"]["n_folds"] == PARAMS.n_folds


async def test_unknown_or_malformed_versions_are_4xx_with_a_reason(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        empty = (await client.get("/api/ml/models")).json()
        missing = await client.get("/api/ml/models/m-nope")
        malformed = await client.get("/api/ml/models/..%2Fetc")
    assert empty == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert missing.status_code == 404
    assert "m-nope" in missing.json()["detail"]
    assert malformed.status_code in (404, 422)


async def test_training_needs_the_token_and_a_valid_request(
    database_url: str, make_settings: Any
) -> None:
    async with serve(create_app(make_settings(database_url), warm_up=False)) as client:
        anonymous = await client.post("/api/ml/train", json=SMALL)
        wrong = await client.post(
            "/api/ml/train", json=SMALL, headers={"Authorization": "Bearer x"}
        )
        path = await client.post("/api/ml/train", json={"universes": ["/etc"]}, headers=AUTH)
        backwards = await client.post(
            "/api/ml/train", json={"start": "2024-02-01", "end": "2024-01-01"}, headers=AUTH
        )
        folds = await client.post("/api/ml/train", json={"params": {"n_folds": 1}}, headers=AUTH)
        unknown = await client.post("/api/ml/train", json={"epochs": 3}, headers=AUTH)
        twice = await client.post(
            "/api/ml/train", json={"universes": ["sp500-2010", "sp500-2010"]}, headers=AUTH
        )
        jobs = (await client.get("/api/jobs")).json()

    assert anonymous.status_code == wrong.status_code == 401
    for answer, words in ((path, "universes"), (backwards, "after end"),
                          (folds, "n_folds"), (unknown, "epochs"), (twice, "twice")):  # fmt: skip
        assert answer.status_code == 422, answer.text
        assert words in answer.json()["detail"]
    assert jobs == []


async def jobs_and_models(address: str, subscribed: asyncio.Event) -> list[dict[str, Any]]:
    """Frames of `jobs` and `models` until the job ends and, when it promoted its model,
    until that model's announcement came too (it may come before or after `done`)."""
    frames: list[dict[str, Any]] = []
    async with connect(f"ws://{address}/ws") as ws:
        await ws.send(json.dumps({"type": "subscribe", "channels": ["jobs", "models"]}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 900))
            if frame["type"] == "hello" and {"jobs", "models"} <= set(frame["data"]["channels"]):
                subscribed.set()
            if frame["channel"] not in ("jobs", "models"):
                continue
            frames.append(frame)
            end = next((f["data"] for f in frames if f["data"].get("status") in ("done", "failed")),
                       None)  # fmt: skip
            if end is None:
                continue
            if end["status"] == "failed" or any(f["channel"] == "models" for f in frames):
                return frames
            async with httpx.AsyncClient(base_url=f"http://{address}") as client:
                model = (await client.get(f"/api/ml/models/{end['result_id']}")).json()
            if not model["promoted"]:
                return frames


def with_model_dir(make_settings: Any, database_url: str, nats_url: str, tmp_path: Path) -> Any:
    settings = make_settings(database_url, nats_url)
    config = json.loads(settings.swingflow_config.read_text())
    config["ml_model_path"] = str(tmp_path / "models")
    settings.swingflow_config.write_text(json.dumps(config))
    return settings


async def test_a_training_job_reports_progress_registers_and_announces_a_promotion(
    database_url: str, nats_url: str, js: JetStreamContext, make_settings: Any, tmp_path: Path
) -> None:
    settings = with_model_dir(make_settings, database_url, nats_url, tmp_path)
    app = create_app(settings, warm_up=False)
    async with running(app) as address, httpx.AsyncClient(timeout=30) as client:
        client.base_url = httpx.URL(f"http://{address}")
        await eventually(lambda: _ready(client), within=30)
        subscribed = asyncio.Event()
        listener = asyncio.create_task(jobs_and_models(address, subscribed))
        await asyncio.wait_for(subscribed.wait(), 30)
        accepted = await client.post("/api/ml/train", json=SMALL, headers=AUTH)
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()
        assert job["kind"] == "train"
        assert accepted.headers["location"] == f"/api/jobs/{job['job_id']}"
        frames = await asyncio.wait_for(listener, 900)
        listed = (await client.get("/api/ml/models")).json()
        trainings = (await client.get("/api/ml/train")).json()

    progress = [f["data"] for f in frames if f["channel"] == "jobs"]
    assert progress[-1]["status"] == "done", progress[-1]
    assert any(p["status"] == "running" and p["stage"].startswith("labels") for p in progress)
    assert any(p["stage"] == "folds" and p["total"] > 0 for p in progress)
    version = progress[-1]["result_id"]
    assert [(t["job_id"], t["result_id"]) for t in trainings] == [(job["job_id"], version)]
    [model] = listed["items"]
    assert model["version"] == version
    assert f"{version}.json" in os.listdir(tmp_path / "models")
    # the registry decided: promoted exactly when it beat the neutral stage out of sample
    assert model["promoted"] == (model["metrics"]["oos_brier"] < registry.NEUTRAL_BRIER)
    announced = [f["data"] for f in frames if f["channel"] == "models"]
    assert [a["version"] for a in announced] == ([version] if model["promoted"] else [])


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_an_announced_model_reaches_models_subscribers(
    database_url: str, nats_url: str, js: JetStreamContext, make_settings: Any, tmp_path: Path
) -> None:
    """The announcement `swingflow train` (or the ml registry) publishes is relayed as is."""
    await seed_two(database_url, tmp_path)
    engine = engine_from_url(database_url)
    async with session_factory(engine)() as session:
        row = await registry.get_model(session, "m-old")
    await engine.dispose()
    assert row is not None
    app = create_app(make_settings(database_url, nats_url), warm_up=False)
    async with running(app) as address:
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            await eventually(lambda: _ready(client), within=30)
        async with connect(f"ws://{address}/ws") as ws:
            await ws.send(json.dumps({"type": "subscribe", "channels": ["models"]}))
            while (frame := json.loads(await asyncio.wait_for(ws.recv(), 10)))["type"] != "hello" \
                    or "models" not in frame["data"]["channels"]:  # fmt: skip
                pass
            publisher = await nats.connect(nats_url)
            await registry.announce(publisher, registry.model_updated(row))
            await publisher.drain()
            while (frame := json.loads(await asyncio.wait_for(ws.recv(), 10)))[
                "channel"
            ] != "models":
                pass
    assert frame["type"] == "model_updated"
    assert frame["data"]["version"] == "m-old"
    assert frame["data"]["sha256"] == row.sha256
    assert frame["data"]["metrics"]["oos_brier"] == pytest.approx(
        row.metrics["summary"]["oos_brier"]
    )
