"""Repository writes are idempotent: a redelivered message never adds a second row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.db import repository as repo
from swingflow_common.db.models import AllocationRow, BarRow, FillRow, SignalRow, SymbolRow
from swingflow_common.messages import (
    Allocation,
    Bar,
    CandidateSignal,
    ConfirmedSignal,
    FeatureContribution,
    Fill,
    StageName,
    StageScore,
    signal_id,
)

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def bar(day: int, close: float = 10.5, symbol: str = "AAPL") -> Bar:
    return Bar(symbol=symbol, ts=T0 + timedelta(days=day), open=10, high=11, low=9,
               close=close, volume=1000 + day)  # fmt: skip


def stage(name: str, score: float, passed: bool = True) -> StageScore:
    return StageScore(stage=name, score=score, passed=passed, reason=f"{name} {score}")


def candidate(day: int = 0, setup: str = "trend_pullback") -> CandidateSignal:
    ts = T0 + timedelta(days=day)
    return CandidateSignal(id=signal_id("AAPL", ts, setup), symbol="AAPL", ts=ts, setup=setup,
                           close=10.5, atr=0.4, base=stage("base_signal", 0.8),
                           features={"rsi_14": 48.2, "adx_14": None})  # fmt: skip


def verdict(cand: CandidateSignal, confirmed: bool) -> repo.Verdict:
    stages = (cand.base, stage("confirmation", 0.7), stage("ml_confidence", 0.5),
              stage("entry_timing", 0.6 if confirmed else 0.1, passed=confirmed))  # fmt: skip
    weights: dict[StageName, float] = {"base_signal": 0.3, "confirmation": 0.25,
                                       "ml_confidence": 0.25, "entry_timing": 0.2}  # fmt: skip
    total = sum(weights[s.stage] * s.score for s in stages)
    signal = None
    if confirmed:
        contribution = FeatureContribution(feature="rsi_14", value=48.2, contribution=0.12)
        signal = ConfirmedSignal(id=cand.id, symbol=cand.symbol, ts=cand.ts, setup=cand.setup,
                                 entry=10.5, stop=9.7, target=11.7, stages=stages,
                                 weights=weights, total=total, threshold=0.55,
                                 model_version="m1", ml_contributions=(contribution,),
                                 reason="confirmed")  # fmt: skip
    return repo.Verdict(candidate=cand, status="confirmed" if confirmed else "rejected",
                        stages=stages, total=total, threshold=0.55, weights=weights,
                        rejected_by=None if confirmed else "entry_timing",
                        reason="ok" if confirmed else "entry timing below its minimum",
                        signal=signal)  # fmt: skip


async def count(sessions: Sessions, model: type[object]) -> int:
    async with sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def test_upserting_the_same_bars_twice_keeps_one_row_each(db_sessions: Sessions) -> None:
    for _ in range(2):
        async with db_sessions.begin() as session:
            await repo.upsert_bars(session, [bar(0), bar(1)])
    assert await count(db_sessions, BarRow) == 2
    assert await count(db_sessions, SymbolRow) == 1


async def test_known_symbols_get_no_row_and_a_missing_one_fails_on_the_foreign_key(
    db_sessions: Sessions,
) -> None:
    async with db_sessions.begin() as session:
        await repo.upsert_bars(session, [bar(0)])
    async with db_sessions.begin() as session:  # AAPL's row exists: only the bars are written
        await repo.upsert_bars(session, [bar(1), bar(1, symbol="MSFT")], known_symbols={"AAPL"})
    assert await count(db_sessions, SymbolRow) == 2
    assert await count(db_sessions, BarRow) == 3
    with pytest.raises(sa.exc.IntegrityError):  # "known" without a row: refused, not stored
        async with db_sessions.begin() as session:
            await repo.upsert_bars(session, [bar(0, symbol="NVDA")], known_symbols={"NVDA"})
    assert await count(db_sessions, BarRow) == 3


async def test_a_corrected_bar_replaces_the_stored_one(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session:
        await repo.upsert_bars(session, [bar(0, close=10.5)])
    async with db_sessions.begin() as session:
        await repo.upsert_bars(session, [bar(0, close=10.8)])
    async with db_sessions() as session:
        [stored] = await repo.latest_bars(session, "AAPL", 5)
    assert stored == bar(0, close=10.8)


async def test_a_bar_and_its_correction_in_one_batch_store_the_correction(
    db_sessions: Sessions,
) -> None:
    """One multi-row statement may not update a row twice on PostgreSQL: the last row of a
    key is the one written, as the rows one by one would have left it."""
    async with db_sessions.begin() as session:
        await repo.upsert_bars(session, [bar(0, close=10.5), bar(1), bar(0, close=10.8)])
        await repo.upsert_symbols(session, ["AAPL", "AAPL"])
    async with db_sessions() as session:
        stored = await repo.latest_bars(session, "AAPL", 5)
    assert stored == [bar(0, close=10.8), bar(1)]


async def test_latest_bars_are_the_last_n_oldest_first(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session:
        await repo.upsert_bars(session, [bar(d) for d in (3, 0, 2, 1)] + [bar(9, symbol="MSFT")])
    async with db_sessions() as session:
        last_two = await repo.latest_bars(session, "AAPL", 2)
        before_day_2 = await repo.latest_bars(session, "AAPL", 10, before=bar(2).ts)
    assert last_two == [bar(2), bar(3)]
    assert before_day_2 == [bar(0), bar(1)]


async def test_times_come_back_aware_in_utc(db_sessions: Sessions) -> None:
    eastern = timezone(timedelta(hours=-5))
    local = Bar(symbol="AAPL", ts=datetime(2024, 3, 1, 19, tzinfo=eastern), open=10, high=11,
                low=9, close=10, volume=1)  # fmt: skip
    async with db_sessions.begin() as session:
        await repo.upsert_bars(session, [local])
    async with db_sessions() as session:
        row = await session.scalar(sa.select(BarRow))
    assert row is not None
    assert row.ts == datetime(2024, 3, 2, 0, tzinfo=UTC)
    assert row.ts.utcoffset() == timedelta(0)


async def test_a_naive_time_is_refused(db_sessions: Sessions) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        async with db_sessions.begin() as session:
            session.add(SymbolRow(symbol="AAPL", created_at=datetime(2024, 3, 1)))


async def test_a_redelivered_verdict_updates_one_signal_row(db_sessions: Sessions) -> None:
    cand = candidate()
    for _ in range(2):
        async with db_sessions.begin() as session:
            await repo.save_candidate(session, cand)
            await repo.save_evaluation(session, verdict(cand, confirmed=True))
    async with db_sessions() as session:
        row = await repo.get_signal(session, cand.id)
    assert await count(db_sessions, SignalRow) == 1
    assert row is not None
    assert (row.status, row.entry, row.stop, row.target) == ("confirmed", 10.5, 9.7, 11.7)
    assert row.score_entry_timing == 0.6
    assert [s["stage"] for s in row.stages] == ["base_signal", "confirmation", "ml_confidence",
                                                 "entry_timing"]  # fmt: skip
    assert row.ml_contributions[0]["feature"] == "rsi_14"
    assert row.features == {"rsi_14": 48.2, "adx_14": None}


async def test_a_late_candidate_does_not_undo_its_verdict(db_sessions: Sessions) -> None:
    cand = candidate()
    async with db_sessions.begin() as session:
        await repo.save_evaluations(session, [verdict(cand, confirmed=False)])
    async with db_sessions.begin() as session:
        await repo.save_candidate(session, cand)
    async with db_sessions() as session:
        row = await repo.get_signal(session, cand.id)
    assert row is not None
    assert (row.status, row.rejected_by, row.entry) == ("rejected", "entry_timing", None)


async def test_only_the_first_verdict_is_written_and_its_id_returned(
    db_sessions: Sessions,
) -> None:
    judged, waiting, new = candidate(0), candidate(1), candidate(2)
    async with db_sessions.begin() as session:
        await repo.save_evaluations(session, [verdict(judged, confirmed=False)])
        await repo.save_candidate(session, waiting)
    async with db_sessions.begin() as session:
        written = await repo.save_first_verdicts(
            session, [verdict(c, confirmed=True) for c in (judged, waiting, new)]
        )
    assert written == {waiting.id, new.id}
    async with db_sessions() as session:
        rows = await repo.get_signals(session, [judged.id, waiting.id, new.id])
    assert rows[judged.id].status == "rejected"  # the first verdict stands
    assert rows[waiting.id].status == rows[new.id].status == "confirmed"
    async with db_sessions.begin() as session:  # a second time: nothing left to write
        assert await repo.save_first_verdicts(session, [verdict(new, confirmed=False)]) == set()
        assert await repo.save_first_verdicts(session, []) == set()


async def test_list_signals_filters_and_counts_newest_first(db_sessions: Sessions) -> None:
    async with db_sessions.begin() as session:
        await repo.save_evaluations(session, [verdict(candidate(d), confirmed=d % 2 == 0)
                                              for d in range(5)])  # fmt: skip
        await repo.save_candidate(session, candidate(9, setup="breakout_volume"))
    confirmed = repo.SignalFilter(status="confirmed")
    async with db_sessions() as session:
        rows = await repo.list_signals(session, confirmed, limit=2)
        total = await repo.count_signals(session, confirmed)
        candidates = await repo.list_signals(session, repo.SignalFilter(status="candidate"))
        window = await repo.count_signals(
            session, repo.SignalFilter(start=T0 + timedelta(days=1), end=T0 + timedelta(days=3))
        )
        strong = await repo.count_signals(session, repo.SignalFilter(min_total=0.6))
    assert [r.ts for r in rows] == [T0 + timedelta(days=4), T0 + timedelta(days=2)]
    assert total == 3
    assert [r.setup for r in candidates] == ["breakout_volume"]
    assert window == 3
    assert strong == 3  # confirmed totals are 0.635, rejected 0.535


def allocation() -> Allocation:
    return Allocation(id="alloc-1", signal_id="AAPL-20240301-trend_pullback", symbol="AAPL",
                      ts=T0, quantity=100, price=10.5, stop=9.7, target=11.7, risk_amount=80,
                      weight=0.01, cash_after=98950, reason="1% risk")  # fmt: skip


async def test_a_redelivered_allocation_and_fill_are_stored_once(db_sessions: Sessions) -> None:
    fill = Fill(id="fill-1", allocation_id="alloc-1", symbol="AAPL", ts=T0, side="buy",
                quantity=100, price=10.51, commission=0.5, slippage=0.5)  # fmt: skip
    for _ in range(2):
        async with db_sessions.begin() as session:
            await repo.save_allocation(session, allocation())
            await repo.save_fill(session, fill, trade_id="trade-1")
    async with db_sessions() as session:
        [stored] = await repo.list_allocations(session)
        stored_fill = await session.get(FillRow, "fill-1")
    assert await count(db_sessions, AllocationRow) == 1
    assert await count(db_sessions, FillRow) == 1
    assert (stored.quantity, stored.cash_after) == (100, 98950)
    assert stored_fill is not None
    assert stored_fill.trade_id == "trade-1"
