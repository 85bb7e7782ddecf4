"""END TO END: another system publishes real bars on NATS; the running platform (scanner,
signals, ml and portfolio, each its own process, as `make run` starts them) turns them into
exactly the verdicts the pure pipeline computes on the same bars, stores them in
PostgreSQL, announces the confirmed ones on `signals.confirmed.>`, and allocates.

The market is a backfill of real S&P 500 history in one burst, then a few "live" sessions
published one at a time, each once the platform has digested the one before, as an
exchange feed would. In the live sessions the portfolio has never seen a later bar of a
signal's symbol, so none of their confirmed signals may be turned down as stale.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pipeline_e2e_helpers import (
    PIPELINE,
    drained,
    exit_codes,
    log_tails,
    market_days,
    metrics_of,
    poll_until,
    publish_days,
    running_services,
    strategy_without_models,
    stream_count,
)

from swingflow_common import subjects
from swingflow_common.data import Dataset, load_builtin
from swingflow_common.db import engine_from_url, migrate_async, session_factory
from swingflow_common.db.models import AllocationRow, SignalRow
from swingflow_common.pipeline import Evaluation, evaluate
from swingflow_common.pipeline.history import candidates_over_history

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

N_SYMBOLS = 40  # x 245 sessions of sp500-2010: ~9,800 bars, ~300 candidates
LIVE_DAYS = 8
BACKFILL_WITHIN_S = 90.0
DAY_WITHIN_S = 20.0
ALLOCATED = "swingflow_portfolio_allocations_total"
REJECTED = "swingflow_portfolio_rejections_total"
STALE = 'swingflow_portfolio_rejections_total{reason="stale"}'


def universe(n: int) -> Dataset:
    """`n` real symbols of the S&P 500 year, spread evenly through the alphabet."""
    data = load_builtin("sp500-2010")
    everything = sorted(data.bars)
    return data.select(everything[:: len(everything) // n][:n])


async def rows(url: str) -> tuple[list[SignalRow], list[AllocationRow]]:
    engine = engine_from_url(url)
    try:
        async with session_factory(engine)() as session:
            signals = list((await session.scalars(sa.select(SignalRow))).all())
            allocations = list((await session.scalars(sa.select(AllocationRow))).all())
    finally:
        await engine.dispose()
    return signals, allocations


def decisions(metrics: dict[str, float]) -> dict[str, float]:
    """The portfolio's allocations and rejections so far, rejections by reason."""
    return {k: v for k, v in metrics.items() if k == ALLOCATED or k.startswith(REJECTED + "{")}


def by_id(evaluations: list[Evaluation]) -> dict[str, Evaluation]:
    return {e.candidate.id: e for e in evaluations}


@pytest.mark.parametrize("blank_database_url", ["postgresql"], indirect=True)
async def test_bars_from_another_system_become_the_pure_pipelines_signals_and_allocations(
    js: JetStreamContext, nats_url: str, blank_database_url: str, tmp_path: Path
) -> None:
    data = universe(N_SYMBOLS)
    config_path, config = strategy_without_models(tmp_path)
    expected = [evaluate(c, config) for c in candidates_over_history(data, config)]
    confirmed = by_id([e for e in expected if e.confirmed])
    rejected = by_id([e for e in expected if not e.confirmed])
    days = market_days(data)
    backfill, live = days[:-LIVE_DAYS], days[-LIVE_DAYS:]
    live_confirmed = {i for i, e in confirmed.items() if e.candidate.ts >= live[0].ts}
    assert len(confirmed) > 100, "the data no longer gives many confirmed signals"
    assert rejected, "the data no longer gives a rejected candidate"
    assert live_confirmed, "no confirmed signal in the live sessions: pick more LIVE_DAYS"

    await migrate_async(blank_database_url)  # as `swingflow up` does before any service
    heard: list[dict[str, object]] = []
    listener = await nats.connect(nats_url, name="e2e-listener")

    async def on_confirmed(msg: Msg) -> None:
        heard.append(json.loads(msg.data))

    await listener.subscribe(subjects.CONFIRMED_ALL, cb=on_confirmed)
    env = {"SWINGFLOW_CONFIG": str(config_path)}
    async with running_services(
        nats_url, blank_database_url, tmp_path / "var", PIPELINE, env
    ) as supervisor:
        tails = partial(log_tails, supervisor)
        await publish_days(js, backfill)
        await poll_until(lambda: drained(js), BACKFILL_WITHIN_S, tails)
        before = decisions(metrics_of(supervisor, "portfolio"))
        for day in live:  # one session at a time, each once the previous one is digested
            await publish_days(js, [day])
            await poll_until(lambda: drained(js), DAY_WITHIN_S, tails)
        after = decisions(metrics_of(supervisor, "portfolio"))
        await listener.flush()
        signals, allocations = await rows(blank_database_url)
    codes = exit_codes(supervisor)
    await listener.drain()

    assert codes == dict.fromkeys(PIPELINE, 0), log_tails(supervisor)
    # every bar reached the stream once, every candidate got its verdict
    assert await stream_count(js, "MARKET", subjects.BARS_ALL) == sum(len(d.bars) for d in days)
    assert not [s.id for s in signals if s.status == "candidate"]
    # the database holds the pure pipeline's verdicts: same ids, same totals and stages
    stored = {s.id: s for s in signals}
    assert {i for i, s in stored.items() if s.status == "confirmed"} == set(confirmed)
    assert {i for i, s in stored.items() if s.status == "rejected"} == set(rejected)
    for signal_id, e in (confirmed | rejected).items():
        row = stored[signal_id]
        assert row.total == pytest.approx(e.total, abs=1e-12), signal_id
        assert row.rejected_by == e.rejected_by, signal_id
        scores = {s.stage: s.score for s in e.stages}
        assert row.score_base_signal == pytest.approx(scores["base_signal"], abs=1e-12)
        assert row.score_confirmation == pytest.approx(scores["confirmation"], abs=1e-12)
        assert row.score_ml_confidence == 0.5  # no model: the neutral stage, as expected
        assert row.score_entry_timing == pytest.approx(scores["entry_timing"], abs=1e-12)
    for signal_id, e in confirmed.items():
        assert e.signal is not None
        levels = (e.signal.entry, e.signal.stop, e.signal.target)
        row = stored[signal_id]
        assert [row.entry, row.stop, row.target] == pytest.approx(levels, rel=1e-12)
    # the same confirmed signals were announced, each once in the stream
    assert {str(m["id"]): m["total"] for m in heard} == pytest.approx(
        {i: e.total for i, e in confirmed.items()}, abs=1e-12
    )
    assert all(m["type"] == "confirmed_signal" for m in heard)
    assert await stream_count(js, "SIGNALS", subjects.CONFIRMED_ALL) == len(confirmed)
    # the portfolio allocated confirmed signals only, and judged each live one on its merits
    assert allocations, "no allocation at all"
    assert {a.signal_id for a in allocations} <= set(confirmed)
    assert all(a.id == a.signal_id for a in allocations)
    assert await stream_count(js, "PORTFOLIO", subjects.ALLOCATIONS) == len(allocations)
    live_decisions = sum(after.values()) - sum(before.values())
    assert live_decisions == len(live_confirmed), (before, after)  # each live signal once
    assert after.get(STALE, 0.0) == before.get(STALE, 0.0), "a live signal refused as stale"
