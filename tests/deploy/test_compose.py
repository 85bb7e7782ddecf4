"""docker-compose.yml is consistent with the code, without a Docker engine.

Every image builds from files that exist, every command is a real entry point, every
service's settings load from the environment compose gives it, every long-running
container has a health check, and no two containers claim one host port.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from swingflow.up.plan import SERVICES
from swingflow_common.settings import load_settings

from .compose import (
    INFRA,
    ROOT,
    MissingVariableError,
    environment,
    host_ports,
    interpolate,
    load,
)

COMPOSE = load()
ALL = COMPOSE["services"]
ENV = {"SWINGFLOW_API_TOKEN": "compose-test-token"}
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def test_every_service_and_the_infrastructure_have_a_container() -> None:
    assert set(ALL) == {*SERVICES, *INFRA}


@pytest.mark.parametrize("name", [n for n in ALL if "build" in ALL[n]])
def test_each_build_context_dockerfile_and_stage_exist(name: str) -> None:
    build = ALL[name]["build"]
    context = ROOT / build["context"]
    assert context.is_dir()
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    service = build["args"]["SERVICE"]
    assert service in SERVICES
    assert (ROOT / "services" / service / "pyproject.toml").is_file()
    assert f"AS service-{service}\n" in DOCKERFILE.read_text()


def test_everything_the_dockerfile_copies_from_the_context_exists() -> None:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    copies = [line.split()[1:] for line in text.splitlines() if line.startswith("COPY ")]
    sources = [s for args in copies if not any(a.startswith("--from") for a in args)
               for s in args[:-1] if not s.startswith("--")]  # fmt: skip
    assert "requirements.lock" in sources
    for source in sources:
        for service in SERVICES:
            path = ROOT / source.replace("${SERVICE}", service)
            assert path.exists(), f"COPY {source} ({service}): {path} is missing"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_its_real_entry_point(name: str) -> None:
    assert ALL[name]["command"] == ["swingflow", "service", name]
    module = importlib.import_module(f"swingflow_{name}.app")
    assert callable(module.main)


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_settings_load_from_the_compose_environment(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_cls: Any = importlib.import_module(f"swingflow_{name}.settings").Settings
    env = environment(ALL[name], ENV)
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    fields = {f"{prefix}{field}".upper() for field in settings_cls.model_fields}
    unknown = {k for k in env if k.startswith(prefix) and k not in fields}
    assert not unknown, f"{name}: variables no setting reads: {unknown}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(settings_cls)
    required = [f for f, info in settings_cls.model_fields.items() if info.is_required()]
    assert required == [], f"{name}: settings without a default must be set: {required}"
    assert settings.metrics_port == 9100
    assert settings.database_url.startswith("postgresql://swingflow:")
    assert settings.nats_url == "nats://nats:4222"


def test_the_gateway_listens_beyond_loopback_so_it_demands_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from swingflow_gateway.settings import Settings, check_bind

    with pytest.raises(MissingVariableError, match="SWINGFLOW_API_TOKEN"):
        environment(ALL["gateway"], {})
    for key, value in environment(ALL["gateway"], ENV).items():
        monkeypatch.setenv(key, value)
    settings = load_settings(Settings)
    assert settings.host == "0.0.0.0"
    assert settings.token == ENV["SWINGFLOW_API_TOKEN"]
    check_bind(settings)  # does not raise: a token is set
    assert ("127.0.0.1", 8000) in host_ports(ALL["gateway"])


@pytest.mark.parametrize("name", [n for n in ALL if n != "migrate"])
def test_every_long_running_container_has_a_health_check(name: str) -> None:
    check = ALL[name].get("healthcheck") or {}
    assert check.get("test", [""])[0] in ("CMD", "CMD-SHELL"), name
    if name in SERVICES:
        url = check["test"][3]
        port = 8000 if name == "gateway" else 9100
        assert re.match(rf"http://127\.0\.0\.1:{port}/", url), url


def test_the_migration_runs_once_before_the_services() -> None:
    migrate = ALL["migrate"]
    assert migrate["command"] == ["python", "-m", "swingflow_common.db.migrate", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    for name in SERVICES:
        needs = ALL[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["nats"]["condition"] == "service_healthy"


def test_no_two_containers_publish_the_same_host_port() -> None:
    seen: dict[int, str] = {}
    for name, service in ALL.items():
        for _address, port in host_ports(service):
            assert port not in seen, f"{name} and {seen[port]} both publish {port}"
            seen[port] = name
    assert seen[8000] == "gateway"


def test_the_scanner_can_be_replicated() -> None:
    scanner = ALL["scanner"]
    assert "container_name" not in scanner
    assert host_ports(scanner) == []
    assert scanner["deploy"]["replicas"] >= 1


def test_interpolation_follows_compose_rules() -> None:
    assert interpolate("${A:-x}", {}) == "x"
    assert interpolate("${A:-x}", {"A": "y"}) == "y"
    assert interpolate("a${B}b", {}) == "ab"
    with pytest.raises(MissingVariableError):
        interpolate("${C:?needed}", {})
