"""Measure the scanner on the feed's warm-up replay: sp500-2010, 524 symbols x 210 days.

    .venv/bin/python services/scanner/bench/warmup_replay.py [--days 210] [--batch 5000]

Starts its own nats-server and SQLite database in a temporary folder, then the scanner and
the feed as two processes (`swingflow service scanner|feed`, as `swingflow up` does), and
waits until the scanner has taken in every bar of the first `--days` days. It prints the
bars per second the scanner sustained and the time from the first bar stored in the stream
to the last candidate of those days, both read from the streams' own timestamps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import nats

from swingflow_common import subjects
from swingflow_common.bus import NatsServer, free_port
from swingflow_common.data import load
from swingflow_common.messages import CandidateSignal, decode


def scrape(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as r:
            text = r.read().decode()
    except OSError:
        return {}
    pairs = (line.rpartition(" ") for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, _, value in pairs if name}


def spawn(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", f"swingflow_{name}.app"],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def stream_times(url: str, last_day: datetime) -> tuple[datetime, datetime, int]:
    """When the first bar was stored, when the last candidate of the warm-up days was
    stored (the streams' own clocks), and how many candidates those days had."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    first = await js.get_msg("MARKET", 1)
    sub = await js.pull_subscribe(subjects.CANDIDATES_ALL, stream="SIGNALS")
    last: datetime | None = None
    count = 0
    while True:
        try:
            msgs = await sub.fetch(5_000, timeout=1)
        except TimeoutError:
            break
        for m in msgs:
            await m.ack()
            c = decode(m.data)
            if isinstance(c, CandidateSignal) and c.ts <= last_day:
                count += 1
                stamp = m.metadata.timestamp
                last = stamp if last is None or stamp > last else last
    await nc.close()
    if first.time is None or last is None:
        raise RuntimeError("no bar or no candidate in the streams")
    return first.time, last, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=210)
    parser.add_argument("--batch", type=int, default=20_000)
    args = parser.parse_args()
    data = load("sp500-2010")
    last_day = data.dates[args.days - 1].to_pydatetime()
    next_day = data.dates[args.days].to_pydatetime()  # a bar of it: every earlier bar is done
    n_bars = sum(int((f.index <= data.dates[args.days - 1]).sum()) for f in data.bars.values())
    with tempfile.TemporaryDirectory() as tmp, NatsServer(store_dir=Path(tmp) / "nats") as server:
        sport, fport = free_port(), free_port()
        common = {
            "NATS_URL": server.url,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "LOG_LEVEL": "WARNING",
        }
        scanner = spawn(
            "scanner",
            {**common, "SCANNER_METRICS_PORT": str(sport), "SCANNER_BATCH_SIZE": str(args.batch)},
            Path(tmp) / "scanner.log",
        )
        try:
            while scrape(sport).get('swingflow_service_ready{service="scanner"}') != 1.0:
                time.sleep(0.2)
            feed = spawn(
                "feed",
                {
                    **common,
                    "FEED_METRICS_PORT": str(fport),
                    "FEED_WARMUP_DAYS": str(args.days),
                    "FEED_DAYS_PER_SECOND": "0.5",
                    "FEED_MAX_PENDING": str(args.batch),
                },
                Path(tmp) / "feed.log",
            )
            started = time.perf_counter()
            while (
                scrape(sport).get("swingflow_scanner_last_bar_timestamp_seconds", 0)
                < next_day.timestamp()
            ):
                time.sleep(0.2)
            taken = time.perf_counter() - started
            metrics = scrape(sport)
            feed.terminate()
            feed.wait(30)
            first, last, count = asyncio.run(stream_times(server.url, last_day))
        finally:
            scanner.terminate()
            scanner.wait(30)
        span = (last - first).total_seconds()
        print(f"{len(data.bars)} symbols x {args.days} days = {n_bars} bars, batch {args.batch}")
        print(
            f"first bar in the stream -> last candidate of day {args.days}: {span:.1f} s "
            f"({n_bars / span:,.0f} bars/s), {count} candidates"
        )
        print(f"wall time from the feed's start to the scanner's day {args.days}: {taken:.1f} s")
        batches = metrics.get("swingflow_scanner_batch_seconds_count", 0)
        busy = metrics.get("swingflow_scanner_batch_seconds_sum", 0)
        analyses = metrics.get("swingflow_scanner_analyses_total", 0)
        print(f"batches: {batches:,.0f}, busy {busy:.1f} s, analyses: {analyses:,.0f}")


if __name__ == "__main__":
    main()
