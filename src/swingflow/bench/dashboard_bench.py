"""The dashboard in a real Chromium: time to first data over 1,000 stored signals, and frame
times while 50 confirmed signals per second stream in over NATS.

Setup: a fresh SQLite database seeded with 1,000 evaluated signals through
`swingflow_common.db.repository`, a nats-server, and the gateway alone
(`python -m swingflow service gateway`) serving the built dashboard. The browser side is
`services/gateway/web/tests/e2e/bench-dashboard.mjs` (playwright-core driving Debian's
Chromium at /usr/bin/chromium, never a downloaded browser), spawned here; it prints `STREAM`
when its frame recorder runs, this side then publishes for `STREAM_SECONDS` and tells it to
stop, and its last stdout line is the JSON result.

Budgets (issue "Dashboard: the Vue 3 app over the gateway, tested in a real browser"): the
first `signal-row` visible within 1 s of navigation start (median of `LOADS` fresh tabs),
and no frame over 50 ms while the signals stream in.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
from rich.console import Console

from swingflow.bench.common import write_result
from swingflow_common import subjects
from swingflow_common.bus import free_port
from swingflow_common.bus.server import NatsServer
from swingflow_common.db.engine import engine_from_url, session_factory
from swingflow_common.db.migrate import migrate_async
from swingflow_common.db.repository import Verdict, save_evaluations
from swingflow_common.messages import (
    STAGE_NAMES,
    CandidateSignal,
    ConfirmedSignal,
    StageName,
    StageScore,
    signal_id,
)

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "services" / "gateway" / "web"
SCRIPT = WEB / "tests" / "e2e" / "bench-dashboard.mjs"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SIGNALS = 1_000
LOADS = 5
RATE = 50  # signals per second
STREAM_SECONDS = 10.0
FIRST_DATA_BUDGET_MS = 1_000.0
FRAME_BUDGET_MS = 50.0
WEIGHTS: dict[StageName, float] = {
    "base_signal": 0.3,
    "confirmation": 0.25,
    "ml_confidence": 0.25,
    "entry_timing": 0.2,
}
START = datetime(2020, 1, 2, tzinfo=UTC)


def _stages(score: float) -> tuple[StageScore, ...]:
    return tuple(
        StageScore(stage=name, score=score, minimum=0.3, passed=True, reason=f"bench {name}")
        for name in STAGE_NAMES
    )


def _confirmed(symbol: str, ts: datetime, setup: str, score: float) -> ConfirmedSignal:
    return ConfirmedSignal(
        id=signal_id(symbol, ts, setup),
        symbol=symbol,
        ts=ts,
        setup=setup,
        entry=100.0,
        stop=95.0,
        target=112.0,
        stages=_stages(score),
        weights=WEIGHTS,
        total=score,
        threshold=0.6,
        reason="bench signal",
    )


def seed_verdicts(n: int) -> list[Verdict]:
    """`n` evaluated signals over 100 symbols and consecutive days, two in three confirmed."""
    verdicts = []
    for i in range(n):
        symbol, ts, setup = f"B{i % 100:03d}", START + timedelta(days=i // 100), "trend_pullback"
        score = 0.3 + 0.6 * ((i * 37) % 101) / 100
        confirmed = i % 3 != 0
        candidate = CandidateSignal(
            id=signal_id(symbol, ts, setup),
            symbol=symbol,
            ts=ts,
            setup=setup,
            close=100.0,
            atr=2.0,
            base=_stages(score)[0],
            features={"rsi_14": 50.0},
        )
        verdicts.append(
            Verdict(
                candidate=candidate,
                status="confirmed" if confirmed else "rejected",
                stages=_stages(score),
                total=score,
                threshold=0.6,
                weights=WEIGHTS,
                rejected_by=None if confirmed else "threshold",
                reason="bench verdict",
                signal=_confirmed(symbol, ts, setup, score) if confirmed else None,
            )
        )
    return verdicts


async def seed(database_url: str, n: int) -> None:
    await migrate_async(database_url)
    engine = engine_from_url(database_url)
    try:
        async with session_factory(engine)() as session:
            await save_evaluations(session, seed_verdicts(n))
            await session.commit()
    finally:
        await engine.dispose()


async def stream(nats_url: str, rate: int, seconds: float) -> int:
    """Publish `rate` new confirmed signals per second for `seconds`, paced on the clock."""
    nc = await nats.connect(nats_url)
    sent = 0
    t0 = time.perf_counter()
    try:
        while (elapsed := time.perf_counter() - t0) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                ts = START + timedelta(days=400 + sent)
                signal = _confirmed(f"L{sent % 50:03d}", ts, "breakout_volume", 0.65)
                await nc.publish(
                    subjects.confirmed(signal.symbol), signal.model_dump_json().encode()
                )
                sent += 1
            await nc.flush()
            await asyncio.sleep(max(0.0, sent / rate - (time.perf_counter() - t0)))
    finally:
        await nc.close()
    return sent


def wait_ready(url: str, gateway: subprocess.Popen[bytes], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            raise RuntimeError(f"the gateway exited with {gateway.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as res:
                if res.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the gateway at {url} was not ready within {within} s")


async def drive_browser(base_url: str, nats_url: str) -> tuple[dict[str, Any], int]:
    """Run the Node script; stream while it records frames; its JSON result and what was sent."""
    node = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        base_url,
        str(LOADS),
        cwd=WEB,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert node.stdout is not None
    assert node.stdin is not None
    sent = 0
    last = ""
    async for raw in node.stdout:
        line = raw.decode().strip()
        if line == "STREAM":
            sent = await stream(nats_url, RATE, STREAM_SECONDS)
            node.stdin.write(b"done\n")
            await node.stdin.drain()
        elif line:
            last = line
    if await node.wait() != 0:
        raise RuntimeError(f"bench-dashboard.mjs exited with {node.returncode}")
    result: dict[str, Any] = json.loads(last)
    return result, sent


def measure(console: Console) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="swingflow-dashboard-bench-") as tmp:
        work = Path(tmp)
        database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        asyncio.run(seed(database_url, SIGNALS))
        server = NatsServer(work / "nats").start()
        port = free_port()
        env = {
            **os.environ,
            "NATS_URL": server.url,
            "DATABASE_URL": database_url,
            "GATEWAY_PORT": str(port),
            "GATEWAY_METRICS_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
        }
        log = (work / "gateway.log").open("wb")
        gateway = subprocess.Popen(
            [sys.executable, "-m", "swingflow", "service", "gateway"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_ready(base_url, gateway)
            console.print(f"gateway ready at {base_url} over {SIGNALS} stored signals")
            result, sent = asyncio.run(drive_browser(base_url, server.url))
        except Exception:
            log.flush()
            tail = (work / "gateway.log").read_text(errors="replace").splitlines()[-30:]
            console.print("gateway log tail:\n" + "\n".join(tail))
            raise
        finally:
            gateway.send_signal(2)  # SIGINT: the gateway's clean stop
            try:
                gateway.wait(timeout=30)
            except subprocess.TimeoutExpired:
                gateway.kill()
                gateway.wait()
            log.close()
            server.stop()
    result["signals_sent"] = sent
    return result


def run(console: Console) -> None:
    if not CHROMIUM.exists():
        console.print(f"[red]no Chromium at {CHROMIUM}: run `make browser` first[/]")
        raise SystemExit(1)
    if not (WEB / "dist" / "index.html").exists():
        console.print("[red]no dashboard build: run `make setup` first[/]")
        raise SystemExit(1)
    raw = measure(console)
    times = [float(t) for t in raw["first_data_ms"]]
    first_median = statistics.median(times)
    frames = raw["frames"]
    payload = {
        "setup": {
            "stored_signals": SIGNALS,
            "loads": LOADS,
            "stream_rate_per_s": RATE,
            "stream_seconds": STREAM_SECONDS,
            "browser": "Debian chromium, headless",
        },
        "first_data": {
            "median_ms": round(first_median, 1),
            "first_load_ms": round(times[0], 1),
            "runs_ms": [round(t, 1) for t in times],
            "rows_on_first_page": raw["first_data_rows"],
            "budget_ms": FIRST_DATA_BUDGET_MS,
            "within_budget": first_median <= FIRST_DATA_BUDGET_MS,
        },
        "frames_while_streaming": {
            **{k: round(v, 2) if isinstance(v, float) else v for k, v in frames.items()},
            "signals_sent": raw["signals_sent"],
            "live_counts_before": raw["live_counts_before"],
            "live_counts_after": raw["live_counts_after"],
            "budget_ms": FRAME_BUDGET_MS,
            "within_budget": frames["over_50ms"] == 0,
        },
    }
    path = write_result("dashboard", payload)
    fd, fr = payload["first_data"], payload["frames_while_streaming"]
    console.print(
        f"first data: median {fd['median_ms']} ms over {LOADS} loads "
        f"(first {fd['first_load_ms']} ms), "
        f"budget {FIRST_DATA_BUDGET_MS:.0f} ms: {'ok' if fd['within_budget'] else 'OVER'}"
    )
    console.print(
        f"frames while {fr['signals_sent']} signals streamed: {fr['count']} frames, "
        f"p50 {fr['p50_ms']} ms, p99 {fr['p99_ms']} ms, max {fr['max_ms']} ms, "
        f"{fr['over_50ms']} over 50 ms: {'ok' if fr['within_budget'] else 'OVER'}; "
        f"live {fr['live_counts_after']}"
    )
    console.print(f"written {path}")
