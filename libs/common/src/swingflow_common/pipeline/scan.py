"""A scan of a universe on one date: every stage on every symbol, ranked, with its funnel.

For each symbol with a bar on `asof`: analyze its bars up to that bar (never past it),
look for setups on that bar, and only then build the snapshot. Relative strength is
ranked across the whole dataset in one pass, from each symbol's `roc_63` on the session
before `asof` (as the live services see it). Candidates are scored by the ML scorer in
one batch (neutral without one), evaluated, and ranked: confirmed first, then by total.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from swingflow_common.analysis import relative_strength, roc
from swingflow_common.analysis.base import OHLCV
from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike, to_utc
from swingflow_common.messages import STAGE_NAMES, CandidateSignal
from swingflow_common.pipeline.candidates import candidates_at, evaluate
from swingflow_common.pipeline.features import complete_features, setup_features
from swingflow_common.pipeline.integrate import Evaluation
from swingflow_common.pipeline.ml_stage import MlScorer, score_batch
from swingflow_common.pipeline.setups import detect_setups

Progress = Callable[[int, int], None]
ROC_KEY = "roc_63"
_COLUMNS = ("open", "high", "low", "close", "volume")
_DAY_NS = 86_400 * 10**9


class ScanError(ValueError):
    """A scan that cannot run: unknown symbols, an empty dataset."""


class Funnel(BaseModel):
    """How many symbols and candidates reached each step, and where the rest stopped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbols_requested: int
    symbols_scanned: int
    symbols_skipped: int
    skipped_symbols: tuple[str, ...]
    candidates: int
    candidates_by_setup: dict[str, int]
    confirmed: int
    rejected: int
    rejected_by: dict[str, int]


class ScanResult(BaseModel):
    """The ranked evaluations of one scan date and the funnel that led to them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asof: datetime
    previous_session: datetime | None
    evaluations: tuple[Evaluation, ...]
    funnel: Funnel

    @property
    def confirmed(self) -> tuple[Evaluation, ...]:
        return tuple(e for e in self.evaluations if e.confirmed)


def _ns(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    """The frame's bar times as int64 nanoseconds since the epoch (UTC)."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        index = pd.DatetimeIndex(index)
    if index.unit != "ns":
        index = index.as_unit("ns")
    return index.asi8


def last_date(dataset: Dataset) -> pd.Timestamp:
    """The latest bar time of any symbol."""
    if not dataset.bars:
        raise ScanError(f"dataset {dataset.name!r} has no symbols")
    return pd.Timestamp(max(int(_ns(f)[-1]) for f in dataset.bars.values()), tz="UTC")


def resolve_symbols(dataset: Dataset, symbols: Iterable[str] | None) -> list[str]:
    """The symbols to scan, upper-cased and checked against the dataset."""
    if symbols is None:
        return sorted(dataset.bars)
    wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
    unknown = [s for s in wanted if s not in dataset.bars]
    if unknown:
        raise ScanError(f"dataset {dataset.name!r} has no symbol(s): {', '.join(unknown)}")
    if not wanted:
        raise ScanError("no symbols given")
    return wanted


def _columns(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """open, high, low, close, volume as one (bars, 5) float64 array with contiguous columns.

    One `to_numpy` per frame: pandas keeps a float frame as one block, so this is a view,
    and its columns are contiguous (what TA-Lib wants) with no per-column lookup.
    """
    if tuple(frame.columns) != _COLUMNS:
        frame = frame[list(_COLUMNS)]
    return np.asfortranarray(frame.to_numpy(np.float64))


def _bars(cols: npt.NDArray[np.float64], ns: npt.NDArray[np.int64], start: int, stop: int) -> OHLCV:
    """Bars [start, stop) as an OHLCV of contiguous column views."""
    part = cols[start:stop]
    return OHLCV(ns[start:stop].view("datetime64[ns]"), *(part[:, j] for j in range(5)))


def _rs_ranks(rocs: dict[str, float], prev: int | None) -> dict[str, float]:
    """Each symbol's percentile of roc_63 on the previous session, via relative_strength.

    `rocs` holds the roc_63 of every symbol that had a bar on that session; the panel
    handed to `relative_strength.rank` is that session plus the scan date, so the rank it
    gives the scan date is the lagged one.
    """
    if prev is None or not rocs:
        return {}
    symbols = sorted(rocs)
    index = pd.DatetimeIndex([prev, prev + _DAY_NS], tz="UTC")
    values = np.full((2, len(symbols)), np.nan)
    values[0] = [rocs[s] for s in symbols]
    panel = pd.DataFrame(values, index=index, columns=symbols)
    ranked = relative_strength.rank(panel).iloc[-1]
    return {str(s): float(v) for s, v in ranked.items() if math.isfinite(v)}


def _with_rank(candidate: CandidateSignal, rank: float | None) -> CandidateSignal:
    """The candidate with its relative-strength rank in the snapshot (a float or None)."""
    features = {**candidate.features, "rs_rank": rank}
    return candidate.model_copy(update={"features": features})


def _rank_key(e: Evaluation) -> tuple[bool, float, str, str]:
    return (not e.confirmed, -e.total, e.candidate.symbol, e.candidate.setup)


def _funnel(
    requested: int, scanned: int, skipped: list[str], evals: Sequence[Evaluation]
) -> Funnel:
    by_stage = dict.fromkeys([*STAGE_NAMES, "threshold"], 0)
    by_setup: dict[str, int] = {}
    for e in evals:
        by_setup[e.candidate.setup] = by_setup.get(e.candidate.setup, 0) + 1
        if e.rejected_by is not None:
            by_stage[e.rejected_by] += 1
    confirmed = sum(e.confirmed for e in evals)
    return Funnel(
        symbols_requested=requested,
        symbols_scanned=scanned,
        symbols_skipped=len(skipped),
        skipped_symbols=tuple(skipped),
        candidates=len(evals),
        candidates_by_setup=by_setup,
        confirmed=confirmed,
        rejected=len(evals) - confirmed,
        rejected_by=by_stage,
    )


def _roc_before(cols: npt.NDArray[np.float64], ns: npt.NDArray[np.int64], last: int) -> float:
    """roc_63 at bar `last`, by the analysis module itself on the 64 bars ending there."""
    if last < 63:
        return math.nan
    return float(roc.compute(_bars(cols, ns, last - 63, last + 1))[ROC_KEY][-1])


@dataclass(frozen=True)
class _SymbolScan:
    symbol: str
    roc_at: tuple[int, float] | None
    skipped: bool
    candidates: list[CandidateSignal]


def scan(
    dataset: Dataset,
    config: StrategyConfig,
    asof: DateLike | None = None,
    symbols: Iterable[str] | None = None,
    progress: Progress | None = None,
    ml: MlScorer | None = None,
) -> ScanResult:
    """Scan `symbols` (default: all) of `dataset` on `asof` (default: its last date).

    `progress(done, total)` is called as symbols are scanned; `ml` scores the candidates
    in one batch (None: the neutral ML stage). Raises ScanError for unknown symbols.
    """
    wanted = resolve_symbols(dataset, symbols)
    day = (to_utc(asof) if asof is not None else last_date(dataset)).normalize()
    day_ns, end_ns = int(day.value), int(day.value) + _DAY_NS
    ts = day.to_pydatetime()
    scan_set = set(wanted)

    def one(item: tuple[str, pd.DataFrame]) -> _SymbolScan:
        symbol, frame = item
        ns = _ns(frame)
        cols = _columns(frame)
        n = int(np.searchsorted(ns, end_ns, side="left"))
        on_day = n > 0 and ns[n - 1] >= day_ns
        before = n - 2 if on_day else n - 1
        if symbol not in scan_set or not on_day:
            roc_at = (int(ns[before]), _roc_before(cols, ns, before)) if before >= 0 else None
            return _SymbolScan(symbol, roc_at, symbol in scan_set, [])
        bars = _bars(cols, ns, max(0, n - config.lookback_bars), n)
        feats = setup_features(bars)
        i = len(bars) - 1
        roc_at = (int(ns[n - 2]), float(feats[ROC_KEY][i - 1])) if i >= 1 else None
        found = detect_setups(feats, i, config)
        # The snapshot is built here, so no symbol's features outlive its turn.
        if not found:
            return _SymbolScan(symbol, roc_at, False, [])
        feats = complete_features(feats, bars)
        cands = candidates_at(symbol, ts, feats, i, config, hits=found)
        return _SymbolScan(symbol, roc_at, False, cands)

    unranked: list[CandidateSignal] = []  # rs_rank is stamped once every symbol is seen
    skipped: list[str] = []
    rocs: dict[str, tuple[int, float]] = {}  # symbol -> (its bar before asof, roc_63 there)
    done = 0
    for result in map(one, dataset.bars.items()):
        if result.roc_at is not None:
            rocs[result.symbol] = result.roc_at
        if result.skipped:
            skipped.append(result.symbol)
        unranked += result.candidates
        if result.symbol in scan_set:
            done += 1
            if progress is not None:
                progress(done, len(wanted))
    prev = max((t for t, _ in rocs.values()), default=None)
    ranks = _rs_ranks({s: r for s, (t, r) in rocs.items() if t == prev and math.isfinite(r)}, prev)
    candidates = [_with_rank(c, ranks.get(c.symbol)) for c in unranked]
    outcomes = score_batch(candidates, ml, config)
    evals = sorted(
        (evaluate(c, config, o) for c, o in zip(candidates, outcomes, strict=True)),
        key=_rank_key,
    )
    return ScanResult(
        asof=ts,
        previous_session=None if prev is None else pd.Timestamp(prev, tz="UTC").to_pydatetime(),
        evaluations=tuple(evals),
        funnel=_funnel(len(wanted), len(wanted) - len(skipped), skipped, evals),
    )
