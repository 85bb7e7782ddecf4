"""deploy/: Prometheus targets, ECS task definitions, the Grafana dashboard, nats.conf and
the health-check script agree with the compose file and with the code."""

from __future__ import annotations

import http.server
import json
import re
import runpy
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from swingflow.up.plan import SERVICES
from swingflow_common.observability import start_metrics_server
from swingflow_common.testing import unavailable

from .compose import ROOT, environment, load

DEPLOY = ROOT / "deploy"
ALL = load()["services"]
ENV = {"SWINGFLOW_API_TOKEN": "t"}


def metrics_port(name: str) -> int:
    env = environment(ALL[name], ENV)
    return int(env[f"{name.upper()}_METRICS_PORT"])


def test_prometheus_scrapes_every_service_on_its_metrics_port() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(SERVICES)
    for name, job in jobs.items():
        (target,) = job["dns_sd_configs"]
        assert target["names"] == [name]
        assert target["port"] == metrics_port(name)


def ecs_definitions() -> list[tuple[str, dict[str, Any]]]:
    return [(p.stem, json.loads(p.read_text())) for p in sorted((DEPLOY / "ecs").glob("*.json"))]


def test_there_is_a_task_definition_per_service_and_for_the_migration() -> None:
    assert {name for name, _ in ecs_definitions()} >= {*SERVICES, "migrate"}


@pytest.mark.parametrize(("name", "definition"), ecs_definitions())
def test_each_task_definition_matches_its_compose_service(
    name: str, definition: dict[str, Any]
) -> None:
    (container,) = definition["containerDefinitions"]
    assert definition["family"] == f"swingflow-{name}"
    assert container["name"] == name
    assert name in ALL, f"deploy/ecs/{name}.json: no such compose service"
    if name in SERVICES or name == "migrate":
        assert container["command"] == ALL[name]["command"]
        image_of = ALL[name]["build"]["args"]["SERVICE"]
        assert container["image"].endswith(f"/swingflow-{image_of}:${{IMAGE_TAG}}")
        compose_env = set(environment(ALL[name], ENV))
        ecs_env = {v["name"] for v in container["environment"]}
        ecs_env |= {s["name"] for s in container.get("secrets", ())}
        assert ecs_env <= compose_env, ecs_env - compose_env
        assert "DATABASE_URL" in ecs_env
    if name in SERVICES:
        health = container["healthCheck"]["command"]
        assert health[1:] == ALL[name]["healthcheck"]["test"][1:]
        ports = {p["containerPort"] for p in container["portMappings"]}
        assert metrics_port(name) in ports
    if name == "gateway":
        assert {s["name"] for s in container["secrets"]} == {"DATABASE_URL", "SWINGFLOW_API_TOKEN"}


def metric_names_in_code() -> set[str]:
    sources = [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/common/src/**/*.py")]
    text = "\n".join(p.read_text() for p in sources)
    return set(re.findall(r'"(swingflow_[a-z0-9_]+)"', text))


def test_the_grafana_dashboard_uses_only_metrics_the_services_define() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/swingflow-pipeline.json").read_text())
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    defined = metric_names_in_code()
    used = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        for target in panel["targets"]:
            used |= set(re.findall(r"swingflow_[a-z0-9_]+", target["expr"]))
    bases = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in used}
    assert bases - defined == set()
    pipeline = {
        "swingflow_scanner_candidates",
        "swingflow_dlq_messages",
        "swingflow_portfolio_allocations",
        "swingflow_signals_bar_to_confirmed_seconds",
    }
    assert pipeline <= bases


def test_nats_conf_is_valid_for_nats_server() -> None:
    from swingflow_common.bus import NatsServerError, find_nats_server

    try:
        binary = find_nats_server()
    except NatsServerError as exc:
        unavailable(str(exc))
    checked = subprocess.run(
        [str(binary), "-c", str(DEPLOY / "nats/nats.conf"), "-t"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "jetstream" in (DEPLOY / "nats/nats.conf").read_text()


class _Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'swingflow_service_ready{service="scanner"} 1.0\n'
        self.send_response(200 if self.path == "/metrics" else 503)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def metrics_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_health_check_script_reads_the_ready_gauge(metrics_url: str) -> None:
    healthy = runpy.run_path(str(DEPLOY / "healthcheck.py"))["healthy"]
    ready = 'swingflow_service_ready{service="scanner"} 1.0'
    assert healthy(f"{metrics_url}/metrics", ready)
    assert not healthy(f"{metrics_url}/metrics", ready.replace("scanner", "signals"))
    assert not healthy(f"{metrics_url}/readyz")  # a 503
    assert healthy(f"{metrics_url}/metrics")
    assert not healthy("http://127.0.0.1:9/metrics", timeout=1)  # nothing listens


def test_metrics_listen_on_metrics_addr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_ADDR", "127.0.0.2")
    server = start_metrics_server(0)
    try:
        assert server._server.server_address[0] == "127.0.0.2"
    finally:
        server.close()


def test_the_image_defaults_suit_a_container() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim AS base" in text
    assert "METRICS_ADDR=0.0.0.0" in text
    assert "pip install --no-deps -r requirements-data.txt" in text
    assert re.search(r"^USER swingflow$", text, re.M)
