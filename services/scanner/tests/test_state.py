"""The batch-to-candidates step, pure: bars taken in batch by batch give exactly the
candidates of the batch pipeline, whatever the batch sizes, replicas or restarts."""

from __future__ import annotations

import random
from functools import cache

import pytest
from scanner_helpers import CONFIG, day_ordered_bars, sp500_symbols

from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset, synthetic_universe
from swingflow_common.messages import Bar, CandidateSignal
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_scanner.book import Fit
from swingflow_scanner.partition import Partition
from swingflow_scanner.state import ScannerState


@cache
def universe() -> Dataset:
    data: Dataset = sp500_symbols(16)
    return data


@cache
def reference(config: StrategyConfig = CONFIG) -> list[CandidateSignal]:
    return candidates_over_history(universe(), config)


def run_batches(
    state: ScannerState, bars: list[Bar], sizes: list[int], seed: int = 1
) -> list[CandidateSignal]:
    rnd = random.Random(seed)
    out: list[CandidateSignal] = []
    i = 0
    while i < len(bars):
        k = rnd.choice(sizes)
        out += state.step(bars[i : i + k]).candidates
        i += k
    return sorted(out, key=lambda c: (c.ts, c.symbol))


def assert_same(got: list[CandidateSignal], expected: list[CandidateSignal]) -> None:
    assert [c.id for c in got] == [c.id for c in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.base == b.base
        assert a.features == b.features
        assert (a.close, a.atr, a.ts_event) == (b.close, b.atr, b.ts_event)


@pytest.mark.parametrize("sizes", [[16], [1, 7, 64, 500, 3000]], ids=["day", "mixed"])
def test_batches_of_any_size_give_the_batch_pipelines_candidates(sizes: list[int]) -> None:
    got = run_batches(ScannerState(CONFIG), day_ordered_bars(universe()), sizes)
    assert len(reference()) > 40
    assert_same(got, reference())
    assert any(c.features["rs_rank"] is not None for c in got)


def test_a_catch_up_batch_costs_one_analysis_per_symbol() -> None:
    bars = day_ordered_bars(universe())
    found = ScannerState(CONFIG).step(bars)  # the whole year in one batch
    assert found.analyses == len(universe().bars)
    assert_same(sorted(found.candidates, key=lambda c: (c.ts, c.symbol)), reference())


def test_replicas_split_the_symbols_and_together_find_everything() -> None:
    bars = day_ordered_bars(universe())
    found = [run_batches(ScannerState(CONFIG, Partition(i, 3)), bars, [100, 700]) for i in range(3)]
    symbols = [{c.symbol for c in f} for f in found]
    assert all(symbols)
    assert not (symbols[0] & symbols[1])
    assert not (symbols[1] & symbols[2])
    assert not (symbols[0] & symbols[2])
    merged = sorted((c for f in found for c in f), key=lambda c: (c.ts, c.symbol))
    assert_same(merged, reference())


def test_a_restart_from_stored_bars_continues_exactly() -> None:
    bars = day_ordered_bars(universe())
    cut = len(bars) // 2
    first = ScannerState(CONFIG)
    before = run_batches(first, bars[:cut], [300])
    stored: dict[str, list[Bar]] = {}
    for bar in bars[:cut]:
        stored.setdefault(bar.symbol, []).append(bar)
    second = ScannerState(CONFIG)
    second.load((s, b[-second.keep(s) :]) for s, b in stored.items())
    after = run_batches(second, bars[cut:], [300])
    assert before
    assert after
    assert_same(before + after, reference())


def test_with_a_sliding_window_the_trimmed_books_still_match() -> None:
    data = synthetic_universe(3, 560, seed=4)
    config = StrategyConfig(lookback_bars=260)
    expected = candidates_over_history(data, config)
    state = ScannerState(config)
    got = run_batches(state, day_ordered_bars(data), [40, 900])
    assert max(len(b) for b in state.books.values()) < 560  # trimmed along the way
    assert any(c.ts > data.dates[520] for c in expected)
    assert_same(got, expected)


def test_duplicates_are_ignored_and_late_bars_refused() -> None:
    bars = day_ordered_bars(universe())[: 16 * 80]
    state = ScannerState(CONFIG)
    state.step(bars)
    last, older = bars[-1], bars[-16 * 5]
    intake = state.intake([last, older, replace_bar(older, close=older.close * 1.001)])
    assert intake.fits == [Fit.DUPLICATE, Fit.DUPLICATE, Fit.OUT_OF_ORDER]
    assert intake.refused == [2]
    assert not intake.to_store
    assert not intake.changed


def test_a_redelivered_duplicate_is_announced_again() -> None:
    bars = day_ordered_bars(universe())
    state = ScannerState(CONFIG)
    first = state.step(bars).candidates
    last_day = [b for b in bars if b.ts == bars[-1].ts]
    again = state.intake(last_day, [True] * len(last_day))
    state.record_rocs(again)
    announced = state.analyze(again).candidates
    expected = [c for c in first if c.ts == bars[-1].ts]
    assert expected
    assert sorted(c.id for c in announced) == sorted(c.id for c in expected)


def test_a_corrected_last_bar_replaces_it_and_is_analyzed_again() -> None:
    bars = day_ordered_bars(universe())
    state = ScannerState(CONFIG)
    state.step(bars[:-1])
    last = bars[-1]
    state.step([last])
    fixed = replace_bar(last, close=(last.high + last.low) / 2)
    intake = state.intake([fixed])
    assert intake.fits == [Fit.CORRECTION]
    assert intake.to_store == [fixed]
    book = state.books[last.symbol]
    assert book.row(len(book) - 1)[3] == fixed.close
    assert len(book) == len([b for b in bars if b.symbol == last.symbol])


def test_rollback_leaves_the_books_as_before_the_batch() -> None:
    bars = day_ordered_bars(universe())
    state = ScannerState(CONFIG)
    state.step(bars[:240])
    before = {s: (len(b), b.row(len(b) - 1)) for s, b in state.books.items()}
    fixed = replace_bar(bars[239], close=(bars[239].high + bars[239].low) / 2)
    intake = state.intake([*bars[240:480], fixed])
    state.rollback(intake)
    assert {s: (len(b), b.row(len(b) - 1)) for s, b in state.books.items()} == before


def replace_bar(bar: Bar, **changes: float) -> Bar:
    return Bar.model_validate({**bar.model_dump(), **changes})


def test_a_latest_analysis_without_a_setup_is_finished_with_every_feature() -> None:
    from swingflow_common.analysis.base import OHLCV
    from swingflow_common.pipeline.features import compute_features
    from swingflow_common.pipeline.snapshot import snapshot_at

    state = ScannerState(CONFIG)
    bars = day_ordered_bars(universe())
    last_day = [b for b in bars if b.ts == bars[-1].ts]
    state.step(bars[: -len(last_day)])  # the last day alone: one window per symbol
    latest = {a.symbol: a for a in state.step(last_day).latest}
    partial = [a for a in latest.values() if not a.complete]
    assert partial, "some symbol has no setup on its last bar"
    assert set(state.unfinished) == {a.symbol for a in partial}
    finished = {}
    while (done := state.finish_latest()) is not None:
        finished[done.symbol] = done
    assert not state.unfinished
    assert set(finished) == {a.symbol for a in partial}
    for symbol, done in finished.items():
        frame = universe().bars[symbol].iloc[-CONFIG.lookback_bars :]
        full = snapshot_at(compute_features(OHLCV.from_frame(frame)), len(frame) - 1)
        assert done.complete
        assert done.ts == latest[symbol].ts
        assert done.features == {**full, "rs_rank": latest[symbol].features["rs_rank"]}
        assert set(latest[symbol].features) < set(done.features)  # the setup tier only before
        assert done.setups == latest[symbol].setups == ()
