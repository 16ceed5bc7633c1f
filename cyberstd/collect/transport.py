"""What both collectors need of the network, said once: whether a host is this machine (plain
http is allowed only there), how long a Retry-After header asks to wait, and a short reason for
a failed connection in the user's language (no secret, no stack)."""

from __future__ import annotations

import email.utils
import ipaddress
import math
import socket
import time

from cyberstd.messages import Msg, msg


def is_loopback(host: str) -> bool:
    """`localhost` or an address of this machine (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or unusable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        seconds = max(seconds, 0.0)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


_NEEDLES = (
    ("Connection refused", "refused"),
    ("timed out", "timeout"),
    ("Failed to resolve", "no_host"),
    ("Name or service not known", "no_host"),
    ("Unable to find the server", "no_host"),
    ("RemoteDisconnected", "closed"),
    ("Connection aborted", "closed"),
    ("Connection reset", "reset"),
    ("CERTIFICATE_VERIFY_FAILED", "untrusted"),
)


def connection_reason(exc: BaseException) -> Msg:
    """A short reason for a failed connection, in the catalog's words."""
    if isinstance(exc, ConnectionRefusedError):
        return msg("collect.reason.refused")
    if isinstance(exc, TimeoutError | socket.timeout):
        return msg("collect.reason.timeout")
    if isinstance(exc, ConnectionResetError):
        return msg("collect.reason.reset")
    text = str(exc)
    for needle, short in _NEEDLES:
        if needle in text:
            return msg(f"collect.reason.{short}")
    return msg("collect.reason.other", name=type(exc).__name__)
