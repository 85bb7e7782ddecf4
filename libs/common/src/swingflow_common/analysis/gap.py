"""Opening gap in ATRs: (open - previous close) / previous ATR(14).

Entry timing treats a large gap as risk (a gap up chases, a gap down breaks the setup).
The ATR is the one known before the open, so bar i's gap uses the ATR up to bar i-1.
NaN for the first 15 bars.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis._arrays import divide, lag
from swingflow_common.analysis.base import OHLCV, Features

NAME = "gap"
KEYS: tuple[str, ...] = ("gap_atr",)
ATR_PERIOD = 14


def compute(bars: OHLCV) -> Features:
    """`gap_atr`: signed gap of bar i's open over the previous close, in previous ATRs."""
    atr = talib.ATR(bars.high, bars.low, bars.close, timeperiod=ATR_PERIOD)
    return {"gap_atr": divide(bars.open - lag(bars.close), lag(atr))}
