"""TCP connections to an address, the errors they end in, and running connections side by side."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout
from cyberstd.messages import Msg, msg

_WORKERS = 8

T = TypeVar("T")
# How messages name a place: a text, or a catalog message that names it in each language.
Place = str | Msg


@dataclass(frozen=True)
class _Number(Msg):
    def render(self, lang: str) -> str:
        text = f"{self.args['value']:g}"
        return text.replace(".", ",") if lang == "nl" else text


def number(value: float) -> Msg:
    """A number as a message value, as each language writes it: 0.3 in English, 0,3 in Dutch."""
    return _Number("number", {"value": value})


def concurrently(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """The results of `tasks`, run in a small thread pool, in order: each offer and each
    endpoint waits on the network, so a probe takes as long as its slowest connection."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(tasks))) as pool:
        return list(pool.map(lambda task: task(), tasks))


def run_all(tasks: Sequence[Callable[[], T]]) -> list[T | ProbeError]:
    """Like `concurrently`, but a ProbeError becomes that task's result (any other error is a
    bug and propagates)."""

    def guarded(task: Callable[[], T]) -> Callable[[], T | ProbeError]:
        def run() -> T | ProbeError:
            try:
                return task()
            except ProbeError as exc:
                return exc

        return run

    return concurrently([guarded(task) for task in tasks])


def open_tcp(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an IP address (never a name: nothing is looked up in DNS)."""
    try:
        infos = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except socket.gaierror as exc:
        raise ConnectivityError(msg("tls.tcp.not-an-address", address=repr(address))) from exc
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr)
    except TimeoutError as exc:
        sock.close()
        raise ProbeTimeout(
            msg("tls.tcp.timeout", address=address, port=port, seconds=number(timeout))
        ) from exc
    except ConnectionRefusedError as exc:
        sock.close()
        raise ConnectivityError(msg("tls.tcp.refused", address=address, port=port)) from exc
    except OSError as exc:
        sock.close()
        raise ConnectivityError(
            msg("tls.tcp.failed", address=address, port=port, detail=exc.strerror or exc)
        ) from exc
    return sock
