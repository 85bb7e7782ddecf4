"""A tiny real model for the service's tests: trained on hand-made candidates whose
`rsi_14` decides (with noise) whether the trade won, then saved and registered."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.config import StrategyConfig
from swingflow_common.db.models import MlModelRow
from swingflow_common.messages import CandidateSignal, StageScore, signal_id
from swingflow_common.ml import registry
from swingflow_common.ml.labels import TradeLabel
from swingflow_common.ml.model import ScoringModel
from swingflow_common.ml.train import TrainParams, train, training_set

START = datetime(2020, 1, 1, tzinfo=UTC)
CONFIG = StrategyConfig()


def candidate(symbol: str, day: int, rsi: float, setup: str = "trend_pullback") -> CandidateSignal:
    ts = START + timedelta(days=day)
    base = StageScore(stage="base_signal", score=0.7, minimum=0.5, passed=True, reason="t")
    features: dict[str, float | None] = {
        "close": 100.0, "rsi_14": rsi, "adx_14": 20 + day % 15, "sma_200": 90.0, "sma_50": 95.0,
        "atr_14": 2.0,
    }  # fmt: skip
    return CandidateSignal(
        id=signal_id(symbol, ts, setup), symbol=symbol, ts=ts, setup=setup, close=100.0,
        atr=2.0, base=base, features=features, ts_event=ts,
    )  # fmt: skip


@cache
def tiny_model() -> ScoringModel:
    rng = np.random.default_rng(5)
    pairs = []
    for day in range(400):
        c = candidate("T", day, float(rng.uniform(20, 80)))
        won = int(rng.random() < (0.8 if (c.features["rsi_14"] or 0) > 50 else 0.2))
        exit_ts = c.ts + timedelta(days=int(rng.integers(2, 15)))
        label = TradeLabel(c.id, "T", c.setup, c.ts, day, day + 1, day + 5, exit_ts,
                           "target" if won else "stop", 4, 0.05 if won else -0.03, won)  # fmt: skip
        pairs.append((c, label))
    params = TrainParams(n_folds=2, n_estimators=30, n_bootstrap=50, nthread=1)
    return train(training_set(pairs, CONFIG), params).model


async def registered(
    sessions: async_sessionmaker[AsyncSession], directory: Path, version: str, promote: bool
) -> MlModelRow:
    """Save the tiny model as `version`, register it (and promote it)."""
    model = dataclasses.replace(tiny_model(), version=version)
    path, sha = registry.save_model(model, directory)
    window = (START, START + timedelta(days=400))
    async with sessions.begin() as session:
        row = await registry.register(session, model, path, sha, {"summary": {"oos_brier": 0.2}},
                                      window)  # fmt: skip
        if promote:
            row = await registry.promote(session, version)
    return row
