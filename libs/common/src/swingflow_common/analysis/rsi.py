"""Relative strength index (Wilder, 14): momentum on a 0..100 scale.

TA-Lib's RSI is Wilder's: average gain and loss seeded with the simple mean of the first
14 changes, then smoothed with alpha = 1/14. One deviation: while the close has not moved
at all since the first bar, gain and loss are both zero and the RSI is 0/0; TA-Lib reports
0 (which reads as deeply oversold and would trigger mean-reversion setups on a halted or
flat series), this module reports the neutral 50.
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "rsi"
KEYS: tuple[str, ...] = ("rsi_14",)
PERIOD = 14
NEUTRAL = 50.0


def compute(bars: OHLCV) -> Features:
    """`rsi_14`, NaN for the first 14 bars."""
    close = bars.close
    rsi = talib.RSI(close, timeperiod=PERIOD)
    moved = close != close[:1]
    first_move = int(np.argmax(moved)) if moved.any() else close.shape[0]
    flat = rsi[:first_move]  # a view: bars 0..first_move-1 all equal the first close
    flat[~np.isnan(flat)] = NEUTRAL
    return {"rsi_14": rsi}
