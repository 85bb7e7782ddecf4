"""A trained stage-3 model: XGBoost trees, Platt calibration, and SHAP contributions.

The booster's raw output is a log-odds margin; `Calibration` maps it to a probability
with `sigmoid(slope * margin + intercept)` (Platt scaling, fitted on a later holdout the
trees never saw). Two numbers are easy to store and hard to overfit on a few hundred
holdout trades, which is why Platt was chosen over isotonic regression.

Contributions are multiplied by the calibration slope, so they add up, with the bias, to
the calibrated log-odds: each one says how far a feature pushed this candidate's
probability up or down. Two kinds: exact TreeSHAP (XGBoost's `pred_contribs=True`:
Shapley values; training's feature importance uses them) and, with `exact=False`, Saabas
path attributions (along each tree's decision path, the change in the node's expected
value credited to the feature split on: XGBoost's `approx_contribs`, computed from each
row's leaves by `paths.DecisionPaths`), more than 10x cheaper, also adding up to the
margin, but not Shapley values: a feature's credit depends on where in the tree it is
split. The ml service answers with the cheap kind (`score`).

`save` writes XGBoost's own JSON format (never pickle); the feature names, calibration,
threshold and version travel inside the file as booster attributes, so the file alone
(checked against its sha256) is everything the ml service needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from swingflow_common.ml.paths import DecisionPaths

FloatArray = npt.NDArray[np.float64]
FORMAT = "swingflow-ml-1"  # the attribute layout below; bump it when it changes


def sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of a margin: p = sigmoid(slope * margin + intercept)."""

    slope: float = 1.0
    intercept: float = 0.0

    def __call__(self, margin: FloatArray) -> FloatArray:
        return sigmoid(self.slope * margin + self.intercept)


def fit_calibration(margin: FloatArray, labels: npt.NDArray[np.int64]) -> Calibration:
    """Platt scaling fitted on a holdout (identity when it holds a single class)."""
    from sklearn.linear_model import LogisticRegression

    if len(labels) < 2 or labels.min() == labels.max():
        return Calibration()
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), labels)
    return Calibration(float(fit.coef_[0, 0]), float(fit.intercept_[0]))


@dataclass(frozen=True)
class ScoringModel:
    """What scores candidates: the trees, the calibration, the decision threshold."""

    booster: xgb.Booster
    names: tuple[str, ...]
    calibration: Calibration
    threshold: float  # a probability at or above it counts as "take the trade"
    version: str = ""

    def margins(self, x: FloatArray) -> FloatArray:
        out: FloatArray = np.asarray(
            self.booster.inplace_predict(x, predict_type="margin"), dtype=np.float64
        )
        return out

    def probabilities(self, x: FloatArray) -> FloatArray:
        """Calibrated P(target before stop) of each row of `x`."""
        return self.calibration(self.margins(x))

    def contributions(self, x: FloatArray, exact: bool = True) -> FloatArray:
        """(rows, features + 1) contributions in calibrated log-odds, exact SHAP values or
        (`exact=False`) Saabas path attributions; the last column is the bias (with the
        calibration intercept). Either kind adds up to the calibrated log-odds."""
        if not exact:
            return self.score(x)[1]
        matrix = xgb.DMatrix(x, feature_names=list(self.names), nthread=1)
        raw = self.booster.predict(matrix, pred_contribs=True)
        return self._calibrated(np.asarray(raw, dtype=np.float64))

    @cached_property
    def paths(self) -> DecisionPaths:
        """The trees' leaves and path credits, worked out once (about 10 ms)."""
        return DecisionPaths.of(self.booster)

    def score(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """`probabilities(x)` and Saabas `contributions(x, exact=False)` (both XGBoost's to
        float32 precision, see `paths`), from one pass that finds each row's leaves:
        what the ml service answers with."""
        leaves = self.paths.leaves(self.booster, x)
        probability = self.calibration(self.paths.margins(leaves))
        return probability, self._calibrated(self.paths.contributions(leaves))

    def _calibrated(self, contributions: FloatArray) -> FloatArray:
        """Margin-unit contributions (bias last) in calibrated log-odds."""
        out: FloatArray = contributions * self.calibration.slope
        out[:, -1] += self.calibration.intercept
        return out

    def save(self, path: Path) -> None:
        """Write the model as XGBoost JSON with its metadata as booster attributes."""
        self.booster.feature_names = list(self.names)
        self.booster.set_attr(
            swingflow_format=FORMAT,
            swingflow_version=self.version,
            calibration_slope=repr(self.calibration.slope),
            calibration_intercept=repr(self.calibration.intercept),
            threshold=repr(self.threshold),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(path))

    @classmethod
    def load(cls, path: Path) -> ScoringModel:
        """Read a model `save` wrote; ValueError when the file is not one."""
        booster = xgb.Booster(model_file=str(path))
        attrs = booster.attributes()
        if attrs.get("swingflow_format") != FORMAT:
            raise ValueError(f"{path} is not a swingflow model ({FORMAT} attributes missing)")
        names = tuple(booster.feature_names or ())
        slope, intercept, threshold = (
            float(attrs.get(k) or "nan")
            for k in ("calibration_slope", "calibration_intercept", "threshold")
        )
        if not (names and math.isfinite(slope) and math.isfinite(intercept)):
            raise ValueError(f"{path}: model without feature names or calibration")
        booster.set_param({"nthread": 1})
        return cls(booster, names, Calibration(slope, intercept), threshold,
                   attrs.get("swingflow_version") or "")  # fmt: skip
