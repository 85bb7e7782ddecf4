"""The default walk-forward validation on real bundled data (three of the mega-caps,
2016-2019): every window fits its own XGBoost on in-sample trades only, both arms trade
the same candidates against the same benchmark, and the verdict states the interval.
Which arm does better is not asserted: that is what the run finds out."""

from __future__ import annotations

import re

from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin
from swingflow_common.ml.validate import validate_walk_forward


def test_walk_forward_validation_on_the_megacaps() -> None:
    data = load_builtin("megacaps-2013-2023")
    report = validate_walk_forward(
        data, StrategyConfig(), in_sample_bars=500, out_of_sample_bars=250,
        symbols=["AAPL", "NFLX", "NVDA"], start="2016-01-01", end="2019-12-31", n_boot=500,
    )  # fmt: skip
    assert [w.model for w in report.windows] == ["wf0", "wf1", "wf2"]
    for w in report.windows:
        assert w.training_samples is not None
        assert w.training_samples >= 100
        assert w.train_end is not None
        assert w.train_end < w.oos_start
    n, m = report.neutral, report.ml
    assert n.candidates == m.candidates == sum(w.candidates for w in report.windows)
    assert [p.benchmark for p in n.equity] == [p.benchmark for p in m.equity]
    assert len(n.trades) >= 20
    assert len(m.trades) >= 20
    assert {t.ml_confidence for t in n.trades} == {0.5}
    assert len({t.ml_confidence for t in m.trades}) > 5  # the model answered, not neutral
    assert report.expectancy.ci is not None
    assert report.expectancy.ci[0] < report.expectancy.ci[1]
    assert report.classification["n"] is not None
    assert report.classification["n"] > 100
    lo, hi = report.expectancy.ci
    if lo <= 0 <= hi:
        assert "did not change out-of-sample expectancy beyond noise" in report.verdict
    assert re.search(r"95% bootstrap interval \[[-+]\d+\.\d\d%, [-+]\d+\.\d\d%\]", report.verdict)
