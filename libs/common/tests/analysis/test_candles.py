"""Candlestick strength: constructed patterns fire, plain bars do not, the combination of
TA-Lib's pattern outputs stays within 0..1 and equals a pattern's weight when it fires
alone."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from factories import daily_ts

from swingflow_common.analysis import candles
from swingflow_common.analysis.base import OHLCV

N_CONTEXT = 25
OPENS = 110.0 - np.arange(N_CONTEXT)  # a steady decline of black bars, body 0.8
CLOSES = OPENS - 0.8


def _bars(opens: list[float] | np.ndarray, closes: list[float] | np.ndarray) -> OHLCV:
    o, c = np.asarray(opens, np.float64), np.asarray(closes, np.float64)
    return OHLCV(
        ts=daily_ts(o.shape[0]),
        open=o,
        high=np.maximum(o, c) + 0.1,
        low=np.minimum(o, c) - 0.1,
        close=c,
        volume=np.full(o.shape[0], 1_000.0),
    )


def _after_decline(last_open: float, last_close: float) -> OHLCV:
    return _bars([*OPENS, last_open], [*CLOSES, last_close])


def _fired(bars: OHLCV) -> dict[str, int]:
    """TA-Lib's own output of every pattern the module uses, on the last bar."""
    ohlc = (bars.open, bars.high, bars.low, bars.close)
    return {name: int(getattr(talib, name)(*ohlc)[-1]) for name in candles._PATTERNS}


def test_bullish_engulfing_after_a_decline_scores_bullish() -> None:
    # Opens below the last black bar's close, closes above its open: engulfs its body.
    bars = _after_decline(CLOSES[-1] - 0.2, OPENS[-1] + 0.3)
    assert _fired(bars)["CDLENGULFING"] == 100
    out = candles.compute(bars)
    assert out["cdl_bull"][-1] > 0.0
    assert out["cdl_bull"][-1] == pytest.approx(dict(candles.BULLISH)["CDLENGULFING"])
    assert out["cdl_bear"][-1] == 0.0


def test_bearish_engulfing_after_a_rise_scores_bearish() -> None:
    opens, closes = 80.0 + np.arange(N_CONTEXT), 80.8 + np.arange(N_CONTEXT)  # white bars
    bars = _bars([*opens, closes[-1] + 0.2], [*closes, opens[-1] - 0.3])
    assert _fired(bars)["CDLENGULFING"] == -100
    out = candles.compute(bars)
    assert out["cdl_bear"][-1] > 0.0
    assert out["cdl_bull"][-1] == 0.0


def test_a_plain_bar_scores_zero_both_ways() -> None:
    # Another ordinary black bar a little below the last one: completes nothing.
    bars = _after_decline(CLOSES[-1] - 0.3, CLOSES[-1] - 0.9)
    assert not any(_fired(bars).values())
    out = candles.compute(bars)
    assert out["cdl_bull"][-1] == 0.0
    assert out["cdl_bear"][-1] == 0.0


def test_candles_are_nan_until_every_pattern_can_be_judged() -> None:
    out = candles.compute(_after_decline(CLOSES[-1] - 0.2, OPENS[-1] + 0.3))
    assert candles.WARMUP == 13
    assert np.isnan(out["cdl_bull"][:13]).all()
    assert not np.isnan(out["cdl_bull"][13:]).any()


@pytest.mark.parametrize("symbol", ["AAPL", "MSFT", "XOM", "GE", "F", "JPM"])
def test_candle_strength_combines_talib_patterns_on_real_bars(
    sp500: dict[str, OHLCV], symbol: str
) -> None:
    bars = sp500[symbol]
    ohlc = (bars.open, bars.high, bars.low, bars.close)
    raw = {name: getattr(talib, name)(*ohlc) for name in candles._PATTERNS}
    out = candles.compute(bars)
    for key, weights, sign in (
        ("cdl_bull", candles.BULLISH, 1),
        ("cdl_bear", candles.BEARISH, -1),
    ):
        value = out[key][13:]
        assert ((value >= 0.0) & (value <= 1.0)).all()
        firing = np.array([sign * raw[name][13:] > 0 for name, _ in weights])
        # zero exactly on the bars where none of this side's patterns fired
        np.testing.assert_array_equal(value > 0, firing.any(axis=0))
        alone = firing.sum(axis=0) == 1
        # weight x |output| / 100: TA-Lib gives 80 for an engulfing that only ties an edge
        strength = np.array([np.abs(raw[name][13:]) / 100 * w for name, w in weights])
        expected = strength[firing.argmax(axis=0), np.arange(value.shape[0])]
        np.testing.assert_allclose(value[alone], expected[alone])
        several = firing.sum(axis=0) > 1  # agreeing patterns add up beyond either alone
        assert (value[several] > expected[several]).all()
