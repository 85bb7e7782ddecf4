"""Which processes `swingflow up` starts, and the environment each one gets.

Every service runs as `swingflow service NAME`, exactly the command its container runs.
Each gets the shared NATS and database URLs and a metrics port of its own
(`<NAME>_METRICS_PORT`), which the supervisor also reads for health and counts.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from swingflow_common.bus import free_port

# Start order: consumers before producers, so nothing the feed publishes waits on a
# service that is still starting; stop order is the reverse.
SERVICES: tuple[str, ...] = ("gateway", "ml", "portfolio", "signals", "scanner", "feed")


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    metrics_port: int
    log_file: Path


@dataclass(frozen=True)
class Plan:
    nats_url: str
    database_url: str
    processes: tuple[ProcessSpec, ...] = field(default_factory=tuple)


def dashboard_url() -> str:
    """Where the gateway serves the dashboard (its GATEWAY_HOST/GATEWAY_PORT settings)."""
    host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    return f"http://{host}:{os.environ.get('GATEWAY_PORT', '8000')}"


def service_argv(name: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "swingflow", "service", name)


def make_plan(
    nats_url: str,
    database_url: str,
    var_dir: Path,
    with_feed: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Plan:
    """The processes to run: every service, and the feed unless the bars come from elsewhere."""
    base = {
        **os.environ,
        **(extra_env or {}),
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
    }
    specs = []
    for name in SERVICES:
        if name == "feed" and not with_feed:
            continue
        port = free_port()
        env = {**base, f"{name.upper()}_METRICS_PORT": str(port)}
        specs.append(
            ProcessSpec(name, service_argv(name), env, port, var_dir / "log" / f"{name}.log")
        )
    return Plan(nats_url, database_url, tuple(specs))
