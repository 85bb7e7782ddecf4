"""What the pipeline benchmark measures on a running platform (`pipeline_platform`).

`time_day`: one session's bars for the whole universe, published at once. It starts when
the server stores the day's first bar and is done when every consumer of the pipeline has
acked everything: the scanner every bar, the signals service every candidate (each verdict
committed to the database, each confirmation published), the portfolio every confirmed
signal (allocated or refused, stored) and every bar (fills, book). "Done" is the latest of
those last acks, on the server's clock; the check that nothing is left is made by polling,
but the poll interval does not enter the figure. The day's counts are checked against the
streams, the database and the portfolio's own counters, and each service's CPU time for
the day is read from /proc, to show where the time goes.

`latency`: bars published at a steady rate; for each bar that gives a confirmed signal,
the time from its publish call (publisher's clock) to the first confirmed signal of the
same (symbol, bar time) received on `signals.confirmed.>` (same clock, same process).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.api import PubAck

from swingflow.bench.pipeline_platform import Platform
from swingflow_common import subjects
from swingflow_common.bus import MSG_ID_HEADER, msg_id
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.db.models import SignalRow
from swingflow_common.messages import Bar

ALLOCATED = "swingflow_portfolio_allocations_total"
# (service, histogram): where a bar's time goes, as means over the latency phase
STAGES = (
    ("scanner", "swingflow_scanner_batch_seconds"),
    ("scanner", "swingflow_scanner_batch_messages"),
    ("signals", "swingflow_signals_batch_seconds"),
    ("signals", "swingflow_signals_ml_request_seconds"),
)
REFUSED = "swingflow_portfolio_rejections_total{"
Key = tuple[str, datetime]
Sums = dict[tuple[str, str], tuple[float, float]]  # (service, histogram) -> (sum, count)


async def publish_one(js: JetStreamContext, bar: Bar) -> asyncio.Future[PubAck]:
    """An async publish of the bar with its Nats-Msg-Id; the future gives its PubAck."""
    payload = bar.model_dump_json().encode()
    headers = {MSG_ID_HEADER: msg_id(bar)}
    return await js.publish_async(subjects.bars(bar.symbol), payload, headers=headers)


async def publish_bars(js: JetStreamContext, bars: Sequence[Bar]) -> None:
    """Every bar at once with async publishes, then all their acks."""
    await asyncio.gather(*[await publish_one(js, b) for b in bars])


async def count_on(js: JetStreamContext, stream: str, subject: str) -> int:
    info = await js.stream_info(stream, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


def decisions(metrics: dict[str, float]) -> tuple[float, float]:
    """The portfolio's allocations and refusals so far."""
    allocated = metrics.get(ALLOCATED, 0.0)
    refused = sum(v for k, v in metrics.items() if k.startswith(REFUSED))
    return allocated, refused


async def judged_on(url: str, day: datetime) -> int:
    """Verdicts stored for candidates of bar time `day`."""
    engine = engine_from_url(url)
    try:
        async with session_factory(engine)() as session:
            query = sa.select(sa.func.count()).where(
                SignalRow.ts == day, SignalRow.status.in_(("confirmed", "rejected"))
            )
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


async def _counts(platform: Platform) -> dict[str, float]:
    js = platform.js
    allocated, refused = decisions(platform.metrics("portfolio"))
    return {
        "candidates": await count_on(js, "SIGNALS", subjects.CANDIDATES_ALL),
        "confirmed": await count_on(js, "SIGNALS", subjects.CONFIRMED_ALL),
        "allocated": allocated,
        "refused": refused,
    }


async def time_day(platform: Platform, bars: Sequence[Bar]) -> dict[str, Any]:
    """One session of the universe through the pipeline; see the module docstring."""
    day = bars[0].ts
    if any(b.ts != day for b in bars):
        raise ValueError("time_day takes the bars of one session")
    before = await _counts(platform)
    first_seq = await platform.last_seq("MARKET") + 1
    cpu0 = platform.cpu_seconds()
    wall0 = time.perf_counter()
    await publish_bars(platform.js, bars)
    states = await platform.wait_drained(120)
    wall = time.perf_counter() - wall0
    cpu = {k: round(v - cpu0[k], 3) for k, v in platform.cpu_seconds().items() if k in cpu0}
    after = await _counts(platform)
    start = await platform.stored_at("MARKET", first_seq)
    last_bar = await platform.last_seq("MARKET")
    acks = {s.name: s.last_ack for s in states if s.last_ack is not None}
    done = max(acks.values())
    delta = {k: int(after[k] - before[k]) for k in after}
    judged = await judged_on(platform.database_url, day)
    checks = {
        "every_bar_acked_by_every_bar_consumer": all(
            s.acked_through == last_bar for s in states if s.subject == subjects.BARS_ALL
        ),
        "every_candidate_judged_in_db": judged == delta["candidates"],
        "every_confirmed_decided_by_portfolio": delta["allocated"] + delta["refused"]
        == delta["confirmed"],
    }
    return {
        "bars": len(bars),
        "day": day.date().isoformat(),
        "seconds": (done - start).total_seconds(),
        "stage_done_s": {
            name: round(max(0.0, (t - start).total_seconds()), 4) for name, t in acks.items()
        },
        "publisher_wall_s": round(wall, 4),
        "service_cpu_s": cpu,  # until the drain was seen: a few idle polls included
        **delta,
        "checks": checks,
    }


def _histograms(platform: Platform) -> Sums:
    """(sum, count) of each STAGES histogram, over its label sets."""
    scraped = {name: platform.metrics(name) for name in {s for s, _ in STAGES}}
    out = {}
    for service, name in STAGES:
        values = scraped[service]
        total = sum(v for k, v in values.items() if k.split("{")[0] == f"{name}_sum")
        count = sum(v for k, v in values.items() if k.split("{")[0] == f"{name}_count")
        out[service, name] = (total, count)
    return out


def _means(before: Sums, after: Sums) -> dict[str, float | None]:
    """Each histogram's mean between two scrapes (None when nothing was observed)."""
    out: dict[str, float | None] = {}
    for key, (total, count) in after.items():
        d_total, d_count = total - before[key][0], count - before[key][1]
        out[key[1].removeprefix("swingflow_")] = round(d_total / d_count, 4) if d_count else None
    return out


def _percentiles(samples: Any) -> dict[str, float] | None:
    if not len(samples):
        return None
    return {f"p{q}": round(float(np.percentile(samples, q)), 2) for q in (50, 90, 99)}


def _key(symbol: str, ts: datetime) -> Key:
    return symbol, ts


async def latency(platform: Platform, bars: Sequence[Bar], rate: float) -> dict[str, Any]:
    """Publish `bars` at `rate` per second; bar-to-confirmed latency (see module docstring)."""
    sent: dict[Key, float] = {}
    seen: dict[Key, float] = {}
    found: dict[Key, float] = {}  # when the candidate went out: where the time goes
    versions: Counter[str] = Counter()  # confirmed signals by the model that scored them
    signals = 0

    async def on_candidate(msg: Any) -> None:
        now = time.perf_counter()
        data = json.loads(msg.data)
        found.setdefault(_key(str(data["symbol"]), datetime.fromisoformat(str(data["ts"]))), now)

    async def on_confirmed(msg: Any) -> None:
        nonlocal signals
        now = time.perf_counter()
        data = json.loads(msg.data)
        key = _key(str(data["symbol"]), datetime.fromisoformat(str(data["ts"])))
        signals += 1
        versions[str(data.get("model_version") or "neutral")] += 1
        seen.setdefault(key, now)

    histograms = _histograms(platform)
    sub = await platform.nc.subscribe(subjects.CONFIRMED_ALL, cb=on_confirmed)
    candidates_sub = await platform.nc.subscribe(subjects.CANDIDATES_ALL, cb=on_candidate)
    await platform.nc.flush()
    futures = []
    start = time.perf_counter()
    for i, bar in enumerate(bars):
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        sent[_key(bar.symbol, bar.ts)] = time.perf_counter()
        futures.append(await publish_one(platform.js, bar))
    published_in = time.perf_counter() - start
    await asyncio.gather(*futures)
    await platform.wait_drained(300)
    behind = time.perf_counter() - start - published_in  # ~0 when the pipeline kept up
    await platform.nc.flush()
    await sub.unsubscribe()
    await candidates_sub.unsubscribe()
    samples = np.array([seen[k] - sent[k] for k in seen if k in sent]) * 1_000.0
    both = [k for k in seen if k in sent and k in found]
    scanner = np.array([found[k] - sent[k] for k in both]) * 1_000.0
    judging = np.array([seen[k] - found[k] for k in both]) * 1_000.0
    if samples.size == 0:
        raise RuntimeError("no bar gave a confirmed signal: nothing to measure")
    return {
        "bars": len(bars),
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(len(bars) / published_in, 1),
        "drained_after_last_publish_s": round(behind, 3),
        "samples": int(samples.size),
        "confirmed_signals": signals,
        "confirmed_by_model_version": dict(versions),
        "p50_ms": round(float(np.percentile(samples, 50)), 2),
        "p90_ms": round(float(np.percentile(samples, 90)), 2),
        "p99_ms": round(float(np.percentile(samples, 99)), 2),
        "max_ms": round(float(samples.max()), 2),
        # the same confirmed signals, split where their candidate went out
        "bar_to_candidate_ms": _percentiles(scanner),
        "candidate_to_confirmed_ms": _percentiles(judging),
        "means_during_phase": _means(histograms, _histograms(platform)),
    }
