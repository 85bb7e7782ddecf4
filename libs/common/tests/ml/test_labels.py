"""Labels follow the paper-trading fill rules: next open plus slippage, stop before target
in one bar, gaps, the time limit; trades that never happen or never end get no label."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from swingflow_common.config import RiskSettings, StrategyConfig
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import CandidateSignal, StageScore, signal_id
from swingflow_common.ml.labels import TradeLabel, label_candidates, label_trade

# close 100, ATR 2: stop 96, target 106 (2 and 3 ATRs); costs 10 bps each side
RISK = RiskSettings(commission_bps=10, slippage_bps=10, max_bars_held=3)
CONFIG = StrategyConfig(risk=RISK)
BPS = 1e-4


def frame(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """Bars from (open, high, low, close); the first is the signal's bar."""
    index = pd.date_range("2024-01-01", periods=len(rows), freq="D", tz="UTC", name="ts")
    data = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    data["volume"] = 1_000.0
    return data


def candidate(bars: pd.DataFrame, i: int = 0) -> CandidateSignal:
    ts = bars.index[i].to_pydatetime()
    base = StageScore(stage="base_signal", score=0.8, passed=True, reason="t")
    return CandidateSignal(id=signal_id("T", ts, "trend_pullback"), symbol="T", ts=ts,
                           setup="trend_pullback", close=100.0, atr=2.0, base=base,
                           features={}, ts_event=ts)  # fmt: skip


def trade(rows: list[tuple[float, float, float, float]]) -> TradeLabel:
    bars = frame(rows)
    result = label_trade(candidate(bars), bars, CONFIG)
    assert isinstance(result, TradeLabel), result
    return result


def test_target_first_is_a_win_with_its_return_after_costs() -> None:
    t = trade([(100, 100, 100, 100), (101, 102, 100, 101), (102, 107, 101, 106)])
    entry = 101 * (1 + 10 * BPS)  # next open plus slippage
    received = 106 * (1 - 10 * BPS)  # a target is a limit order: no slippage, commission
    pnl = received - entry * (1 + 10 * BPS)  # the engine's pnl over the shares' price
    assert (t.label, t.exit_reason, t.entry_index, t.exit_index) == (1, "target", 1, 2)
    assert t.return_pct == pytest.approx(pnl / entry, rel=1e-9)
    assert t.exit_ts == datetime(2024, 1, 3, tzinfo=UTC)


def test_stop_and_target_in_one_bar_count_as_the_stop() -> None:
    t = trade([(100, 100, 100, 100), (101, 107, 95, 101)])
    assert (t.label, t.exit_reason, t.exit_index) == (0, "stop", 1)
    assert t.return_pct < 0


def test_a_gap_through_the_stop_exits_at_the_open() -> None:
    t = trade([(100, 100, 100, 100), (100, 101, 99, 100), (94, 95, 93, 94)])
    assert (t.label, t.exit_reason) == (0, "stop_gap")
    entry, sold = 100 * (1 + 10 * BPS), 94 * (1 - 10 * BPS)  # both pay slippage
    pnl = sold * (1 - 10 * BPS) - entry * (1 + 10 * BPS)
    assert t.return_pct == pytest.approx(pnl / entry, rel=1e-9)


def test_a_gap_over_the_target_is_a_win_at_the_open() -> None:
    t = trade([(100, 100, 100, 100), (100, 101, 99, 100), (108, 109, 107, 108)])
    assert (t.label, t.exit_reason) == (1, "target_gap")


def test_the_time_limit_ends_a_trade_as_a_loss_even_in_profit() -> None:
    t = trade([(100, 100, 100, 100), (100, 101, 99, 100), (101, 102, 100, 101),
               (102, 104, 101, 104), (104, 105, 103, 104)])  # fmt: skip
    assert (t.label, t.exit_reason, t.bars_held, t.exit_index) == (0, "time", 3, 3)
    assert t.return_pct > 0  # a winner in money, not by the label's definition


def test_trades_that_never_happen_or_never_end_get_no_label() -> None:
    flat = (100.0, 101.0, 99.0, 100.0)
    gap_over = frame([flat, (107, 108, 106, 107), flat])
    assert label_trade(candidate(gap_over), gap_over, CONFIG) == "opened_beyond_levels"
    last = frame([flat])
    assert label_trade(candidate(last), last, CONFIG) == "no_next_bar"
    short = frame([flat, flat, flat])  # 2 bars after the signal, the limit is 3
    assert label_trade(candidate(short), short, CONFIG) == "unfinished"


def test_label_candidates_counts_the_skipped_and_reads_only_bars_up_to_the_exit() -> None:
    rows = [(100.0, 100.0, 100.0, 100.0), (101, 102, 100, 101), (102, 107, 101, 106)]
    bars = frame(rows + [(50, 51, 49, 50)] * 5)  # what happens after the exit is irrelevant
    ds = Dataset(name="t", bars={"T": bars}, adjustment="raw")
    result = label_candidates([candidate(bars, 0), candidate(bars, 7)], ds, CONFIG)
    assert [t.exit_reason for t in result.labels] == ["target"]
    assert result.skipped == {"no_next_bar": 1}
    assert result.win_rate == 1.0
