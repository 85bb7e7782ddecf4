"""Hand-made confirmed signals and bars, a config with readable costs, and reads of what the
portfolio service left in NATS.

Costs: commission 10 bps, slippage 20 bps. A signal enters at 100, stop 96, target 106;
on a 100,000 book the 15% weight cap makes it 150 shares.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nats.js import JetStreamContext

from swingflow_common import subjects
from swingflow_common.config import RiskSettings, StrategyConfig
from swingflow_common.messages import (
    Allocation,
    Bar,
    ConfirmedSignal,
    DeadLetter,
    Fill,
    StageScore,
    signal_id,
)
from swingflow_common.testing import stream_payloads

T0 = datetime(2024, 3, 1, tzinfo=UTC)
RISK = RiskSettings(commission_bps=10, slippage_bps=20, max_positions=5, max_bars_held=3)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def write_config(path: Path) -> Path:
    config = StrategyConfig(risk=RISK)
    path.write_text(json.dumps(config.model_dump(mode="json")))
    return path


def confirmed(
    symbol: str = "AAPL", setup: str = "trend_pullback", ts: datetime = T0
) -> ConfirmedSignal:
    stages = tuple(
        StageScore(stage=name, score=0.8, passed=True, reason="test")
        for name in ("base_signal", "confirmation", "ml_confidence", "entry_timing")
    )
    return ConfirmedSignal(
        id=signal_id(symbol, ts, setup), symbol=symbol, ts=ts, setup=setup, entry=100.0,
        stop=96.0, target=106.0, stages=stages,
        weights={"base_signal": 0.3, "confirmation": 0.25, "ml_confidence": 0.25,
                 "entry_timing": 0.2},
        total=0.8, threshold=0.6, reason="confirmed in a test", ts_event=ts,
    )  # fmt: skip


def bar(symbol: str, n: int, open_: float, high: float, low: float, close: float) -> Bar:
    return Bar(symbol=symbol, ts=day(n), open=open_, high=high, low=low, close=close,
               volume=1_000_000)  # fmt: skip


async def allocations_on_nats(js: JetStreamContext) -> list[Allocation]:
    payloads = await stream_payloads(js, "PORTFOLIO", subjects.ALLOCATIONS)
    return [Allocation.model_validate_json(p) for p in payloads]


async def fills_on_nats(js: JetStreamContext) -> list[Fill]:
    return [
        Fill.model_validate_json(p) for p in await stream_payloads(js, "PORTFOLIO", subjects.FILLS)
    ]


async def dead_letters(js: JetStreamContext, service: str) -> list[DeadLetter]:
    payloads = await stream_payloads(js, "DLQ", subjects.dlq(service))
    return [DeadLetter.model_validate_json(p) for p in payloads]
