"""`swingflow_feed.app.main` as the supervisor runs it: a process that reports ready on its
metrics port, idles once the dataset is out, and exits 0 on SIGTERM; 2 on a bad dataset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from nats.js import JetStreamContext

from swingflow_common.bus import free_port
from swingflow_common.testing import eventually

pytestmark = pytest.mark.integration


def spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "swingflow_feed.app"],
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
    return {
        name: float(value)
        for name, _, value in (line.rpartition(" ") for line in text.splitlines())
        if name and not name.startswith("#")
    }


async def test_feed_process_is_ready_finishes_idles_and_stops_cleanly(
    js: JetStreamContext, nats_url: str
) -> None:
    port = free_port()
    process = spawn(
        {
            "NATS_URL": nats_url,
            "FEED_DATASET": "synthetic:3x12",
            "FEED_METRICS_PORT": str(port),
            "FEED_AWAIT_CONSUMER_S": "0",
        }
    )
    try:
        await eventually(lambda: scrape(port).get("swingflow_feed_finished") == 1.0, within=30)
        values = scrape(port)
        assert values['swingflow_service_ready{service="feed"}'] == 1.0
        assert values["swingflow_feed_days_published_total"] == 12
        assert values['swingflow_feed_bars_published_total{duplicate="false"}'] == 36
        assert process.poll() is None  # idle, not exited
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (await js.stream_info("MARKET")).state.messages == 36


def test_feed_refuses_a_close_only_dataset_at_start() -> None:
    process = spawn({"FEED_DATASET": "sp20-1990-2022"})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert b"no volume" in err
    assert b"sp500-2010" in err
