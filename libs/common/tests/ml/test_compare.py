"""The validation's statistics: the bootstrap interval finds a real difference, spans 0
for none, is exactly 0 for identical arms, and the verdict claims only what it supports."""

from __future__ import annotations

import numpy as np
import pytest

from swingflow_common.ml.compare import expectancy_difference, paired_windows, verdict


def test_a_clear_difference_is_beyond_noise_and_said_so() -> None:
    rng = np.random.default_rng(3)
    neutral, ml = rng.normal(0.0, 0.02, 400), rng.normal(0.01, 0.02, 400)
    e = expectancy_difference(neutral.tolist(), ml.tolist(), n_boot=1000, seed=1)
    assert e.difference == pytest.approx(ml.mean() - neutral.mean())
    assert e.ci is not None
    assert e.difference is not None
    assert 0 < e.ci[0] < e.difference < e.ci[1]
    assert verdict(e).startswith("Out of sample the ML stage raised expectancy beyond")


def test_no_difference_spans_zero_and_the_verdict_does_not_overclaim() -> None:
    rng = np.random.default_rng(4)
    same = rng.normal(0.005, 0.03, 300)
    e = expectancy_difference(same.tolist(), rng.permutation(same)[:250].tolist(), n_boot=1000)
    assert e.ci is not None
    assert e.ci[0] < 0 < e.ci[1]
    text = verdict(e)
    assert text.startswith("The ML stage did not change out-of-sample expectancy beyond noise")
    assert "spans 0" in text


def test_identical_arms_resampled_by_shared_clusters_give_exactly_zero() -> None:
    returns = [0.03, -0.01, 0.02, -0.02, 0.05, -0.01]
    weeks = ["2020-W01", "2020-W01", "2020-W02", "2020-W03", "2020-W03", "2020-W04"]
    paired = expectancy_difference(returns, returns, 500, 0, weeks, weeks)
    assert paired.ci == (0.0, 0.0)
    assert paired.clusters == 4
    independent = expectancy_difference(returns, returns, 500, 0)
    assert independent.ci is not None
    assert independent.ci[0] < 0 < independent.ci[1]
    with pytest.raises(ValueError, match="one cluster key per trade"):
        expectancy_difference(returns, returns, 10, 0, weeks[:2], weeks)


def test_a_worse_model_is_called_worse() -> None:
    e = expectancy_difference([0.02, 0.03, 0.025, 0.02] * 20, [-0.01, -0.02, 0.0, -0.015] * 20)
    assert e.ci is not None
    assert e.ci[1] < 0
    assert "lowered expectancy" in verdict(e)


def test_too_few_trades_give_no_conclusion() -> None:
    e = expectancy_difference([0.01, 0.02, -0.01], [0.05])
    assert e.ci is None
    assert e.ml == 0.05
    assert verdict(e).startswith("Too few out-of-sample trades to compare")


def test_paired_windows_count_and_bound_the_window_differences() -> None:
    p = paired_windows([0.01, 0.02, 0.00, -0.01], [0.02, 0.01, 0.00, 0.01], n_boot=500)
    assert p.differences == pytest.approx((0.01, -0.01, 0.0, 0.02))
    assert (p.ml_better, p.ml_worse, p.ties) == (2, 1, 1)
    assert p.mean == pytest.approx(0.005)
    assert p.ci is not None
    assert p.ci[0] <= 0.005 <= p.ci[1]
    e = expectancy_difference([0.01] * 5 + [0.02], [0.01] * 5 + [0.03], n_boot=200)
    assert "returned more in 2, less in 1 and the same in 1 of 4 windows" in verdict(e, p, 1, 4)
    assert "1 of 4 windows had too little training data" in verdict(e, p, 1, 4)
    with pytest.raises(ValueError, match="neutral windows against"):
        paired_windows([0.0], [0.0, 0.1])
