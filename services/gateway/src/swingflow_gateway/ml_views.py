"""The ML models as the API shows them: a registry row (`ml_models`) turned into its
summary (headline out-of-sample figures) or its whole report (folds, calibration, lift
with its interval, feature importance).

Pure functions over the stored row. The report is the JSON `swingflow_common.ml.train`
wrote; a figure it lacks (an older or hand-registered row) is null or an empty list
here, never invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from swingflow_common.db.models import MlModelRow
from swingflow_common.ml.registry import summary_of
from swingflow_gateway.schemas import Out, Page

Json = Mapping[str, Any]
Interval = list[float] | None


class MlModelSummary(Out):
    version: str
    promoted: bool = Field(description="The one model the ml service scores with.")
    created_at: datetime
    train_start: datetime | None = Field(description="First signal of the training window.")
    train_end: datetime | None = Field(description="Last trade exit of the training window.")
    sha256: str
    samples: int | None = Field(description="Labeled candidates trained on.")
    n_features: int
    metrics: dict[str, float] = Field(
        description="Headline out-of-sample figures: oos_auc, oos_brier, oos_brier_skill, "
        "oos_precision, oos_trades, oos_win_rate_all/kept, oos_expectancy_all/kept/lift."
    )
    expectancy_lift_ci: Interval = Field(
        description="95% bootstrap interval of the out-of-sample expectancy lift."
    )
    promotion_reason: str | None = Field(description="Why it was (not) promoted.")


class MlModelPage(Page[MlModelSummary]):
    """Registered models, newest first."""


class CalibrationBin(Out):
    low: float
    high: float
    n: int
    predicted: float | None = Field(description="Mean predicted probability in the bin.")
    observed: float | None = Field(description="Share of these trades that won.")


class Lift(Out):
    """The trades the model keeps against all of them, out of sample."""

    trades: int | None
    kept: int | None
    win_rate_all: float | None
    win_rate_kept: float | None
    win_rate_lift: float | None
    win_rate_lift_ci: Interval
    expectancy_all: float | None = Field(description="Mean return after costs.")
    expectancy_kept: float | None
    expectancy_lift: float | None
    expectancy_lift_ci: Interval


class OutOfSample(Out):
    n: int | None
    positives: int | None
    auc: float | None
    brier: float | None
    brier_reference: float | None = Field(description="Brier of answering the training win rate.")
    brier_skill: float | None
    precision: float | None
    kept: int | None


class FoldMetrics(Out):
    fold: int
    train_start: str | None
    train_end: str | None
    train_n: int | None
    purged: int | None = Field(description="Training samples dropped for overlapping the test.")
    test_start: str | None
    test_end: str | None
    n: int | None
    positives: int | None
    auc: float | None
    brier: float | None
    brier_skill: float | None
    precision: float | None
    threshold: float | None
    kept: int | None
    lift: Lift


class Importance(Out):
    feature: str
    mean_abs_shap: float | None = Field(description="Mean |SHAP| in log-odds.")


class DatasetUsed(Out):
    name: str
    candidates: int | None
    labeled: int | None


class MlModelDetail(MlModelSummary):
    features: list[str]
    datasets: list[DatasetUsed]
    out_of_sample: OutOfSample
    calibration: list[CalibrationBin] = Field(description="Out-of-sample, predicted vs observed.")
    lift: Lift
    folds: list[FoldMetrics]
    importance: list[Importance] = Field(description="Out of sample, largest first.")
    importance_in_sample: list[Importance]
    params: dict[str, float | int | str | bool | None]
    previous: str | None = Field(description="The model promoted when this one was trained.")


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _interval(value: Any) -> Interval:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(_num(v) is not None for v in value)
    ):
        return [float(value[0]), float(value[1])]
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _map(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}


def _report(row: MlModelRow) -> Json:
    return _map(_map(row.metrics).get("report"))


def _lift(raw: Json) -> Lift:
    return Lift(
        trades=_int(raw.get("trades")), kept=_int(raw.get("kept")),
        win_rate_all=_num(raw.get("win_rate_all")), win_rate_kept=_num(raw.get("win_rate_kept")),
        win_rate_lift=_num(raw.get("win_rate_lift")),
        win_rate_lift_ci=_interval(raw.get("win_rate_lift_ci")),
        expectancy_all=_num(raw.get("expectancy_all")),
        expectancy_kept=_num(raw.get("expectancy_kept")),
        expectancy_lift=_num(raw.get("expectancy_lift")),
        expectancy_lift_ci=_interval(raw.get("expectancy_lift_ci")),
    )  # fmt: skip


def summarize(row: MlModelRow) -> MlModelSummary:
    """The row's headline: what the list shows."""
    report = _report(row)
    lift = _map(_map(report.get("out_of_sample")).get("lift"))
    summary = summary_of(row)
    return MlModelSummary(
        version=row.version, promoted=row.promoted, created_at=row.created_at,
        train_start=row.train_start, train_end=row.train_end, sha256=row.sha256,
        samples=_int(report.get("samples", summary.get("samples"))), n_features=len(row.features),
        metrics=summary, expectancy_lift_ci=_interval(lift.get("expectancy_lift_ci")),
        promotion_reason=_str(_map(report.get("promotion")).get("reason")),
    )  # fmt: skip


def _fold(raw: Json) -> FoldMetrics:
    train, test = _map(raw.get("train")), _map(raw.get("test"))
    return FoldMetrics(
        fold=_int(raw.get("fold")) or 0, train_start=_str(train.get("start")),
        train_end=_str(train.get("end")), train_n=_int(train.get("n")),
        purged=_int(train.get("purged")), test_start=_str(test.get("start")),
        test_end=_str(test.get("end")),
        n=_int(raw.get("n")), positives=_int(raw.get("positives")), auc=_num(raw.get("auc")),
        brier=_num(raw.get("brier")), brier_skill=_num(raw.get("brier_skill")),
        precision=_num(raw.get("precision")), threshold=_num(raw.get("threshold")),
        kept=_int(raw.get("kept")), lift=_lift(_map(raw.get("lift"))),
    )  # fmt: skip


def _importance(raw: Any) -> list[Importance]:
    pairs = _map(raw).items()
    return [Importance(feature=str(k), mean_abs_shap=_num(v)) for k, v in pairs]


def _bins(raw: Any) -> list[CalibrationBin]:
    rows = raw if isinstance(raw, list) else []
    return [
        CalibrationBin(low=_num(b.get("low")) or 0.0, high=_num(b.get("high")) or 0.0,
                       n=_int(b.get("n")) or 0, predicted=_num(b.get("predicted")),
                       observed=_num(b.get("observed")))
        for b in rows if isinstance(b, Mapping)
    ]  # fmt: skip


def detail(row: MlModelRow) -> MlModelDetail:
    """The row's whole out-of-sample report."""
    report = _report(row)
    oos = _map(report.get("out_of_sample"))
    params = {
        str(k): v for k, v in _map(report.get("params")).items()
        if v is None or isinstance(v, int | float | str | bool)
    }  # fmt: skip
    datasets = [
        DatasetUsed(name=str(d.get("name")), candidates=_int(d.get("candidates")),
                    labeled=_int(d.get("labeled")))
        for d in report.get("datasets", []) if isinstance(d, Mapping)
    ]  # fmt: skip
    folds = report.get("folds")
    folds = [f for f in folds if isinstance(f, Mapping)] if isinstance(folds, list) else []
    return MlModelDetail(
        **summarize(row).model_dump(),
        features=[str(f) for f in row.features],
        datasets=datasets,
        out_of_sample=OutOfSample(
            n=_int(oos.get("n")),
            positives=_int(oos.get("positives")),
            auc=_num(oos.get("auc")),
            brier=_num(oos.get("brier")),
            brier_reference=_num(oos.get("brier_reference")),
            brier_skill=_num(oos.get("brier_skill")),
            precision=_num(oos.get("precision")),
            kept=_int(oos.get("kept")),
        ),
        calibration=_bins(oos.get("calibration_table")),
        lift=_lift(_map(oos.get("lift"))),
        folds=[_fold(f) for f in folds],
        importance=_importance(report.get("importance_oos")),
        importance_in_sample=_importance(report.get("importance_in_sample")),
        params=params,
        previous=_str(_map(report.get("promotion")).get("previous")),
    )
