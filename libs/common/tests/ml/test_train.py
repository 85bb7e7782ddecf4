"""Training finds a real signal out of sample, reproducibly, and reports honestly; the
metrics say what they should on inputs a reader can check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swingflow_common.ml import metrics
from swingflow_common.ml.model import Calibration, ScoringModel, fit_calibration
from swingflow_common.ml.train import TrainParams, train

from .factories import signal_set

FAST = TrainParams(n_folds=3, n_estimators=40, n_bootstrap=200, nthread=1)


def test_a_real_signal_is_found_out_of_sample_with_lift() -> None:
    stages: list[tuple[str, int, int]] = []
    result = train(signal_set(), FAST, lambda s, d, t: stages.append((s, d, t)))
    oos = result.report["out_of_sample"]
    assert oos["auc"] > 0.75
    assert oos["brier_skill"] > 0.1
    lift = oos["lift"]
    assert lift["expectancy_kept"] > lift["expectancy_all"]
    low, high = lift["expectancy_lift_ci"]
    assert 0 < low <= lift["expectancy_lift"] <= high
    assert len(result.report["folds"]) == 3
    assert next(iter(result.report["importance_oos"])) == "f0"  # SHAP names the signal
    assert stages[-1] == ("folds", 5, 5)
    assert result.summary["oos_auc"] == oos["auc"]


def test_noise_is_reported_as_noise() -> None:
    result = train(signal_set(strength=0.0), FAST)
    oos = result.report["out_of_sample"]
    assert 0.4 < oos["auc"] < 0.6
    assert oos["brier_skill"] < 0.02  # no better than answering the training win rate


def test_training_is_deterministic() -> None:
    a = train(signal_set(n=600), FAST).report
    b = train(signal_set(n=600), FAST).report
    assert a == b


def test_contributions_add_up_to_the_calibrated_log_odds() -> None:
    data = signal_set(n=600)
    model = train(data, FAST).model
    x = data.x[:50]
    contributions = model.contributions(x)
    logit = np.log(model.probabilities(x) / (1 - model.probabilities(x)))
    assert contributions.shape == (50, 5)
    assert np.allclose(contributions.sum(axis=1), logit, atol=1e-4)


def test_saabas_contributions_add_up_too_and_differ_from_shap() -> None:
    """The ml service's cheap kind (`exact=False`): also additive, not Shapley values."""
    data = signal_set(n=600)
    model = train(data, FAST).model
    x = data.x[:50]
    saabas, shap = model.contributions(x, exact=False), model.contributions(x)
    logit = np.log(model.probabilities(x) / (1 - model.probabilities(x)))
    assert saabas.shape == shap.shape == (50, 5)
    assert np.allclose(saabas.sum(axis=1), logit, atol=1e-4)
    assert np.allclose(saabas[:, -1], shap[:, -1])  # the same bias: the mean margin
    assert not np.allclose(saabas, shap)


def test_a_saved_model_scores_the_same_after_loading(tmp_path: Path) -> None:
    data = signal_set(n=600)
    model = train(data, FAST).model
    path = tmp_path / "m.json"
    ScoringModel(model.booster, model.names, model.calibration, model.threshold, "m1").save(path)
    loaded = ScoringModel.load(path)
    assert (loaded.names, loaded.calibration, loaded.threshold, loaded.version) == (
        model.names, model.calibration, model.threshold, "m1")  # fmt: skip
    assert np.allclose(loaded.probabilities(data.x), model.probabilities(data.x))


def test_platt_calibration_maps_margins_to_observed_rates() -> None:
    rng = np.random.default_rng(0)
    margin = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 * margin - 1)))).astype(np.int64)
    fit = fit_calibration(margin, y)
    assert fit.slope == pytest.approx(0.5, abs=0.1)
    assert fit.intercept == pytest.approx(-1.0, abs=0.1)
    assert fit_calibration(margin[:10], np.ones(10, dtype=np.int64)) == Calibration()


def test_lift_and_calibration_table_on_hand_made_trades() -> None:
    y = np.array([1, 0, 1, 0, 0, 0], dtype=np.int64)
    returns = np.array([0.06, -0.04, 0.06, -0.04, -0.04, -0.04])
    p = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.15])
    out = metrics.lift(p >= 0.5, y, returns, n_boot=100, seed=1)
    assert out["win_rate_all"] == pytest.approx(2 / 6)
    assert out["win_rate_kept"] == pytest.approx(2 / 3)
    assert out["expectancy_kept"] == pytest.approx((0.06 - 0.04 + 0.06) / 3)
    assert out["expectancy_lift"] == pytest.approx(out["expectancy_kept"] - out["expectancy_all"])
    table = metrics.calibration_table(p, y, bins=2)
    assert [(r["n"], r["observed"]) for r in table] == [(3, 0.0), (3, pytest.approx(2 / 3))]
    c = metrics.classification(p, y, 0.5, 1 / 3)
    assert c["auc"] == 7 / 8  # 0.7 is ranked below the losing 0.8
    assert c["precision"] == pytest.approx(2 / 3)
    assert metrics.classification(p, np.zeros(6, dtype=np.int64), 0.5, 0.2)["auc"] is None
