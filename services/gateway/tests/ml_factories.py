"""Registered ML models for the gateway tests: a real (small) training on arrays with a
known signal in them, saved and registered through the registry like `swingflow train`
does, so the API reads the very report the trainer writes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from swingflow_common.db.models import MlModelRow
from swingflow_common.ml import registry
from swingflow_common.ml.train import TrainingResult, TrainingSet, TrainParams, train

from .factories import Sessions

PARAMS = TrainParams(n_folds=3, n_estimators=20, n_bootstrap=200, nthread=1)


def training_set(n: int = 360, seed: int = 3) -> TrainingSet:
    """`n` trades a day apart, each lasting 8 days, whose outcome leans on feature `f0`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + rng.normal(scale=0.8, size=n) > 0).astype(np.int64)
    starts = np.datetime64("2020-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
    return TrainingSet(
        names=("f0", "f1", "f2", "f3"), x=x, y=y,
        returns=np.where(y == 1, 0.04, -0.02) - 0.001,
        starts=starts, ends=starts + np.timedelta64(8, "D"),
        signal_ids=tuple(f"S{i}" for i in range(n)), setups=("trend_pullback",) * n,
    )  # fmt: skip


def trained(seed: int = 3) -> TrainingResult:
    return train(training_set(seed=seed), PARAMS)


async def register(
    sessions: Sessions,
    result: TrainingResult,
    directory: Path,
    version: str,
    promote: bool = False,
    created: datetime | None = None,
) -> MlModelRow:
    """Save and register `result` as `version` (promoted if asked), as `record` does."""
    model = dataclasses.replace(result.model, version=version)
    path, sha = registry.save_model(model, directory)
    reason = "promoted in the test" if promote else "not promoted in the test"
    report = {**result.report, "version": version, "sha256": sha,
              "promotion": {"promoted": promote, "reason": reason, "previous": None}}  # fmt: skip
    window = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 4, tzinfo=UTC))
    async with sessions.begin() as session:
        metrics = {"summary": result.summary, "report": report}
        row = await registry.register(session, model, path, sha, metrics, window)
        if created is not None:
            row.created_at = created
        if promote:
            row = await registry.promote(session, version)
    return row


def later(minutes: int) -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
