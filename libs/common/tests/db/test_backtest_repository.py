"""Backtest runs stored and read back, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.backtest.sample import sample_result
from swingflow_common.db import backtest_repository as runs


async def test_a_saved_run_reads_back_equal_to_the_result(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = sample_result("bt-1", walk_forward=True)
    async with db_sessions.begin() as session:
        await runs.save_run(session, result)

    async with db_sessions() as session:
        stored = await runs.get_run(session, "bt-1")

    assert stored == result
    assert stored.trades[1].exit_reason == "stop"
    assert stored.trades[0].ml_confidence == 0.5
    assert stored.walk_forward[1].out_of_sample["sharpe"] is None


async def test_saving_a_run_again_replaces_it_and_its_trades(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as session:
        await runs.save_run(session, sample_result("bt-1"))
    shorter = sample_result("bt-1", mode="signals")
    shorter = shorter.model_copy(update={"trades": shorter.trades[:2]})
    async with db_sessions.begin() as session:
        await runs.save_run(session, shorter)

    async with db_sessions() as session:
        stored = await runs.get_run(session, "bt-1")
        assert await runs.count_runs(session) == 1
    assert stored is not None
    assert stored.mode == "signals"
    assert [t.seq for t in stored.trades] == [0, 1]
    assert stored.trades[0].total is None  # no pipeline in the signal mode


async def test_runs_are_listed_newest_first_with_headline_metrics(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as session:
        for day in (3, 1, 2):
            created = datetime(2024, 5, day, tzinfo=UTC)
            await runs.save_run(session, sample_result(f"bt-{day}", created_at=created))

    async with db_sessions() as session:
        first_page = await runs.list_runs(session, limit=2)
        second_page = await runs.list_runs(session, limit=2, offset=2)
        total = await runs.count_runs(session)

    assert [r.id for r in first_page] == ["bt-3", "bt-2"]
    assert [r.id for r in second_page] == ["bt-1"]
    assert total == 3
    summary = first_page[0]
    assert summary.trade_count == 5
    assert summary.symbols == ("AAPL", "MSFT", "NVDA")
    assert summary.metrics["win_rate"] == 0.6
    assert summary.walk_forward_windows == 0


async def test_a_non_finite_metric_is_stored_as_null(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = sample_result("bt-inf")
    result = result.model_copy(update={"metrics": {**result.metrics, "sortino": math.inf}})
    async with db_sessions.begin() as session:
        await runs.save_run(session, result)
    async with db_sessions() as session:
        stored = await runs.get_run(session, "bt-inf")
    assert stored is not None
    assert stored.metrics["sortino"] is None


async def test_unknown_runs_are_none_and_deleting_removes_the_trades(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions.begin() as session:
        await runs.save_run(session, sample_result("bt-1"))
    async with db_sessions.begin() as session:
        assert await runs.get_run(session, "nope") is None
        assert await runs.delete_run(session, "bt-1") is True
        assert await runs.delete_run(session, "bt-1") is False
    async with db_sessions() as session:
        assert await runs.get_trades(session, "bt-1") == []
