"""The array path of stages 1-4 (`backtest.judge_rows`) against the services' path
(`candidates_over_history` + `evaluate`, one message per candidate): the same orders,
session by session, and signals equal message for message, on real and synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from swingflow_common.backtest.engine import Judged, judge, judge_period, sessions_of
from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin, synthetic_universe
from swingflow_common.data.dataset import Dataset
from swingflow_common.pipeline.history import candidates_over_history


def _reference(ds: Dataset, config: StrategyConfig, symbols: list[str],
               sessions: np.ndarray) -> Judged:  # fmt: skip
    first, last = (pd.Timestamp(int(sessions[i]), tz="UTC") for i in (0, -1))
    return judge(candidates_over_history(ds, config, symbols, first, last), config)


@pytest.mark.parametrize(
    ("source", "config", "start"),
    [
        ("megacaps", StrategyConfig(), None),
        ("megacaps", StrategyConfig(confirm_threshold=0.5), 800),
        ("synthetic", StrategyConfig(), None),
        ("synthetic", StrategyConfig(lookback_bars=300), 520),  # one window per bar
    ],
)
def test_the_array_path_gives_the_services_orders_and_signals(
    source: str, config: StrategyConfig, start: int | None
) -> None:
    ds = load_builtin("megacaps-2013-2023") if source == "megacaps" else synthetic_universe(
        4, 700, seed=11
    )  # fmt: skip
    symbols = sorted(ds.bars)
    sessions = sessions_of(ds, symbols, None if start is None else ds.dates[start], None)
    fast = judge_period(ds, config, symbols, sessions, messages=True)
    ref = _reference(ds, config, symbols, sessions)
    plain = judge_period(ds, config, symbols, sessions)  # what the engine runs by default
    for column in ("ns", "sym", "setup", "total", "entry", "stop", "target", "atr", "scores"):
        assert np.array_equal(getattr(plain.offers, column), getattr(fast.offers, column))
    assert (plain.offers.symbols, plain.offers.setups) == (fast.offers.symbols, fast.offers.setups)
    assert (fast.candidates, fast.confirmed) == (ref.candidates, ref.confirmed)
    assert fast.confirmed > 20
    assert fast.per_session == ref.per_session
    assert list(fast.orders) == list(ref.orders)
    for ns, ref_orders in ref.orders.items():
        got = fast.orders[ns]
        assert [(o.symbol, o.setup, o.total, o.entry, o.stop, o.target, o.atr, o.scores)
                for o in got] == [
            (o.symbol, o.setup, o.total, o.entry, o.stop, o.target, o.atr, o.scores)
            for o in ref_orders
        ]  # fmt: skip
        # the lazily built message is the one the signals service emits, field for field
        assert [o.signal for o in got] == [o.signal for o in ref_orders]
