"""ML stage 3: training time on the bundled data, and `ml.predict` for 1,000 candidates,
inside the service and end to end over NATS.

1. training: `swingflow train`'s job (`ml.job.train_datasets`) on its default datasets,
   timed in three parts: candidates + labels, cross-validation + final model (one run);
2. inside the service: the 1,000 most recent real candidates of those datasets scored
   the way the `ml.predict` handler does it (the request validated as a MlPredictRequest,
   `ModelScorer.predict_json_many` for the reply's bytes) in one request of feature rows,
   as the signals service sends them; median of `REPEATS` with the heap frozen as the
   service freezes it (`swingflow_common.heap`), each with its median CPU time and the
   garbage collections met: `handler` (judged) runs rows requests one after the other,
   as the service meets them; `handler_interleaved` alternates them with whole-candidate
   requests (slower: the 2.6 MB request leaves the caches cold). The parts (decode, rows
   to the model's columns, leaves, margins, Saabas contributions, top contributions,
   reply JSON) are timed apart, so a missed budget says where, and so is the sender's
   side (feature rows from candidates, the request's JSON, the reply's validation).
   `before` times, in the same run, a request of whole candidates (interleaved with the
   rows), its decode and features, XGBoost's own margins and `approx_contribs`, and the
   path before issue 7's first round (features a candidate at a time, exact TreeSHAP).
   Checked: the rows' matrix equals the candidates' and the per-candidate one, the
   rows' predictions equal the candidates', the contributions equal XGBoost's
   `approx_contribs`; how they compare with exact SHAP is reported;
3. over NATS (`ml_over_nats`): a nats-server and the ml service as its own process
   (`swingflow service ml`, the model promoted in a registry of its own), one client
   sending the same 1,000 candidates in requests of 64 through the signals service's own
   client (`MlClient.ask`): the judged figure (`signals_client`) also times what that
   client does around the round trips (the feature rows, a wave of four requests at a
   time, each request's JSON, each reply's validation); `rows_64` and `rows_250` time
   the round trips of ready requests sent together, and `candidates_64`/`candidates_250`
   the whole-candidate requests (2.6 MB). Median and p95 of `REPEATS` rounds, and the CPU
   the service and the client used per round.

Budgets (issue 7): 1,000 predictions within 20 ms inside the service, 50 ms over NATS.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from swingflow.bench.common import write_result
from swingflow.bench.ml_over_nats import (
    JUDGED,
    REPEATS,
    over_nats,
    register,
    signals_ask,
    ways,
)
from swingflow.bench.ml_over_nats import ms as _ms
from swingflow_common.config import load_config
from swingflow_common.data import load_builtin
from swingflow_common.messages import MlPredictReply, MlPredictRequest

DATASETS = ("bokeh-2000-2013-adjusted", "megacaps-2013-2023")
BATCH = 1_000
BASELINE_REPEATS = 5  # the path before this work takes seconds a run on the loaded machine
BUDGET_SERVICE_MS, BUDGET_NATS_MS = 20.0, 50.0


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


def _inside(scorer: Any, candidates: list[Any]) -> dict[str, Any]:
    """The handler's work on one request of the batch, in both forms, and as it was."""
    from pydantic_core import to_json

    from swingflow_common.heap import freeze_startup_heap
    from swingflow_common.messages import decode
    from swingflow_common.ml.features import feature_matrix, feature_matrix_rows
    from swingflow_common.ml.rows import feature_rows, rows_matrix
    from swingflow_common.ml.scorer import Scores, top_features

    model, config = scorer.model, scorer.config
    cands = tuple(candidates)
    payload = MlPredictRequest(rows=feature_rows(cands, config)).model_dump_json().encode()
    whole = MlPredictRequest(candidates=cands).model_dump_json().encode()

    def handle(raw: bytes) -> bytes:
        """What the service's handler does: the request validated as a MlPredictRequest,
        the reply's bytes built without the reply objects."""
        request = MlPredictRequest.model_validate_json(raw)
        answer: bytes = scorer.predict_json_many([request])[0]
        return answer

    def handle_before() -> bytes:
        """The path before issue 7's first round: whole candidates, features a candidate
        at a time (confirm/time_entry each), exact TreeSHAP contributions."""
        request = decode(whole)
        assert isinstance(request, MlPredictRequest)
        x = feature_matrix_rows(request.candidates, model.names, config)
        probability = np.clip(model.probabilities(x), 0.0, 1.0)
        contrib = model.contributions(x, exact=True)[:, :-1]
        scores = Scores(x, probability, contrib, top_features(contrib, 5))
        reply = scorer.reply(request.candidates, scores)
        return bytes(reply.model_dump_json().encode())

    rows = MlPredictRequest.model_validate_json(payload).rows
    assert rows is not None
    x = feature_matrix(cands, model.names, config)
    assert np.array_equal(x, feature_matrix_rows(cands, model.names, config), equal_nan=True)
    assert np.array_equal(x, rows_matrix(rows, model.names), equal_nan=True)
    scores = scorer.score_matrix(x)
    leaves = model.paths.leaves(model.booster, x)
    answer = handle(payload)
    expected = scorer.predict(cands)  # the same predictions, in columns for rows
    assert MlPredictReply.model_validate_json(answer).all_predictions() == expected.predictions
    assert handle(whole) == expected.model_dump_json().encode()
    freeze_startup_heap()  # as the service does once started
    alone = _with_cpu(lambda: handle(payload))  # the service's steady state: rows after rows
    handlers = _interleaved({"rows": lambda: handle(payload), "candidates": lambda: handle(whole)})
    return {
        "request_bytes": {"rows": len(payload), "candidates": len(whole)},
        "handler": alone,
        "handler_interleaved": handlers["rows"],  # a rows request after a candidates one
        "parts": {
            "decode_request": _with_cpu(lambda: MlPredictRequest.model_validate_json(payload)),
            "rows_matrix": _with_cpu(lambda: rows_matrix(rows, model.names)),
            "leaves": _with_cpu(lambda: model.paths.leaves(model.booster, x)),
            "margins": _with_cpu(lambda: model.paths.margins(leaves)),
            "contributions_saabas": _with_cpu(lambda: model.paths.contributions(leaves)),
            "top_contributions": _with_cpu(lambda: top_features(scores.contrib, scorer.top)),
            "reply_json": _with_cpu(lambda: to_json(
                scorer.rows_content([c.id for c in cands], scores), inf_nan_mode="null"
            )),
        },
        "sender": {  # the signals service's side of a request of rows
            "feature_rows": _with_cpu(lambda: feature_rows(cands, config)),
            "encode_request": _with_cpu(
                lambda: MlPredictRequest(rows=rows).model_dump_json().encode()
            ),
            "decode_reply": _with_cpu(lambda: MlPredictReply.model_validate_json(answer)),
        },
        "before": {
            "handler_candidates": handlers["candidates"],  # interleaved with the rows
            "decode_request_candidates": _with_cpu(
                lambda: MlPredictRequest.model_validate_json(whole)
            ),
            "features_from_candidates": _with_cpu(
                lambda: feature_matrix(cands, model.names, config)
            ),
            "xgboost_margins_and_approx_contribs": _with_cpu(
                lambda: (model.margins(x), _xgboost_approx(model, x))
            ),
            "handler_first_round": _ms(_timed(handle_before, BASELINE_REPEATS)),
            "features_per_candidate": _ms(
                _timed(lambda: feature_matrix_rows(cands, model.names, config), BASELINE_REPEATS)
            ),
            "contributions_exact_shap": _ms(
                _timed(lambda: model.contributions(x, exact=True), BASELINE_REPEATS)
            ),
        },
        "contributions_saabas_vs_xgboost_approx_max_abs_difference": float(
            np.abs(model.contributions(x, exact=False) - _xgboost_approx(model, x)).max()
        ),
        "contributions_saabas_vs_exact": _agreement(model, x, scorer.top),
    }  # fmt: skip


def _xgboost_approx(model: Any, x: Any) -> Any:
    """XGBoost's own Saabas contributions (`approx_contribs`), calibrated as the model's."""
    import xgboost as xgb

    matrix = xgb.DMatrix(x, feature_names=list(model.names), nthread=1)
    raw = model.booster.predict(matrix, pred_contribs=True, approx_contribs=True)
    return model._calibrated(np.asarray(raw, dtype=np.float64))


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
    scorer = ModelScorer(model, config)
    inside = _inside(scorer, candidates)
    console.print(f"inside the service: {json.dumps(inside)}")
    with tempfile.TemporaryDirectory() as tmp:
        row = asyncio.run(register(Path(tmp), model))
        probe = MlPredictRequest(candidates=tuple(candidates[:1])).model_dump_json().encode()
        requests = ways(candidates, config)
        signals = signals_ask(candidates, config)
        nats_figures = asyncio.run(over_nats(Path(tmp), row, requests, probe, signals))
    console.print(f"over NATS: {json.dumps(nats_figures)}")
    service_ms = inside["handler"]["median_ms"]
    nats_ms = nats_figures[JUDGED]["median_ms"]  # as the signals service sends
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
                          "over_nats": nats_ms <= BUDGET_NATS_MS},
        "load_average": os.getloadavg(),
    }  # fmt: skip
    path = write_result("ml", payload_out)
    before = inside["before"]["handler_candidates"]
    console.print(f"whole candidates (same run): {before['median_ms']:.1f} ms, "
                  f"CPU {before['cpu_median_ms']:.1f} ms; feature rows: CPU "
                  f"{inside['handler']['cpu_median_ms']:.1f} ms")  # fmt: skip
    console.print(f"ml.predict x {BATCH}: {service_ms:.1f} ms inside the service (budget "
                  f"{BUDGET_SERVICE_MS:.0f}), {nats_ms:.1f} ms over NATS (budget "
                  f"{BUDGET_NATS_MS:.0f}); written to {path}")  # fmt: skip
