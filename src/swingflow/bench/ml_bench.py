"""ML stage 3: training time on the bundled data, and `ml.predict` for 1,000 candidates,
inside the service and end to end over NATS.

1. training: `swingflow train`'s job (`ml.job.train_datasets`) on its default datasets,
   timed in three parts: candidates + labels, cross-validation + final model (one run);
2. inside the service: the 1,000 most recent real candidates of those datasets scored
   the way the `ml.predict` handler does it (the request validated as a MlPredictRequest,
   `ModelScorer.predict_json` for the reply's bytes) in one request, median of `REPEATS`
   with the heap frozen as the service freezes it (`swingflow_common.heap`), each with
   its median CPU time and the garbage collections met; the parts (decode, features,
   predict, Saabas contributions, top contributions, reply JSON) are timed apart, so a
   missed budget says where; `before` times, in the same run, the reply path before
   issue 7's second round (generic `decode`, reply objects validated then dumped: the
   same bytes, checked) and the path before its first round (features a candidate at a
   time, exact TreeSHAP); the batch matrix is checked equal to the per-candidate one;
   how the answered Saabas contributions compare with exact SHAP is reported;
3. over NATS: a nats-server and the ml service as its own process (`swingflow service ml`,
   the model promoted in a registry of its own), one client sending the same 1,000
   candidates in concurrent requests of 64 (as the signals service does; the budget is
   judged on these) and of 250 (the fewest that fit: the 1,000 in one request, about
   2.6 MB, exceed NATS's 1 MB payload limit, which the platform's nats.conf keeps);
   median and p95 of `REPEATS` round trips of the whole batch, and the CPU the service
   and the client used per round trip.

Budgets (issue 7): 1,000 predictions within 20 ms inside the service, 50 ms over NATS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from swingflow.bench.common import write_result
from swingflow_common.config import load_config
from swingflow_common.data import load_builtin
from swingflow_common.messages import MlPredictReply, MlPredictRequest

DATASETS = ("bokeh-2000-2013-adjusted", "megacaps-2013-2023")
BATCH = 1_000
REPEATS = 15
BASELINE_REPEATS = 5  # the path before this work takes seconds a run on the loaded machine
CHUNKS = (64, 250)  # as the signals service sends; the fewest requests under NATS's 1 MB
BUDGET_SERVICE_MS, BUDGET_NATS_MS = 20.0, 50.0


def _ms(runs: list[float]) -> dict[str, float]:
    ordered = sorted(runs)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(runs) * 1e3, "p95_ms": p95 * 1e3,
            "min_ms": ordered[0] * 1e3}  # fmt: skip


def _timed(fn: Any, repeats: int = REPEATS) -> list[float]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return runs


def _with_cpu(fn: Any, repeats: int = REPEATS) -> dict[str, Any]:
    """Wall-clock figures of `fn`, its median CPU time (what the shared machine's load
    inflates less), and the collections the runs met, by generation."""
    return _interleaved({"fn": fn}, repeats)["fn"]


def _interleaved(fns: dict[str, Any], repeats: int = REPEATS) -> dict[str, dict[str, Any]]:
    """`_with_cpu` of each of `fns`, run in turn, one run of each per round: a load that
    changes during the measurement weighs on each alike."""
    collections = {name: [0, 0, 0] for name in fns}
    running: list[str] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and running:
            collections[running[0]][info["generation"]] += 1

    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    gc.callbacks.append(count)
    try:
        for _ in range(repeats):
            for name, fn in fns.items():
                running[:] = [name]
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                cpu[name].append(time.process_time() - c0)
                wall[name].append(time.perf_counter() - t0)
                running.clear()
    finally:
        gc.callbacks.remove(count)
    return {
        name: {**_ms(wall[name]), "cpu_median_ms": statistics.median(cpu[name]) * 1e3,
               "gc_collections_by_generation": collections[name]}
        for name in fns
    }  # fmt: skip


def _inside(scorer: Any, payload: bytes) -> dict[str, Any]:
    """The handler's work on one request of the batch, now and as it was (same run)."""
    from pydantic_core import to_json

    from swingflow_common.heap import freeze_startup_heap
    from swingflow_common.messages import decode
    from swingflow_common.ml.features import feature_matrix, feature_matrix_rows
    from swingflow_common.ml.scorer import Scores, top_features

    model, config = scorer.model, scorer.config

    def handle() -> bytes:
        """What the service's handler does: the request validated as a MlPredictRequest,
        the reply's bytes built without the reply objects."""
        request = MlPredictRequest.model_validate_json(payload)
        answer: bytes = scorer.predict_json(request.candidates)
        return answer

    def handle_objects() -> bytes:
        """The reply path before issue 7's second round: the generic `decode`, the reply
        validated into objects, then dumped (the features and messages as they are now)."""
        request = decode(payload)
        assert isinstance(request, MlPredictRequest)
        reply: MlPredictReply = scorer.predict(request.candidates)
        return reply.model_dump_json().encode()

    def handle_before() -> bytes:
        """The path before issue 7's first round: features a candidate at a time
        (confirm/time_entry each), exact TreeSHAP contributions."""
        request = decode(payload)
        assert isinstance(request, MlPredictRequest)
        x = feature_matrix_rows(request.candidates, model.names, config)
        probability = np.clip(model.probabilities(x), 0.0, 1.0)
        contrib = model.contributions(x, exact=True)[:, :-1]
        scores = Scores(x, probability, contrib, top_features(contrib, 5))
        reply = scorer.reply(request.candidates, scores)
        return bytes(reply.model_dump_json().encode())

    request = decode(payload)
    assert isinstance(request, MlPredictRequest)
    cands = request.candidates
    x = feature_matrix(cands, model.names, config)
    assert np.array_equal(x, feature_matrix_rows(cands, model.names, config), equal_nan=True)
    probability = np.clip(model.probabilities(x), 0.0, 1.0)
    contrib = model.contributions(x, exact=False)[:, :-1]
    top = top_features(contrib, scorer.top)
    scores = Scores(x, probability, contrib, top)
    scorer.reply(cands, scores)  # warm the validated path
    assert handle() == handle_objects()  # the same bytes on the wire
    freeze_startup_heap()  # as the service does once started
    handlers = _interleaved({"now": handle, "reply_objects": handle_objects})
    return {
        "handler": handlers["now"],
        "parts": {
            "decode_request": _with_cpu(lambda: MlPredictRequest.model_validate_json(payload)),
            "decode_request_generic": _with_cpu(lambda: decode(payload)),
            "features": _with_cpu(lambda: feature_matrix(cands, model.names, config)),
            "predict": _with_cpu(lambda: model.probabilities(x)),
            "contributions_saabas": _with_cpu(lambda: model.contributions(x, exact=False)),
            "top_contributions": _with_cpu(lambda: top_features(contrib, scorer.top)),
            "reply_json": _with_cpu(
                lambda: to_json(scorer.reply_content(cands, scores))
            ),
            "predict_json_total": _with_cpu(lambda: scorer.predict_json(cands)),
        },
        "before": {
            "handler_reply_objects": handlers["reply_objects"],  # interleaved with "handler"
            "reply_objects_and_encode": _with_cpu(
                lambda: scorer.reply(cands, scores)
                .model_dump_json().encode()
            ),
            "handler_first_round": _ms(_timed(handle_before, BASELINE_REPEATS)),
            "features_per_candidate": _ms(
                _timed(lambda: feature_matrix_rows(cands, model.names, config), BASELINE_REPEATS)
            ),
            "contributions_exact_shap": _ms(
                _timed(lambda: model.contributions(x, exact=True), BASELINE_REPEATS)
            ),
        },
        "contributions_saabas_vs_exact": _agreement(model, x, scorer.top),
    }  # fmt: skip


def _agreement(model: Any, x: Any, k: int) -> dict[str, float]:
    """How the answered (Saabas) contributions compare with exact SHAP on these rows."""
    from swingflow_common.ml.scorer import top_features

    exact, approx = model.contributions(x, exact=True), model.contributions(x, exact=False)
    te, ta = top_features(exact[:, :-1], k), top_features(approx[:, :-1], k)
    overlap = [len(set(a) & set(b)) / k for a, b in zip(te.tolist(), ta.tolist(), strict=True)]
    same_sign = np.sign(exact[:, :-1]) == np.sign(approx[:, :-1])
    return {
        "top1_same_feature": float((te[:, 0] == ta[:, 0]).mean()),
        "topk_overlap": float(np.mean(overlap)),
        "same_sign_share": float(same_sign.mean()),
        "max_abs_sum_difference": float(np.abs(exact.sum(1) - approx.sum(1)).max()),
    }


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _over_nats(
    workdir: Path, row: Any, chunkings: dict[int, list[bytes]], probe: bytes
) -> dict[str, Any]:
    import nats

    from swingflow_common.bus.server import NatsServer

    async with NatsServer(store_dir=workdir / "nats") as server:
        env = {**os.environ, "NATS_URL": server.url, "DATABASE_URL": row["database_url"],
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        cmd = [sys.executable, "-c", "from swingflow_ml.app import main; main()"]
        service = await asyncio.create_subprocess_exec(*cmd, env=env)
        try:
            client = await nats.connect(server.url)
            replies: list[MlPredictReply] = []

            async def ready() -> bool:
                try:
                    answer = await client.request("ml.predict", probe, timeout=5)
                except Exception:  # not subscribed yet
                    return False
                replies.append(MlPredictReply.model_validate_json(answer.data))
                return bool(replies[-1].model_version == row["version"])

            deadline = time.monotonic() + 300  # the service imports XGBoost first
            while not await ready():
                if time.monotonic() > deadline:
                    seen = replies[-1].model_version if replies else "no answer"
                    raise RuntimeError(f"the ml service never answered with the model ({seen})")
                await asyncio.sleep(0.5)
            out: dict[str, Any] = {}
            for size, chunks in chunkings.items():
                runs = []
                service_cpu, client_cpu = _process_cpu(service.pid), time.process_time()
                for _ in range(REPEATS):
                    t0 = time.perf_counter()
                    answers = await asyncio.gather(
                        *(client.request("ml.predict", chunk, timeout=60) for chunk in chunks)
                    )
                    runs.append(time.perf_counter() - t0)
                service_cpu = (_process_cpu(service.pid) - service_cpu) / REPEATS
                client_cpu = (time.process_time() - client_cpu) / REPEATS
                predictions = sum(
                    len(MlPredictReply.model_validate_json(a.data).predictions) for a in answers
                )
                out[f"chunks_of_{size}"] = {
                    **_ms(runs), "predictions": predictions, "requests": len(chunks),
                    "request_bytes": sum(map(len, chunks)),
                    "largest_request_bytes": max(map(len, chunks)),
                    "reply_bytes": sum(len(a.data) for a in answers),
                    "service_cpu_ms_per_round": service_cpu * 1e3,
                    "client_cpu_ms_per_round": client_cpu * 1e3,
                }  # fmt: skip
            await client.drain()
        finally:
            service.terminate()
            await asyncio.wait_for(service.wait(), 20)
    return out


async def _register(workdir: Path, model: Any) -> dict[str, str]:
    from swingflow_common.db import engine_from_url, session_factory
    from swingflow_common.db.migrate import migrate_async
    from swingflow_common.ml import registry

    url = f"sqlite+aiosqlite:///{workdir / 'registry.db'}"
    await migrate_async(url)
    path, sha = registry.save_model(model, workdir / "models")
    engine = engine_from_url(url)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    async with session_factory(engine).begin() as session:
        await registry.register(session, model, path, sha, {}, (start, start))
        await registry.promote(session, model.version)
    await engine.dispose()
    return {"database_url": url, "version": model.version}


def run(console: Console) -> None:
    from swingflow_common.ml.history import labeled_history
    from swingflow_common.ml.scorer import ModelScorer
    from swingflow_common.ml.train import TrainParams, train, training_set

    config = load_config()
    datasets = [load_builtin(name) for name in DATASETS]
    t0 = time.perf_counter()
    histories = [labeled_history(d, config) for d in datasets]
    t1 = time.perf_counter()
    pairs = {c.id: (c, t) for h in histories for c, t in h.pairs}
    data = training_set(list(pairs.values()), config)
    result = train(data, TrainParams())
    t2 = time.perf_counter()
    console.print(f"training: labels {t1 - t0:.1f} s, CV + final model {t2 - t1:.1f} s")
    model = dataclasses.replace(result.model, version="bench")
    model.booster.set_param({"nthread": 1})  # as the service's model, loaded from its file
    candidates = sorted((c for c, _ in pairs.values()), key=lambda c: c.ts)[-BATCH:]
    payload = MlPredictRequest(candidates=tuple(candidates)).model_dump_json().encode()
    scorer = ModelScorer(model, config)
    inside = _inside(scorer, payload)
    console.print(f"inside the service: {json.dumps(inside)}")
    with tempfile.TemporaryDirectory() as tmp:
        row = asyncio.run(_register(Path(tmp), model))
        probe = MlPredictRequest(candidates=tuple(candidates[:1])).model_dump_json().encode()
        chunkings = {
            size: [
                MlPredictRequest(candidates=tuple(candidates[i : i + size]))
                .model_dump_json()
                .encode()
                for i in range(0, len(candidates), size)
            ]
            for size in CHUNKS
        }
        nats_figures = asyncio.run(_over_nats(Path(tmp), row, chunkings, probe))
    console.print(f"over NATS: {json.dumps(nats_figures)}")
    service_ms = inside["handler"]["median_ms"]
    nats_ms = nats_figures[f"chunks_of_{CHUNKS[0]}"]["median_ms"]  # as the signals service sends
    payload_out = {
        "datasets": list(DATASETS),
        "training": {"labels_s": t1 - t0, "cv_and_final_model_s": t2 - t1, "total_s": t2 - t0,
                     "samples": len(data), "features": len(data.names),
                     "params": dataclasses.asdict(TrainParams())},
        "batch": BATCH, "repeats": REPEATS,
        "inside_service": inside,
        "over_nats": nats_figures,
        "budgets_ms": {"inside_service": BUDGET_SERVICE_MS, "over_nats": BUDGET_NATS_MS},
        "within_budget": {"inside_service": service_ms <= BUDGET_SERVICE_MS,
                          "over_nats": nats_ms <= BUDGET_NATS_MS,
                          "over_nats_fewest_requests": min(
                              v["median_ms"] for v in nats_figures.values()) <= BUDGET_NATS_MS},
        "load_average": os.getloadavg(),
    }  # fmt: skip
    path = write_result("ml", payload_out)
    before = inside["before"]["handler_reply_objects"]
    console.print(f"before (same run, the reply objects' path): {before['median_ms']:.1f} ms, "
                  f"CPU {before['cpu_median_ms']:.1f} ms; now CPU "
                  f"{inside['handler']['cpu_median_ms']:.1f} ms")  # fmt: skip
    console.print(f"ml.predict x {BATCH}: {service_ms:.1f} ms inside the service (budget "
                  f"{BUDGET_SERVICE_MS:.0f}), {nats_ms:.1f} ms over NATS (budget "
                  f"{BUDGET_NATS_MS:.0f}); written to {path}")  # fmt: skip
