"""Candlestick patterns: how strongly this bar completes a bullish or bearish pattern.

TA-Lib's CDL* functions recognise each pattern on the bar that completes it: +100
bullish, -100 bearish, 80 for an engulfing whose body only ties an edge of the one it
engulfs (a magnitude above 100 counts as 100). Each pattern carries a hand-set weight
(not fitted): three-bar confirmations highest, single-bar shapes lowest, following how
much each pattern says on its own. A firing pattern contributes weight x |output| / 100,
and the contributions combine as a probabilistic OR, 1 - prod(1 - c), so `cdl_bull` and
`cdl_bear` lie in 0..1, are 0 on a bar that completes nothing, and grow when several
patterns agree.

Warm-up: NaN until every pattern can be evaluated (TA-Lib's longest lookback, bar 13),
since TA-Lib compares each bar with the average body of the bars before it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import talib
from numba import njit
from talib import abstract

from swingflow_common.analysis.base import OHLCV, Features, FloatArray

NAME = "candles"
KEYS: tuple[str, ...] = ("cdl_bull", "cdl_bear")

BULLISH: tuple[tuple[str, float], ...] = (
    ("CDL3WHITESOLDIERS", 1.0),
    ("CDLMORNINGSTAR", 0.9),
    ("CDLENGULFING", 0.8),
    ("CDLPIERCING", 0.7),
    ("CDLHAMMER", 0.6),
    ("CDLINVERTEDHAMMER", 0.5),
)
BEARISH: tuple[tuple[str, float], ...] = (
    ("CDL3BLACKCROWS", 1.0),
    ("CDLEVENINGSTAR", 0.9),
    ("CDLENGULFING", 0.8),
    ("CDLDARKCLOUDCOVER", 0.7),
    ("CDLSHOOTINGSTAR", 0.6),
    ("CDLHANGINGMAN", 0.5),
)
_PATTERNS = sorted({name for name, _ in BULLISH + BEARISH})
_FUNCTIONS: tuple[Callable[..., npt.NDArray[np.int32]], ...] = tuple(
    getattr(talib, name) for name in _PATTERNS
)
_BULL_WEIGHTS = np.array([dict(BULLISH).get(name, 0.0) for name in _PATTERNS])
_BEAR_WEIGHTS = np.array([dict(BEARISH).get(name, 0.0) for name in _PATTERNS])
# abstract.pyi (TA-Lib's stub) omits Function, which reports each pattern's lookback
WARMUP = max(int(abstract.Function(n).lookback) for n in _PATTERNS)  # type: ignore[attr-defined]


@njit(cache=True)
def _combine(
    outputs: npt.NDArray[np.int32], weights: FloatArray, sign: int, warmup: int
) -> FloatArray:  # pragma: no cover - compiled
    """1 - prod(1 - weight x strength) over the patterns (rows) that fired towards `sign`."""
    n = outputs.shape[1]
    missed = np.ones(n)
    for row in range(outputs.shape[0]):
        weight = weights[row]
        if weight == 0.0:
            continue
        for i in range(n):
            value = sign * outputs[row, i]
            if value > 0:
                missed[i] *= 1.0 - weight * min(value, 100) / 100.0
    combined = 1.0 - missed
    combined[: min(warmup, n)] = np.nan
    return combined


def compute(bars: OHLCV) -> Features:
    """`cdl_bull` and `cdl_bear` in 0..1 (NaN for the first 13 bars)."""
    ohlc = (bars.open, bars.high, bars.low, bars.close)
    outputs = np.empty((len(_FUNCTIONS), bars.close.shape[0]), dtype=np.int32)
    for row, fn in enumerate(_FUNCTIONS):
        outputs[row] = fn(*ohlc)
    return {
        "cdl_bull": _combine(outputs, _BULL_WEIGHTS, 1, WARMUP),
        "cdl_bear": _combine(outputs, _BEAR_WEIGHTS, -1, WARMUP),
    }
