"""synthetic_universe: deterministic, valid bars with clustering, regimes and volume."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from swingflow_common.data import synthetic_universe
from swingflow_common.data.synthetic import REGIMES, SyntheticPaths, simulate


def test_same_seed_gives_identical_bars_and_another_seed_does_not() -> None:
    a = synthetic_universe(20, 120, seed=3)
    b = synthetic_universe(20, 120, seed=3)
    c = synthetic_universe(20, 120, seed=4)
    for symbol in a.symbols:
        pd.testing.assert_frame_equal(a.bars[symbol], b.bars[symbol])
    assert not a.bars["SYN0001"].equals(c.bars["SYN0001"])


def test_bars_meet_the_contract_on_business_days(contract: Callable[..., None]) -> None:
    ds = synthetic_universe(50, 300, start="2015-01-02")
    assert ds.symbols[:2] == ("SYN0001", "SYN0002")
    assert len(ds.symbols) == 50
    assert ds.adjustment == "raw"
    assert ds.issues == ()
    assert ds.dates[0] == pd.Timestamp("2015-01-02", tz="UTC")
    assert (ds.dates.day_of_week < 5).all()
    assert len(ds.dates) == 300
    for frame in ds.bars.values():
        contract(frame)


@pytest.fixture(scope="module")
def paths() -> SyntheticPaths:  # one long draw shared by the statistical tests
    return simulate(200, 4000, seed=11)


def test_absolute_returns_cluster(paths: SyntheticPaths) -> None:
    magnitude = np.abs(paths.returns)
    centred = magnitude - magnitude.mean(axis=1, keepdims=True)
    lag1 = (centred[:, 1:] * centred[:, :-1]).sum(axis=1) / (centred**2).sum(axis=1)
    assert np.median(lag1) > 0.05
    shuffled = np.random.default_rng(0).permuted(centred, axis=1)
    lag1_shuffled = (shuffled[:, 1:] * shuffled[:, :-1]).sum(axis=1) / (shuffled**2).sum(axis=1)
    assert abs(np.median(lag1_shuffled)) < 0.02


def test_regimes_persist_and_carry_different_drifts(paths: SyntheticPaths) -> None:
    regimes = paths.regimes
    assert set(np.unique(regimes).tolist()) == set(range(len(REGIMES)))
    assert (regimes[1:] == regimes[:-1]).mean() > 0.95  # regimes last weeks, not days
    drift = {REGIMES[k]: paths.market[regimes == k].mean() for k in range(len(REGIMES))}
    assert drift["bull"] > drift["sideways"] > drift["bear"]
    assert drift["bull"] > 0 > drift["bear"]


def test_symbols_share_a_market_factor(paths: SyntheticPaths) -> None:
    corr = np.corrcoef(paths.returns[:30])
    off_diagonal = corr[~np.eye(30, dtype=bool)]
    assert 0.1 < np.median(off_diagonal) < 0.8


def test_volume_rises_with_the_size_of_the_move(paths: SyntheticPaths) -> None:
    log_volume = np.log(paths.volume)
    log_volume -= log_volume.mean(axis=1, keepdims=True)  # remove each symbol's base level
    corr = np.corrcoef(np.abs(paths.returns).ravel(), log_volume.ravel())[0, 1]
    assert corr > 0.2


def test_open_gaps_from_the_previous_close(paths: SyntheticPaths) -> None:
    gaps = paths.open[:, 1:] / paths.close[:, :-1] - 1
    assert (np.abs(gaps) > 1e-3).mean() > 0.5
    assert np.abs(gaps).mean() < 0.05
