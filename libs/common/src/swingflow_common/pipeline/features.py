"""One symbol's features: every analysis array plus the bar's own prices.

The setups and stages read `close`, `high`, `low`, `open` and `volume` beside the
indicators, so the pipeline always works on `analyze(bars)` merged with the OHLCV columns.
Every array is aligned with the bars, and value `i` depends on bars `0..i` only.

Two tiers, because most symbols on most days have no setup: the base stage reads only the
`SETUP_MODULES`, and the other modules (the ones stages 2-4 read from a candidate's
snapshot) are computed for a symbol only once a setup fired on it. Each module computes the
same arrays whichever tier asks for it, so `complete_features(setup_features(b), b)` equals
`compute_features(b)` key for key (a test holds this).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from swingflow_common.analysis.base import OHLCV, Features
from swingflow_common.analysis.registry import MODULES, analyze, by_name

PRICE_KEYS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

# What `setups.detect_setups` reads, plus roc for the relative-strength cross-section.
SETUP_MODULES: tuple[str, ...] = (
    "moving_averages",
    "atr",
    "relative_volume",
    "rsi",
    "bollinger",
    "adx",
    "williams_r",
    "macd",
    "donchian",
    "roc",
)
_TIER1 = by_name(SETUP_MODULES)
_TIER2 = tuple(m for m in MODULES if m.NAME not in SETUP_MODULES)


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


def setup_features(bars: OHLCV) -> Features:
    """What the base stage needs: the setup modules and the price columns."""
    return with_bars(analyze(bars, _TIER1), bars)


def complete_features(
    features: Features, bars: OHLCV, keys: AbstractSet[str] | None = None
) -> Features:
    """`features` from `setup_features`, completed with every other module (or, given
    `keys`, with the modules that give one of them: a caller that reads only those)."""
    modules = _TIER2 if keys is None else tuple(m for m in _TIER2 if not keys.isdisjoint(m.KEYS))
    return {**features, **analyze(bars, modules)}
