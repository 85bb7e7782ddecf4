"""Stages 1-4 over a whole history as arrays, messages built only where they are needed.

`candidates_over_history` + `evaluate` (the services' path, one pydantic CandidateSignal
and Evaluation per setup hit) cost ~1 ms a hit; on synthetic data a setup hits on ~16% of
bars. With no ML scorer (the neutral stage: a constant), every score the verdict needs is
a function of the features at the bar, so this module runs the very same stage functions
on many rows at once (`setups.scan_setups`, `confirmation.score_rows`,
`entry_timing.score_rows`, `integrate.total_rows`/`passed_rows`, the array-first forms the
per-candidate calls use on one row) and keeps, for a confirmed signal, only its scores and
levels plus the row of features it was found on. Its `ConfirmedSignal` is built by the
services' own `candidates_at` + `evaluate` only when the portfolio could take it (see
`simulate`), and checked there against the array verdict.

The analysis windows, candidate filter (a known positive ATR and close), `rs_rank` and
funnel counts are those of `pipeline.history.candidates_over_history`; a test holds the
orders equal to `engine.judge` on the candidates it gives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from swingflow_common.analysis.base import OHLCV
from swingflow_common.backtest.bars import EPOCH, ns_index
from swingflow_common.backtest.simulate import Order
from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike, to_utc
from swingflow_common.messages import ConfirmedSignal
from swingflow_common.pipeline import confirmation, entry_timing
from swingflow_common.pipeline.candidates import ATR_KEY, candidates_at, evaluate
from swingflow_common.pipeline.features import complete_features, setup_features
from swingflow_common.pipeline.history import rs_ranks, slice_bars
from swingflow_common.pipeline.integrate import level_values, passed_rows, total_rows
from swingflow_common.pipeline.ml_stage import MlOutcome, neutral_ml_stage
from swingflow_common.pipeline.scoring import RowGetter, clip01_rows, finite_rows, rounded
from swingflow_common.pipeline.setups import SetupScan, scan_setups


@dataclass(frozen=True)
class _Found:
    """The confirmed rows of one setup in one analysis window: what their messages need."""

    symbol: str
    setup: str
    scan: SetupScan  # compacted to these rows
    keys: tuple[str, ...]  # every feature of the window, sorted
    values: npt.NDArray[np.float64]  # (rows, keys): the features at each row
    ranks: list[float | None]

    def signal(self, k: int, ts: datetime, config: StrategyConfig) -> ConfirmedSignal:
        """Row `k`'s ConfirmedSignal, by the services' own candidates_at and evaluate."""
        row = {key: self.values[k : k + 1, c] for c, key in enumerate(self.keys)}
        (candidate,) = candidates_at(
            self.symbol, ts, row, 0, config, self.ranks[k],
            hits=[self.scan.at(k)],
        )  # fmt: skip
        evaluation = evaluate(candidate, config, MlOutcome(neutral_ml_stage(config)))
        if evaluation.signal is None:
            raise AssertionError(f"{candidate.id}: the array verdict confirmed it, evaluate not")
        return evaluation.signal


@dataclass(frozen=True)
class RowsJudged:
    """Per session (int64 ns): the confirmed orders (unsorted) and the candidates seen."""

    orders: dict[int, list[Order]]
    per_session: dict[int, int]


def _window_groups(a: int, b: int, lookback: int) -> list[tuple[int, list[int]]]:
    """`history.window_groups(range(a, b), lookback)`, without a Python step per bar."""
    idx = np.arange(a, b, dtype=np.int64)
    starts = np.maximum(0, idx - lookback + 1)
    uniq, first = np.unique(starts, return_index=True)
    chunks = np.split(idx, first[1:])
    return [(s, c.tolist()) for s, c in zip(uniq.tolist(), chunks, strict=True)]


def _getter(
    columns: dict[str, npt.NDArray[np.float64]],
    at: npt.NDArray[np.int64],
    rank_rows: npt.NDArray[np.float64],
) -> RowGetter:
    """The stages' row input: each feature at the rows `at` (non-finite -> NaN)."""

    def get(key: str) -> npt.NDArray[np.float64]:
        if key == "rs_rank":
            return rank_rows
        col = columns.get(key)
        return np.full(at.shape[0], np.nan) if col is None else finite_rows(col[at])

    return get


def _lazy(found: _Found, k: int, ts_ns: int, config: StrategyConfig,
          scores: tuple[float, float, float, float], total: float,
          close: float, atr: float) -> Order:  # fmt: skip
    stop, target = level_values(close, atr, config)
    ts = EPOCH + timedelta(microseconds=ts_ns // 1000)  # bar_time's datetime, cheaper

    def build() -> ConfirmedSignal:
        signal = found.signal(k, ts, config)
        if signal.total != total or (signal.entry, signal.stop, signal.target) != (
            close, stop, target,
        ):  # fmt: skip
            raise AssertionError(f"{signal.id}: array and per-candidate verdicts differ")
        return signal

    return Order.lazy(
        symbol=found.symbol, setup=found.setup, ts=ts, total=total,
        entry=close, stop=stop, target=target, atr=atr, scores=scores, build=build,
    )  # fmt: skip


def judge_history_rows(
    dataset: Dataset,
    config: StrategyConfig,
    symbols: Sequence[str],
    start: DateLike | None = None,
    end: DateLike | None = None,
) -> RowsJudged:
    """Stages 1-4 with the neutral ML stage on the bars of `symbols` in [start, end]."""
    ranks = rs_ranks(dataset)
    lo = None if start is None else to_utc(start)
    hi = None if end is None else to_utc(end)
    ml_stage = neutral_ml_stage(config)
    neutral = (False, False, ml_stage.neutral, False)
    orders: dict[int, list[Order]] = {}
    per_session: dict[int, int] = {}
    for symbol in symbols:
        frame = dataset.bars[symbol]
        a = 0 if lo is None else int(frame.index.searchsorted(lo, side="left"))
        b = len(frame) if hi is None else int(frame.index.searchsorted(hi, side="right"))
        if b <= a:
            continue
        bars = OHLCV.from_frame(frame.iloc[:b])
        stamps = ns_index(frame.index[:b])
        rank_values = ranks[symbol].reindex(frame.index[:b]).to_numpy(np.float64)
        for first, group in _window_groups(a, b, config.lookback_bars):
            window = slice_bars(bars, first, group[-1] + 1)
            feats = setup_features(window)
            local = np.asarray(group, dtype=np.int64) - first
            scans = scan_setups(feats, local, config)
            if not any(bool(s.hit.any()) for s in scans):
                continue
            atr_all = finite_rows(np.asarray(feats[ATR_KEY], dtype=np.float64)[local])
            close_all = finite_rows(np.asarray(feats["close"], dtype=np.float64)[local])
            valid = (atr_all > 0) & (close_all > 0)  # candidates_at's filter
            feats = complete_features(feats, window)
            keys = tuple(sorted(feats))
            columns = {k: np.asarray(feats[k], dtype=np.float64) for k in keys}
            for scan in scans:
                rows = np.flatnonzero(scan.hit & valid)
                if rows.size == 0:
                    continue
                at = local[rows]
                bar_ix = at + first
                rank_rows = finite_rows(rank_values[bar_ix])

                get = _getter(columns, at, rank_rows)
                base = np.array(rounded(clip01_rows(scan.strength[rows])), dtype=np.float64)
                conf = np.array(confirmation.score_rows(get), dtype=np.float64)
                timing = np.array(entry_timing.score_rows(get, scan.setup), dtype=np.float64)
                ml = np.full(rows.size, ml_stage.score)
                scores = [base, conf, ml, timing]
                totals = total_rows(scores, config)
                ok = passed_rows(scores, neutral, config)
                ok &= np.array(totals) >= config.confirm_threshold
                sessions = stamps[bar_ix]
                for ns in sessions.tolist():
                    per_session[ns] = per_session.get(ns, 0) + 1
                chosen = np.flatnonzero(ok)
                if chosen.size == 0:
                    continue
                values = np.column_stack([columns[k][at[chosen]] for k in keys])
                found = _Found(
                    symbol, scan.setup, scan.take(rows[chosen]), keys, values,
                    [None if math.isnan(r) else r for r in rank_rows[chosen].tolist()],
                )  # fmt: skip
                picked = zip(
                    sessions[chosen].tolist(), base[chosen].tolist(), conf[chosen].tolist(),
                    ml[chosen].tolist(), timing[chosen].tolist(), chosen.tolist(),
                    close_all[rows[chosen]].tolist(), atr_all[rows[chosen]].tolist(),
                    strict=True,
                )  # fmt: skip
                for k, (ns, b_, c_, m_, t_, j, close, atr) in enumerate(picked):
                    order = _lazy(found, k, ns, config, (b_, c_, m_, t_),
                                  min(totals[j], 1.0), close, atr)  # fmt: skip
                    orders.setdefault(ns, []).append(order)
    return RowsJudged(orders, per_session)
