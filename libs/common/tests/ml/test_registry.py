"""The registry on SQLite and PostgreSQL: a model file is loaded only when its sha256
matches, at most one model is promoted, and promotion needs better out-of-sample figures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.ml import registry
from swingflow_common.ml.model import ScoringModel
from swingflow_common.ml.train import TrainParams, train

from .factories import signal_set

WINDOW = (datetime(2018, 1, 1, tzinfo=UTC), datetime(2021, 12, 31, tzinfo=UTC))


@cache
def trained() -> ScoringModel:
    params = TrainParams(n_folds=2, n_estimators=20, n_bootstrap=50, nthread=1)
    return train(signal_set(n=400), params).model


def saved(directory: Path, version: str) -> tuple[ScoringModel, Path, str]:
    model = dataclasses.replace(trained(), version=version)
    path, sha = registry.save_model(model, directory)
    return model, path, sha


def test_a_file_whose_hash_does_not_match_is_refused(tmp_path: Path) -> None:
    model, path, sha = saved(tmp_path, "m1")
    loaded = registry.load_verified(path, sha)
    x = signal_set(n=50).x
    assert np.allclose(loaded.probabilities(x), model.probabilities(x))
    assert loaded.version == "m1"

    path.write_text(path.read_text().replace('"m1"', '"m2"'))  # one attribute changed
    with pytest.raises(registry.ModelIntegrityError, match="refusing to load"):
        registry.load_verified(path, sha)
    with pytest.raises(registry.ModelIntegrityError, match="does not exist"):
        registry.load_verified(tmp_path / "gone.json", sha)
    with pytest.raises(FileExistsError):
        registry.save_model(model, tmp_path)  # a version is written once


def test_promotion_needs_better_out_of_sample_figures() -> None:
    assert registry.should_promote({"oos_brier": 0.26, "oos_brier_skill": 0.1}, None)[0] is False
    ok, why = registry.should_promote({"oos_brier": 0.24, "oos_brier_skill": -0.01}, None)
    assert ok
    assert "neutral" in why
    current = {"oos_brier": 0.22, "oos_brier_skill": 0.05}
    assert (
        registry.should_promote({"oos_brier": 0.21, "oos_brier_skill": 0.04}, current)[0] is False
    )
    assert registry.should_promote({"oos_brier": 0.23, "oos_brier_skill": 0.06}, current)[0]
    assert registry.should_promote({"oos_brier_skill": 0.9}, current)[0] is False


def test_json_safe_turns_nan_into_null() -> None:
    assert registry.json_safe({"a": float("nan"), "b": [1.0, float("inf")], "c": (2,)}) == {
        "a": None, "b": [1.0, None], "c": [2]}  # fmt: skip


async def test_register_promote_and_list(
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    first, p1, s1 = saved(tmp_path, "m20240101T000000")
    second, p2, s2 = saved(tmp_path, "m20240102T000000")
    metrics = {"summary": {"oos_brier": 0.24, "oos_auc": float("nan")}, "report": {"n": 3}}
    async with db_sessions.begin() as session:
        assert await registry.promoted(session) is None
        await registry.register(session, first, p1, s1, metrics, WINDOW)
        await registry.register(session, second, p2, s2, metrics, WINDOW)
        await registry.promote(session, first.version)
    async with db_sessions.begin() as session:
        await registry.promote(session, second.version)
    async with db_sessions() as session:
        current = await registry.promoted(session)
        rows = await registry.list_models(session)
        with pytest.raises(KeyError):
            await registry.promote(session, "nope")

    assert current is not None
    assert current.version == second.version
    assert [r.promoted for r in rows] == [True, False]  # newest first, only one promoted
    assert current.metrics["summary"] == {"oos_brier": 0.24, "oos_auc": None}
    assert current.features == list(second.names)
    assert (current.train_start, current.train_end) == WINDOW
    assert registry.summary_of(current) == {"oos_brier": 0.24}
    update = registry.model_updated(current)
    assert (update.version, update.path, update.sha256) == (second.version, str(p2), s2)
    assert registry.load_verified(current.path, current.sha256).version == second.version
