"""The life cycle every lab server shares: loopback bind, one serving thread, a thread per connection.

Every lab server (web, mail, DNS, the services, the raw and hostile peers) is a
`ThreadedTcpServer`: it binds to an address in 127.0.0.0/8 only (the lab never sends a packet
off the machine), serves in a daemon thread, runs its handler in a thread per TCP connection
(after the TLS handshake when it has a TLS context), answers UDP datagrams on the same port
when asked, and stops cleanly: every open connection is ended, every thread joined and every
socket closed. A port that cannot be bound raises OSError with the system's errno (EADDRINUSE,
EACCES) and a message that names the server, its address and its port.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import selectors
import socket
import ssl
import threading
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar, Self

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")

# A lab connection idle longer than this is dropped, so that handler threads cannot pile up.
HANDLER_TIMEOUT = 10.0
# How long stop() waits for one connection thread (they all end at once when their socket closes).
JOIN_TIMEOUT = 2.0
# How many ports the system may pick before one is free for both UDP and TCP.
SHARED_PORT_TRIES = 20

Handler = Callable[[socket.socket], None]


def check_loopback(address: str) -> str:
    """Return `address` when it lies in 127.0.0.0/8; anything else is refused with ValueError."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"lab address {address!r} is not an IP address") from None
    if ip.version != 4 or ip not in LOOPBACK:
        raise ValueError(f"lab servers bind to 127.0.0.0/8 only, not {address}")
    return address


def shutdown_fd(fd: int) -> None:
    """End the connection behind `fd` for every descriptor of it, waking a thread blocked on it."""
    # A duplicate also reaches a connection that a TLS socket took over; the owner still
    # closes its own descriptor.
    with contextlib.suppress(OSError), socket.socket(fileno=socket.dup(fd)) as dup:
        dup.shutdown(socket.SHUT_RDWR)


class Running:
    """`start()` on entering a `with` block, `stop()` on leaving it."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ThreadedTcpServer(Running):
    """A server on an address in 127.0.0.0/8 that runs `handle(conn)` in a thread per connection.

    Give a `handler` callable or override `handle`. With `tls`, each connection completes the
    TLS handshake in its own thread first and `handle` gets the TLS socket; a failed handshake
    is one of the `quiet_errors`. A subclass that sets `udp = True` also answers datagrams on
    the same port: `handle_datagram` returns the reply, or None to stay silent.

    Port 0 lets the system pick a free port (read it from `port` after `start()`). `stop()`
    ends every open connection at once (plain or TLS) and joins every thread, so a test ends
    quickly even while a client still holds a connection. `connections` counts accepted
    connections; unexpected handler exceptions (lab bugs) are kept in `errors`, never printed.
    """

    kind: str = "tcp"
    # Exceptions that just mean the client went away or stop() ended the connection.
    quiet_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError,)
    handler_timeout: ClassVar[float] = HANDLER_TIMEOUT
    udp: ClassVar[bool] = False

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address = check_loopback(address)
        self.tls = tls
        self.connections = 0
        self.errors: list[BaseException] = []
        self._handler = handler
        self._want_port = port
        self._listener: socket.socket | None = None
        self._datagrams: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open: set[int] = set()
        self._workers: set[threading.Thread] = set()

    def _describe(self) -> str:
        return f"lab {self.kind} server"

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError(f"{self._describe()} not started")
        return int(self._listener.getsockname()[1])

    def handle(self, conn: socket.socket) -> None:
        """Serve one connection; the base closes `conn` afterwards."""
        if self._handler is None:
            raise NotImplementedError("give a handler or override handle()")
        self._handler(conn)

    def handle_datagram(self, data: bytes) -> bytes | None:
        """The reply to one datagram, or None to stay silent (servers with `udp = True`)."""
        raise NotImplementedError("a server with udp = True overrides handle_datagram()")

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{self._describe()} already started")
        self._stopping.clear()
        self._listener, self._datagrams = self._bind()
        self._listener.setblocking(False)
        if self._datagrams is not None:
            self._datagrams.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, name=f"lab-{self.kind}-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _bind(self) -> tuple[socket.socket, socket.socket | None]:
        try:
            return self._bind_sockets()
        except OSError as exc:
            where = f"{self.address} port {self._want_port or '(any)'}"
            if exc.errno is None:
                raise OSError(f"{self._describe()} cannot listen on {where}: {exc}") from exc
            said = f"{self._describe()} cannot listen on {where}: {os.strerror(exc.errno)}"
            raise OSError(exc.errno, said) from exc

    def _bind_sockets(self) -> tuple[socket.socket, socket.socket | None]:
        if not self.udp:
            return socket.create_server((self.address, self._want_port)), None
        # UDP and TCP share the port; a port the system picked for UDP may be taken for TCP,
        # so try a few.
        for _ in range(SHARED_PORT_TRIES):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((self.address, self._want_port))
                tcp = socket.create_server((self.address, int(udp.getsockname()[1])))
            except OSError:
                udp.close()
                if self._want_port:
                    raise
                continue
            return tcp, udp
        raise OSError("no port free for both UDP and TCP")

    def stop(self) -> None:
        """Stop accepting, end open connections, join every thread and close every socket."""
        self._stopping.set()
        if self._thread is not None:
            assert self._wake_w is not None
            self._wake_w.send(b"x")
            self._thread.join()
            self._thread = None
        with self._lock:
            for fd in self._open:
                shutdown_fd(fd)
            workers = list(self._workers)
        for worker in workers:
            worker.join(JOIN_TIMEOUT)
        for sock in (self._listener, self._datagrams, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._datagrams = self._wake_r = self._wake_w = None

    # --- serving -------------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            if self._datagrams is not None:
                sel.register(self._datagrams, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r:
                        return
                    if key.fileobj is self._datagrams:
                        self._on_datagram()
                    else:
                        self._accept()

    def _on_datagram(self) -> None:
        assert self._datagrams is not None
        try:
            data, client = self._datagrams.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        try:
            reply = self.handle_datagram(data)
        except self.quiet_errors:
            return
        except Exception as exc:  # a lab bug: keep it for whoever runs the lab, keep serving
            self.errors.append(exc)
            return
        if reply is not None:
            with contextlib.suppress(OSError):
                self._datagrams.sendto(reply, client)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(True)
        conn.settimeout(self.handler_timeout)
        worker = threading.Thread(
            target=self._run, args=(conn,), name=f"lab-{self.kind}-{self.port}-conn", daemon=True
        )
        with self._lock:
            self.connections += 1
            self._open.add(conn.fileno())
            # A thread stays listed until it has ended, so that stop() joins it to the end.
            self._workers = {w for w in self._workers if w.is_alive()}
            self._workers.add(worker)
        worker.start()

    def _run(self, conn: socket.socket) -> None:
        fd = conn.fileno()
        peer = conn
        try:
            if self.tls is not None:
                # The TLS socket takes over the descriptor, so `fd` still names the connection.
                peer = self.tls.wrap_socket(conn, server_side=True)
            self.handle(peer)
        except self.quiet_errors:
            pass
        except Exception as exc:  # a lab bug: keep it for whoever runs the lab, never print
            self.errors.append(exc)
        finally:
            with self._lock:
                self._open.discard(fd)
            peer.close()
            conn.close()
