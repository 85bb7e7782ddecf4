"""What `swingflow up` shows: each service's health and the live pipeline counts.

Health comes from each service's own metrics endpoint (`swingflow_service_ready`); the
counts come from JetStream itself (messages per subject in each stream), so they are true
whichever service wrote them and survive a restart.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from dataclasses import dataclass

from nats.js import JetStreamContext
from rich.table import Table

from swingflow.up.supervisor import Child
from swingflow_common import subjects

COUNTED: tuple[tuple[str, str, str], ...] = (
    ("bars", "MARKET", subjects.BARS_ALL),
    ("candidates", "SIGNALS", subjects.CANDIDATES_ALL),
    ("confirmed", "SIGNALS", subjects.CONFIRMED_ALL),
    ("allocations", "PORTFOLIO", subjects.ALLOCATIONS),
    ("fills", "PORTFOLIO", subjects.FILLS),
    ("dead letters", "DLQ", subjects.DLQ_ALL),
)


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    state: str  # starting, ready, up, restarting, exited, failed
    pid: int | None
    uptime_s: float
    restarts: int


def _ready(port: int, name: str) -> bool | None:
    """True/False from the service's ready gauge; None when the endpoint does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2.0) as r:
            text = r.read().decode()
    except OSError:
        return None
    needle = f'swingflow_service_ready{{service="{name}"}} '
    for line in text.splitlines():
        if line.startswith(needle):
            return float(line[len(needle) :]) >= 1.0
    return False


def health_of(child: Child) -> ServiceHealth:
    pid = child.process.pid if child.process is not None else None
    if child.failed:
        state = "failed"
    elif not child.alive:
        state = "restarting" if child.next_restart_at is not None else "exited"
    else:
        ready = _ready(child.spec.metrics_port, child.spec.name)
        state = "starting" if ready is None else ("ready" if ready else "up")
    uptime = time.monotonic() - child.started_at if child.alive else 0.0
    return ServiceHealth(child.spec.name, state, pid, uptime, child.restarts)


async def pipeline_counts(js: JetStreamContext) -> dict[str, int]:
    """Messages per stage, read from the streams (0 for a stream not created yet)."""
    counts: dict[str, int] = {}
    for label, stream, subject in COUNTED:
        try:
            info = await asyncio.wait_for(js.stream_info(stream, subjects_filter=subject), 2)
            counts[label] = sum((info.state.subjects or {}).values())
        except Exception:
            counts[label] = 0
    return counts


STATE_STYLE = {
    "ready": "green",
    "up": "yellow",
    "starting": "cyan",
    "restarting": "magenta",
    "exited": "red",
    "failed": "bold red",
}


def render(health: list[ServiceHealth], counts: dict[str, int], header: str) -> Table:
    table = Table(title=header, title_justify="left", expand=False)
    table.add_column("service")
    table.add_column("state")
    table.add_column("pid", justify="right")
    table.add_column("uptime", justify="right")
    table.add_column("restarts", justify="right")
    for h in health:
        style = STATE_STYLE.get(h.state, "")
        table.add_row(
            h.name,
            f"[{style}]{h.state}[/]",
            str(h.pid or "-"),
            f"{h.uptime_s:.0f}s",
            str(h.restarts),
        )
    table.caption = "  ".join(f"{k}: [bold]{v:,}[/]" for k, v in counts.items())
    return table


def one_line(health: list[ServiceHealth], counts: dict[str, int]) -> str:
    services = " ".join(f"{h.name}={h.state}" for h in health)
    flow = " ".join(f"{k.replace(' ', '_')}={v}" for k, v in counts.items())
    return f"{services} | {flow}"
