"""Rows and messages for the gateway tests, seeded through the repository like services do."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.db import repository as repo
from swingflow_common.db.models import PortfolioSnapshotRow, PositionRow
from swingflow_common.messages import (
    Allocation,
    Bar,
    CandidateSignal,
    ConfirmedSignal,
    FeatureContribution,
    StageName,
    StageScore,
    signal_id,
)

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2024, 1, 1, tzinfo=UTC)
WEIGHTS: dict[StageName, float] = {
    "base_signal": 0.3, "confirmation": 0.25, "ml_confidence": 0.25, "entry_timing": 0.2,
}  # fmt: skip


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def bars(symbol: str, n: int, start: float = 100.0) -> list[Bar]:
    """A smooth, valid daily series: a drift and a wave, so every indicator has values."""
    out = []
    for i in range(n):
        close = start * (1 + 0.001 * i) + 3 * math.sin(i / 9)
        open_ = close - 0.5 * math.cos(i / 5)
        out.append(
            Bar(symbol=symbol, ts=day(i), open=open_, high=max(open_, close) + 1,
                low=min(open_, close) - 1, close=close, volume=1e6 + 1e4 * (i % 17))
        )  # fmt: skip
    return out


def stage(name: StageName, score: float, passed: bool = True) -> StageScore:
    return StageScore(stage=name, score=score, passed=passed, reason=f"{name} {score:.2f}")


def candidate(symbol: str, n: int, setup: str = "trend_pullback") -> CandidateSignal:
    ts = day(n)
    return CandidateSignal(id=signal_id(symbol, ts, setup), symbol=symbol, ts=ts, setup=setup,
                           close=100.0, atr=2.0, base=stage("base_signal", 0.8),
                           features={"rsi_14": 48.2, "adx_14": None})  # fmt: skip


def verdict(cand: CandidateSignal, rejected_by: StageName | str | None = None) -> repo.Verdict:
    """Confirmed when `rejected_by` is None; else refused by that stage (or `threshold`)."""
    scores = {"base_signal": 0.8, "confirmation": 0.7, "ml_confidence": 0.6, "entry_timing": 0.65}
    if rejected_by == "threshold":  # every stage passes, the total (0.5) falls short of 0.6
        scores = dict.fromkeys(scores, 0.5)
    stages = tuple(
        stage(name, 0.1 if name == rejected_by else scores[name], passed=name != rejected_by)
        for name in WEIGHTS
    )
    total = sum(WEIGHTS[s.stage] * s.score for s in stages)
    signal = None
    if rejected_by is None:
        signal = ConfirmedSignal(
            id=cand.id, symbol=cand.symbol, ts=cand.ts, setup=cand.setup, entry=100.0, stop=96.0,
            target=106.0, stages=stages, weights=WEIGHTS, total=total, threshold=0.6,
            model_version="m1",
            ml_contributions=(FeatureContribution(feature="rsi_14", value=48.2, contribution=0.1),),
            reason="confirmed",
        )  # fmt: skip
    return repo.Verdict(
        candidate=cand, status="confirmed" if rejected_by is None else "rejected", stages=stages,
        total=total, threshold=0.6, weights=WEIGHTS, rejected_by=rejected_by,
        reason="ok" if rejected_by is None else f"refused by {rejected_by}", signal=signal,
    )  # fmt: skip


def allocation(n: int, symbol: str = "AAPL") -> Allocation:
    return Allocation(id=f"alloc-{n}", signal_id=f"{symbol}-{n}", symbol=symbol, ts=day(n),
                      quantity=10 + n, price=100.0, stop=96.0, target=106.0, risk_amount=40.0,
                      weight=0.05, cash_after=90_000.0 - n, reason="sized by risk")  # fmt: skip


async def seed_bars(sessions: Sessions, symbol: str, n: int, start: float = 100.0) -> list[Bar]:
    series = bars(symbol, n, start)
    async with sessions.begin() as session:
        await repo.upsert_bars(session, series)
    return series


async def seed_signal(
    sessions: Sessions, cand: CandidateSignal, rejected_by: str | None = None, judged: bool = True
) -> None:
    async with sessions.begin() as session:
        await repo.save_candidate(session, cand)
        if judged:
            await repo.save_evaluation(session, verdict(cand, rejected_by))


async def seed_positions(session: AsyncSession, cash: float | None) -> None:
    """Two positions (one priced by the portfolio, one not) and optionally a snapshot."""
    session.add(
        PositionRow(
            symbol="AAPL",
            quantity=10,
            avg_price=100.0,
            last_price=110.0,
            stop=95.0,
            target=120.0,
            opened_at=day(1),
            updated_at=day(3),
        )
    )
    session.add(PositionRow(symbol="MSFT", quantity=5, avg_price=200.0, last_price=None,
                            stop=None, target=None, opened_at=day(2),
                            updated_at=day(2)))  # fmt: skip
    if cash is not None:
        session.add(PortfolioSnapshotRow(ts=day(4), cash=cash, equity=cash, positions_value=0.0))
