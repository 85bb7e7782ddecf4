"""Training: labeled candidates -> purged walk-forward CV -> a calibrated XGBoost model,
with an honest out-of-sample report.

For each fold (`ml.cv`): the trees are fitted on the earlier part of the training
window, Platt calibration on its latest part (`holdout_fraction`), and the decision
threshold is the training window's win rate (a calibrated probability above it means
"better than the average candidate"); nothing is chosen by looking at a test fold.
Parameters are fixed up front (`TrainParams`) and never tuned on the folds. The
out-of-sample predictions of every fold are pooled for the overall figures. The model
that is saved is then fitted the same way on every labeled candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import CandidateSignal
from swingflow_common.ml import metrics
from swingflow_common.ml.cv import Fold, holdout_split, walk_forward_folds
from swingflow_common.ml.features import candidate_features, feature_names, to_matrix
from swingflow_common.ml.labels import TradeLabel
from swingflow_common.ml.model import ScoringModel, fit_calibration
from swingflow_common.progress import Progress

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrainParams:
    """Fixed before training; small trees for a few thousand noisy samples."""

    n_folds: int = 5
    embargo_days: int = 5
    holdout_fraction: float = 0.25
    n_estimators: int = 150
    max_depth: int = 3
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 5.0
    reg_lambda: float = 1.0
    seed: int = 7
    nthread: int = 2
    n_bootstrap: int = 2000

    def xgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
            "max_depth": self.max_depth, "eta": self.learning_rate, "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree, "min_child_weight": self.min_child_weight,
            "lambda": self.reg_lambda, "seed": self.seed, "nthread": self.nthread,
        }  # fmt: skip


@dataclass(frozen=True)
class TrainingSet:
    """Labeled candidates as arrays, in signal-time order."""

    names: tuple[str, ...]
    x: FloatArray
    y: npt.NDArray[np.int64]
    returns: FloatArray
    starts: npt.NDArray[np.datetime64]
    ends: npt.NDArray[np.datetime64]
    signal_ids: tuple[str, ...]
    setups: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.y)


def training_set(
    pairs: Sequence[tuple[CandidateSignal, TradeLabel]], config: StrategyConfig
) -> TrainingSet:
    """The arrays of (candidate, its label) pairs, sorted by signal time."""
    pairs = sorted(pairs, key=lambda p: (p[0].ts, p[0].symbol, p[0].setup))
    rows = [candidate_features(c, config) for c, _ in pairs]
    names = feature_names(rows)

    def times(values: list[Any]) -> npt.NDArray[np.datetime64]:
        return np.array([np.datetime64(v.replace(tzinfo=None), "ns") for v in values])

    return TrainingSet(
        names=names,
        x=to_matrix(rows, names),
        y=np.array([t.label for _, t in pairs], dtype=np.int64),
        returns=np.array([t.return_pct for _, t in pairs], dtype=np.float64),
        starts=times([t.signal_ts for _, t in pairs]),
        ends=times([t.exit_ts for _, t in pairs]),
        signal_ids=tuple(c.id for c, _ in pairs),
        setups=tuple(c.setup for c, _ in pairs),
    )


def fit_model(data: TrainingSet, rows: npt.NDArray[np.int64], params: TrainParams) -> ScoringModel:
    """Trees on the earlier part of `rows`, Platt calibration on the later holdout."""
    embargo = np.timedelta64(params.embargo_days, "D")
    fit, hold = holdout_split(rows, data.starts, data.ends, params.holdout_fraction, embargo)
    train = xgb.DMatrix(data.x[fit], label=data.y[fit], feature_names=list(data.names))
    booster = xgb.train(params.xgb_params(), train, num_boost_round=params.n_estimators)
    model = ScoringModel(booster, data.names, fit_calibration(np.zeros(0), data.y[:0]), 0.0)
    calibration = fit_calibration(model.margins(data.x[hold]), data.y[hold])
    threshold = float(data.y[rows].mean())
    return ScoringModel(booster, data.names, calibration, threshold)


def _importance(model: ScoringModel, x: FloatArray) -> dict[str, float]:
    """Mean |SHAP| per feature over `x`, largest first."""
    mean_abs = np.abs(model.contributions(x)[:, :-1]).mean(axis=0)
    order = np.argsort(-mean_abs)
    return {model.names[j]: float(mean_abs[j]) for j in order}


def _fold_report(
    fold: Fold, data: TrainingSet, p: FloatArray, model: ScoringModel
) -> dict[str, Any]:
    y, r = data.y[fold.test], data.returns[fold.test]
    return {
        "fold": fold.index,
        "train": {"n": len(fold.train), "purged": fold.purged,
                  "start": str(data.starts[fold.train].min())[:10],
                  "end": str(data.ends[fold.train].max())[:10]},
        "test": {"start": str(fold.test_start)[:10], "end": str(fold.test_end)[:10]},
        "calibration": asdict(model.calibration),
        **metrics.classification(p, y, model.threshold, model.threshold),
        "lift": metrics.lift(p >= model.threshold, y, r, n_boot=0),
    }  # fmt: skip


@dataclass(frozen=True)
class TrainingResult:
    """The final model and the report of how its recipe did out of sample."""

    model: ScoringModel
    report: dict[str, Any]

    @property
    def summary(self) -> dict[str, float]:
        """The headline out-of-sample figures (what promotion compares), None left out."""
        o, lift = self.report["out_of_sample"], self.report["out_of_sample"]["lift"]
        values = {
            "oos_auc": o["auc"], "oos_brier": o["brier"], "oos_brier_skill": o["brier_skill"],
            "oos_precision": o["precision"], "oos_trades": o["n"],
            "oos_win_rate_all": lift["win_rate_all"], "oos_win_rate_kept": lift["win_rate_kept"],
            "oos_expectancy_all": lift["expectancy_all"],
            "oos_expectancy_kept": lift["expectancy_kept"],
            "oos_expectancy_lift": lift["expectancy_lift"], "samples": self.report["samples"],
        }  # fmt: skip
        return {k: float(v) for k, v in values.items() if v is not None}


def train(
    data: TrainingSet, params: TrainParams, progress: Progress | None = None
) -> TrainingResult:
    """Cross-validate, report out of sample, then fit the model on everything."""
    folds = walk_forward_folds(data.starts, data.ends, params.n_folds,
                               np.timedelta64(params.embargo_days, "D"))  # fmt: skip
    steps = len(folds) + 2
    oos_rows, oos_p, oos_base, fold_reports = [], [], [], []
    importance_oos = np.zeros(len(data.names))
    for k, fold in enumerate(folds):
        if progress is not None:
            progress("folds", k, steps)
        model = fit_model(data, fold.train, params)
        p = model.probabilities(data.x[fold.test])
        fold_reports.append(_fold_report(fold, data, p, model))
        importance_oos += np.abs(model.contributions(data.x[fold.test])[:, :-1]).sum(axis=0)
        oos_rows.append(fold.test)
        oos_p.append(p)
        oos_base.append(np.full(len(fold.test), model.threshold))
    rows, p, base = np.concatenate(oos_rows), np.concatenate(oos_p), np.concatenate(oos_base)
    y, r = data.y[rows], data.returns[rows]
    if progress is not None:
        progress("folds", len(folds), steps)
    brier_ref = float(np.mean((base - y) ** 2))
    overall = metrics.classification(p, y, float("nan"), float("nan"))
    kept = p >= base  # each fold's own threshold
    overall |= {
        "base_rate_train": None, "threshold": "each fold's training win rate",
        "brier_reference": brier_ref, "brier_skill": 1.0 - overall["brier"] / brier_ref,
        "precision": float(y[kept].mean()) if kept.any() else None, "kept": int(kept.sum()),
        "calibration_table": metrics.calibration_table(p, y),
        "lift": metrics.lift(kept, y, r, params.n_bootstrap, params.seed),
    }  # fmt: skip
    final = fit_model(data, np.arange(len(data), dtype=np.int64), params)
    if progress is not None:
        progress("folds", len(folds) + 1, steps)
    order = np.argsort(-importance_oos)
    report = {
        "samples": len(data), "positives": int(data.y.sum()), "features": list(data.names),
        "window": {"start": str(data.starts.min())[:10], "end": str(data.ends.max())[:10]},
        "params": asdict(params), "folds": fold_reports, "out_of_sample": overall,
        "importance_oos": {data.names[j]: float(importance_oos[j] / len(rows)) for j in order},
        "importance_in_sample": _importance(final, data.x),
        "final_model": {"calibration": asdict(final.calibration), "threshold": final.threshold},
    }  # fmt: skip
    if progress is not None:
        progress("folds", steps, steps)
    return TrainingResult(final, report)
