"""Gateway: WebSocket fan-out delivery latency at 1,000 / 5,000 / 10,000 clients while NATS
carries 10 confirmed signals/s, against a naive fan-out in the same run; and the latency
of `GET /api/signals` at a fixed request rate on a seeded database.

Every process is on this machine: our nats-server, the gateway (a uvicorn process of its
own), the clients (two processes of asyncio websockets connections) and the publisher
(this process). A delivery's latency runs from the `ts_event` the publisher stamps to the
client's receipt, so it includes NATS, the gateway and the client's own loop. REST
latency runs from each request's scheduled start (open loop: a slow answer does not
delay the next request, so queueing shows in the figures).

Budgets (issue: gateway): 5,000 clients at 10 msg/s with p99 <= 1 s; /api/signals p99
<= 50 ms (at 20 requests/s on 10,000 signals in SQLite).

The clients take about as much CPU as the gateway (measured and reported per phase), and
the machine has 2 cores shared with other work: each phase records the 1-minute load
average before and after, and a phase whose gateway got less than the CPU it needed
shows it as a backlog (`last_second_p50_ms` well above `first_second_p50_ms`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import numpy as np
from rich.console import Console
from rich.table import Table

from swingflow.bench.common import write_result
from swingflow.bench.gateway_data import confirmed, seed_signals
from swingflow_common import subjects
from swingflow_common.bus import NatsServer, free_port

RATE = 10.0  # messages per second
SECONDS = 10.0
CLIENT_PROCESSES = 2
# (fan-out, clients, of which stalled: subscribed, then never reading again)
PHASES = (
    ("hub", 1_000, 0), ("hub", 5_000, 0), ("naive", 5_000, 0), ("hub", 5_000, 50),
    ("naive", 5_000, 50), ("hub", 10_000, 0),
)  # fmt: skip
SIGNALS_SEEDED = 10_000
REST_RATE = 20.0  # a few dashboards refreshing their lists
REST_REQUESTS = 300
FANOUT_BUDGET_P99_S = 1.0
REST_BUDGET_P99_S = 0.050
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def start_gateway(mode: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "swingflow.bench.gateway_server",
        "--mode",
        mode,
        "--port",
        str(port),
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    ready = "/readyz" if mode == "hub" else "/ws"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=1):
                return process, f"127.0.0.1:{port}"
        except urllib.error.HTTPError as exc:  # the naive app has no HTTP route: it is up
            if mode == "naive" and exc.code in (403, 404):
                return process, f"127.0.0.1:{port}"
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gateway not ready: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def publish(nats_url: str, rate: float, seconds: float) -> int:
    """Publish `rate` confirmed signals a second for `seconds`, each stamped when sent."""
    client = await nats.connect(nats_url)
    loop = asyncio.get_running_loop()
    start, count = loop.time(), int(rate * seconds)
    for seq in range(count):
        await asyncio.sleep(max(0.0, start + seq / rate - loop.time()))
        message = confirmed(seq, datetime.now(UTC))
        await client.publish(subjects.confirmed(message.symbol), message.model_dump_json().encode())
        await client.flush()
    await client.drain()
    return count


def percentiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    p50, p99 = (float(v) for v in np.percentile(values, [50, 99]))
    return {"p50_ms": round(p50 * 1e3, 1), "p99_ms": round(p99 * 1e3, 1),
            "max_ms": round(float(values.max()) * 1e3, 1)}  # fmt: skip


def fan_out(
    mode: str, clients: int, stalled: int, nats_url: str, env: dict[str, str], work: Path
) -> dict[str, Any]:
    """One phase: `clients` connections (`stalled` of them never reading) on a fresh
    gateway, `RATE` x `SECONDS` messages; latency over the clients that read."""
    name = f"{mode}-{clients}-{stalled}"
    gateway, address = start_gateway(mode, env, work / f"gateway-{name}.log")
    expect = int(RATE * SECONDS)
    workers, outs = [], []
    load_before = os.getloadavg()[0]
    reading = clients - stalled
    specs = [(reading // CLIENT_PROCESSES, False)] * CLIENT_PROCESSES
    specs += [(stalled, True)] if stalled else []
    try:
        t0 = time.perf_counter()
        for i, (count, stall) in enumerate(specs):
            out = work / f"delays-{name}-{i}.npy"
            argv = [sys.executable, "-m", "swingflow.bench.gateway_clients",
                    "--url", f"ws://{address}/ws", "--clients", str(count),
                    "--expect", str(expect), "--deadline-s", str(SECONDS + 15),
                    "--out", str(out), *(["--stall"] if stall else [])]  # fmt: skip
            workers.append(subprocess.Popen(argv, stdout=subprocess.PIPE, text=True))
            outs.append(None if stall else out)
        for worker in workers:
            line = worker.stdout.readline() if worker.stdout else ""
            if line.strip() != "READY":
                raise RuntimeError(f"client process failed to connect: {line!r}")
        connect_s = time.perf_counter() - t0
        cpu_before = cpu_seconds(gateway.pid)
        clients_before = sum(cpu_seconds(w.pid) for w in workers)
        sent = asyncio.run(publish(nats_url, RATE, SECONDS))
        cpu = cpu_seconds(gateway.pid) - cpu_before
        clients_cpu = sum(cpu_seconds(w.pid) for w in workers) - clients_before
        reports = [json.loads(w.communicate(timeout=SECONDS + 60)[0].strip().splitlines()[-1])
                   for w, out in zip(workers, outs, strict=True) if out is not None]  # fmt: skip
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        stop(gateway)
    sent_at, delays = np.concatenate([np.load(out) for out in outs if out is not None], axis=1)
    received = sum(r["received"] for r in reports)
    first, last = sent_at.min(), sent_at.max()
    trend = {  # did it keep up? a growing backlog shows as later messages arriving later
        "first_second_p50_ms": percentiles(delays[sent_at < first + 1])["p50_ms"],
        "last_second_p50_ms": percentiles(delays[sent_at > last - 1])["p50_ms"],
    }
    return {
        "mode": mode, "clients": clients, "stalled": stalled, "messages": sent,
        "connect_s": round(connect_s, 1), "delivered": received, "expected": reading * sent,
        "dropped": sum(r["dropped"] for r in reports),
        "gateway_cpu_s_per_s": round(cpu / SECONDS, 2),
        "clients_cpu_s_per_s": round(clients_cpu / SECONDS, 2), **percentiles(delays),
        # the machine is shared: a 1-minute load average above ~2 means other work competed
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)], **trend,
    }  # fmt: skip


async def rest_latency(address: str) -> dict[str, Any]:
    queries: list[dict[str, Any]] = [{}, {"status": "confirmed"}, {"symbol": "S042"},
                                     {"min_score": 0.65, "limit": 100}]  # fmt: skip
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as client:
        for i in range(20):  # warm the connection pool and the database cache
            (await client.get("/api/signals", params=queries[i % 4])).raise_for_status()
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1
        delays: list[float] = []

        async def one(i: int) -> None:
            planned = start + i / REST_RATE
            await asyncio.sleep(max(0.0, planned - loop.time()))
            (await client.get("/api/signals", params=queries[i % 4])).raise_for_status()
            delays.append(loop.time() - planned)

        await asyncio.gather(*(one(i) for i in range(REST_REQUESTS)))
    return {"requests": REST_REQUESTS, "rate_per_s": REST_RATE, "seeded": SIGNALS_SEEDED,
            **percentiles(np.asarray(delays))}  # fmt: skip


def run(console: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="swingflow-gw-bench-") as tmp:
        work = Path(tmp)
        database = f"sqlite+aiosqlite:///{work / 'gateway.db'}"
        asyncio.run(seed_signals(database, SIGNALS_SEEDED))
        with NatsServer(store_dir=work / "nats") as server:
            env = {**os.environ, "NATS_URL": server.url, "DATABASE_URL": database,
                   "GATEWAY_MIGRATE": "false", "LOG_LEVEL": "WARNING",
                   "SWINGFLOW_CONFIG": str(Path("swing_config.json").resolve())}  # fmt: skip
            phases = []
            for mode, clients, stalled in PHASES:
                console.print(f"fan-out: {mode}, {clients} clients ({stalled} stalled) ...")
                phases.append(fan_out(mode, clients, stalled, server.url, env, work))
            console.print("REST: GET /api/signals ...")
            gateway, address = start_gateway("hub", env, work / "gateway-rest.log")
            try:
                rest = asyncio.run(rest_latency(address))
            finally:
                stop(gateway)
    summarize(console, phases, rest)


def summarize(console: Console, phases: list[dict[str, Any]], rest: dict[str, Any]) -> None:
    by = {(p["mode"], p["clients"], p["stalled"]): p for p in phases}
    hub_5k = by[("hub", 5_000, 0)]
    ratios = {
        f"naive_over_hub_p99_{n}_{k}_stalled": round(
            by[("naive", n, k)]["p99_ms"] / by[("hub", n, k)]["p99_ms"], 2
        )
        for _, n, k in PHASES
        if ("naive", n, k) in by and ("hub", n, k) in by
    }
    summary = {
        "rate_per_s": RATE, "seconds": SECONDS, "fan_out": phases, "rest": rest, **ratios,
        "budgets": {
            "fan_out_5000_p99_s": FANOUT_BUDGET_P99_S,
            "fan_out_5000_within": hub_5k["p99_ms"] / 1e3 <= FANOUT_BUDGET_P99_S
            and hub_5k["delivered"] == hub_5k["expected"],
            "rest_p99_s": REST_BUDGET_P99_S,
            "rest_within": rest["p99_ms"] / 1e3 <= REST_BUDGET_P99_S,
        },
    }  # fmt: skip
    path = write_result("gateway", summary)
    table = Table("fan-out", "clients (stalled)", "delivered", "p50 ms", "p99 ms", "max ms",
                  "gateway CPU")  # fmt: skip
    for p in phases:
        table.add_row(p["mode"], f"{p['clients']:,} ({p['stalled']})",
                      f"{p['delivered']:,}/{p['expected']:,}",
                      str(p["p50_ms"]), str(p["p99_ms"]), str(p["max_ms"]),
                      f"{p['gateway_cpu_s_per_s']:.2f} s/s")  # fmt: skip
    console.print(table)
    console.print(f"GET /api/signals at {REST_RATE:.0f}/s on {SIGNALS_SEEDED:,} signals: "
                  f"p50 {rest['p50_ms']} ms, p99 {rest['p99_ms']} ms")  # fmt: skip
    console.print(f"budgets: {summary['budgets']}; ratios: {ratios}")
    console.print(f"wrote {path}")
