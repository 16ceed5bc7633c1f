"""The errors an HTTP request ends in: each a ProbeError with a catalog message saying where
and why."""

from __future__ import annotations

import http.client
import re
import ssl

from cyberstd.errors import ConnectivityError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.web.common import inert, number

# Handshake failures that mean client and server share no protocol version.
_VERSION_REASONS = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE"}
)


class CertificateNotVerified(ConnectivityError):
    """The HTTPS server's certificate failed verification; `verify_message` says why."""

    def __init__(self, message: Msg | str, verify_message: str) -> None:
        super().__init__(message)
        self.verify_message = verify_message


def ssl_text(exc: ssl.SSLError) -> str:
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


def not_an_address(address: str) -> ConnectivityError:
    return ConnectivityError(msg("web.error.not-an-ip", address=address))


def unreachable(where: Msg, exc: OSError) -> ConnectivityError:
    return ConnectivityError(
        msg("web.error.unreachable", where=where, reason=str(exc.strerror or exc))
    )


def no_answer_in_time(where: Msg, timeout: float) -> ProbeTimeout:
    return ProbeTimeout(msg("web.error.timeout", where=where, seconds=number(timeout)))


def not_verified(server_name: str, detail: str) -> CertificateNotVerified:
    return CertificateNotVerified(
        msg("web.error.cert-not-verified", host=server_name, detail=detail), detail
    )


def handshake_failed(where: Msg, exc: ssl.SSLError) -> ProtocolError:
    which = (
        "web.error.tls-failed-version" if exc.reason in _VERSION_REASONS else "web.error.tls-failed"
    )
    return ProtocolError(msg(which, where=where, reason=ssl_text(exc)))


def invalid_http(where: Msg, exc: http.client.HTTPException) -> ProtocolError:
    detail = str(exc) or type(exc).__name__
    return ProtocolError(
        msg("web.error.invalid-http", where=where, reason=verbatim(inert(detail, 200)))
    )


def closed(where: Msg, exc: OSError | None = None) -> ConnectivityError:
    if exc is None:
        return ConnectivityError(msg("web.error.closed", where=where))
    return ConnectivityError(
        msg("web.error.closed-reason", where=where, reason=str(exc.strerror or exc))
    )
