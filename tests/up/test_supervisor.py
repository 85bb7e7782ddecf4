"""The supervisor's children never outlive it, and a clean stop waits for each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swingflow.up.plan import ProcessSpec
from swingflow.up.supervisor import Supervisor

SLEEPER = (sys.executable, "-c", "import time; time.sleep(120)")


def _spec(tmp_path: Path, name: str) -> ProcessSpec:
    return ProcessSpec(name, SLEEPER, dict(os.environ), 0, tmp_path / f"{name}.log")


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_stop_all_stops_every_child(tmp_path: Path) -> None:
    supervisor = Supervisor((_spec(tmp_path, "a"), _spec(tmp_path, "b")))
    supervisor.start_all()
    pids = [c.process.pid for c in supervisor.children if c.process is not None]
    supervisor.stop_all()
    assert all(c.process is not None and c.process.poll() is not None
               for c in supervisor.children)  # fmt: skip
    assert all(_gone(pid, 1.0) for pid in pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_children_die_when_the_supervisor_is_killed_outright(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from swingflow.up.plan import ProcessSpec
        from swingflow.up.supervisor import Supervisor
        spec = ProcessSpec("s", {SLEEPER!r}, dict(os.environ), 0, Path({str(tmp_path)!r}) / "s.log")
        sup = Supervisor((spec,))
        sup.start_all()
        print(sup.children[0].process.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    os.kill(child_pid, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _gone(child_pid), "the child outlived its supervisor"
