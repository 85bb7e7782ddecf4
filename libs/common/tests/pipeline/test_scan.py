"""The universe scan on a synthetic universe: funnel arithmetic, ranking, no look-ahead,
relative strength equal to the batch ranking, skipped symbols, the ML batch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest

from swingflow_common.analysis import relative_strength
from swingflow_common.analysis.base import OHLCV
from swingflow_common.analysis.roc import compute as roc_compute
from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset, synthetic_universe
from swingflow_common.messages import STAGE_NAMES, CandidateSignal, MlPrediction, MlPredictReply
from swingflow_common.pipeline.scan import ScanError, ScanResult, scan

CONFIG = StrategyConfig()


@cache
def universe() -> Dataset:
    return synthetic_universe(120, 320, seed=7)


@cache
def scanned() -> ScanResult:
    return scan(universe(), CONFIG)


def test_scan_funnel_adds_up() -> None:
    result = scanned()
    f = result.funnel
    assert f.symbols_requested == len(universe().bars)
    assert f.symbols_scanned + f.symbols_skipped == f.symbols_requested
    assert f.candidates == len(result.evaluations) > 0
    assert f.confirmed + f.rejected == f.candidates
    assert f.confirmed == sum(e.confirmed for e in result.evaluations)
    assert sum(f.rejected_by.values()) == f.rejected
    assert set(f.rejected_by) == {*STAGE_NAMES, "threshold"}
    assert sum(f.candidates_by_setup.values()) == f.candidates


def test_scan_ranks_confirmed_first_then_by_total() -> None:
    evals = scanned().evaluations
    keys = [(not e.confirmed, -e.total) for e in evals]
    assert keys == sorted(keys)


def test_scan_defaults_to_the_last_date() -> None:
    result = scanned()
    assert result.asof == universe().dates[-1].to_pydatetime()
    assert all(e.candidate.ts == result.asof for e in result.evaluations)


def test_scan_never_reads_bars_after_asof() -> None:
    data = universe()
    day = data.dates[-40]
    whole = scan(data, CONFIG, asof=day)
    # the future rewritten wildly: nothing on or before `day` may change
    future = {s: f.mul(np.where(f.index <= day, 1.0, 3.0), axis=0) for s, f in data.bars.items()}
    altered = scan(replace(data, bars=future), CONFIG, asof=day)
    cut = scan(data.asof(day), CONFIG, asof=day)
    assert whole.evaluations == altered.evaluations == cut.evaluations
    assert whole.funnel == cut.funnel


def test_rs_rank_equals_the_batch_ranking_of_the_previous_session() -> None:
    data = universe()
    result = scanned()
    panel = pd.DataFrame(
        {s: roc_compute(OHLCV.from_frame(f))["roc_63"] for s, f in data.bars.items()},
        index=data.dates,
    )
    expected = relative_strength.rank(panel).iloc[-1]
    assert result.evaluations, "the synthetic universe has candidates on its last date"
    for e in result.evaluations:
        got = e.candidate.features["rs_rank"]
        assert got is not None
        assert got == pytest.approx(expected[e.candidate.symbol], abs=1e-12)


def test_scan_skips_a_symbol_without_a_bar_that_day() -> None:
    data = universe()
    late = sorted(data.bars)[3]
    bars = dict(data.bars) | {late: data.bars[late].iloc[:-1]}
    result = scan(replace(data, bars=bars), CONFIG)
    assert result.funnel.skipped_symbols == (late,)
    assert result.funnel.symbols_scanned == len(bars) - 1
    assert late not in {e.candidate.symbol for e in result.evaluations}


def test_scan_only_the_symbols_asked_for() -> None:
    wanted = [e.candidate.symbol for e in scanned().evaluations[:2]]
    result = scan(universe(), CONFIG, symbols=[s.lower() for s in wanted])
    assert {e.candidate.symbol for e in result.evaluations} == set(wanted)
    assert result.funnel.symbols_requested == len(set(wanted))
    # ranks still come from the whole universe, not from the two symbols
    full = {e.candidate.id: e for e in scanned().evaluations}
    for e in result.evaluations:
        assert e == full[e.candidate.id]


def test_scan_refuses_unknown_symbols() -> None:
    with pytest.raises(ScanError, match="NOPE"):
        scan(universe(), CONFIG, symbols=["SYN0001", "NOPE"])


def test_scan_reports_progress_for_every_symbol() -> None:
    seen: list[tuple[int, int]] = []
    small = universe().select(sorted(universe().bars)[:7])
    scan(small, CONFIG, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 7) for i in range(1, 8)]


class HalfScorer:
    """Probability 0.9 for even-numbered symbols, 0.1 for odd; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        self.calls += 1
        return MlPredictReply(
            model_version="half-1",
            predictions=tuple(
                MlPrediction(
                    signal_id=c.id,
                    probability=0.9 if int(c.symbol[-1]) % 2 == 0 else 0.1,
                    neutral=False,
                )
                for c in candidates
            ),
        )


def test_scan_scores_all_candidates_in_one_ml_batch() -> None:
    scorer = HalfScorer()
    result = scan(universe(), CONFIG, ml=scorer)
    assert scorer.calls == 1
    for e in result.evaluations:
        even = int(e.candidate.symbol[-1]) % 2 == 0
        assert e.ml_confidence.score == (0.9 if even else 0.1)
        assert e.model_version == "half-1"
        assert not e.ml_confidence.neutral


def test_scan_on_a_date_without_bars_scans_nothing() -> None:
    data = universe()
    saturday = next(d for d in pd.date_range(data.dates[-30], periods=7) if d.day_of_week == 5)
    result = scan(data, CONFIG, asof=saturday)
    assert result.funnel.symbols_scanned == 0
    assert result.evaluations == ()


def test_snapshot_values_are_the_features_at_the_scan_bar() -> None:
    e = scanned().evaluations[0]
    frame = universe().bars[e.candidate.symbol]
    assert e.candidate.close == frame["close"].iloc[-1]
    assert e.candidate.features["close"] == frame["close"].iloc[-1]
    assert all(v is None or math.isfinite(v) for v in e.candidate.features.values())
    assert np.isclose(e.candidate.atr, e.candidate.features["atr_14"] or math.nan)
