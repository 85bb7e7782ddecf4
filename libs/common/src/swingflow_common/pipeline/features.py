"""One symbol's features: every analysis array plus the bar's own prices.

The setups and stages read `close`, `high`, `low`, `open` and `volume` beside the
indicators, so the pipeline always works on `analyze(bars)` merged with the OHLCV columns.
Every array is aligned with the bars, and value `i` depends on bars `0..i` only.
"""

from __future__ import annotations

from swingflow_common.analysis.base import OHLCV, Features
from swingflow_common.analysis.registry import analyze

PRICE_KEYS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


def with_bars(features: Features, bars: OHLCV) -> Features:
    """`features` plus the bar columns (an analysis key of the same name is kept as is)."""
    merged: Features = {
        "open": bars.open,
        "high": bars.high,
        "low": bars.low,
        "close": bars.close,
        "volume": bars.volume,
    }
    merged.update(features)
    return merged


def compute_features(bars: OHLCV) -> Features:
    """Run every analysis module on `bars` and add the price columns."""
    return with_bars(analyze(bars), bars)
