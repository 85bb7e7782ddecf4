"""`swingflow validate` through Typer's CliRunner on a folder of bars: the walk-forward
writes the JSON and HTML reports and prints the verdict; a model is refused on its own
training window; bad input is one message and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from swingflow.cli import app
from swingflow_common.data import synthetic_universe
from swingflow_common.ml import registry
from swingflow_common.ml.train import TrainingSet, TrainParams, fit_model
from swingflow_common.ml.validation_report import read_report

runner = CliRunner()


@pytest.fixture(scope="module")
def bars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bars")
    for symbol, frame in synthetic_universe(4, 700, seed=21).bars.items():
        frame.rename_axis("date").to_csv(folder / f"{symbol}.csv")
    return folder


def test_validate_walk_forward_writes_both_reports(bars: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["validate", "--data", str(bars), "--in-sample", "300", "--out-of-sample", "200",
            "--out", str(out), "--bootstrap", "200"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "ML neutral" in result.stdout
    report = read_report(out / "validation.json")
    assert report.mode == "walk_forward"
    assert len(report.windows) == 2
    assert report.neutral.candidates == report.ml.candidates
    assert " ".join(report.verdict.split()[:4]) in " ".join(result.stdout.split())
    assert report.verdict in (out / "validation.html").read_text()


def saved_model(folder: Path, end: str) -> Path:
    """A small real model file and the report `swingflow train` writes beside it."""
    rng = np.random.default_rng(0)
    n = 200
    starts = np.datetime64("2015-01-01", "ns") + np.arange(n) * np.timedelta64(2, "D")
    data = TrainingSet(("f0",), rng.normal(size=(n, 1)), (rng.random(n) < 0.4).astype(np.int64),
                       rng.normal(size=n), starts, starts + np.timedelta64(5, "D"),
                       tuple(f"s{i}" for i in range(n)), ("trend_pullback",) * n)  # fmt: skip
    model = fit_model(data, np.arange(n, dtype=np.int64), TrainParams(nthread=1))
    model = model.__class__(**{**model.__dict__, "version": "m1"})
    path, sha = registry.save_model(model, folder)
    window = {"start": "2015-01-01", "end": end}
    path.with_suffix(".report.json").write_text(json.dumps({"sha256": sha, "window": window}))
    return path


def test_validate_refuses_a_model_on_its_training_window(bars: Path, tmp_path: Path) -> None:
    path = saved_model(tmp_path / "models", "2016-06-30")
    result = runner.invoke(app, ["validate", "--data", str(bars), "--model", str(path),
                                 "--from", "2016-01-04"])  # fmt: skip
    assert result.exit_code == 2
    assert "trained on trades from 2015-01-01 to 2016-06-30" in result.stderr
    assert "would test it on data it was trained on" in " ".join(result.stderr.split())


def test_validate_rejects_mixed_or_unknown_options(bars: Path, tmp_path: Path) -> None:
    mixed = runner.invoke(app, ["validate", "--data", str(bars), "--model", "m1",
                                "--in-sample", "300"])  # fmt: skip
    assert mixed.exit_code == 2
    assert "apply to the walk-forward, not to --model" in mixed.stderr
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"}
    unknown = runner.invoke(app, ["validate", "--data", str(bars), "--model", "m404"], env=env)
    assert unknown.exit_code == 2
    assert "neither a model file nor a registered version" in unknown.stderr
