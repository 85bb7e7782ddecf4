"""Saabas contributions and margins from each row's leaves equal XGBoost's own."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from swingflow_common.ml.model import Calibration, ScoringModel
from swingflow_common.ml.paths import DecisionPaths


def _data(rows: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 12))
    x[rng.random(x.shape) < 0.15] = np.nan  # missing values: XGBoost's default directions
    x[:, 3] = np.round(x[:, 3])  # ties on split values: float32 comparisons matter
    signal = np.nan_to_num(x[:, 0]) - 0.7 * np.nan_to_num(x[:, 3]) + 0.3 * rng.standard_normal(rows)
    return x, (signal > 0).astype(int)


def _booster(params: dict[str, object], rounds: int = 60) -> tuple[xgb.Booster, np.ndarray]:
    x, y = _data()
    booster = xgb.train({"nthread": 1, **params}, xgb.DMatrix(x, y), rounds)
    return booster, _data(500, seed=1)[0]


@pytest.mark.parametrize(
    "params",
    [
        {"objective": "binary:logistic", "max_depth": 3, "eta": 0.05},
        {"objective": "binary:logistic", "max_depth": 6, "min_child_weight": 40, "subsample": 0.7},
        {"objective": "binary:logitraw", "max_depth": 2, "base_score": 0.3},
        {"objective": "binary:logistic", "max_depth": 4, "gamma": 50.0},  # stumps, lone leaves
    ],
)
def test_margins_and_contributions_are_xgboosts_to_float32_precision(
    params: dict[str, object],
) -> None:
    booster, x = _booster(params)
    paths = DecisionPaths.of(booster)
    leaves = paths.leaves(booster, x)
    margins = paths.margins(leaves)
    expected = booster.inplace_predict(x, predict_type="margin")
    np.testing.assert_allclose(margins, expected, rtol=1e-6, atol=1e-6)
    contributions = paths.contributions(leaves)
    approx = booster.predict(xgb.DMatrix(x), pred_contribs=True, approx_contribs=True)
    assert contributions.shape == approx.shape
    np.testing.assert_allclose(contributions, approx, rtol=0, atol=2e-6)
    np.testing.assert_allclose(contributions.sum(axis=1), margins, rtol=0, atol=2e-5)


def test_a_model_scores_probabilities_and_contributions_in_one_pass() -> None:
    booster, x = _booster({"objective": "binary:logistic", "max_depth": 3})
    model = ScoringModel(booster, tuple(f"f{i}" for i in range(12)), Calibration(1.3, -0.2), 0.5)
    booster.feature_names = list(model.names)
    probability, contributions = model.score(x)
    np.testing.assert_allclose(probability, model.probabilities(x), rtol=0, atol=1e-6)
    assert np.array_equal(contributions, model.contributions(x, exact=False))
    logit = np.log(probability / (1 - probability))
    np.testing.assert_allclose(contributions.sum(axis=1), logit, rtol=0, atol=1e-5)


def test_models_with_several_outputs_are_refused() -> None:
    x, y = _data(300)
    booster = xgb.train(
        {"objective": "multi:softprob", "num_class": 3, "nthread": 1},
        xgb.DMatrix(x, y + (x[:, 1] > 1)), 3,
    )  # fmt: skip
    with pytest.raises(ValueError, match="single-output"):
        DecisionPaths.of(booster)
