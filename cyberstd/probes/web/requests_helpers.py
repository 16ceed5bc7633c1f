"""HTTP over requests, pinned to an address, and its errors translated to ProbeErrors."""

from __future__ import annotations

import http.client
import ipaddress
import ssl
from collections.abc import Iterator
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from cyberstd.errors import ConnectivityError, ProbeError
from cyberstd.messages import Msg, msg
from cyberstd.probes.web.errors import (
    closed,
    handshake_failed,
    invalid_http,
    no_answer_in_time,
    not_an_address,
    not_verified,
    unreachable,
)
from cyberstd.registry import Target

# Kept for modules that build on requests. requests' read timeout applies to each read, so a
# peer that drips its headers can outlast it: new code should use `http_get`, which bounds the
# whole request.

E = TypeVar("E", bound=BaseException)


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address in the URL but presents `server_name` for SNI and name checks.

    Trust comes only from `ssl_context` (the scan's CA bundle or the system store): requests'
    own bundle and the environment's are never consulted.
    """

    def __init__(self, server_name: str, ssl_context: ssl.SSLContext | None) -> None:
        self._server_name = server_name
        self._ssl_context = ssl_context
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["server_hostname"] = self._server_name
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if url.lower().startswith("https"):
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = None
            conn.ca_cert_dir = None


def _url_host(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise not_an_address(address) from None
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # requests wraps urllib3 errors that wrap the socket or ssl error: walk every link.
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        links = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        links.extend(current.args)
        todo.extend(link for link in links if isinstance(link, BaseException))


def _find(exc: BaseException, kind: type[E]) -> E | None:
    return next((c for c in _causes(exc) if isinstance(c, kind)), None)


def _translate(
    exc: requests.RequestException, target: Target, where: Msg, timeout: float
) -> ProbeError:
    """The ProbeError that says why a request made with requests got no usable answer."""
    if isinstance(exc, requests.Timeout) or (
        _find(exc, TimeoutError) is not None and _find(exc, ConnectionRefusedError) is None
    ):
        return no_answer_in_time(where, timeout)
    verification = _find(exc, ssl.SSLCertVerificationError)
    if verification is not None:
        detail = (verification.verify_message or "verification failed").rstrip(".")
        return not_verified(target.name, detail)
    tls_error = _find(exc, ssl.SSLError)
    if tls_error is not None:
        return handshake_failed(where, tls_error)
    if _find(exc, ConnectionRefusedError) is not None:
        return ConnectivityError(msg("web.error.refused", where=where))
    if _find(exc, http.client.RemoteDisconnected) is not None:
        return closed(where)
    reset = _find(exc, ConnectionResetError) or _find(exc, ConnectionAbortedError)
    if reset is not None:
        return closed(where, reset)
    bad_http = _find(exc, http.client.HTTPException)
    if bad_http is not None:
        return invalid_http(where, bad_http)
    # requests' own exceptions are OSErrors too; the system's error is the one with an errno.
    os_error = next(
        (c for c in _causes(exc) if isinstance(c, OSError) and c.errno is not None), None
    )
    if os_error is not None:
        return unreachable(where, os_error)
    return ConnectivityError(msg("web.error.unreachable", where=where, reason=str(exc)))
