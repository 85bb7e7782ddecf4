"""JSON logs and the Prometheus endpoint."""

from __future__ import annotations

import io
import json
import logging
import urllib.request

import pytest

from swingflow_common.observability import (
    configure_logging,
    start_metrics_server,
    track_handler,
)


def test_log_records_are_json_lines_with_extra_fields_and_errors() -> None:
    stream = io.StringIO()
    configure_logging("INFO", service="scanner", stream=stream)
    log = logging.getLogger("swingflow.test")
    log.debug("hidden below INFO")
    log.info("bar stored", extra={"symbol": "AAPL", "bars": 3})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("handler failed")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]

    assert [line["msg"] for line in lines] == ["bar stored", "handler failed"]
    assert lines[0]["service"] == "scanner"
    assert (lines[0]["symbol"], lines[0]["bars"], lines[0]["level"]) == ("AAPL", 3, "INFO")
    assert lines[0]["ts"].endswith("+00:00")
    assert "ValueError: boom" in lines[1]["exc"]


def test_configuring_twice_does_not_duplicate_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=first)
    configure_logging("WARNING", stream=second)
    logging.getLogger("swingflow.test").warning("once")
    assert first.getvalue() == ""
    assert len(second.getvalue().splitlines()) == 1


def test_metrics_endpoint_serves_the_handler_metrics() -> None:
    with track_handler("obs-test", "on_bar"):
        pass
    with pytest.raises(KeyError), track_handler("obs-test", "on_bar"):
        raise KeyError("transient")

    server = start_metrics_server(0)
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    finally:
        server.close()

    assert (
        'swingflow_messages_handled_total{handler="on_bar",outcome="ok",service="obs-test"} 1.0'
        in text
    )
    assert (
        'swingflow_messages_handled_total{handler="on_bar",outcome="error",service="obs-test"} 1.0'
        in text
    )
    assert (
        'swingflow_handler_duration_seconds_count{handler="on_bar",service="obs-test"} 2.0' in text
    )
    assert "# TYPE swingflow_dlq_messages_total counter" in text
