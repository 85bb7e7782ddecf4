"""`swingflow backtest` through Typer's CliRunner: both modes write the CSV, JSON and HTML,
store the run, and refuse bad input with exit code 2 and one message."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swingflow.cli import app
from swingflow_common.backtest.export import TRADE_COLUMNS, read_result
from swingflow_common.db import backtest_repository as runs
from swingflow_common.db import engine_from_url, session_factory

runner = CliRunner()
SIGNALS = "symbol,date,action\nAAPL,2020-03-02,entry\nAAPL,2020-04-01,exit\nNVDA,2020-05-01,entry\n"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["backtest", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def signal_file(tmp_path: Path) -> Path:
    path = tmp_path / "signals.csv"
    path.write_text(SIGNALS)
    return path


def stored_ids(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = engine_from_url(url)
        try:
            async with session_factory(engine)() as session:
                return [r.id for r in await runs.list_runs(session)]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_signal_mode_writes_every_file_and_stores_the_run(
    tmp_path: Path, signal_file: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    out = tmp_path / "out"
    code, stdout, stderr = invoke(
        "--signals", str(signal_file), "--universe", "megacaps-2013-2023", "--out", str(out),
        "--stop-pct", "0.05", "--commission-bps", "10", "--trades-csv", str(tmp_path / "t.csv"),
        env={"DATABASE_URL": url},
    )  # fmt: skip
    assert code == 0, stderr
    result = read_result(out / "result.json")
    assert result.mode == "signals"
    assert result.config["stop_pct"] == 0.05
    assert result.config["stop_atr"] is None  # the % stop replaced the config's ATR stop
    assert result.config["commission_bps"] == 10.0
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert tuple(rows[0]) == TRADE_COLUMNS
    assert [r["symbol"] for r in rows] == [t.symbol for t in result.trades]
    assert rows[0]["entry_ts"].startswith("2020-03-03")  # the next open after the signal
    assert not (out / "trades.csv").exists()  # written where --trades-csv said instead
    assert "<svg" in (out / "report.html").read_text()
    assert result.id in stdout
    assert "win_rate" in stdout
    assert stored_ids(url) == [result.id]


def test_no_store_leaves_the_database_alone(tmp_path: Path, signal_file: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    code, _, stderr = invoke(
        "--signals", str(signal_file), "--universe", "megacaps-2013-2023",
        "--out", str(tmp_path / "o"), "--no-store", env={"DATABASE_URL": url},
    )  # fmt: skip
    assert code == 0, stderr
    assert not (tmp_path / "db.sqlite").exists()
    assert json.loads((tmp_path / "o" / "result.json").read_text())["trades"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2020-13-01"], "--from '2020-13-01' is not a date"),
        (["--from", "2021-01-01", "--to", "2020-01-01"], "is after end"),
        (["--walk-forward"], "--walk-forward needs --in-sample and --out-of-sample"),
        (["--in-sample", "100", "--out-of-sample", "50"], "--walk-forward needs"),
        (["--symbols", " , "], "--symbols is empty"),
        (["--universe", "nope"], "nope"),
        (["--symbols", "ZZZZ", "--universe", "megacaps-2013-2023"], "ZZZZ"),
    ],
)
def test_bad_input_exits_2_with_one_message(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, stderr = invoke(*args, "--no-store", "--out", str(tmp_path))
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stderr


def test_a_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text('{"risk": {"max_positions": 0}}')
    code, _, stderr = invoke("--config", str(config), "--no-store")
    assert code == 2
    assert "max_positions" in stderr


def test_a_malformed_signal_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("symbol,date,action\nAAPL,2020-03-02,buy\n")
    code, _, stderr = invoke(
        "--signals", str(path), "--universe", "megacaps-2013-2023", "--no-store"
    )
    assert code == 2
    assert "line 2" in stderr or ":2" in stderr, stderr


def test_signal_options_are_checked(tmp_path: Path, signal_file: Path) -> None:
    code, _, stderr = invoke(
        "--signals", str(signal_file), "--universe", "megacaps-2013-2023",
        "--stop-pct", "0.05", "--stop-atr", "2", "--no-store",
    )  # fmt: skip
    assert code == 2
    assert "stop_pct or stop_atr" in stderr


def test_pipeline_mode_on_synthetic_data_gives_scored_trades(tmp_path: Path) -> None:
    code, stdout, stderr = invoke(
        "--universe", "synthetic:5x400:3", "--out", str(tmp_path), "--no-store"
    )
    assert code == 0, stderr
    result = read_result(tmp_path / "result.json")
    assert result.mode == "pipeline"
    assert result.confirmed <= result.candidates
    assert f"candidates {result.candidates}, confirmed {result.confirmed}" in stdout
    rows = list(csv.DictReader((tmp_path / "trades.csv").open()))
    assert len(rows) == len(result.trades)
    assert rows
    assert all(r["base_signal"] and r["total"] for r in rows)  # pipeline trades are scored


def test_walk_forward_reports_its_windows_out_of_sample(tmp_path: Path) -> None:
    code, stdout, stderr = invoke(
        "--universe", "synthetic:4x500:3", "--walk-forward", "--in-sample", "120",
        "--out-of-sample", "60", "--out", str(tmp_path), "--no-store",
    )  # fmt: skip
    assert code == 0, stderr
    result = read_result(tmp_path / "result.json")
    assert result.walk_forward
    assert all(w.in_sample_end < w.out_of_sample_start for w in result.walk_forward)
    assert "walk-forward" in stdout
    assert "Walk-forward: in-sample against out-of-sample" in (tmp_path / "report.html").read_text()
