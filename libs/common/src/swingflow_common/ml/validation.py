"""What a validation produces (`ValidationReport`, the JSON file's schema) and the guard
that keeps it out of sample: a given model must have finished training before the
validated period starts (`check_out_of_sample`).

A model's training window comes from the registry (`ml_models.train_start/train_end`) or,
for a bare file, from the report `swingflow train` writes beside it
(`<version>.report.json`, whose `window` and `sha256` are checked against the file). A
model whose window cannot be found is refused: an unknown window cannot be shown to end
before the test.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from swingflow_common.backtest.result import BacktestResult, Metrics
from swingflow_common.ml.compare import ExpectancyComparison, PairedWindows
from swingflow_common.ml.model import ScoringModel


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OverlapError(ValueError):
    """The model saw (part of) the period it would be validated on."""


class ModelInfo(_Frozen):
    """A trained model and the window its labeled trades span (signal to exit)."""

    version: str
    path: str
    sha256: str
    train_start: date
    train_end: date


class WindowComparison(_Frozen):
    """One out-of-sample window, backtested with the ML stage neutral and with a model."""

    index: int
    train_start: date | None  # the window the model was fitted on (None: no model)
    train_end: date | None
    oos_start: date
    oos_end: date
    model: str | None  # the model's version, None when the window ran neutral in both arms
    note: str  # how the model was obtained, or why there is none
    training_samples: int | None  # labeled candidates it was fitted on (None: a given model)
    candidates: int  # stage-1 candidates in the out-of-sample window (the same for both)
    confirmed_neutral: int
    confirmed_ml: int
    neutral: Metrics
    ml: Metrics


class ValidationReport(_Frozen):
    """Both arms, the windows, the statistics and the verdict."""

    id: str
    created_at: datetime
    mode: Literal["walk_forward", "model"]
    dataset: str
    symbols: tuple[str, ...]
    start: date  # the out-of-sample period, both arms
    end: date
    options: dict[str, object]
    model: ModelInfo | None  # mode "model": the model given
    neutral: BacktestResult
    ml: BacktestResult
    windows: tuple[WindowComparison, ...]
    expectancy: ExpectancyComparison
    paired: PairedWindows | None
    classification: dict[str, float | None]  # the model's probabilities on labeled OOS candidates
    verdict: str


def check_out_of_sample(info: ModelInfo, first_day: date) -> None:
    """Refuse a period that starts on or before the model's last training day."""
    if first_day <= info.train_end:
        raise OverlapError(
            f"model {info.version} was trained on trades from {info.train_start} to "
            f"{info.train_end}; a validation from {first_day} would test it on data it was "
            f"trained on. Use --from after {info.train_end}, or no --model for a "
            "walk-forward validation that trains a model per window."
        )


def _day(text: str) -> date:
    return date.fromisoformat(str(text)[:10])


def model_from_file(path: Path) -> tuple[ScoringModel, ModelInfo]:
    """A model file and its training window from the report beside it (ValueError if the
    report is missing, says another sha256, or the file is no swingflow model)."""
    from swingflow_common.ml.registry import load_verified

    path = path.resolve()
    report_path = path.with_suffix(".report.json")
    if not report_path.is_file():
        raise ValueError(
            f"no training window known for {path}: {report_path.name} is not beside it. "
            "Pass a registered model version instead, or keep the report swingflow train wrote."
        )
    report = json.loads(report_path.read_text())
    try:
        window, sha = report["window"], str(report["sha256"])
        info = ModelInfo(version=str(report.get("version") or path.stem), path=str(path),
                         sha256=sha, train_start=_day(window["start"]),
                         train_end=_day(window["end"]))  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{report_path} does not give the training window and sha256") from exc
    return load_verified(path, sha), info


def info_from_row(
    version: str, path: str, sha256: str, start: datetime, end: datetime
) -> ModelInfo:
    """The registry row's figures as a `ModelInfo`."""
    return ModelInfo(version=version, path=path, sha256=sha256, train_start=start.date(),
                     train_end=end.date())  # fmt: skip
