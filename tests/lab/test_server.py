"""The shared lab server base: life cycle, port 0, connection count, stop() and loopback only."""

from __future__ import annotations

import socket
import threading

import pytest

from cyberstd.lab.server import ThreadedTcpServer

ADDRESS = "127.0.0.1"


def _echo(conn: socket.socket) -> None:
    while data := conn.recv(4096):
        conn.sendall(data)


def test_port_zero_picks_a_free_port_and_connections_are_counted() -> None:
    with ThreadedTcpServer(_echo, address=ADDRESS) as server:
        assert server.port > 0
        for _ in range(3):
            with socket.create_connection((ADDRESS, server.port), timeout=5) as client:
                client.sendall(b"ping")
                assert client.recv(4) == b"ping"
        assert server.connections == 3
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port


def test_a_subclass_overrides_handle() -> None:
    class Greeter(ThreadedTcpServer):
        kind = "greeter"

        def handle(self, conn: socket.socket) -> None:
            conn.sendall(b"hello\n")

    with (
        Greeter(address="127.0.0.2") as server,
        socket.create_connection(("127.0.0.2", server.port), timeout=5) as client,
    ):
        assert client.recv(16) == b"hello\n"


def test_start_twice_is_refused() -> None:
    with (
        ThreadedTcpServer(_echo, address=ADDRESS) as server,
        pytest.raises(RuntimeError, match="already started"),
    ):
        server.start()


def test_stop_ends_open_connections_and_joins_every_thread() -> None:
    server = ThreadedTcpServer(_echo, address=ADDRESS).start()
    clients = [socket.create_connection((ADDRESS, server.port), timeout=5) for _ in range(3)]
    for client in clients:
        client.sendall(b"x")
        assert client.recv(1) == b"x"
    before = {t for t in threading.enumerate() if t.name.startswith("lab-tcp-")}
    assert before
    server.stop()
    for client in clients:
        assert client.recv(16) == b""  # the server ended the connection
        client.close()
    assert not any(t.is_alive() for t in before)
    assert server.errors == []


def test_a_lab_bug_in_a_handler_is_kept_not_printed() -> None:
    def broken(conn: socket.socket) -> None:
        raise KeyError("lab bug")

    server = ThreadedTcpServer(broken, address=ADDRESS)
    with server, socket.create_connection((ADDRESS, server.port), timeout=5) as client:
        assert client.recv(1) == b""
    assert [type(e) for e in server.errors] == [KeyError]


@pytest.mark.parametrize("address", ["10.0.0.1", "0.0.0.0", "::1", "localhost"])
def test_non_loopback_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8|not an IP address"):
        ThreadedTcpServer(_echo, address=address)
