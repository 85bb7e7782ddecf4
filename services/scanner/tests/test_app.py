"""`swingflow_scanner.app.main` as the supervisor runs it: ready on its metrics port once
consuming, bars in, exit 0 on SIGTERM; exit 2 with the reason on a bad setting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from scanner_helpers import day_ordered_bars, publish_all, sp500_symbols

from swingflow_common.bus import free_port
from swingflow_common.testing import eventually

pytestmark = pytest.mark.integration


def spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "swingflow_scanner.app"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def scrape(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=0.5) as r:
            text = r.read().decode()
    except OSError:
        return {}
    pairs = (line.rpartition(" ") for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, _, value in pairs if name}


async def test_scanner_process_gets_ready_takes_bars_and_stops_cleanly(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    port = free_port()
    process = spawn(
        {
            "NATS_URL": nats_url,
            "SCANNER_METRICS_PORT": str(port),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'scanner.db'}",
        }
    )
    ready = 'swingflow_service_ready{service="scanner"}'
    try:
        await eventually(lambda: scrape(port).get(ready) == 1.0, within=60)
        bars = day_ordered_bars(sp500_symbols(3))[:30]
        await publish_all(js, bars)
        new = 'swingflow_scanner_bars_total{outcome="new"}'
        await eventually(lambda: scrape(port).get(new) == len(bars), within=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_scanner_refuses_a_replica_index_beyond_the_count() -> None:
    process = spawn({"SCANNER_REPLICAS": "2", "SCANNER_REPLICA": "2"})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert b"replica 2 must be below replicas 2" in err
