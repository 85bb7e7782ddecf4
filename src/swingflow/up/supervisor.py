"""Runs the planned processes, restarts one that crashes, and stops them all in order.

Each child runs in its own session, so the terminal's Ctrl-C reaches only this
supervisor, which then asks every child to stop (producers first) and waits for them
within one deadline: no service loses its in-flight work to a kill. A supervisor killed
outright takes its children with it (the kernel sends them SIGTERM).
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import IO

from swingflow.up.plan import ProcessSpec
from swingflow_common.process import die_with_parent

MAX_RESTARTS = 5
STOP_TIMEOUT_S = 15.0


@dataclass
class Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_restart_at: float | None = None
    failed: bool = False
    last_exit: int | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self, specs: tuple[ProcessSpec, ...]) -> None:
        self.children = [Child(spec) for spec in specs]

    def start_all(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        if child._log is None:
            child._log = child.spec.log_file.open("ab")
        child.process = subprocess.Popen(
            child.spec.argv,
            env=child.spec.env,
            stdin=subprocess.DEVNULL,
            stdout=child._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(),  # a supervisor killed outright takes them along
        )
        child.started_at = time.monotonic()
        child.next_restart_at = None

    def poll(self) -> None:
        """Notice exits; restart with a growing delay, give up after MAX_RESTARTS."""
        now = time.monotonic()
        for child in self.children:
            if child.failed or child.process is None:
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at > 60:
                    child.restarts = 0  # a minute up: a later crash starts a fresh count
                continue
            child.last_exit = code
            if child.next_restart_at is None:
                if child.restarts >= MAX_RESTARTS:
                    child.failed = True
                    continue
                child.next_restart_at = now + min(2**child.restarts, 30)
            elif now >= child.next_restart_at:
                child.restarts += 1
                self._spawn(child)

    def stop_all(self) -> None:
        """SIGTERM every child (producers first), then wait for all within one deadline:
        each finishes its in-flight work at the same time, so stopping takes as long as
        the slowest service, not the sum of them."""
        running = [c for c in reversed(self.children) if c.alive and c.process is not None]
        for child in running:
            assert child.process is not None
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        for child in self.children:
            if child._log is not None:
                child._log.close()
                child._log = None
