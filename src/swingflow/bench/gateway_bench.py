"""Gateway: WebSocket fan-out delivery latency at 1,000 / 5,000 / 10,000 clients while NATS
carries 10 confirmed signals/s, against a naive fan-out in the same run; and the latency
of `GET /api/signals` at a fixed request rate on a seeded database (SQLite and
PostgreSQL).

Every process is on this machine: our nats-server, the gateway (a uvicorn process of its
own), the clients (two processes of raw-protocol connections on uvloop, see
`gateway_clients`) and the publisher (this process). A delivery's latency runs from the
`ts_event` the publisher stamps into the message to the client's receipt, so it includes
NATS, the gateway and the client's own loop. The clients stand in for browsers on other
machines and are made lean: they delimit and timestamp frames on arrival and read the
JSON after the run. Each phase reports the gateway's and the clients' CPU separately
(the gateway's also as user and system time), per second and per delivered frame, and
for the hub how many messages each fan-out carried (above 1 when the gateway fell behind
and wrote the waiting messages to each client at once) and its CPU per client write.

REST latency runs from each request's scheduled start (open loop: a slow answer does not
delay the next request, so queueing shows in the figures); the REST part also measures
the gateway's capacity (one request after another, closed loop) and its CPU per request,
so the chosen rate can be read against what it can serve.

Budgets (issue: gateway): 5,000 clients at 10 msg/s with p99 <= 1 s; /api/signals p99
<= 50 ms (at 50 requests/s on 50,000 signals).

The clients take CPU too (measured and reported per phase), and the machine has 2 cores
shared with other work: each phase records the 1-minute load average before and after,
and a phase whose gateway got less than the CPU it needed shows it as a backlog
(`last_second_p50_ms` well above `first_second_p50_ms`).

`python -m swingflow.bench gateway` runs everything; `python -m
swingflow.bench.gateway_bench --part ws|rest [--clients N ...] [--backends sqlite ...]`
runs a part (results in bench/results/gateway_ws.json or gateway_rest.json).
"""

from __future__ import annotations

import argparse
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
from swingflow.bench.pipeline_platform import database
from swingflow_common import subjects
from swingflow_common.bus import NatsServer, free_port

RATE = 10.0  # messages per second
SECONDS = 10.0
CLIENT_PROCESSES = 2
# (fan-out, clients, of which stalled: subscribed, then never reading again)
PHASES = (
    ("hub", 1_000, 0), ("hub", 5_000, 0), ("naive", 5_000, 0), ("hub", 5_000, 50),
    ("hub", 10_000, 0),
)  # fmt: skip
SIGNALS_SEEDED = 50_000
REST_RATE = 50.0  # requests/s: a few dozen dashboards paging and filtering at once
REST_SECONDS = 20.0
CAPACITY_SECONDS = 8.0
BACKENDS = ("sqlite", "postgresql")
FANOUT_BUDGET_P99_S = 1.0
REST_BUDGET_P99_S = 0.050
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_split(pid: int) -> tuple[float, float]:
    """A process's (user, system) CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # utime, stime


def cpu_seconds(pid: int) -> float:
    return sum(cpu_split(pid))


def fanout_counts(address: str) -> tuple[float, float]:
    """The hub's (signals fanned out, fan-outs) from its /metrics."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    events = fanouts = 0.0
    for line in text.splitlines():
        if line.startswith('swingflow_gateway_events_total{channel="signals"}'):
            events = float(line.split()[-1])
        elif line.startswith("swingflow_gateway_ws_fanouts_total"):
            fanouts = float(line.split()[-1])
    return events, fanouts


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
    deadline = time.monotonic() + 180  # importing the app takes a minute on a busy machine
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
    mode: str,
    clients: int,
    stalled: int,
    nats_url: str,
    env: dict[str, str],
    work: Path,
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
        counts_before = fanout_counts(address) if mode == "hub" else (0.0, 0.0)
        split_before = cpu_split(gateway.pid)
        cpu_before = sum(split_before)
        clients_before = sum(cpu_seconds(w.pid) for w in workers)
        sent = asyncio.run(publish(nats_url, RATE, SECONDS))
        cpu = cpu_seconds(gateway.pid) - cpu_before
        clients_cpu = sum(cpu_seconds(w.pid) for w in workers) - clients_before
        reports = [json.loads(w.communicate(timeout=SECONDS + 60)[0].strip().splitlines()[-1])
                   for w, out in zip(workers, outs, strict=True) if out is not None]  # fmt: skip
        # until every delivery is in (or the clients' deadline): what the fan-out cost
        split_all = [b - a for a, b in zip(split_before, cpu_split(gateway.pid), strict=True)]
        cpu_all = sum(split_all)
        counts = fanout_counts(address) if mode == "hub" else (0.0, 0.0)
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
    events, fanouts = (after - before for after, before in zip(counts, counts_before, strict=True))
    return {
        "mode": mode, "clients": clients, "stalled": stalled, "messages": sent,
        "connect_s": round(connect_s, 1), "delivered": received, "expected": reading * sent,
        "dropped": sum(r["dropped"] for r in reports),
        "gateway_cpu_s_per_s": round(cpu / SECONDS, 2),
        "clients_cpu_s_per_s": round(clients_cpu / SECONDS, 2), **percentiles(delays),
        # CPU per delivered frame, whatever else ran on the machine: 1 / this is how many
        # deliveries a second one core would sustain
        "gateway_cpu_us_per_delivery": round(cpu_all / max(received, 1) * 1e6, 2),
        "gateway_user_sys_us_per_delivery": [round(t / max(received, 1) * 1e6, 2)
                                             for t in split_all],
        # the clients' own CPU from READY until they had every frame (or their deadline)
        "clients_cpu_us_per_delivery": round(
            sum(r["cpu_s"] for r in reports) / max(received, 1) * 1e6, 2),
        # hub: messages per fan-out, so per client write (1: kept up; more: caught up),
        # and the CPU per write to a client, which batching does not lower
        **({"messages_per_fanout": round(events / fanouts, 2),
            "gateway_cpu_us_per_client_write": round(cpu_all / (fanouts * clients) * 1e6, 2)}
           if fanouts else {}),
        # the machine is shared: a 1-minute load average above ~2 means other work competed
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)], **trend,
    }  # fmt: skip


QUERIES: list[dict[str, Any]] = [
    {}, {"status": "confirmed"}, {"symbol": "S042"}, {"min_score": 0.65, "limit": 100},
]  # fmt: skip


async def deep_cursor(client: httpx.AsyncClient, pages: int) -> str:
    """The `next_cursor` `pages` pages of 500 deep: a client paging far back."""
    cursor = ""
    for _ in range(pages):
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        answer = (await client.get("/api/signals", params=params)).raise_for_status().json()
        cursor = answer["next_cursor"]
    return cursor


async def rest_latency(address: str, gateway_pid: int) -> dict[str, Any]:
    """Capacity (closed loop), then latency at `REST_RATE` (open loop), on one gateway."""
    limits = httpx.Limits(max_connections=1_000)  # open loop: never queue in the client
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30, limits=limits) as client:
        queries = [*QUERIES, {"cursor": await deep_cursor(client, 60)}]  # ~30,000 rows back
        for i in range(20):  # warm the connection pool and the database cache
            (await client.get("/api/signals", params=queries[i % len(queries)])).raise_for_status()
        loop = asyncio.get_running_loop()
        # capacity: one request after another
        served, cpu0, t0 = 0, cpu_seconds(gateway_pid), loop.time()
        while loop.time() - t0 < CAPACITY_SECONDS:
            params = queries[served % len(queries)]
            (await client.get("/api/signals", params=params)).raise_for_status()
            served += 1
        capacity = served / (loop.time() - t0)
        cpu_per_request = (cpu_seconds(gateway_pid) - cpu0) / served
        print(f"capacity {capacity:.1f} req/s, {cpu_per_request * 1e3:.2f} ms CPU a request",
              file=sys.stderr)  # fmt: skip
        # latency at a fixed rate, each request from its scheduled start
        count = int(REST_RATE * REST_SECONDS)
        start = loop.time() + 0.1
        delays: list[float] = []
        by_query: dict[int, list[float]] = {}
        cpu0 = cpu_seconds(gateway_pid)

        failed = 0

        async def one(i: int) -> None:
            nonlocal failed
            planned = start + i / REST_RATE
            await asyncio.sleep(max(0.0, planned - loop.time()))
            kind = i % len(queries)
            try:
                (await client.get("/api/signals", params=queries[kind])).raise_for_status()
            except httpx.HTTPError:  # a timeout at overload: counted, its wait kept as a floor
                failed += 1
            delays.append(loop.time() - planned)
            by_query.setdefault(kind, []).append(loop.time() - planned)

        await asyncio.gather(*(one(i) for i in range(count)))
        cpu = cpu_seconds(gateway_pid) - cpu0
        elapsed = loop.time() - start  # longer than REST_SECONDS when it fell behind
    names = ["all", "status", "symbol", "min_score", "cursor_deep"]
    return {
        "requests": count, "failed": failed, "rate_per_s": REST_RATE, "seeded": SIGNALS_SEEDED,
        "capacity_per_s": round(capacity, 1),
        "gateway_cpu_ms_per_request": round(cpu_per_request * 1e3, 2),
        "elapsed_s": round(elapsed, 1), "gateway_cpu_s_per_s": round(cpu / elapsed, 2),
        **percentiles(np.asarray(delays)),
        "p99_ms_by_query": {names[k]: percentiles(np.asarray(v))["p99_ms"]
                            for k, v in sorted(by_query.items())},
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }  # fmt: skip


async def postgres_missing() -> str | None:
    from swingflow.bench.pipeline_bench import postgres_missing as why

    return await why()


def rest_backend(backend: str, nats_url: str, work: Path) -> dict[str, Any]:
    config = str(Path("swing_config.json").resolve())

    async def seeded() -> dict[str, Any]:
        async with database(backend, work) as url:
            await seed_signals(url, SIGNALS_SEEDED)
            env = {**os.environ, "NATS_URL": nats_url, "DATABASE_URL": url,
                   "GATEWAY_MIGRATE": "false", "LOG_LEVEL": "WARNING",
                   "SWINGFLOW_CONFIG": config}  # fmt: skip
            gateway, address = start_gateway("hub", env, work / f"gateway-rest-{backend}.log")
            try:
                return {"backend": backend, **await rest_latency(address, gateway.pid)}
            finally:
                stop(gateway)

    return asyncio.run(seeded())


def bench_env(nats_url: str, work: Path) -> dict[str, str]:
    database_url = f"sqlite+aiosqlite:///{work / 'fanout.db'}"  # the fan-out reads no rows
    asyncio.run(seed_signals(database_url, 0))
    return {**os.environ, "NATS_URL": nats_url, "DATABASE_URL": database_url,
            "GATEWAY_MIGRATE": "false", "LOG_LEVEL": "WARNING",
            "SWINGFLOW_CONFIG": str(Path("swing_config.json").resolve())}  # fmt: skip


def run_parts(
    console: Console,
    parts: tuple[str, ...] = ("ws", "rest"),
    phases: tuple[tuple[str, int, int], ...] = PHASES,
    backends: tuple[str, ...] = BACKENDS,
) -> dict[str, Any]:
    summary: dict[str, Any] = {"rate_per_s": RATE, "seconds": SECONDS}
    with tempfile.TemporaryDirectory(prefix="swingflow-gw-bench-") as tmp:
        work = Path(tmp)
        with NatsServer(store_dir=work / "nats") as server:
            if "ws" in parts:
                env = bench_env(server.url, work)
                summary["fan_out"] = []
                for mode, clients, stalled in phases:
                    console.print(f"fan-out: {mode}, {clients} clients ({stalled} stalled) ...")
                    summary["fan_out"].append(
                        fan_out(mode, clients, stalled, server.url, env, work)
                    )
            if "rest" in parts:
                why_not_pg = asyncio.run(postgres_missing())
                summary["rest"] = []
                for backend in backends:
                    if backend == "postgresql" and why_not_pg:
                        summary["rest"].append({"backend": backend, "skipped": why_not_pg})
                        continue
                    console.print(f"REST: GET /api/signals on {backend} ...")
                    summary["rest"].append(rest_backend(backend, server.url, work))
    return summary


def run(console: Console) -> None:
    summarize(console, "gateway", run_parts(console))


def summarize(console: Console, name: str, summary: dict[str, Any]) -> None:
    phases: list[dict[str, Any]] = summary.get("fan_out", [])
    rests: list[dict[str, Any]] = [r for r in summary.get("rest", []) if "p99_ms" in r]
    by = {(p["mode"], p["clients"], p["stalled"]): p for p in phases}
    for _, n, k in PHASES:
        if ("naive", n, k) in by and ("hub", n, k) in by:
            naive, hub = by[("naive", n, k)], by[("hub", n, k)]
            summary[f"naive_over_hub_p99_{n}_{k}_stalled"] = round(
                naive["p99_ms"] / hub["p99_ms"], 2
            )
            summary[f"naive_over_hub_cpu_per_delivery_{n}_{k}_stalled"] = round(
                naive["gateway_cpu_us_per_delivery"] / hub["gateway_cpu_us_per_delivery"], 2
            )
    budgets: dict[str, Any] = {"fan_out_5000_p99_s": FANOUT_BUDGET_P99_S,
                               "rest_p99_s": REST_BUDGET_P99_S}  # fmt: skip
    hub_5k = by.get(("hub", 5_000, 0))
    if hub_5k:
        budgets["fan_out_5000_within"] = (
            hub_5k["p99_ms"] / 1e3 <= FANOUT_BUDGET_P99_S
            and hub_5k["delivered"] == hub_5k["expected"]
        )
    for rest in rests:
        budgets[f"rest_{rest['backend']}_within"] = rest["p99_ms"] / 1e3 <= REST_BUDGET_P99_S
    summary["budgets"] = budgets
    path = write_result(name, summary)
    if phases:
        table = Table("fan-out", "clients (stalled)", "delivered", "p50 ms", "p99 ms",
                      "gateway CPU", "us/frame", "clients CPU", "us/frame",
                      "msgs/fan-out")  # fmt: skip
        for p in phases:
            table.add_row(p["mode"], f"{p['clients']:,} ({p['stalled']})",
                          f"{p['delivered']:,}/{p['expected']:,}",
                          str(p["p50_ms"]), str(p["p99_ms"]),
                          f"{p['gateway_cpu_s_per_s']:.2f} s/s",
                          str(p["gateway_cpu_us_per_delivery"]),
                          f"{p['clients_cpu_s_per_s']:.2f} s/s",
                          str(p["clients_cpu_us_per_delivery"]),
                          str(p.get("messages_per_fanout", "-")))  # fmt: skip
        console.print(table)
    for rest in summary.get("rest", []):
        if "skipped" in rest:
            console.print(f"GET /api/signals on {rest['backend']}: skipped ({rest['skipped']})")
            continue
        console.print(
            f"GET /api/signals on {rest['backend']}, {rest['seeded']:,} signals, "
            f"{rest['rate_per_s']:.0f} req/s: p50 {rest['p50_ms']} ms, p99 {rest['p99_ms']} ms "
            f"(capacity {rest['capacity_per_s']} req/s, "
            f"{rest['gateway_cpu_ms_per_request']} ms CPU a request)"
        )
    console.print(f"budgets: {budgets}")
    console.print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("ws", "rest"), required=True)
    parser.add_argument("--clients", type=int, nargs="*", help="hub phases with these counts")
    parser.add_argument("--naive", action="store_true", help="also the naive fan-out at each")
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS), choices=BACKENDS)
    args = parser.parse_args()
    phases: tuple[tuple[str, int, int], ...] = PHASES
    if args.clients:
        modes = ("hub", "naive") if args.naive else ("hub",)
        phases = tuple((mode, n, 0) for n in args.clients for mode in modes)
    console = Console(stderr=True)
    summary = run_parts(console, (args.part,), phases, tuple(args.backends))
    summarize(console, f"gateway_{args.part}", summary)


if __name__ == "__main__":
    main()
