"""The scan on real bars: the packaged S&P 500 year (2009-08 to 2010-08, raw prices)."""

from __future__ import annotations

from swingflow_common.config import StrategyConfig
from swingflow_common.data import load_builtin
from swingflow_common.messages import STAGE_NAMES
from swingflow_common.pipeline.scan import ScanResult, scan

RECENT_DATES = 60


def first_date_with_confirmed(config: StrategyConfig) -> ScanResult | None:
    """Scan the last 60 sessions, newest first, until one has a confirmed signal."""
    data = load_builtin("sp500-2010")
    for day in reversed(data.dates[-RECENT_DATES:]):
        result = scan(data, config, asof=day)
        if result.funnel.confirmed:
            return result
    return None


def test_scan_of_real_sp500_finds_confirmed_signals() -> None:
    result = first_date_with_confirmed(StrategyConfig())
    assert result is not None, f"no confirmed signal in the last {RECENT_DATES} sessions"
    assert result.funnel.symbols_scanned > 400
    for e in result.confirmed:
        sig = e.signal
        assert sig is not None
        assert [s.stage for s in sig.stages] == list(STAGE_NAMES)
        assert sig.stop < sig.entry < sig.target
        assert sig.total >= sig.threshold
        assert all(s.passed for s in sig.stages)
        assert e.candidate.features["rs_rank"] is not None
