"""`swingflow service`'s profiling switch: a profile of the run, however the run ends."""

from __future__ import annotations

import pstats
from pathlib import Path

import pytest

from swingflow.commands.service import run_profiled


def busy() -> None:
    sum(i * i for i in range(10_000))


def stopped_with_code_3() -> None:
    busy()
    raise SystemExit(3)  # as the portfolio exits when it loses its lease


def test_a_profiled_run_writes_a_profile_that_names_what_it_ran(tmp_path: Path) -> None:
    out = tmp_path / "prof" / "scanner-1.prof"
    run_profiled(busy, out)
    functions = {name for _, _, name in pstats.Stats(str(out)).stats}  # type: ignore[attr-defined]
    assert "busy" in functions


def test_a_run_that_exits_still_leaves_its_profile(tmp_path: Path) -> None:
    out = tmp_path / "portfolio-1.prof"
    with pytest.raises(SystemExit) as stop:
        run_profiled(stopped_with_code_3, out)
    assert stop.value.code == 3
    functions = {name for _, _, name in pstats.Stats(str(out)).stats}  # type: ignore[attr-defined]
    assert {"busy", "stopped_with_code_3"} <= functions
