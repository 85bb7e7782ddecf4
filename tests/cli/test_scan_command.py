"""`swingflow scan` through Typer's CliRunner: formats, filters and clean usage errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from swingflow.cli import app
from swingflow.commands.scan import OutputFormat, progress_wanted
from swingflow.scan_output import CSV_COLUMNS
from swingflow_common.data import load_builtin, synthetic_universe
from swingflow_common.messages import STAGE_NAMES

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["scan", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of 40 synthetic symbols as CSV files, one per symbol."""
    path = tmp_path_factory.mktemp("bars")
    data = synthetic_universe(40, 320, seed=3)
    for symbol, frame in data.bars.items():
        out = frame.copy()
        out.index = pd.Index(pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d"), name="date")
        out.to_csv(path / f"{symbol}.csv")
    return path


@pytest.fixture(scope="module")
def sp500_json() -> dict[str, object]:
    """The JSON scan of the newest of the last 60 S&P 500 sessions with a confirmed signal."""
    for day in reversed(load_builtin("sp500-2010").dates[-60:]):
        code, out, err = invoke("--format", "json", "--asof", f"{day:%Y-%m-%d}")
        assert code == 0, err
        doc: dict[str, object] = json.loads(out)
        funnel = doc["funnel"]
        assert isinstance(funnel, dict)
        if funnel["confirmed"]:
            return doc
    raise AssertionError("no confirmed signal in the last 60 sessions of sp500-2010")


def test_json_output_parses_and_carries_every_stage(sp500_json: dict[str, object]) -> None:
    doc = sp500_json
    assert doc["dataset"] == "sp500-2010"
    funnel = doc["funnel"]
    assert isinstance(funnel, dict)
    evals = doc["evaluations"]
    assert isinstance(evals, list)
    assert funnel["candidates"] == len(evals)
    confirmed = [e for e in evals if e["status"] == "confirmed"]
    assert len(confirmed) == funnel["confirmed"] > 0
    for row in confirmed:
        assert list(row["stages"]) == list(STAGE_NAMES)
        for stage in row["stages"].values():
            assert 0.0 <= stage["score"] <= 1.0
            assert stage["reason"]
        assert row["stop"] < row["entry"] < row["target"]
        assert row["rejected_by"] is None


def test_json_rejected_rows_name_the_stage_that_stopped_them(
    sp500_json: dict[str, object],
) -> None:
    evals = sp500_json["evaluations"]
    assert isinstance(evals, list)
    for row in (e for e in evals if e["status"] == "rejected"):
        assert row["rejected_by"] in {*STAGE_NAMES, "threshold"}
        if row["rejected_by"] != "threshold":
            assert row["stages"][row["rejected_by"]]["passed"] is False


def test_csv_has_a_header_and_one_row_per_candidate(folder: Path) -> None:
    code, out, err = invoke("--data", str(folder), "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0].split(",") == list(CSV_COLUMNS)
    code, out_json, _ = invoke("--data", str(folder), "--format", "json")
    assert len(rows) == json.loads(out_json)["funnel"]["candidates"]
    for row in rows:
        assert row["status"] in {"confirmed", "rejected"}
        assert all(0.0 <= float(row[name]) <= 1.0 for name in STAGE_NAMES)


def test_symbols_filter_keeps_only_those_symbols(folder: Path) -> None:
    code, out, err = invoke("--data", str(folder), "--format", "json")
    assert code == 0, err
    found = sorted({e["symbol"] for e in json.loads(out)["evaluations"]})
    assert found, "the synthetic folder has candidates on its last date"
    pick = found[:2]
    code, out, err = invoke(
        "--data", str(folder), "--format", "json", "--symbols", ",".join(pick).lower()
    )
    assert code == 0, err
    doc = json.loads(out)
    assert {e["symbol"] for e in doc["evaluations"]} == set(pick)
    assert doc["funnel"]["symbols_requested"] == len(pick)


def test_table_shows_confirmed_and_says_what_it_hid(folder: Path) -> None:
    code, out, err = invoke("--data", str(folder), "--limit", "1")
    assert code == 0, err
    assert "symbols scanned" in out
    assert "rejected candidate(s) hidden" in out or "more confirmed" in out
    assert "no model loaded: neutral" in out


def test_output_file_gets_the_document(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "scan.json"
    code, out, err = invoke("--data", str(folder), "--format", "json", "--output", str(target))
    assert code == 0, err
    assert out == ""
    assert json.loads(target.read_text())["funnel"]["symbols_scanned"] == 40


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "swing_config.json"
    bad.write_text(json.dumps({"confirm_threshold": "high", "risk": {"stop_atr_multiple": -1}}))
    code, out, err = invoke("--config", str(bad))
    assert code == 2
    assert "confirm_threshold" in err
    assert "risk.stop_atr_multiple" in err
    assert "Traceback" not in err + out


def test_unknown_symbol_exits_2_with_a_clear_message(folder: Path) -> None:
    code, _, err = invoke("--data", str(folder), "--symbols", "SYN0001,ZZZZ")
    assert code == 2
    assert "ZZZZ" in err
    assert "Traceback" not in err


def test_empty_folder_exits_2(tmp_path: Path) -> None:
    code, _, err = invoke("--data", str(tmp_path))
    assert code == 2
    assert str(tmp_path) in err


def test_date_without_bars_exits_2(folder: Path) -> None:
    code, _, err = invoke("--data", str(folder), "--asof", "2030-01-05")
    assert code == 2
    assert "no symbol has a bar on 2030-01-05" in err


def test_bad_date_exits_2(folder: Path) -> None:
    code, _, err = invoke("--data", str(folder), "--asof", "yesterdayish")
    assert code == 2
    assert "--asof" in err


def test_data_and_universe_together_are_refused(folder: Path) -> None:
    code, _, err = invoke("--data", str(folder), "--universe", "sp500-2010")
    assert code == 2
    assert "either --data or --universe" in err


def test_unknown_universe_exits_2() -> None:
    code, _, err = invoke("--universe", "nasdaq-2099")
    assert code == 2
    assert "nasdaq-2099" in err


@pytest.mark.parametrize(
    ("fmt", "output", "stderr_tty", "stdout_tty", "shown"),
    [
        ("table", None, True, True, True),
        ("table", None, False, True, False),  # stderr piped or captured: no bar
        ("json", None, True, False, False),  # JSON piped to another program: keep it clean
        ("json", "out.json", True, False, True),  # JSON to a file: the screen is free
        ("csv", None, True, True, True),
    ],
)
def test_progress_bar_only_where_it_cannot_spoil_output(
    fmt: str, output: str | None, stderr_tty: bool, stdout_tty: bool, shown: bool
) -> None:
    out = Path(output) if output else None
    assert progress_wanted(OutputFormat(fmt), out, stderr_tty, stdout_tty) is shown
