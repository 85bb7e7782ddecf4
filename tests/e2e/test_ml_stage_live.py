"""Stage 3 live: the signals service and the ml service, each as it runs, over a real
nats-server and database, score candidates exactly as the pure pipeline scores them with
the same model in-process. The signals service sends feature rows and reads the answer in
columns; this checks that the two services agree on that contract, end to end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from faststream.nats import TestApp
from nats.js import JetStreamContext

from swingflow_common import subjects
from swingflow_common.bus import ensure_streams, publish
from swingflow_common.config import load_config
from swingflow_common.data import load_builtin
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.db.models import SignalRow
from swingflow_common.messages import CandidateSignal, ConfirmedSignal
from swingflow_common.ml.labels import TradeLabel
from swingflow_common.ml.model import ScoringModel
from swingflow_common.ml.scorer import ModelScorer
from swingflow_common.ml.train import TrainParams, train, training_set
from swingflow_common.pipeline import evaluate, score_batch
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.testing import eventually, stream_payloads
from swingflow_ml.app import build_app
from swingflow_ml.settings import Settings as MlSettings
from swingflow_signals.app import build_service
from swingflow_signals.settings import Settings as SignalsSettings

pytestmark = pytest.mark.integration

CONFIG_FILE = Path("swing_config.json")


def real_candidates() -> list[CandidateSignal]:
    """Real candidates of a few S&P 500 symbols (their full snapshots)."""
    data = load_builtin("sp500-2010")
    symbols = sorted(data.bars)[::60][:8]
    return candidates_over_history(data.select(symbols), load_config(CONFIG_FILE))


def model_on(candidates: list[CandidateSignal]) -> ScoringModel:
    """A small model trained on these candidates, labelled by their RSI with noise (the
    labels are made up: this checks the plumbing, not the model)."""
    rng = np.random.default_rng(11)
    pairs = []
    for day, c in enumerate(candidates):
        won = bool(rng.random() < (0.75 if (c.features.get("rsi_14") or 0.0) > 50 else 0.25))
        exit_ts = c.ts + timedelta(days=5)
        label = TradeLabel(c.id, c.symbol, c.setup, c.ts, day, day + 1, day + 5, exit_ts,
                           "target" if won else "stop", 4, 0.05 if won else -0.03, won)  # fmt: skip
        pairs.append((c, label))
    params = TrainParams(n_folds=2, n_estimators=20, n_bootstrap=20, nthread=1)
    model = train(training_set(pairs, load_config(CONFIG_FILE)), params).model
    model.booster.set_param({"nthread": 1})
    return model


async def judged(url: str) -> dict[str, SignalRow]:
    engine = engine_from_url(url)
    try:
        async with session_factory(engine)() as session:
            rows = (await session.scalars(sa.select(SignalRow))).all()
    finally:
        await engine.dispose()
    return {r.id: r for r in rows if r.status != "candidate"}


async def test_the_services_score_stage_3_as_the_pipeline_does_with_the_same_model(
    js: JetStreamContext, nats_url: str, database_url: str
) -> None:
    candidates = real_candidates()
    assert len(candidates) >= 20
    config = load_config(CONFIG_FILE)
    model = model_on(candidates)
    scorer = ModelScorer(model, config)
    expected = {
        c.id: evaluate(c, config, outcome)
        for c, outcome in zip(candidates, score_batch(candidates, scorer, config), strict=True)
    }
    await ensure_streams(js)
    ml = build_app(MlSettings(nats_url=nats_url, database_url=database_url), scorer=scorer)
    signals = build_service(SignalsSettings(
        nats_url=nats_url, database_url=database_url, swingflow_config=CONFIG_FILE,
        fetch_timeout=0.1, ml_timeout=10.0,
    ))  # fmt: skip
    async with TestApp(ml), TestApp(signals.app):
        for c in candidates:
            await publish(js, subjects.candidates(c.symbol), c)

        async def all_judged() -> bool:
            return len(await judged(database_url)) == len(candidates)

        await eventually(all_judged, within=60)
    rows = await judged(database_url)
    confirmed = {
        s.id: s
        for s in (
            ConfirmedSignal.model_validate_json(raw)
            for raw in await stream_payloads(js, "SIGNALS", "signals.confirmed.")
        )
    }

    assert {r.model_version for r in rows.values()} == {model.version}
    for c in candidates:
        want, row = expected[c.id], rows[c.id]
        assert not want.ml_confidence.neutral
        assert (row.status, row.score_ml_confidence) == (want.status, want.ml_confidence.score)
    wanted = {e.signal.id: e.signal for e in expected.values() if e.signal is not None}
    assert wanted
    assert confirmed.keys() == wanted.keys()
    for signal_id, signal in confirmed.items():  # the same signals, but for when they were made
        assert signal == wanted[signal_id].model_copy(update={"ts_event": signal.ts_event})
        assert signal.ml_contributions
