"""Rate of change: percent change of the close over 10 and 63 bars (about 3 months).

TA-Lib's ROC, 100 (close / close n bars ago - 1), so 4.2 means +4.2 %. `roc_63` is also
what relative strength ranks across symbols.
"""

from __future__ import annotations

import talib

from swingflow_common.analysis.base import OHLCV, Features

NAME = "roc"
KEYS: tuple[str, ...] = ("roc_10", "roc_63")


def compute(bars: OHLCV) -> Features:
    """`roc_10` (NaN for the first 10 bars) and `roc_63` (the first 63)."""
    return {
        "roc_10": talib.ROC(bars.close, timeperiod=10),
        "roc_63": talib.ROC(bars.close, timeperiod=63),
    }
