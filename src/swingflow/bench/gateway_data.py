"""Messages and database rows for the gateway benchmark: confirmed signals stamped with
the time they are published, and a seeded database for `GET /api/signals`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from swingflow_common.db import engine_from_url, migrate_async, repository, session_factory
from swingflow_common.messages import (
    STAGE_NAMES,
    CandidateSignal,
    ConfirmedSignal,
    StageName,
    StageScore,
    signal_id,
)

T0 = datetime(2020, 1, 1, tzinfo=UTC)
WEIGHTS: dict[StageName, float] = dict(zip(STAGE_NAMES, (0.3, 0.25, 0.25, 0.2), strict=True))
SETUPS = ("trend_pullback", "breakout_volume", "macd_trend_cross")


def _stages(score: float) -> tuple[StageScore, ...]:
    return tuple(
        StageScore(stage=name, score=score, minimum=0.3, passed=score >= 0.3, reason=name)
        for name in STAGE_NAMES
    )


def candidate(symbol: str, day: int, setup: str) -> CandidateSignal:
    ts = T0 + timedelta(days=day)
    return CandidateSignal(
        id=signal_id(symbol, ts, setup), symbol=symbol, ts=ts, setup=setup, close=100.0,
        atr=2.0, base=_stages(0.8)[0], features={"rsi_14": 50.0, "adx_14": 25.0},
    )  # fmt: skip


def confirmed(seq: int, now: datetime) -> ConfirmedSignal:
    """A confirmed signal whose `ts_event` is `now`: the clients measure from it."""
    cand = candidate(f"S{seq % 500:03d}", seq, SETUPS[seq % len(SETUPS)])
    return ConfirmedSignal(
        id=cand.id, symbol=cand.symbol, ts=cand.ts, setup=cand.setup, entry=100.0, stop=96.0,
        target=106.0, stages=_stages(0.7), weights=WEIGHTS, total=0.7, threshold=0.6,
        reason="bench", ts_event=now,
    )  # fmt: skip


async def seed_signals(url: str, count: int) -> None:
    """`count` evaluated signals over 200 symbols, two thirds confirmed."""
    await migrate_async(url)
    engine = engine_from_url(url)
    sessions = session_factory(engine)
    verdicts = []
    for i in range(count):
        cand = candidate(f"S{i % 200:03d}", i // 200, SETUPS[i % len(SETUPS)])
        ok = i % 3 != 0
        verdicts.append(
            repository.Verdict(
                candidate=cand,
                status="confirmed" if ok else "rejected",
                stages=_stages(0.7),
                total=0.7 if ok else 0.5,
                threshold=0.6,
                weights=WEIGHTS,
                rejected_by=None if ok else "threshold",
                reason="bench",
            )
        )
    try:
        for start in range(0, count, 2_000):
            async with sessions.begin() as session:
                await repository.save_evaluations(session, verdicts[start : start + 2_000])
    finally:
        await engine.dispose()
