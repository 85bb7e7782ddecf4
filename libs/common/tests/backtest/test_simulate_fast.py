"""The engine's default path (offers as arrays, `simulate_fast` on a book of plain numbers,
stages 1-4 over a process pool) against the reference (every taken signal's message built
by the services' functions, `portfolio.on_bar`/`allocate` on the pydantic Book): the same
trades, equity, rejections and metrics, on synthetic universes where symbols list late
and delist early, under risk settings that make every rule fire."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from swingflow_common.backtest import judge_rows
from swingflow_common.backtest.bars import BarIndex
from swingflow_common.backtest.engine import (
    judge_period,
    run_pipeline_backtest,
    sessions_of,
    simulate_period,
)
from swingflow_common.backtest.judge_rows import judge_history_rows
from swingflow_common.backtest.result import BacktestResult
from swingflow_common.config import RiskSettings, StrategyConfig
from swingflow_common.data import synthetic_universe
from swingflow_common.data.dataset import Dataset
from swingflow_common.messages import CandidateSignal, MlPrediction, MlPredictReply


@pytest.fixture(scope="module")
def universe() -> Dataset:
    """12 synthetic symbols; two list late and two delist early (end-of-data exits)."""
    ds = synthetic_universe(12, 900, seed=5)
    bars = dict(ds.bars)
    names = sorted(bars)
    for symbol in names[:2]:
        bars[symbol] = bars[symbol].iloc[:500]
    for symbol in names[2:4]:
        bars[symbol] = bars[symbol].iloc[300:]
    return replace(ds, bars=bars)


def _same(fast: BacktestResult, ref: BacktestResult) -> None:
    assert fast.trades == ref.trades
    assert fast.equity == ref.equity
    assert fast.rejected == ref.rejected
    assert fast.metrics == ref.metrics
    assert (fast.candidates, fast.confirmed) == (ref.candidates, ref.confirmed)
    assert fast.id == ref.id


RISKS = {
    "default": {},
    "three slots, short holds": {"max_positions": 3, "max_bars_held": 4},
    "little cash, wide weights": {
        "initial_cash": 3_000.0, "max_weight_per_symbol": 1.0, "risk_per_trade": 0.1,
        "commission_bps": 40.0,
    },
    "tight levels": {"stop_atr_multiple": 0.3, "target_atr_multiple": 0.4, "max_positions": 25},
}  # fmt: skip


@pytest.mark.parametrize("name", list(RISKS))
@pytest.mark.parametrize(("entry", "slippage_atr"), [("next_open", None), ("close", 0.2)])
def test_the_fast_path_gives_the_reference_trades_equity_and_rejections(
    universe: Dataset, name: str, entry: str, slippage_atr: float | None
) -> None:
    config = StrategyConfig(risk=RiskSettings(**RISKS[name]))  # type: ignore[arg-type]
    kw = {"entry": entry, "slippage_atr": slippage_atr}
    fast = run_pipeline_backtest(universe, config, **kw)  # type: ignore[arg-type]
    ref = run_pipeline_backtest(universe, config, reference=True, **kw)  # type: ignore[arg-type]
    _same(fast, ref)
    assert len(fast.trades) >= 10
    assert sum(fast.rejected.values()) > 0


def test_every_rule_fires_somewhere_in_the_parity_cases(universe: Dataset) -> None:
    """The cases above are not vacuous: between them, every exit and rejection occurs."""
    exits: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for risk in RISKS.values():
        for entry in ("next_open", "close"):
            config = StrategyConfig(risk=RiskSettings(**risk))  # type: ignore[arg-type]
            result = run_pipeline_backtest(universe, config, entry=entry)
            exits.update(t.exit_reason for t in result.trades)
            rejected.update(result.rejected)
    assert {"stop", "target", "time", "end_of_data"} <= set(exits)
    assert {"already_held", "already_pending", "max_positions", "insufficient_cash",
            "too_small", "cancelled_end_of_data", "cancelled_insufficient_cash",
            "cancelled_opened_beyond_levels"} <= set(rejected)  # fmt: skip


def test_offers_of_the_last_session_are_refused_alike(universe: Dataset) -> None:
    """A period ending on a session with signals: nothing is left to trade them on."""
    config = StrategyConfig()
    symbols = sorted(universe.bars)
    offers = judge_period(universe, config, symbols, sessions_of(universe, symbols, None, None))
    days, counts = np.unique(offers.offers.ns[offers.offers.ns > offers.offers.ns[0]],
                             return_counts=True)  # fmt: skip
    last = int(days[len(days) // 2])
    end = pd.Timestamp(last, tz="UTC")
    fast = run_pipeline_backtest(universe, config, end=end)
    ref = run_pipeline_backtest(universe, config, end=end, reference=True)
    _same(fast, ref)
    assert fast.rejected["end_of_data"] == int(counts[len(days) // 2])


def test_a_part_of_the_period_from_other_cash_matches_too(universe: Dataset) -> None:
    """As a walk-forward window simulates it: a slice of the sessions, its own cash."""
    config = StrategyConfig(risk=RiskSettings(max_positions=4))
    symbols = sorted(universe.bars)
    sessions = sessions_of(universe, symbols, None, None)
    judged = judge_period(universe, config, symbols, sessions, messages=True)
    window = sessions[350:640]
    risk = config.risk.model_copy(update={"initial_cash": 61_234.5})
    bars = BarIndex(universe)
    fast, fast_eq = simulate_period(universe, symbols, window, judged, risk, bars=bars)
    ref, ref_eq = simulate_period(universe, symbols, window, judged, risk, bars=bars,
                                  reference=True)  # fmt: skip
    assert fast.trades == ref.trades
    assert len(fast.trades) >= 5
    assert fast.equity == ref.equity
    assert fast.rejected == ref.rejected
    assert fast_eq == ref_eq


class _ByRsi:
    """A stand-in model: the probability falls with the bar's RSI (some signals pass
    stage 3 strongly, some weakly, some not at all)."""

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        def p(c: CandidateSignal) -> float:
            rsi = c.features.get("rsi_14")
            return 0.5 if rsi is None else min(0.95, max(0.05, 1.2 - rsi / 60.0))

        return MlPredictReply(
            model_version="test-rsi",
            predictions=tuple(
                MlPrediction(signal_id=c.id, probability=p(c), neutral=False) for c in candidates
            ),
        )


def test_with_an_ml_scorer_the_fast_loop_gives_the_reference_result(universe: Dataset) -> None:
    """The scorer path builds every candidate's message; its offers go to both loops."""
    config = StrategyConfig.model_validate({"stage_minimums": {"ml_confidence": 0.3}})
    ds = universe.select(sorted(universe.bars)[:6])
    fast = run_pipeline_backtest(ds, config, scorer=_ByRsi())
    ref = run_pipeline_backtest(ds, config, scorer=_ByRsi(), reference=True)
    _same(fast, ref)
    assert len(fast.trades) >= 10
    assert fast.candidates > fast.confirmed


def test_windows_scored_in_several_batches_give_the_same_offers(
    universe: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short lookback makes one analysis window per bar; they are scored in batches."""
    config = StrategyConfig(lookback_bars=300)
    symbols = sorted(universe.bars)[2:6]  # two listing late, two with every bar
    start = universe.dates[650]
    whole = judge_history_rows(universe, config, symbols, start)
    monkeypatch.setattr(judge_rows, "MAX_WINDOWS", 7)
    batched = judge_history_rows(universe, config, symbols, start)
    assert len(whole.offers) > 10
    for column in ("ns", "sym", "setup", "total", "entry", "stop", "target", "atr", "scores"):
        assert np.array_equal(getattr(whole.offers, column), getattr(batched.offers, column))
    assert whole.per_session == batched.per_session
