"""Stage 1 over a history: the fast path (one analysis per window start) equals the literal
bar-by-bar reference, and both equal the batch `scan` on each date they share."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cache

import pytest

from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset, load_builtin, synthetic_universe
from swingflow_common.messages import CandidateSignal
from swingflow_common.pipeline.history import (
    candidates_for_bars,
    candidates_over_history,
    window_groups,
)
from swingflow_common.pipeline.scan import scan

CONFIG = StrategyConfig()
SHORT = StrategyConfig(lookback_bars=260)


@cache
def sp500_slice() -> Dataset:
    data = load_builtin("sp500-2010")
    return data.select(sorted(data.bars)[:12])


def same(a: list[CandidateSignal], b: list[CandidateSignal]) -> None:
    assert [c.id for c in a] == [c.id for c in b]
    for x, y in zip(a, b, strict=True):
        assert x.base == y.base
        assert x.features == y.features
        assert (x.close, x.atr, x.ts) == (y.close, y.atr, y.ts)


def test_window_groups_share_one_analysis_until_the_window_slides() -> None:
    groups = list(window_groups([7, 3, 3, 0, 9, 10, 11], lookback=10))
    assert groups == [(0, [0, 3, 7, 9]), (1, [10]), (2, [11])]


def test_candidates_for_bars_refuses_indices_outside_the_history() -> None:
    bars = synthetic_universe(1, 50, seed=1)
    from swingflow_common.analysis.base import OHLCV

    ohlcv = OHLCV.from_frame(next(iter(bars.bars.values())))
    with pytest.raises(ValueError, match="outside"):
        candidates_for_bars("S", ohlcv, [50], CONFIG, lambda i: None)
    with pytest.raises(ValueError, match="outside"):
        candidates_for_bars("S", ohlcv, [], CONFIG, lambda i: None)


def test_fast_path_equals_bar_by_bar_on_real_bars() -> None:
    fast = candidates_over_history(sp500_slice(), CONFIG)
    slow = candidates_over_history(sp500_slice(), CONFIG, bar_by_bar=True)
    assert len(fast) > 20
    same(fast, slow)


def test_fast_path_equals_bar_by_bar_when_the_window_slides() -> None:
    data = synthetic_universe(6, 420, seed=11)  # longer than the 260-bar window
    start = data.dates[230]  # candidates on bars both below and beyond the window length
    fast = candidates_over_history(data, SHORT, start=start)
    slow = candidates_over_history(data, SHORT, start=start, bar_by_bar=True)
    assert any(c.ts > data.dates[300] for c in fast)
    same(fast, slow)


def test_history_equals_the_batch_scan_on_each_date() -> None:
    data = sp500_slice()
    by_date: dict[datetime, list[CandidateSignal]] = defaultdict(list)
    for c in candidates_over_history(data, CONFIG):
        by_date[c.ts].append(c)
    dates = sorted(by_date)[-6:]
    assert dates
    for day in dates:
        batch = sorted((e.candidate for e in scan(data, CONFIG, asof=day).evaluations),
                       key=lambda c: c.id)  # fmt: skip
        same(sorted(by_date[day], key=lambda c: c.id), batch)
        assert any(c.features["rs_rank"] is not None for c in batch)


def test_history_limits_symbols_and_dates_but_ranks_across_all() -> None:
    data = sp500_slice()
    everything = candidates_over_history(data, CONFIG)
    start, end = data.dates[150], data.dates[200]
    symbol = next(c.symbol for c in everything if start <= c.ts <= end)
    some = candidates_over_history(data, CONFIG, symbols=[symbol.lower()], start=start, end=end)
    expected = [c for c in everything if c.symbol == symbol and start <= c.ts <= end]
    assert expected
    same(some, expected)
    with pytest.raises(KeyError, match="NOPE"):
        candidates_over_history(data, CONFIG, symbols=["NOPE"])


def test_the_last_snapshot_is_complete_unless_the_caller_completes_it_later() -> None:
    from swingflow_common.analysis.base import OHLCV
    from swingflow_common.pipeline.features import compute_features
    from swingflow_common.pipeline.snapshot import snapshot_at

    frame = next(iter(synthetic_universe(1, 300, seed=4).bars.values()))
    bars = OHLCV.from_frame(frame)
    found = {
        i: candidates_for_bars("S", bars, [i], CONFIG, lambda j: None) for i in range(250, 300)
    }
    no_hit = [i for i, result in found.items() if not result.candidates]
    assert no_hit
    last = no_hit[-1]
    whole = candidates_for_bars("S", bars, [last], CONFIG, lambda i: None)
    lazy = candidates_for_bars("S", bars, [last], CONFIG, lambda i: None, complete_last=False)
    assert whole.last_complete
    assert not lazy.last_complete
    assert set(lazy.last_snapshot) < set(whole.last_snapshot)
    assert {k: whole.last_snapshot[k] for k in lazy.last_snapshot} == lazy.last_snapshot
    window = OHLCV.from_frame(frame.iloc[max(0, last - CONFIG.lookback_bars + 1) : last + 1])
    assert whole.last_snapshot == snapshot_at(compute_features(window), len(window) - 1)
