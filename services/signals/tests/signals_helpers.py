"""Candidates a reader can reason about, and reads of what the service left in NATS and the DB.

`healthy()` is one bar of a clean uptrend pulled back to its 20-day EMA (the pipeline's own
test snapshot): with base 0.8 the pure pipeline confirms it; base 0.3 fails the base
stage; `weak()` features fail the confirmation stage.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common import subjects
from swingflow_common.config import StrategyConfig
from swingflow_common.db import repository
from swingflow_common.db.models import SignalRow
from swingflow_common.messages import (
    CandidateSignal,
    ConfirmedSignal,
    DeadLetter,
    StageScore,
    signal_id,
)
from swingflow_common.testing import stream_payloads

TS = datetime(2024, 3, 1, tzinfo=UTC)


def healthy(**overrides: float | None) -> dict[str, float | None]:
    snap: dict[str, float | None] = {
        "open": 99.6, "high": 100.4, "low": 99.0, "close": 100.0, "volume": 1_500_000.0,
        "sma_200": 88.0, "sma_50": 94.0, "ema_20": 99.8, "atr_14": 2.0, "rsi_14": 47.0,
        "adx_14": 28.0, "plus_di_14": 27.0, "minus_di_14": 14.0, "rvol_20": 1.4,
        "obv_slope_20": 0.2, "mfi_14": 58.0, "cmf_20": 0.08, "weekly_trend": 1.0,
        "rs_rank": 0.8, "stoch_k": 28.0, "stoch_d": 24.0, "stoch_cross_up": 1.0,
        "cdl_bull": 0.0, "cdl_bear": 0.0, "gap_atr": 0.1, "high_20_prior": 104.0,
        "bb_upper": 104.5, "bb_lower": 95.5, "bb_width_rank": 0.5, "macd": 0.3,
        "macd_cross_up": 0.0, "willr_14": -60.0, "dist_52w_high": -0.05,
    }  # fmt: skip
    snap.update(overrides)
    return snap


def weak() -> dict[str, float | None]:
    """Features the confirmation stage scores far below its minimum."""
    return healthy(adx_14=12, rvol_20=0.5, obv_slope_20=-0.3, mfi_14=30, cmf_20=-0.2,
                   weekly_trend=-1, rs_rank=0.1)  # fmt: skip


def candidate(
    symbol: str = "AAPL",
    *,
    base: float = 0.8,
    features: dict[str, float | None] | None = None,
    ts: datetime = TS,
) -> CandidateSignal:
    stage = StageScore(stage="base_signal", score=base, minimum=0.5, passed=base >= 0.5,
                       reason=f"trend pullback {base:.2f}")  # fmt: skip
    return CandidateSignal(id=signal_id(symbol, ts, "trend_pullback"), symbol=symbol, ts=ts,
                           setup="trend_pullback", close=100.0, atr=2.0, base=stage,
                           features=features if features is not None else healthy(),
                           ts_event=ts)  # fmt: skip


def write_config(path: Path, config: StrategyConfig | None = None) -> Path:
    path.write_text(json.dumps((config or StrategyConfig()).model_dump(mode="json")))
    return path


async def confirmed_on_nats(js: JetStreamContext) -> list[ConfirmedSignal]:
    payloads = await stream_payloads(js, "SIGNALS", "signals.confirmed.")
    return [ConfirmedSignal.model_validate_json(p) for p in payloads]


async def dead_letters(js: JetStreamContext, service: str) -> list[DeadLetter]:
    payloads = await stream_payloads(js, "DLQ", subjects.dlq(service))
    return [DeadLetter.model_validate_json(p) for p in payloads]


async def judged(sessions: async_sessionmaker[AsyncSession]) -> dict[str, SignalRow]:
    """Stored signals that have a verdict, by id."""
    async with sessions() as session:
        rows = await repository.list_signals(session, limit=1000)
    return {row.id: row for row in rows if row.status != "candidate"}
