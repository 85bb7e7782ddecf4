"""ml bench, over NATS: a nats-server and the ml service as its own process, the batch
sent the ways `ml_bench` compares (see its docstring, part 3)."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from swingflow_common.messages import MlPredictReply, MlPredictRequest

REPEATS = 15
CHUNKS = (64, 250)  # as the signals service sends; the fewest whole-candidate requests
JUDGED = "signals_client"  # the budget's figure: the signals service's own client asking


def ms(runs: list[float]) -> dict[str, float]:
    ordered = sorted(runs)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(runs) * 1e3, "p95_ms": p95 * 1e3,
            "min_ms": ordered[0] * 1e3}  # fmt: skip


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Requests = Callable[[], list[bytes]]
SignalsAsk = Callable[[Any], Awaitable[list[MlPredictReply]]]


async def over_nats(
    workdir: Path, row: Any, ways: dict[str, Requests], probe: bytes, signals: SignalsAsk
) -> dict[str, Any]:
    """Round trips of the batch: as the signals service's client asks (`signals`, its
    work around the requests inside the clock), then each way of sending ready requests."""
    import nats

    from swingflow_common.bus.server import NatsServer

    async with NatsServer(store_dir=workdir / "nats") as server:
        env = {**os.environ, "NATS_URL": server.url, "DATABASE_URL": row["database_url"],
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        cmd = [sys.executable, "-c", "from swingflow_ml.app import main; main()"]
        service = await asyncio.create_subprocess_exec(*cmd, env=env)
        try:
            client = await nats.connect(server.url)
            replies: list[MlPredictReply] = []

            async def ready() -> bool:
                try:
                    answer = await client.request("ml.predict", probe, timeout=5)
                except Exception:  # not subscribed yet
                    return False
                replies.append(MlPredictReply.model_validate_json(answer.data))
                return bool(replies[-1].model_version == row["version"])

            deadline = time.monotonic() + 300  # the service imports XGBoost first
            while not await ready():
                if time.monotonic() > deadline:
                    seen = replies[-1].model_version if replies else "no answer"
                    raise RuntimeError(f"the ml service never answered with the model ({seen})")
                await asyncio.sleep(0.5)
            out: dict[str, Any] = {}
            runs = []
            service_cpu, client_cpu = _process_cpu(service.pid), time.process_time()
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                got = await signals(client)
                runs.append(time.perf_counter() - t0)
            out[JUDGED] = {
                **ms(runs), "predictions": sum(len(r.all_predictions()) for r in got),
                "requests": len(got),
                "service_cpu_ms_per_round":
                    (_process_cpu(service.pid) - service_cpu) / REPEATS * 1e3,
                "client_cpu_ms_per_round": (time.process_time() - client_cpu) / REPEATS * 1e3,
            }  # fmt: skip
            for name, requests in ways.items():
                runs = []
                chunks = requests()
                service_cpu, client_cpu = _process_cpu(service.pid), time.process_time()
                for _ in range(REPEATS):
                    t0 = time.perf_counter()
                    answers = await asyncio.gather(
                        *(client.request("ml.predict", chunk, timeout=60) for chunk in chunks)
                    )
                    runs.append(time.perf_counter() - t0)
                service_cpu = (_process_cpu(service.pid) - service_cpu) / REPEATS
                client_cpu = (time.process_time() - client_cpu) / REPEATS
                predictions = sum(
                    len(MlPredictReply.model_validate_json(a.data).all_predictions())
                    for a in answers
                )
                out[name] = {
                    **ms(runs), "predictions": predictions, "requests": len(chunks),
                    "request_bytes": sum(map(len, chunks)),
                    "largest_request_bytes": max(map(len, chunks)),
                    "reply_bytes": sum(len(a.data) for a in answers),
                    "service_cpu_ms_per_round": service_cpu * 1e3,
                    "client_cpu_ms_per_round": client_cpu * 1e3,
                }  # fmt: skip
            await client.drain()
        finally:
            service.terminate()
            await asyncio.wait_for(service.wait(), 20)
    return out


async def register(workdir: Path, model: Any) -> dict[str, str]:
    from swingflow_common.db import engine_from_url, session_factory
    from swingflow_common.db.migrate import migrate_async
    from swingflow_common.ml import registry

    url = f"sqlite+aiosqlite:///{workdir / 'registry.db'}"
    await migrate_async(url)
    path, sha = registry.save_model(model, workdir / "models")
    engine = engine_from_url(url)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    async with session_factory(engine).begin() as session:
        await registry.register(session, model, path, sha, {}, (start, start))
        await registry.promote(session, model.version)
    await engine.dispose()
    return {"database_url": url, "version": model.version}


def signals_ask(candidates: list[Any], config: Any) -> SignalsAsk:
    """The signals service's client asking for the batch: the feature rows a wave at a
    time, the requests, the replies validated (`MlClient.ask`)."""
    from swingflow_signals.ml_client import MlClient

    async def ask(client: Any) -> list[MlPredictReply]:
        replies = await MlClient(lambda: client, 60.0).ask(candidates, config)
        if any(isinstance(r, str) for r in replies):
            raise RuntimeError(f"ml.predict failed: {replies}")
        return [r for r in replies if not isinstance(r, str)]

    return ask


def ways(candidates: list[Any], config: Any) -> dict[str, Requests]:
    """The batch's requests, ready to send: feature rows (the matrix once for the batch,
    then a request per chunk) and whole candidates as before."""
    from swingflow_common.ml.rows import chunked_rows

    def rows(size: int) -> Requests:
        return lambda: [
            MlPredictRequest(rows=r).model_dump_json().encode()
            for r in chunked_rows(candidates, config, size)
        ]

    def whole(size: int) -> Requests:
        return lambda: [
            MlPredictRequest(candidates=tuple(candidates[i : i + size])).model_dump_json().encode()
            for i in range(0, len(candidates), size)
        ]

    return {
        f"rows_{CHUNKS[0]}": rows(CHUNKS[0]),
        f"rows_{CHUNKS[1]}": rows(CHUNKS[1]),
        f"candidates_{CHUNKS[0]}": whole(CHUNKS[0]),
        f"candidates_{CHUNKS[1]}": whole(CHUNKS[1]),
    }
