"""Stage 1, base_signal: the long swing setups, each a rule on one bar's features.

Array-first: a setup is a function `(features, idx) -> SetupScan` that judges every bar
position of `idx` at once (numpy over the rows): a hit mask, a strength in [0, 1] that
grades how clean the setup is, and what the reason quotes. The per-bar form the services
run, `SETUPS[name](features, i) -> SetupHit | None`, is that same function on a one-row
`idx`, so a backtest over a whole history and the live scanner share one implementation.
Each strength is a weighted mean of component scores (documented per setup), so a setup
that only just qualifies scores low and a textbook one scores high. Values at `i` only
use bars `0..i`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from swingflow_common.config import StrategyConfig
from swingflow_common.pipeline.scoring import (
    Rows,
    any_of,
    blend_rows,
    clip01,
    clip01_rows,
    finite,
    peak_rows,
    ramp_rows,
    where,
)

FeatureArrays = Mapping[str, npt.NDArray[np.float64]]
Index = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SetupHit:
    """A setup found on a bar: its name, strength in [0, 1], reason and component scores."""

    setup: str
    strength: float
    reason: str
    details: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SetupScan:
    """One setup judged on the bar positions `idx`: `hit[j]` says whether it holds at
    `idx[j]`; `strength` (the blend before clipping and rounding), `parts` and `quoted`
    (what the reason cites) are meaningful where it does."""

    setup: str
    idx: Index | int  # an int: one row, every field a plain value
    hit: Any
    strength: Rows
    parts: dict[str, Rows]
    optional: frozenset[str]  # parts that may be unknown (None) on a hit
    quoted: dict[str, Rows]
    why: Callable[[dict[str, float]], str]

    def scores(self) -> list[float]:
        """The rounded strength of every hit, in `idx` order (what SetupHit.strength holds)."""
        return [round(x, 4) for x in clip01_rows(self.strength[self.hit]).tolist()]

    def take(self, rows: npt.NDArray[np.int64]) -> SetupScan:
        """The scan of the rows `rows` only (positions in `idx`; many-row scans only)."""
        assert isinstance(self.idx, np.ndarray)
        return SetupScan(
            self.setup, self.idx[rows], self.hit[rows], self.strength[rows],
            {k: v[rows] for k, v in self.parts.items()}, self.optional,
            {k: v[rows] for k, v in self.quoted.items()}, self.why,
        )  # fmt: skip

    def at(self, j: int) -> SetupHit:
        """The SetupHit of row `j` (a hit)."""
        strength = _item(self.strength, j)
        details: dict[str, float] = {}
        for k, v in self.parts.items():
            value = _item(v, j)
            if k in self.optional and not math.isfinite(value):
                continue
            details[k] = round(value, 4)
        why = self.why({k: _item(v, j) for k, v in self.quoted.items()})
        return SetupHit(
            self.setup,
            round(clip01(strength), 4),
            f"{why} (strength {strength:.2f})",
            details,
        )


def _item(values: Rows, j: int) -> float:
    return float(values[j]) if isinstance(values, np.ndarray) else float(values)


SetupScanner = Callable[[FeatureArrays, "Index | int"], SetupScan]
Setup = Callable[[FeatureArrays, int], SetupHit | None]


def _col(f: FeatureArrays, key: str, idx: Index | int) -> Rows:
    """The values of `key` at the rows `idx`, NaN where the key or the bar is absent."""
    arr = f.get(key)
    if not isinstance(idx, np.ndarray):  # one row: a float
        if arr is None or idx < 0 or idx >= arr.shape[0]:
            return math.nan
        return float(arr[idx])
    if arr is None:
        return np.full(idx.shape[0], np.nan)
    values = np.asarray(arr, dtype=np.float64)
    n = values.shape[0]
    if idx.shape[0] and int(idx.min()) >= 0 and int(idx.max()) < n:
        return values[idx]
    ok = (idx >= 0) & (idx < n)
    out = np.full(idx.shape[0], np.nan)
    out[ok] = values[idx[ok]]
    return out


def _prior(f: FeatureArrays, key: str, idx: Index | int, width: int, reduce: np.ufunc) -> Rows:
    """`reduce` (fmax or fmin: NaN-skipping) of `key` over the `width` bars before each
    row (fewer at the start); NaN when the key is absent or every value is unknown."""
    arr = f.get(key)
    if not isinstance(idx, np.ndarray):
        if arr is None or idx < 1:
            return math.nan
        return float(reduce.reduce(np.asarray(arr[max(0, idx - width) : idx], dtype=np.float64)))
    if arr is None:
        return np.full(idx.shape[0], np.nan)
    padded = np.concatenate([np.full(width, np.nan), np.asarray(arr, dtype=np.float64)])
    rows = np.clip(idx, 0, padded.shape[0] - width)  # row i: bars i-w..i-1, padded[i : i+w]
    # the window's values folded one shift at a time, without gathering every window: the
    # extreme of a set is one value whatever the order, but for a tie of 0.0 and -0.0,
    # whose sign the order decides; with a -0.0 in the data, rows whose extreme is a zero
    # are reduced window by window as before
    n = rows.shape[0]
    if n and int(rows[-1]) - int(rows[0]) == n - 1 and bool((rows[1:] > rows[:-1]).all()):
        lo = int(rows[0])  # consecutive rows (a whole history): shifted views, no gathers
        out: Rows = padded[lo : lo + n]
        for k in range(1, width):
            out = reduce(out, padded[lo + k : lo + k + n])
    else:
        out = padded[rows]
        for k in range(1, width):
            out = reduce(out, padded[rows + k])
    if (np.signbit(padded) & (padded == 0.0)).any():
        zero = np.flatnonzero(out == 0.0)
        windows = np.lib.stride_tricks.sliding_window_view(padded, width)
        out[zero] = reduce.reduce(windows[rows[zero]], axis=1)
    return out


def _gain(a: Rows, b: Rows) -> Rows:
    """a / b - 1, NaN unless b is a positive number (an average of prices always is)."""
    return where(b > 0, a / where(b > 0, b, 1.0) - 1.0, math.nan)


def _close_location(f: FeatureArrays, idx: Index | int) -> Rows:
    """Where the close sits in the bar's range: 1 at the high, 0 at the low."""
    high, low, close = _col(f, "high", idx), _col(f, "low", idx), _col(f, "close", idx)
    wide = high > low
    return where(wide, clip01_rows((close - low) / where(wide, high - low, 1.0)), 1.0)


def _scan(
    name: str,
    idx: Index | int,
    hit: npt.NDArray[np.bool_],
    parts: dict[str, Rows],
    weights: dict[str, float],
    why: Callable[[dict[str, float]], str],
    quoted: dict[str, Rows],
    optional: frozenset[str] = frozenset(),
) -> SetupScan:
    strength = blend_rows(parts, weights)
    strength = where(finite(strength), strength, 0.0)  # `blend(...) or 0.0`
    return SetupScan(name, idx, hit, strength, parts, optional, quoted, why)


_MISSED: dict[str, SetupScan] = {}


def _none(name: str, idx: Index | int) -> SetupScan:
    """No row holds (returned early: most bars fail a setup's first condition)."""
    if not isinstance(idx, np.ndarray):  # one row: the same "no hit" value every time
        missed = _MISSED.get(name)
        if missed is None:
            missed = _MISSED[name] = SetupScan(name, 0, False, 0.0, {}, frozenset(), {}, str)
        return missed
    empty = np.zeros(idx.shape[0])
    return SetupScan(name, idx, np.zeros(idx.shape[0], dtype=bool), empty, {}, frozenset(), {}, str)


PULLBACK_LOOKBACK = 10


def scan_trend_pullback(f: FeatureArrays, idx: Index | int) -> SetupScan:
    """A rising uptrend pulled back to its 20-day EMA.

    Conditions: close > sma_50 > sma_200 (the pullback holds the 50-day), sma_50 higher
    than 10 bars ago, the close within 1 ATR of ema_20, rsi_14 between 40 and 55 (cooled,
    not broken), and at least 1 ATR below the highest high of the 10 bars before (a real
    pullback, not a flat drift along the average).

    Strength = 0.30 trend (sma_50 0..8% above sma_200) + 0.30 proximity (1 at ema_20, 0 at
    1 ATR away) + 0.20 rsi (1 at 47.5, 0.4 at 40 or 55) + 0.20 depth (1 -> 3 ATR below the
    recent high).
    """
    name = "trend_pullback"
    close, sma200 = _col(f, "close", idx), _col(f, "sma_200", idx)
    hit = (close > sma200) & (sma200 > 0)
    if not any_of(hit):
        return _none(name, idx)
    sma50, ema20 = _col(f, "sma_50", idx), _col(f, "ema_20", idx)
    rsi, atr = _col(f, "rsi_14", idx), _col(f, "atr_14", idx)
    hit &= (close > sma50) & (sma50 > sma200) & (rsi >= 40.0) & (rsi <= 55.0) & (atr > 0)
    hit &= sma50 > _col(f, "sma_50", idx - PULLBACK_LOOKBACK)
    if not any_of(hit) or "high" not in f:
        return _none(name, idx)
    safe_atr = where(atr > 0, atr, 1.0)
    dist = (close - ema20) / safe_atr
    hit &= (abs(dist) <= 1.0) & (idx >= 1)
    recent_high = _prior(f, "high", idx, PULLBACK_LOOKBACK, np.fmax)
    depth = (recent_high - close) / safe_atr
    hit &= depth >= 1.0
    parts = {
        "trend": ramp_rows(_gain(sma50, sma200), 0.0, 0.08),
        "proximity": peak_rows(dist, 0.0, 1.0),
        "rsi": peak_rows(rsi, 47.5, 12.5),
        "depth": ramp_rows(depth, 1.0, 3.0),
    }
    weights = {"trend": 0.30, "proximity": 0.30, "rsi": 0.20, "depth": 0.20}

    def why(q: dict[str, float]) -> str:
        return (
            f"trend pullback: {q['depth']:.1f} ATR off the 10-bar high to {q['dist']:+.2f} "
            f"ATR from ema_20, rsi_14 {q['rsi']:.0f}, sma_50 {100 * q['gain']:.1f}% above "
            "sma_200"
        )

    quoted = {"depth": depth, "dist": dist, "rsi": rsi, "gain": _gain(sma50, sma200)}
    return _scan(name, idx, hit, parts, weights, why, quoted)


def scan_breakout_volume(f: FeatureArrays, idx: Index | int) -> SetupScan:
    """Close above the highest high of the 20 bars before, on rvol_20 >= 1.5.

    Strength = 0.35 volume (rvol 1 -> 0, 3 -> 1) + 0.25 close location in the bar's range
    + 0.20 clearance (0..0.25 ATR above the level ramps up, 1.5..3 ATR is chasing and ramps
    down) + 0.20 trend (close -2%..+5% against sma_50).
    """
    name = "breakout_volume"
    close, level = _col(f, "close", idx), _col(f, "high_20_prior", idx)
    rvol, atr = _col(f, "rvol_20", idx), _col(f, "atr_14", idx)
    hit = (close > level) & (rvol >= 1.5) & (atr > 0)
    if not any_of(hit):
        return _none(name, idx)
    clear = (close - level) / where(atr > 0, atr, 1.0)
    sma50 = _col(f, "sma_50", idx)
    parts = {
        "volume": ramp_rows(rvol, 1.0, 3.0),
        "close_location": _close_location(f, idx),
        "clearance": ramp_rows(clear, 0.0, 0.25) * (1.0 - ramp_rows(clear, 1.5, 3.0)),
        "trend": ramp_rows(_gain(close, sma50), -0.02, 0.05),
    }
    weights = {"volume": 0.35, "close_location": 0.25, "clearance": 0.20, "trend": 0.20}

    def why(q: dict[str, float]) -> str:
        return (
            f"breakout: close {q['clear']:.2f} ATR above the 20-bar high on {q['rvol']:.1f}x volume"
        )

    quoted = {"clear": clear, "rvol": rvol}
    return _scan(name, idx, hit, parts, weights, why, quoted, frozenset({"trend"}))


def scan_macd_trend_cross(f: FeatureArrays, idx: Index | int) -> SetupScan:
    """MACD crossed above its signal line this bar, close > sma_200, adx_14 up over 3 bars.

    Strength = 0.30 adx level (15 -> 0, 30 -> 1) + 0.20 adx rise (0..4 points) + 0.25 trend
    (close 0..10% above sma_200) + 0.25 freshness (1 when MACD crosses at the zero line,
    0 when 1.5 ATR away from it: late crosses are weaker).
    """
    name = "macd_trend_cross"
    hit = _col(f, "macd_cross_up", idx) >= 0.5
    if not any_of(hit):
        return _none(name, idx)
    close, sma200 = _col(f, "close", idx), _col(f, "sma_200", idx)
    adx, adx_before = _col(f, "adx_14", idx), _col(f, "adx_14", idx - 3)
    atr, macd = _col(f, "atr_14", idx), _col(f, "macd", idx)
    hit &= (close > sma200) & (sma200 > 0) & (adx > adx_before) & (atr > 0) & finite(macd)
    fresh = macd / where(atr > 0, atr, 1.0)
    parts = {
        "adx": ramp_rows(adx, 15.0, 30.0),
        "adx_rise": ramp_rows(adx - adx_before, 0.0, 4.0),
        "trend": ramp_rows(_gain(close, sma200), 0.0, 0.10),
        "freshness": peak_rows(fresh, 0.0, 1.5),
    }
    weights = {"adx": 0.30, "adx_rise": 0.20, "trend": 0.25, "freshness": 0.25}

    def why(q: dict[str, float]) -> str:
        return (
            f"MACD cross up {q['fresh']:+.2f} ATR from zero, adx_14 {q['adx']:.0f} rising "
            f"({q['rise']:+.1f}), close {100 * q['gain']:.1f}% above sma_200"
        )

    quoted = {"fresh": fresh, "adx": adx, "rise": adx - adx_before, "gain": _gain(close, sma200)}
    return _scan(name, idx, hit, parts, weights, why, quoted)


SQUEEZE_LOOKBACK = 10
SQUEEZE_RANK = 0.20


def scan_bb_squeeze_breakout(f: FeatureArrays, idx: Index | int) -> SetupScan:
    """After a squeeze (bb_width_rank <= 0.20 within the 10 bars before), the close breaks
    above the upper band for the first time (the bar before closed at or below it).

    Strength = 0.35 squeeze depth (rank 0.25 -> 0, 0 -> 1) + 0.25 volume (rvol 1 -> 0,
    2.5 -> 1) + 0.20 close location + 0.20 trend (close -2%..+5% against sma_50).
    """
    name = "bb_squeeze_breakout"
    close, upper = _col(f, "close", idx), _col(f, "bb_upper", idx)
    hit = (close > upper) & (idx >= 1)
    if not any_of(hit):
        return _none(name, idx)
    hit &= _col(f, "close", idx - 1) <= _col(f, "bb_upper", idx - 1)
    tightest = _prior(f, "bb_width_rank", idx, SQUEEZE_LOOKBACK, np.fmin)
    hit &= tightest <= SQUEEZE_RANK  # False where no rank is known
    sma50, rvol = _col(f, "sma_50", idx), _col(f, "rvol_20", idx)
    parts = {
        "squeeze": ramp_rows(tightest, 0.25, 0.0),
        "volume": ramp_rows(rvol, 1.0, 2.5),
        "close_location": _close_location(f, idx),
        "trend": ramp_rows(_gain(close, sma50), -0.02, 0.05),
    }
    weights = {"squeeze": 0.35, "volume": 0.25, "close_location": 0.20, "trend": 0.20}

    def why(q: dict[str, float]) -> str:
        return (
            f"squeeze breakout: bandwidth rank {q['tightest']:.2f} within {SQUEEZE_LOOKBACK} "
            "bars, first close above bb_upper"
        )

    quoted = {"tightest": tightest}
    return _scan(name, idx, hit, parts, weights, why, quoted, frozenset({"volume", "trend"}))


def scan_rsi_mean_reversion(f: FeatureArrays, idx: Index | int) -> SetupScan:
    """Oversold above the 200-day average: close > sma_200 and either rsi_14 < 30, or a
    short-term washout (rsi_14 < 35 with willr_14 <= -90, the close in the bottom tenth of
    its 14-day range: the role RSI(2) < 10 plays in Connors-style rules).

    Strength = 0.35 depth (rsi 40 -> 0, 25 -> 1) + 0.20 washout (willr -80 -> 0, -100 -> 1)
    + 0.25 trend (close 0..10% above sma_200) + 0.20 structure (sma_50 above sma_200).
    """
    name = "rsi_mean_reversion"
    close, sma200 = _col(f, "close", idx), _col(f, "sma_200", idx)
    hit = (close > sma200) & (sma200 > 0)
    if not any_of(hit):
        return _none(name, idx)
    rsi, willr = _col(f, "rsi_14", idx), _col(f, "willr_14", idx)
    hit &= (rsi < 30.0) | ((rsi < 35.0) & (willr <= -90.0))
    sma50 = _col(f, "sma_50", idx)
    parts = {
        "depth": ramp_rows(rsi, 40.0, 25.0),
        "washout": ramp_rows(willr, -80.0, -100.0),
        "trend": ramp_rows(_gain(close, sma200), 0.0, 0.10),
        "structure": where(finite(sma50), where(sma50 > sma200, 1.0, 0.0), math.nan),
    }
    weights = {"depth": 0.35, "washout": 0.20, "trend": 0.25, "structure": 0.20}

    def why(q: dict[str, float]) -> str:
        return (
            f"oversold in an uptrend: rsi_14 {q['rsi']:.0f}, willr_14 {q['willr']:.0f}, "
            "close above sma_200"
        )

    quoted = {"rsi": rsi, "willr": willr}
    return _scan(name, idx, hit, parts, weights, why, quoted, frozenset({"washout", "structure"}))


SCANNERS: dict[str, SetupScanner] = {
    "trend_pullback": scan_trend_pullback,
    "breakout_volume": scan_breakout_volume,
    "macd_trend_cross": scan_macd_trend_cross,
    "bb_squeeze_breakout": scan_bb_squeeze_breakout,
    "rsi_mean_reversion": scan_rsi_mean_reversion,
}


def one_bar(scanner: SetupScanner) -> Setup:
    """The per-bar form of a setup: its scanner on the single row `i`."""

    def setup(features: FeatureArrays, i: int) -> SetupHit | None:
        scan = scanner(features, i)
        return scan.at(0) if scan.hit else None

    setup.__doc__ = scanner.__doc__
    setup.__name__ = scanner.__name__.removeprefix("scan_")
    return setup


trend_pullback = one_bar(scan_trend_pullback)
breakout_volume = one_bar(scan_breakout_volume)
macd_trend_cross = one_bar(scan_macd_trend_cross)
bb_squeeze_breakout = one_bar(scan_bb_squeeze_breakout)
rsi_mean_reversion = one_bar(scan_rsi_mean_reversion)

SETUPS: dict[str, Setup] = {
    "trend_pullback": trend_pullback,
    "breakout_volume": breakout_volume,
    "macd_trend_cross": macd_trend_cross,
    "bb_squeeze_breakout": bb_squeeze_breakout,
    "rsi_mean_reversion": rsi_mean_reversion,
}


def scan_setups(
    features: FeatureArrays, idx: Index | int, config: StrategyConfig
) -> list[SetupScan]:
    """Every enabled setup (config.setups, in that order) judged on the rows `idx`."""
    return [SCANNERS[name](features, idx) for name in config.setups]


def detect_setups(features: FeatureArrays, i: int, config: StrategyConfig) -> list[SetupHit]:
    """The enabled setups (config.setups, in that order) that hold at bar `i`."""
    return [s.at(0) for s in scan_setups(features, i, config) if s.hit]
