"""Money flow index (14): a volume-weighted RSI of the typical price, on 0..100.

TA-Lib's MFI: typical price (H + L + C) / 3 times volume is the money flow, counted as
positive on bars where the typical price rose and negative where it fell, summed over 14
bars; MFI = 100 x positive / (positive + negative). When no money moved in the window
(the typical price never changed, or nothing traded) that is 0/0: TA-Lib reports 0 (reads
as oversold), this module the neutral 50.
"""

from __future__ import annotations

import numpy as np
import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "mfi"
KEYS: tuple[str, ...] = ("mfi_14",)
PERIOD = 14
NEUTRAL = 50.0


def compute(bars: OHLCV) -> Features:
    """`mfi_14`, NaN for the first 14 bars."""
    high, low, close, volume = bars.high, bars.low, bars.close, bars.volume
    mfi = talib.MFI(high, low, close, volume, timeperiod=PERIOD)
    if not (mfi == 0.0).any():  # TA-Lib gives 0 wherever no money moved: nothing to fix
        return {"mfi_14": mfi}
    typical = (high + low + close) / 3.0
    flowed = np.zeros(close.shape[0])
    # a change of a few ulps is (h + l + c) / 3 rounding equal prices differently: no move
    moved = np.abs(typical[1:] - typical[:-1]) > 1e-12 * np.abs(typical[1:])
    flowed[1:] = moved & (volume[1:] > 0.0)
    no_flow = talib.SUM(flowed, timeperiod=PERIOD) == 0.0
    mfi[no_flow & (mfi == 0.0)] = NEUTRAL  # only TA-Lib's zeros: the early exit stays exact
    return {"mfi_14": mfi}
