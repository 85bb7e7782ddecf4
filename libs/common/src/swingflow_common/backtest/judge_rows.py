"""Stages 1-4 over a whole history as arrays, messages built only where they are needed.

`candidates_over_history` + `evaluate` (the services' path, one pydantic CandidateSignal
and Evaluation per setup hit) cost ~1 ms a hit; on synthetic data a setup hits on ~16% of
bars. With no ML scorer (the neutral stage: a constant), every score the verdict needs is
a function of the features at the bar, so this module runs the very same stage functions
on many rows at once (`setups.scan_setups`, `confirmation.score_rows`,
`entry_timing.score_rows`, `integrate.total_rows`/`passed_rows`/`level_rows`, the
array-first forms the per-candidate calls use on one row) and keeps, for a confirmed
signal, only its session, setup, scores, total and levels: one row of `simulate.Offers`,
no Python object per signal.

`judge_tasks` works in two phases: per symbol and analysis window, the analysis modules
and setups, keeping the rows a setup holds on with the inputs stages 2-4 read there; then
stages 2-4 and integration on the rows of up to `CHUNK` symbols at once (each row's
scores depend on that row alone, so batching changes no float and pays numpy's per-call
cost once per batch). `judge_history_rows` runs it in the calling process on `CHUNK`
symbols at a time. With `messages=True` (the reference path) each confirmed row also
keeps the feature row it was found on, and `Offers.signal` builds its `ConfirmedSignal`
by the services' own `candidates_at` + `evaluate`, checked against the array verdict.

The analysis windows, candidate filter (a known positive ATR and close), `rs_rank` and
funnel counts are those of `pipeline.history.candidates_over_history`; a test holds the
offers equal to `engine.judge` on the candidates it gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from swingflow_common.analysis.base import OHLCV
from swingflow_common.backtest.bars import EPOCH
from swingflow_common.backtest.simulate import Offers, SignalBuild
from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike, to_utc
from swingflow_common.messages import ConfirmedSignal
from swingflow_common.pipeline import confirmation, entry_timing
from swingflow_common.pipeline.candidates import ATR_KEY, candidates_at, evaluate
from swingflow_common.pipeline.features import complete_features, setup_features
from swingflow_common.pipeline.history import rs_ranks, slice_bars
from swingflow_common.pipeline.integrate import level_rows, passed_rows, total_rows
from swingflow_common.pipeline.ml_stage import MlOutcome, neutral_ml_stage
from swingflow_common.pipeline.scoring import RowGetter, clip01_rows, finite_rows, round_rows
from swingflow_common.pipeline.setups import SetupScan, scan_setups

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
CHUNK = 64  # symbols scored together: numpy's per-call cost shared, memory bounded
MAX_WINDOWS = 4096  # analysis windows held before they are scored
Task = tuple[str, int, OHLCV, F64]  # symbol, first bar of the period, its bars, rs_rank


@dataclass(frozen=True)
class _Found:
    """The confirmed rows of one setup in one analysis window: what their messages need."""

    symbol: str
    setup: str
    scan: SetupScan  # compacted to these rows
    keys: tuple[str, ...]  # every feature of the window, sorted
    values: F64  # (rows, keys): the features at each row
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
class JudgedRows:
    """Stages 1-4 on some symbols' bars: every candidate's session, and the confirmed rows
    (the symbol's task number, session, setup as its position in `config.setups`, the
    four stage scores, total, entry, stop, target, ATR)."""

    candidates: I64  # session ns of every candidate (one per setup hit)
    task: I64
    ns: I64
    setup: I64
    scores: F64  # (rows, 4) in pipeline order
    total: F64
    entry: F64
    stop: F64
    target: F64
    atr: F64
    found: tuple[tuple[_Found, int], ...] = ()  # messages=True: each row's window and row


@dataclass(frozen=True)
class _Hit:
    """One setup's rows in one window: positions in the window's rows (`rows`) and in
    the window's union of rows (`pos`), and the strength there."""

    code: int  # position in config.setups
    rows: I64
    pos: I64
    strength: F64
    scan: SetupScan | None  # messages only


@dataclass(frozen=True)
class _Window:
    """Phase one on one analysis window of one symbol: the rows a setup holds on (with a
    known positive ATR and close), and what stages 2-4 read there."""

    task: int
    symbol: str
    at: I64  # the union of the setups' rows, as positions in the window
    sessions: I64
    inputs: dict[str, F64]  # each feature the stages read, at `at` (and rs_rank)
    close: F64
    atr: F64
    hits: tuple[_Hit, ...]
    columns: dict[str, F64] | None  # messages only: every feature of the window


def _window_groups(a: int, b: int, lookback: int) -> list[tuple[int, I64]]:
    """`history.window_groups(range(a, b), lookback)`, without a Python step per bar."""
    idx = np.arange(a, b, dtype=np.int64)
    starts = np.maximum(0, idx - lookback + 1)
    uniq, first = np.unique(starts, return_index=True)
    chunks = np.split(idx, first[1:])
    return list(zip(uniq.tolist(), chunks, strict=True))


@lru_cache(maxsize=8)
def _stage_keys(config: StrategyConfig) -> frozenset[str]:
    """The features stages 2-4 read for `config`'s setups, recorded by running their row
    functions on one unknown row (they read every input on every row). Without messages
    only the modules giving these are run; a module no stage reads (its values go to the
    message's snapshot) is skipped. Were a read missed, its rows would score as unknown
    and the offers would differ from the messages path's (tests compare the two)."""
    read: set[str] = set()

    def get(key: str) -> F64:
        read.add(key)
        return np.full(1, np.nan)

    confirmation.score_rows(get)
    for setup in config.setups:
        entry_timing.score_rows(get, setup)
    return frozenset(read)


_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


def _windows(
    task: int, symbol: str, bars: OHLCV, rank_values: F64, first_bar: int,
    config: StrategyConfig, messages: bool,
) -> list[_Window]:  # fmt: skip
    """Phase one for one symbol: analysis and setups per window, the hit rows' inputs."""
    stage_keys = _stage_keys(config)
    stamps = bars.ts.view(np.int64)
    out: list[_Window] = []
    for first, group in _window_groups(first_bar, len(bars), config.lookback_bars):
        window = slice_bars(bars, first, int(group[-1]) + 1)
        feats = setup_features(window)
        local = group - first
        scans = scan_setups(feats, local, config)
        if not any(bool(s.hit.any()) for s in scans):
            continue
        atr_all = finite_rows(np.asarray(feats[ATR_KEY], dtype=np.float64)[local])
        close_all = finite_rows(np.asarray(feats["close"], dtype=np.float64)[local])
        valid = (atr_all > 0) & (close_all > 0)  # candidates_at's filter
        feats = complete_features(feats, window, None if messages else stage_keys)
        columns = {k: np.asarray(v, dtype=np.float64) for k, v in feats.items()}
        hit_any = np.zeros(local.shape[0], dtype=bool)
        for scan in scans:
            hit_any |= scan.hit
        union = np.flatnonzero(hit_any & valid)
        if union.size == 0:
            continue
        at = local[union]
        inputs = {k: columns[k][at] for k in stage_keys if k in columns}
        inputs["rs_rank"] = rank_values[at + first]
        hits = []
        for code, scan in enumerate(scans):
            rows = np.flatnonzero(scan.hit & valid)
            if rows.size:
                hits.append(_Hit(code, rows, np.searchsorted(union, rows), scan.strength[rows],
                                 scan if messages else None))  # fmt: skip
        out.append(_Window(
            task, symbol, at, stamps[at + first], inputs, close_all[union], atr_all[union],
            tuple(hits), columns if messages else None,
        ))  # fmt: skip
    return out


def _score(windows: Sequence[_Window], config: StrategyConfig) -> JudgedRows:
    """Phase two: stages 2-4 and integration on every hit row of `windows` at once.

    Every stage function works row by row (no value depends on another row), so scoring
    many symbols' rows together gives each row the floats it gets alone, with numpy's
    per-call cost paid once per batch instead of once per symbol and setup.
    """
    if not windows:
        return JudgedRows(_EMPTY_I, _EMPTY_I, _EMPTY_I, _EMPTY_I, np.zeros((0, 4)), _EMPTY_F,
                          _EMPTY_F, _EMPTY_F, _EMPTY_F, _EMPTY_F)  # fmt: skip
    ml_stage = neutral_ml_stage(config)
    neutral = (False, False, ml_stage.neutral, False)
    offsets = np.cumsum([0] + [w.at.size for w in windows])
    n = int(offsets[-1])
    keys = set().union(*(w.inputs for w in windows))
    inputs: dict[str, F64] = {k: finite_rows(np.concatenate([w.inputs[k] if k in w.inputs else
                                            np.full(w.at.size, np.nan) for w in windows]))
              for k in keys}  # fmt: skip
    sessions = np.concatenate([w.sessions for w in windows])
    close_all = np.concatenate([w.close for w in windows])
    atr_all = np.concatenate([w.atr for w in windows])
    task = np.repeat(np.array([w.task for w in windows], dtype=np.int64), np.diff(offsets))

    def getter(idx: I64 | None) -> RowGetter:
        def get(key: str) -> F64:
            col = inputs.get(key)
            if col is None:
                return np.full(n if idx is None else idx.size, np.nan)
            return col if idx is None else col[idx]

        return get

    # confirmation reads no setup: scored once on every row a setup holds on
    conf_all = np.array(confirmation.score_rows(getter(None)), dtype=np.float64)
    seen: list[I64] = []
    cols: list[list[npt.NDArray[np.generic]]] = [[] for _ in range(9)]
    found: list[tuple[_Found, int]] = []
    for code, setup in enumerate(config.setups):
        parts = [(w, h, int(offsets[k])) for k, w in enumerate(windows) for h in w.hits
                 if h.code == code]  # fmt: skip
        if not parts:
            continue
        idx = np.concatenate([h.pos + offset for _, h, offset in parts])
        base = round_rows(clip01_rows(np.concatenate([h.strength for _, h, _ in parts])))
        conf = conf_all[idx]
        timing = np.array(entry_timing.score_rows(getter(idx), setup), dtype=np.float64)
        ml = np.full(idx.size, ml_stage.score)
        scores = [base, conf, ml, timing]
        totals = np.array(total_rows(scores, config), dtype=np.float64)
        ok = passed_rows(scores, neutral, config) & (totals >= config.confirm_threshold)
        seen.append(sessions[idx])
        chosen = np.flatnonzero(ok)
        if chosen.size == 0:
            continue
        at = idx[chosen]
        stop, target = level_rows(close_all[at], atr_all[at], config)
        for c, values in enumerate((
            task[at], sessions[at], np.full(chosen.size, code, dtype=np.int64),
            np.column_stack([s[chosen] for s in scores]), np.minimum(totals[chosen], 1.0),
            close_all[at], stop, target, atr_all[at],
        )):  # fmt: skip
            cols[c].append(values)
        if windows[0].columns is not None:  # messages
            found += _found([(w, h) for w, h, _ in parts], chosen, inputs["rs_rank"][at])
    seen_all = np.concatenate(seen) if seen else _EMPTY_I
    if not cols[0]:
        return JudgedRows(seen_all, _EMPTY_I, _EMPTY_I, _EMPTY_I, np.zeros((0, 4)), _EMPTY_F,
                          _EMPTY_F, _EMPTY_F, _EMPTY_F, _EMPTY_F)  # fmt: skip
    task_, ns, setup_, scores_, total, entry, stop_, target_, atr_ = (
        np.concatenate(c) for c in cols
    )
    return JudgedRows(seen_all, task_, ns, setup_, scores_, total, entry, stop_, target_, atr_,
                      tuple(found))  # fmt: skip


def _found(parts: list[tuple[_Window, _Hit]], chosen: I64, ranks: F64) -> list[tuple[_Found, int]]:
    """Each chosen row's window and row for its message (in `chosen`'s order)."""
    out: list[tuple[_Found, int]] = []
    start = 0
    for w, h in parts:
        end = start + h.rows.size
        sel = chosen[(chosen >= start) & (chosen < end)] - start
        if sel.size:
            assert w.columns is not None
            assert h.scan is not None
            keys = tuple(sorted(w.columns))
            at = w.at[h.pos[sel]]
            rank = ranks[len(out) : len(out) + sel.size]
            one = _Found(
                w.symbol, h.scan.setup, h.scan.take(h.rows[sel]), keys,
                np.column_stack([w.columns[k][at] for k in keys]),
                [None if math.isnan(r) else r for r in rank.tolist()],
            )  # fmt: skip
            out += [(one, k) for k in range(sel.size)]
        start = end
    return out


def judge_tasks(
    tasks: Sequence[Task], first: int, config: StrategyConfig, *, messages: bool = False
) -> JudgedRows:
    """Stages 1-4 with the neutral ML stage on `tasks` (numbered from `first`): each a
    symbol, the first bar of its period (earlier bars only warm indicators up), its bars
    and its rs_rank on each bar."""
    parts: list[JudgedRows] = []
    windows: list[_Window] = []
    for k, (symbol, a, bars, ranks) in enumerate(tasks):
        windows += _windows(first + k, symbol, bars, ranks, a, config, messages)
        if len(windows) >= MAX_WINDOWS:  # a short lookback makes a window per bar
            parts.append(_score(windows, config))
            windows = []
    parts.append(_score(windows, config))
    if len(parts) == 1:
        return parts[0]
    columns = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
               for f in fields(JudgedRows) if f.name != "found"}  # fmt: skip
    return JudgedRows(**columns, found=tuple(x for p in parts for x in p.found))


@dataclass(frozen=True)
class RowsJudged:
    """The confirmed signals as offers, and the candidates seen per session (int64 ns)."""

    offers: Offers
    per_session: dict[int, int]


def _ts(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=ns // 1000)  # bar_time's datetime, cheaper


def _offers(
    symbols: Sequence[str], results: Sequence[JudgedRows], config: StrategyConfig,
    messages: bool,
) -> RowsJudged:  # fmt: skip
    """Every symbol's rows as one table in the portfolio's order; the funnel per session.
    `symbols[k]` is the symbol of task number k."""
    names = sorted(symbols)
    code = {s: k for k, s in enumerate(names)}
    task_code = np.array([code[s] for s in symbols] or [0], dtype=np.int64)
    setup_names = sorted(config.setups)
    setup_code = np.array([setup_names.index(s) for s in config.setups], dtype=np.int64)
    seen = np.concatenate([r.candidates for r in results]) if results else _EMPTY_I
    keys, counts = np.unique(seen, return_counts=True)
    per_session = dict(zip(keys.tolist(), counts.tolist(), strict=True))

    def cat(name: str) -> F64:
        parts = [getattr(r, name) for r in results]
        return np.concatenate(parts).astype(np.float64, copy=False) if parts else _EMPTY_F

    def cat_int(name: str) -> I64:
        parts = [getattr(r, name) for r in results]
        return np.concatenate(parts).astype(np.int64, copy=False) if parts else _EMPTY_I

    ns, total = cat_int("ns"), cat("total")
    sym, setup = task_code[cat_int("task")], setup_code[cat_int("setup")]
    order = np.lexsort((setup, sym, -total, ns))  # session, best total first, symbol, setup
    found = [f for r in results for f in r.found]
    offers = Offers(
        symbols=tuple(names), setups=tuple(setup_names), ns=ns[order], sym=sym[order],
        setup=setup[order], total=total[order], entry=cat("entry")[order],
        stop=cat("stop")[order], target=cat("target")[order], atr=cat("atr")[order],
        scores=np.concatenate([r.scores for r in results])[order] if results else
        np.zeros((0, 4)),
    )  # fmt: skip
    if messages:
        offers = offers.with_messages(_builder(offers, [found[i] for i in order.tolist()], config))
    return RowsJudged(offers, per_session)


def _builder(
    offers: Offers, found: list[tuple[_Found, int]], config: StrategyConfig
) -> SignalBuild:
    def build(i: int) -> ConfirmedSignal:
        window, k = found[i]
        close, stop, target = (float(offers.entry[i]), float(offers.stop[i]),
                               float(offers.target[i]))  # fmt: skip
        signal = window.signal(k, _ts(int(offers.ns[i])), config)
        if signal.total != float(offers.total[i]) or (signal.entry, signal.stop, signal.target) != (
            close, stop, target,
        ):  # fmt: skip
            raise AssertionError(f"{signal.id}: array and per-candidate verdicts differ")
        return signal

    return build


def _spans(
    dataset: Dataset, symbols: Sequence[str], start: DateLike | None, end: DateLike | None
) -> Iterator[tuple[str, int, int]]:
    """Each symbol with the bars [a, b) of the period (symbols without any left out)."""
    lo = None if start is None else to_utc(start)
    hi = None if end is None else to_utc(end)
    for symbol in symbols:
        index = dataset.bars[symbol].index
        a = 0 if lo is None else int(index.searchsorted(lo, side="left"))
        b = len(index) if hi is None else int(index.searchsorted(hi, side="right"))
        if b > a:
            yield symbol, a, b


def judge_history_rows(
    dataset: Dataset,
    config: StrategyConfig,
    symbols: Sequence[str],
    start: DateLike | None = None,
    end: DateLike | None = None,
    *,
    messages: bool = False,
) -> RowsJudged:
    """Stages 1-4 with the neutral ML stage on the bars of `symbols` in [start, end].

    `messages=True` keeps what building each signal's message takes (`Offers.signal`).
    Runs in this process: a pool of forked workers was tried and removed (its results
    came back through multiprocessing, which pickles, and it gained nothing on a loaded
    2-core machine).
    """
    ranks = rs_ranks(dataset)
    spans = list(_spans(dataset, symbols, start, end))
    tasks: list[Task] = []
    for symbol, a, b in spans:
        frame = dataset.bars[symbol]
        bars = OHLCV.from_frame(frame).head(b)
        rank_values = ranks[symbol].reindex(frame.index[:b]).to_numpy(np.float64)
        tasks.append((symbol, a, bars, rank_values))
    results = [judge_tasks(tasks[lo : lo + CHUNK], lo, config, messages=messages)
               for lo in range(0, len(tasks), CHUNK)]  # fmt: skip
    return _offers([s for s, _, _ in spans], results, config, messages)
