"""`swingflow train` through Typer's CliRunner on a folder of bars: it prints the
out-of-sample report, writes the model and its JSON and HTML reports, registers the model
and promotes it only when allowed and earned; bad input is one message and exit code 2."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from swingflow.cli import app
from swingflow_common.data import synthetic_universe
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.db.models import MlModelRow
from swingflow_common.ml import registry

runner = CliRunner()


def bars_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "bars"
    folder.mkdir()
    for symbol, frame in synthetic_universe(5, 900, seed=21).bars.items():
        frame.rename_axis("date").to_csv(folder / f"{symbol}.csv")
    return folder


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"ml_model_path": str(tmp_path / "models")}))
    return path


def models(url: str) -> list[MlModelRow]:
    async def read() -> list[MlModelRow]:
        engine = engine_from_url(url)
        try:
            async with session_factory(engine)() as session:
                return await registry.list_models(session)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_train_reports_saves_registers_and_promotes_only_when_allowed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    env = {"DATABASE_URL": url, "NATS_URL": "nats://127.0.0.1:9"}  # nothing listens there
    args = ["train", "--data", str(bars_folder(tmp_path)), "--config", str(config_file(tmp_path))]
    first = runner.invoke(app, [*args, "--no-promote"], env=env)
    assert first.exit_code == 0, first.stderr
    assert "Out of sample, pooled" in first.stdout
    assert "Lift: win rate" in first.stdout
    assert "not promoted: --no-promote" in first.stdout

    rows = models(url)
    assert len(rows) == 1
    row = rows[0]
    assert not row.promoted
    assert row.features == row.metrics["report"]["features"]
    assert registry.load_verified(row.path, row.sha256).version == row.version
    report = json.loads(Path(row.path).with_suffix(".report.json").read_text())
    assert report["version"] == row.version
    assert len(report["folds"]) == 5
    assert report["out_of_sample"]["n"] == sum(f["n"] for f in report["folds"])
    html = Path(row.path).with_suffix(".report.html").read_text()
    assert "Calibration" in html
    assert "Feature importance" in html

    # the same data again, promotion allowed: no model is promoted yet, so the criterion
    # is the neutral stage's Brier score of 0.25
    second = runner.invoke(app, args, env=env)
    assert second.exit_code == 0, second.stderr
    newest = models(url)[0]
    brier = newest.metrics["summary"]["oos_brier"]
    assert newest.promoted == (brier < 0.25)
    if newest.promoted:
        assert "not announced: NATS at nats://127.0.0.1:9 unreachable" in second.stdout


def test_train_refuses_too_little_data(tmp_path: Path) -> None:
    folder = tmp_path / "bars"
    folder.mkdir()
    frame = synthetic_universe(1, 300, seed=2).bars["SYN0001"]
    frame.rename_axis("date").to_csv(folder / "SYN0001.csv")
    result = runner.invoke(app, ["train", "--data", str(folder)])
    assert result.exit_code == 2
    assert "too few to train on" in result.stderr
