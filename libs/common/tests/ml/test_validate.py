"""The validation: both arms share candidates, bars and config (a scorer answering exactly
the neutral 0.5 leaves them identical), each window's model sees only its in-sample
trades, a given model is refused on its own training window, and the report's JSON
round-trips."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset, synthetic_universe
from swingflow_common.messages import CandidateSignal, MlPrediction, MlPredictReply
from swingflow_common.ml import registry
from swingflow_common.ml.labels import label_candidates
from swingflow_common.ml.train import TrainParams, fit_model
from swingflow_common.ml.validate import (
    Fitted,
    Pairs,
    label_period,
    prepare,
    validate_model,
    validate_walk_forward,
)
from swingflow_common.ml.validation import ModelInfo, OverlapError, model_from_file
from swingflow_common.ml.validation_report import read_report, write_report
from swingflow_common.progress import no_progress

from .factories import signal_set


class ConstantScorer:
    """A model that answers `probability` for every candidate (not flagged neutral)."""

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        return MlPredictReply(
            model_version="constant",
            predictions=tuple(
                MlPrediction(signal_id=c.id, probability=self.probability, neutral=False)
                for c in candidates
            ),
        )


@pytest.fixture(scope="module")
def universe() -> Dataset:
    return synthetic_universe(4, 700, seed=21)


def test_a_scorer_answering_exactly_neutral_leaves_both_arms_identical(universe: Dataset) -> None:
    seen: list[tuple[int, Pairs]] = []

    def fit(pairs: Pairs, config: StrategyConfig, index: int) -> Fitted:
        seen.append((index, pairs))
        return Fitted(ConstantScorer(0.5), f"half{index}", "always 0.5")

    report = validate_walk_forward(
        universe, StrategyConfig(), in_sample_bars=250, out_of_sample_bars=150, fit=fit,
        n_boot=200,
    )  # fmt: skip
    n, m = report.neutral, report.ml
    assert len(report.windows) == 3
    assert all(w.model for w in report.windows)
    assert len(n.trades) > 10
    assert n.trades == m.trades  # stage 3 scores 0.5 in both: same signals, same fills
    assert n.equity == m.equity
    assert n.metrics == m.metrics
    assert (n.candidates, n.confirmed) == (m.candidates, m.confirmed)
    assert report.expectancy.difference == 0.0
    assert report.expectancy.ci == (0.0, 0.0)  # shared weeks resampled together
    assert report.paired is not None
    assert report.paired.ties == 3
    assert report.verdict.startswith("The two arms traded identically")
    assert report.classification["mean_probability"] == 0.5
    # each window's model saw only trades that closed inside its in-sample part
    for (index, pairs), window in zip(seen, report.windows, strict=True):
        assert index == window.index
        assert window.train_start is not None
        assert window.train_end is not None
        assert pairs
        assert window.training_samples == len(pairs)
        for candidate, label in pairs:
            assert window.train_start <= candidate.ts.date()
            assert label.exit_ts.date() <= window.train_end < window.oos_start


def test_the_arms_share_candidates_and_differ_only_by_stage_3(universe: Dataset) -> None:
    config = StrategyConfig.model_validate(
        {"stage_minimums": {"ml_confidence": 0.6}}  # a 0.4 answer fails stage 3
    )
    info = ModelInfo(version="low", path="-", sha256="-", train_start=date(2015, 1, 2),
                     train_end=date(2016, 6, 30))  # fmt: skip
    report = validate_model(universe, config, ConstantScorer(0.4), info, n_boot=200)
    n, m = report.neutral, report.ml
    assert n.start == m.start == date(2016, 7, 1)  # the day after the training window
    assert n.end == m.end
    assert n.candidates == m.candidates > 0
    assert n.confirmed > 0
    assert m.confirmed == 0
    assert m.trades == ()
    assert [p.benchmark for p in n.equity] == [p.benchmark for p in m.equity]
    assert report.expectancy.ci is None
    assert report.verdict.startswith("Too few out-of-sample trades")


def test_a_model_is_refused_on_its_own_training_window(universe: Dataset) -> None:
    info = ModelInfo(version="m1", path="-", sha256="-", train_start=date(2015, 1, 2),
                     train_end=date(2016, 6, 30))  # fmt: skip
    with pytest.raises(OverlapError, match="trained on trades from 2015-01-02 to 2016-06-30"):
        validate_model(universe, StrategyConfig(), ConstantScorer(0.5), info, start="2016-06-01")


def test_labels_kept_by_exit_date_equal_the_labels_of_the_data_cut_there(
    universe: Dataset,
) -> None:
    config = StrategyConfig()
    period = prepare(universe, config, None, None, None, no_progress)
    labels = label_period(period, period.candidates, no_progress)
    cut = pd.Timestamp(universe.dates[400])
    kept = sorted((t for t in labels.values() if t.exit_ts <= cut), key=lambda t: t.signal_id)
    early = [c for c in period.candidates if c.ts <= cut]
    sliced = label_candidates(early, universe.slice(None, cut), config).labels
    assert kept
    assert kept == sorted(sliced, key=lambda t: t.signal_id)


def test_model_from_file_reads_the_window_beside_it_and_checks_the_hash(tmp_path: Path) -> None:
    data = signal_set(300)
    model = fit_model(data, np.arange(len(data), dtype=np.int64), TrainParams(nthread=1))
    path, sha = registry.save_model(model.__class__(**{**model.__dict__, "version": "m7"}),
                                    tmp_path)  # fmt: skip
    with pytest.raises(ValueError, match="no training window known"):
        model_from_file(path)
    report = {
        "version": "m7",
        "sha256": sha,
        "window": {"start": "2018-01-01", "end": "2021-11-30"},
    }
    path.with_suffix(".report.json").write_text(json.dumps(report))
    loaded, info = model_from_file(path)
    assert loaded.names == model.names
    assert (info.version, info.sha256, info.train_end) == ("m7", sha, date(2021, 11, 30))
    path.with_suffix(".report.json").write_text(json.dumps({**report, "sha256": "0" * 64}))
    with pytest.raises(registry.ModelIntegrityError):
        model_from_file(path)


def test_the_report_round_trips_through_json_and_renders_html(
    universe: Dataset, tmp_path: Path
) -> None:
    info = ModelInfo(version="m2", path="-", sha256="-", train_start=date(2015, 1, 2),
                     train_end=date(2017, 1, 1))  # fmt: skip
    report = validate_model(universe, StrategyConfig(), ConstantScorer(0.7), info,
                            end=date(2017, 1, 1) + timedelta(days=400), n_boot=200)  # fmt: skip
    files = write_report(report, tmp_path / "out")
    assert read_report(files.json) == report
    page = files.html.read_text()
    assert "<script" not in page
    assert "<svg" in page
    assert "Metrics side by side" in page
    assert report.verdict in page
