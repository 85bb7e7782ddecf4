"""Walk-forward: windows that do not overlap wrongly, out-of-sample figures from
out-of-sample trades only, and a fit that never sees past its in-sample window."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from swingflow_common.backtest.engine import run_pipeline_backtest
from swingflow_common.backtest.result import BacktestResult
from swingflow_common.backtest.walk_forward import plan_windows, run_walk_forward
from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin
from swingflow_common.data.dataset import Dataset

ARGS = {"start": "2014-01-01", "end": "2018-12-31"}


def test_windows_roll_by_the_step_and_out_of_sample_parts_tile_the_period() -> None:
    ws = plan_windows(1000, 250, 100, 100)
    assert [(w.is_first, w.is_last, w.oos_first, w.oos_last) for w in ws[:2]] == [
        (0, 249, 250, 349),
        (100, 349, 350, 449),
    ]
    assert ws[-1].oos_last == 999
    assert len(ws) == 8  # 250 + 7 x 100 = 950 < 1000: the eighth OOS part is 50 bars
    for a, b in itertools.pairwise(ws):
        assert b.oos_first == a.oos_last + 1  # no gap, no overlap
    for w in ws:
        assert w.is_last < w.oos_first
    assert [w.oos_first for w in plan_windows(1000, 250, 100, 150)][:3] == [250, 400, 550]


def test_a_step_shorter_than_the_out_of_sample_part_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plan_windows(1000, 250, 100, 50)
    with pytest.raises(ValueError, match="no out-of-sample"):
        plan_windows(200, 250, 100, 100)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return load_builtin("megacaps-2013-2023").select(["AAPL", "NVDA", "AMZN"])


@pytest.fixture(scope="module")
def wf(data: Dataset) -> BacktestResult:
    return run_walk_forward(
        data, StrategyConfig(), in_sample_bars=252, out_of_sample_bars=189,
        **ARGS,  # type: ignore[arg-type]
    )  # fmt: skip


def test_headline_figures_come_from_the_out_of_sample_trades_only(wf: BacktestResult) -> None:
    windows = wf.walk_forward
    assert len(windows) >= 4
    spans = [(w.out_of_sample_start, w.out_of_sample_end) for w in windows]
    for t in wf.trades:  # each trade lives inside one out-of-sample part
        inside = [a <= t.signal_ts.date() and t.exit_ts.date() <= b for a, b in spans]
        assert sum(inside) == 1
    assert (
        wf.metrics["trades"]
        == len(wf.trades)
        == sum(w.out_of_sample["trades"] or 0 for w in windows)
    )
    assert wf.start == windows[0].out_of_sample_start
    days = [p.day for p in wf.equity]
    assert days == sorted(set(days))
    assert all(not (w.in_sample_start <= days[0] <= w.in_sample_end) for w in windows[:1])
    assert [t.seq for t in wf.trades] == list(range(1, len(wf.trades) + 1))
    # the stitched account ends where the out-of-sample trades took it
    cash = StrategyConfig().risk.initial_cash
    assert wf.equity[-1].equity == pytest.approx(cash + sum(t.pnl for t in wf.trades))
    assert wf.metrics["total_return"] == pytest.approx(wf.equity[-1].equity / cash - 1)


def test_the_first_out_of_sample_part_trades_as_a_plain_run_of_that_period(
    data: Dataset, wf: BacktestResult
) -> None:
    w = wf.walk_forward[0]
    plain = run_pipeline_backtest(
        data, StrategyConfig(), start=w.out_of_sample_start, end=w.out_of_sample_end
    )
    strip = {"seq": 0}
    first = [t for t in wf.trades if t.exit_ts.date() <= w.out_of_sample_end]
    assert [t.model_copy(update=strip) for t in first] == [
        t.model_copy(update=strip) for t in plain.trades
    ]
    assert w.out_of_sample == plain.metrics


def test_fit_sees_only_its_in_sample_bars_and_its_config_is_used(data: Dataset) -> None:
    seen: list[tuple[date, date, date]] = []

    def fit(known: Dataset, is_start: date, is_end: date, config: StrategyConfig) -> StrategyConfig:
        seen.append((is_start, is_end, max(known.dates).date()))
        return config.model_copy(update={"confirm_threshold": 0.99})  # confirms nothing

    r = run_walk_forward(
        data, StrategyConfig(), in_sample_bars=252, out_of_sample_bars=252, fit=fit,
        start="2014-01-01", end="2016-12-31",
    )  # fmt: skip
    assert len(seen) == len(r.walk_forward) >= 2
    for (is_start, is_end, last_known), w in zip(seen, r.walk_forward, strict=True):
        assert last_known == is_end == w.in_sample_end
        assert is_start == w.in_sample_start
    assert r.trades == ()
    assert r.confirmed == 0
    fitted = r.options["fitted_configs"]
    assert isinstance(fitted, list)
    assert all(c["confirm_threshold"] == 0.99 for c in fitted)
