"""No look-ahead, for every module the registry finds: a value at bar i may depend on
bars 0..i only, so replacing every bar after t by any other valid bars must leave every
key unchanged at bars 0..t (NaN counting as equal to NaN), bit for bit."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pytest
from factories import random_walk_bars
from hypothesis import given, settings
from hypothesis import strategies as st

from swingflow_common.analysis import registry
from swingflow_common.analysis.base import OHLCV

N_BARS = 300
SEEDS = st.integers(0, 2**32 - 1)
# 0.0 gives perfectly flat bars (high = low = open = close): the degenerate windows
VOLS = st.sampled_from([0.0, 0.005, 0.02, 0.06, 0.15])


def _splice(base: OHLCV, other: OHLCV, t: int, gap_days: int, idle: bool) -> OHLCV:
    """`base` up to bar t, then `other`'s bars (optionally shifted later, or untraded)."""

    def join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate((a[: t + 1], b[t + 1 :])))

    later_ts = base.ts + np.timedelta64(gap_days, "D")
    volume = other.volume * 0.0 if idle else other.volume
    return OHLCV(
        ts=join(base.ts, later_ts),
        open=join(base.open, other.open),
        high=join(base.high, other.high),
        low=join(base.low, other.low),
        close=join(base.close, other.close),
        volume=join(base.volume, volume),
    )


@dataclass(frozen=True)
class Rewrite:
    """A seeded history and how to rewrite it after bar t (small, so a failure reads well)."""

    seed: int
    price: float
    vol: float
    other_seed: int
    other_price: float
    other_vol: float
    other_volume: float
    t: int
    gap_days: int
    idle: bool

    def build(self) -> tuple[OHLCV, OHLCV]:
        """The history, and the same history with every bar after t replaced."""
        base = random_walk_bars(N_BARS, self.seed, start_price=self.price, daily_vol=self.vol)
        other = random_walk_bars(
            N_BARS,
            self.other_seed,
            start_price=self.other_price,
            daily_vol=self.other_vol,
            mean_volume=self.other_volume,
        )
        return base, _splice(base, other, self.t, self.gap_days, self.idle)


REWRITES = st.builds(
    Rewrite,
    seed=SEEDS,
    price=st.floats(5.0, 500.0),
    vol=VOLS,
    other_seed=SEEDS,
    other_price=st.floats(1.0, 2_000.0),
    other_vol=VOLS,
    other_volume=st.sampled_from([1.0, 1e3, 1e7]),
    t=st.integers(0, N_BARS - 2),
    gap_days=st.sampled_from([0, 0, 1, 4, 30]),
    idle=st.booleans(),
)


@pytest.mark.parametrize("module", registry.MODULES, ids=lambda m: m.NAME)
@settings(max_examples=25, deadline=None)
@given(case=REWRITES)
def test_values_up_to_t_ignore_every_bar_after_t(module: ModuleType, case: Rewrite) -> None:
    original, rewritten = case.build()
    t = case.t
    before, after = module.compute(original), module.compute(rewritten)
    for key in module.KEYS:
        np.testing.assert_array_equal(
            after[key][: t + 1],
            before[key][: t + 1],
            err_msg=f"{module.NAME}.{key} at bars 0..{t} changed with the bars after {t}",
        )


def test_splice_really_changes_the_later_bars() -> None:
    base = random_walk_bars(N_BARS, 1)
    rewritten = _splice(base, random_walk_bars(N_BARS, 2, start_price=50.0), 99, 0, False)
    np.testing.assert_array_equal(rewritten.close[:100], base.close[:100])
    assert (rewritten.close[100:] != base.close[100:]).all()
    changed = registry.analyze(rewritten)["sma_20"][100:] != registry.analyze(base)["sma_20"][100:]
    assert changed.all()  # so an unchanged prefix is the module's doing, not the test's
