"""The life cycle every lab TCP server shares: loopback bind, accept loop, one thread per connection."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar, Self

from cyberstd.lab.web import check_loopback

# A lab connection idle longer than this is dropped, so that handler threads cannot pile up.
HANDLER_TIMEOUT = 10.0
# How long stop() waits for one connection thread (they all end at once when their socket closes).
JOIN_TIMEOUT = 2.0

Handler = Callable[[socket.socket], None]


def shutdown_fd(fd: int) -> None:
    """End the connection behind `fd` for every descriptor of it, waking a thread blocked on it."""
    # A duplicate also reaches a connection that a TLS socket took over; the owner still
    # closes its own descriptor.
    with contextlib.suppress(OSError), socket.socket(fileno=socket.dup(fd)) as dup:
        dup.shutdown(socket.SHUT_RDWR)


class ThreadedTcpServer:
    """A TCP server on an address in 127.0.0.0/8 that runs `handle(conn)` in a thread per connection.

    Give a `handler` callable or override `handle`. Port 0 lets the system pick a free port
    (read it from `port` after `start()`). `stop()` ends every open connection at once (plain
    or TLS) and joins every thread, so a test ends quickly even while a client still holds a
    connection. `connections` counts accepted connections; unexpected handler exceptions (lab
    bugs) are kept in `errors`, never printed.
    """

    kind: str = "tcp"
    # Exceptions that just mean the client went away or stop() ended the connection.
    quiet_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError,)
    handler_timeout: ClassVar[float] = HANDLER_TIMEOUT

    def __init__(
        self, handler: Handler | None = None, *, address: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.address = check_loopback(address)
        self.connections = 0
        self.errors: list[BaseException] = []
        self._handler = handler
        self._want_port = port
        self._listener: socket.socket | None = None
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

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{self._describe()} already started")
        self._stopping.clear()
        self._listener = socket.create_server((self.address, self._want_port))
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, name=f"lab-{self.kind}-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r:
                        return
                    self._accept()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(True)
        conn.settimeout(self.handler_timeout)
        worker = threading.Thread(target=self._run, args=(conn,), daemon=True)
        with self._lock:
            self.connections += 1
            self._open.add(conn.fileno())
            self._workers.add(worker)
        worker.start()

    def _run(self, conn: socket.socket) -> None:
        fd = conn.fileno()
        try:
            self.handle(conn)
        except self.quiet_errors:
            pass
        except Exception as exc:  # a lab bug: keep it for whoever runs the lab, never print
            self.errors.append(exc)
        finally:
            with self._lock:
                self._open.discard(fd)
                self._workers.discard(threading.current_thread())
            conn.close()

    def stop(self) -> None:
        """Stop accepting, end open connections and join every thread."""
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
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._wake_r = self._wake_w = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
