"""A synthetic universe with the stylised facts of daily stock bars, for scale tests.

Not for judging a strategy: only for "does it run, and how fast, on 5,000 symbols". Each
symbol's log return is `beta * market + idiosyncratic`, where

* the market follows a three-state Markov chain of regimes (bull, sideways, bear), each
  with its own drift and volatility multiplier, so trends persist and then turn;
* both the market shock and each symbol's own shock are GARCH(1,1), so volatility
  clusters (big moves follow big moves);
* the open gaps away from the previous close, high and low stretch beyond the body by a
  random share of the day's volatility, and volume is lognormal and rises with |return|.

All symbols are drawn at once with numpy; only the GARCH recursion steps through time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.data.dataset import COLUMNS, INDEX_NAME, Dataset, DateLike

Floats = npt.NDArray[np.float64]

REGIMES: tuple[str, ...] = ("bull", "sideways", "bear")
MARKET_DRIFT = np.array([0.0008, 0.0001, -0.0012])  # daily log drift per regime
MARKET_VOL_SCALE = np.array([0.8, 1.0, 1.7])  # multiplies the market's GARCH volatility
# Row: today's regime, column: tomorrow's. Bulls last 100 days on average, the others 33;
# in the long run 60% bull, 23% sideways, 17% bear: about +7% a year for the market.
TRANSITION = np.array(
    [
        [0.990, 0.007, 0.003],
        [0.015, 0.970, 0.015],
        [0.015, 0.015, 0.970],
    ]
)
MARKET_VOL = 0.01  # long-run daily volatility of the market shock
GARCH_ALPHA, GARCH_BETA = 0.08, 0.90  # market: persistence 0.98


@dataclass(frozen=True)
class SyntheticPaths:
    """The simulated arrays, shaped (n_symbols, n_bars), plus the market regime per bar."""

    dates: pd.DatetimeIndex
    symbols: tuple[str, ...]
    regimes: npt.NDArray[np.int8]  # index into REGIMES, one per bar
    market: Floats  # market log return per bar
    returns: Floats  # close-to-close log returns
    open: Floats
    high: Floats
    low: Floats
    close: Floats
    volume: Floats
    block: Floats  # (n_symbols, n_bars, 5): open, high, low, close, volume


def _regimes(rng: np.random.Generator, n_bars: int) -> npt.NDArray[np.int8]:
    cumulative = np.cumsum(TRANSITION, axis=1)
    draws = rng.random(n_bars)
    states = np.empty(n_bars, dtype=np.int8)
    state = int(rng.integers(len(REGIMES)))
    for t in range(n_bars):
        states[t] = state
        state = min(int(np.searchsorted(cumulative[state], draws[t], side="right")), 2)
    return states


def _garch(
    shocks: Floats, long_run_var: Floats, alpha: Floats, beta: Floats
) -> tuple[Floats, Floats]:
    """GARCH(1,1) innovations from standard-normal `shocks` (n_bars, n): eps and sigma."""
    omega = long_run_var * (1.0 - alpha - beta)
    eps = np.empty_like(shocks)
    sigma = np.empty_like(shocks)
    var = long_run_var.copy()
    for t in range(shocks.shape[0]):
        sigma[t] = np.sqrt(var)
        eps[t] = sigma[t] * shocks[t]
        var = omega + alpha * eps[t] ** 2 + beta * var
    return eps, sigma


def simulate(
    n_symbols: int, n_bars: int, seed: int = 0, start: DateLike = "2015-01-02"
) -> SyntheticPaths:
    """Draw the whole universe; the same arguments always give the same numbers."""
    if n_symbols < 1 or n_bars < 1:
        raise ValueError("n_symbols and n_bars must be at least 1")
    rng = np.random.default_rng(seed)
    regimes = _regimes(rng, n_bars)

    one = np.ones(1)
    market_eps, _ = _garch(
        rng.standard_normal((n_bars, 1)), one * MARKET_VOL**2, one * GARCH_ALPHA, one * GARCH_BETA
    )
    market = MARKET_DRIFT[regimes] + MARKET_VOL_SCALE[regimes] * market_eps[:, 0]

    idio_vol = rng.uniform(0.007, 0.022, n_symbols)
    alpha = rng.uniform(0.04, 0.12, n_symbols)
    beta = rng.uniform(0.85, 0.94, n_symbols).clip(max=0.985 - alpha)
    idio, sigma = _garch(rng.standard_normal((n_bars, n_symbols)), idio_vol**2, alpha, beta)
    loading = rng.uniform(0.6, 1.6, n_symbols)
    returns = np.clip(market[:, None] * loading + idio, -0.4, 0.4)
    day_vol = np.sqrt((loading * MARKET_VOL) ** 2 + sigma**2)

    first = np.exp(rng.uniform(np.log(8.0), np.log(400.0), n_symbols))
    close = first * np.exp(np.cumsum(returns, axis=0))
    previous = np.vstack([first[None, :], close[:-1]])
    gap = 0.2 * returns + 0.25 * day_vol * rng.standard_normal((n_bars, n_symbols))
    open_ = previous * np.exp(gap)
    stretch = 0.5 * day_vol
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 1.0, close.shape)) * stretch)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 1.0, close.shape)) * stretch)

    open_, close = np.round(open_, 2).clip(0.01), np.round(close, 2).clip(0.01)
    high = np.maximum(np.round(high, 2), np.maximum(open_, close))
    low = np.minimum(np.round(low, 2), np.minimum(open_, close)).clip(0.01)

    base = np.exp(rng.normal(np.log(1.5e6), 1.0, n_symbols))
    surprise = np.abs(returns) / day_vol
    volume = np.round(base * np.exp(0.45 * surprise + rng.normal(0.0, 0.3, close.shape)))

    dates = pd.bdate_range(pd.Timestamp(start).tz_localize(None), periods=n_bars)
    index = dates.as_unit("ns").tz_localize("UTC").rename(INDEX_NAME)
    symbols = tuple(f"SYN{i:04d}" for i in range(1, n_symbols + 1))

    # One (symbol, bar, column) block, so each symbol's frame is one contiguous 2-D slab.
    block = np.stack([x.T for x in (open_, high, low, close, volume)], axis=-1)
    return SyntheticPaths(
        index,
        symbols,
        regimes,
        market,
        np.ascontiguousarray(returns.T),
        block[:, :, 0],
        block[:, :, 1],
        block[:, :, 2],
        block[:, :, 3],
        block[:, :, 4],
        block,
    )


def synthetic_universe(
    n_symbols: int, n_bars: int, seed: int = 0, start: DateLike = "2015-01-02"
) -> Dataset:
    """`n_symbols` synthetic symbols (SYN0001, ...) of `n_bars` business-day bars each."""
    paths = simulate(n_symbols, n_bars, seed, start)
    columns = pd.Index(COLUMNS, dtype=object)  # built once, shared by every frame
    bars = {
        symbol: pd.DataFrame(paths.block[i], index=paths.dates, columns=columns, copy=False)
        for i, symbol in enumerate(paths.symbols)
    }
    description = (
        f"Synthetic: {n_symbols} symbols x {n_bars} business days from "
        f"{paths.dates[0]:%Y-%m-%d}, seed {seed}. Regime-switching market (bull, sideways, "
        "bear), GARCH(1,1) volatility, market factor plus idiosyncratic noise. For scale "
        "tests only, never for judging a strategy."
    )
    return Dataset(f"synthetic-{n_symbols}x{n_bars}-seed{seed}", bars, "raw", (), description)
