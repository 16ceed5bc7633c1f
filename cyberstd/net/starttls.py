"""The plain-text start of SMTP and IMAP sessions, up to a socket ready for STARTTLS's TLS handshake."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from dataclasses import dataclass
from typing import Literal

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.tcp import open_tcp

# Bounds on what a peer may send before the probe gives up on it (RFC 5321 allows 512-octet
# reply lines; real servers stay far below these).
MAX_LINE = 4096
MAX_LINES = 100
# What one recv() asks for: small, since everything after the STARTTLS reply belongs to TLS.
_CHUNK = 4096
# The longest a QUIT may take: the verdict is known by then, so do not wait on it for long.
_QUIT_TIMEOUT = 1.0

_SMTP_LINE = re.compile(r"([2-5][0-9]{2})([ -]?)(.*)", re.DOTALL)
_EHLO_NAME = re.compile(r"[A-Za-z0-9.\-\[\]:]{1,255}")

Protocol = Literal["smtp", "imap"]


def printable(text: str) -> str:
    """`text` with every control or non-printable character written as an escape (\\x1b, \\x00).

    Banners and DNS records come from peers that may be hostile: escaped, they cannot move a
    terminal's cursor, change its title or hide text in a report.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


@dataclass(frozen=True)
class StartTlsInfo:
    """What the server said before TLS: its greeting and the capabilities it listed.

    `banner` holds the greeting lines as sent (SMTP reply code included, lines joined by a
    newline, control characters escaped); `capabilities` the EHLO extension lines (SMTP, e.g.
    "SIZE 35882577", "STARTTLS") or the CAPABILITY atoms (IMAP).
    """

    banner: str
    capabilities: tuple[str, ...]

    @property
    def starttls_offered(self) -> bool:
        return any(cap.split(" ", 1)[0].upper() == "STARTTLS" for cap in self.capabilities)


class StartTlsNotOffered(ProtocolError):
    """The server answered properly but does not advertise STARTTLS."""

    def __init__(self, message: object, *, banner: str, capabilities: tuple[str, ...]) -> None:
        super().__init__(message)
        self.banner = banner
        self.capabilities = capabilities


def decimal(value: float) -> Msg:
    """A number as each language writes it: '0.5' in English, '0,5' in Dutch."""
    text = f"{value:g}"
    whole, dot, fraction = text.partition(".")
    if not dot or "e" in text:
        return verbatim(text)
    return msg("mail.decimal", whole=whole, fraction=fraction)


def _where(sock: socket.socket) -> Msg:
    try:
        peer = sock.getpeername()
    except OSError as exc:
        raise ConnectivityError(msg("mail.session.not-connected", error=_os_error(exc))) from exc
    return msg("mail.session.where", address=peer[0], port=peer[1])


def _os_error(exc: OSError) -> Msg:
    """What the operating system said, as it said it."""
    return verbatim(str(exc.strerror or exc))


def _shown(raw: bytes) -> str:
    return printable(raw.decode("utf-8", "replace"))


class _Session:
    """Line-oriented talk on a connected socket, every read bounded in size and time."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.where = _where(sock)
        self._buffer = bytearray()

    def send(self, line: str) -> None:
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(line.encode("ascii") + b"\r\n")
        except TimeoutError as exc:
            raise ProbeTimeout(
                msg("mail.session.send-timeout", where=self.where, seconds=decimal(self.timeout))
            ) from exc
        except OSError as exc:
            raise ConnectivityError(
                msg("mail.session.closed", where=self.where, error=_os_error(exc))
            ) from exc

    def _timeout(self, what: Msg) -> ProbeTimeout:
        return ProbeTimeout(
            msg("mail.session.timeout", where=self.where, what=what, seconds=decimal(self.timeout))
        )

    def line(self, deadline: float, what: Msg) -> bytes:
        """The next line without its line break; `what` names the awaited reply in errors."""
        while True:
            end = self._buffer.find(b"\n")
            if end > MAX_LINE or (end < 0 and len(self._buffer) > MAX_LINE):
                raise ProtocolError(
                    msg(
                        "mail.session.line-too-long",
                        where=self.where,
                        limit=MAX_LINE,
                        what=what,
                        data=_shown(bytes(self._buffer[:80])),
                    )
                )
            if end >= 0:
                raw = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return raw.removesuffix(b"\r")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout(what)
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(_CHUNK)
            except TimeoutError as exc:
                raise self._timeout(what) from exc
            except OSError as exc:
                raise ConnectivityError(
                    msg("mail.session.broken", where=self.where, what=what, error=_os_error(exc))
                ) from exc
            if not chunk:
                if not self._buffer:
                    raise ProtocolError(
                        msg("mail.session.closed-early", where=self.where, what=what)
                    )
                raise ProtocolError(
                    msg(
                        "mail.session.closed-mid-line",
                        where=self.where,
                        what=what,
                        data=_shown(bytes(self._buffer[:80])),
                    )
                )
            self._buffer += chunk

    def expect_nothing_more(self, what: Msg) -> None:
        # Bytes already waiting after the STARTTLS reply were sent before TLS, yet would be read
        # as if protected by it (the STARTTLS injection flaw, CVE-2011-0411): refuse them.
        if self._buffer:
            raise ProtocolError(
                msg(
                    "mail.session.data-after",
                    where=self.where,
                    what=what,
                    data=_shown(bytes(self._buffer[:80])),
                )
            )

    def smtp_reply(self, what: Msg) -> tuple[int, list[str]]:
        """One SMTP reply (all its lines): the code and each line's text, escaped."""
        deadline = time.monotonic() + self.timeout
        code: str | None = None
        texts: list[str] = []
        while True:
            if len(texts) >= MAX_LINES:
                raise self.too_many_lines(what)
            raw = self.line(deadline, what)
            match = _SMTP_LINE.fullmatch(raw.decode("utf-8", "replace"))
            if match is None:
                raise ProtocolError(
                    msg(
                        "mail.session.not-smtp", where=self.where, what=what, data=_shown(raw[:200])
                    )
                )
            if code is not None and match[1] != code:
                raise ProtocolError(
                    msg(
                        "mail.session.mixed-codes",
                        where=self.where,
                        first=code,
                        second=match[1],
                        what=what,
                    )
                )
            code = match[1]
            texts.append(printable(match[3]))
            if match[2] != "-":
                return int(code), texts

    def too_many_lines(self, what: Msg) -> ProtocolError:
        return ProtocolError(
            msg("mail.session.too-many-lines", where=self.where, limit=MAX_LINES, what=what)
        )


def _smtp_lines(code: int, texts: list[str]) -> str:
    return "\n".join(
        f"{code}{'-' if i < len(texts) - 1 else ' '}{text}" for i, text in enumerate(texts)
    )


def _one_line(reply: str) -> str:
    return reply.replace("\n", " | ")[:300]


def _check_ehlo_name(ehlo_name: str) -> None:
    if not _EHLO_NAME.fullmatch(ehlo_name):
        raise ValueError(f"EHLO name {ehlo_name!r} must be a host name or address literal")


def _smtp_greet(session: _Session, ehlo_name: str) -> StartTlsInfo:
    """Banner and EHLO; STARTTLS is not sent."""
    code, texts = session.smtp_reply(msg("mail.session.what.smtp-greeting"))
    banner = _smtp_lines(code, texts)
    if code != 220:
        shown = _one_line(banner)
        raise ProtocolError(
            msg("mail.session.smtp-refused", where=session.where, banner=shown)
            if code == 554
            else msg("mail.session.smtp-answered", where=session.where, banner=shown)
        )
    session.send(f"EHLO {ehlo_name}")
    code, texts = session.smtp_reply(msg("mail.session.what.ehlo"))
    if code == 250:
        return StartTlsInfo(banner=banner, capabilities=tuple(texts[1:]))
    if 500 <= code < 600:
        # The server speaks plain SMTP only (no ESMTP), so it has no extensions at all.
        return StartTlsInfo(banner=banner, capabilities=())
    raise ProtocolError(
        msg(
            "mail.session.ehlo-answer",
            where=session.where,
            reply=_one_line(_smtp_lines(code, texts)),
        )
    )


def _upgrade_smtp(session: _Session, ehlo_name: str) -> StartTlsInfo:
    info = _smtp_greet(session, ehlo_name)
    if not info.starttls_offered:
        raise StartTlsNotOffered(
            msg("mail.session.no-starttls", where=session.where),
            banner=info.banner,
            capabilities=info.capabilities,
        )
    session.send("STARTTLS")
    code, texts = session.smtp_reply(msg("mail.session.what.starttls"))
    if code != 220:
        raise ProtocolError(
            msg(
                "mail.session.starttls-refused",
                where=session.where,
                reply=_one_line(_smtp_lines(code, texts)),
            )
        )
    session.expect_nothing_more(msg("mail.session.what.its-starttls"))
    return info


def _imap_tagged(session: _Session, tag: str, what: Msg) -> tuple[str, list[str]]:
    """Lines up to the tagged completion of `tag`: its status and the untagged lines before it."""
    deadline = time.monotonic() + session.timeout
    untagged: list[str] = []
    while True:
        if len(untagged) >= MAX_LINES:
            raise session.too_many_lines(what)
        text = _shown(session.line(deadline, what))
        head, _, rest = text.partition(" ")
        if head == tag:
            return rest.split(" ", 1)[0].upper(), untagged
        if head not in ("*", "+"):
            raise ProtocolError(
                msg("mail.session.not-imap", where=session.where, what=what, data=text[:200])
            )
        untagged.append(text)


def _upgrade_imap(session: _Session) -> StartTlsInfo:
    deadline = time.monotonic() + session.timeout
    greeting = _shown(session.line(deadline, msg("mail.session.what.imap-greeting")))
    status = greeting.split(" ", 2)[1].upper() if greeting.startswith("* ") else ""
    if status == "BYE":
        raise ProtocolError(
            msg("mail.session.imap-refused", where=session.where, greeting=greeting[:300])
        )
    if status not in ("OK", "PREAUTH"):
        raise ProtocolError(
            msg("mail.session.no-imap-greeting", where=session.where, greeting=greeting[:300])
        )
    session.send("a1 CAPABILITY")
    status, untagged = _imap_tagged(session, "a1", msg("mail.session.what.capability"))
    if status != "OK":
        raise ProtocolError(
            msg("mail.session.capability-status", where=session.where, status=status)
            if status
            else msg("mail.session.capability-nothing", where=session.where)
        )
    capabilities = tuple(
        atom
        for line in untagged
        if line.upper().startswith("* CAPABILITY ")
        for atom in line.split()[2:]
    )
    info = StartTlsInfo(banner=greeting, capabilities=capabilities)
    if not info.starttls_offered:
        raise StartTlsNotOffered(
            msg("mail.session.no-starttls", where=session.where),
            banner=info.banner,
            capabilities=info.capabilities,
        )
    session.send("a2 STARTTLS")
    status, _ = _imap_tagged(session, "a2", msg("mail.session.what.starttls"))
    if status != "OK":
        raise ProtocolError(
            msg("mail.session.imap-starttls-status", where=session.where, status=status)
            if status
            else msg("mail.session.imap-starttls-nothing", where=session.where)
        )
    session.expect_nothing_more(msg("mail.session.what.its-starttls"))
    return info


def upgrade(
    sock: socket.socket,
    protocol: Protocol,
    *,
    timeout: float,
    ehlo_name: str = "cyberstd.invalid",
) -> StartTlsInfo:
    """Speak the plain-text part of `protocol` on a connected socket, up to STARTTLS accepted.

    SMTP: read the banner, send EHLO, check that STARTTLS is advertised, send STARTTLS and
    expect 220. IMAP: read the greeting, send `a1 CAPABILITY`, check STARTTLS, send
    `a2 STARTTLS` and expect OK. Afterwards the socket (timeout `timeout`) is ready for
    `ssl_context.wrap_socket(sock, server_hostname=...)`.

    Each reply must arrive complete within `timeout` seconds, with lines of at most 4 KB and
    at most 100 lines. Raises StartTlsNotOffered (carrying banner and capabilities) when
    STARTTLS is not advertised, ProtocolError on anything malformed or refused, ProbeTimeout
    when the server is too slow, ConnectivityError when the connection breaks.
    """
    _check_ehlo_name(ehlo_name)
    session = _Session(sock, timeout)
    info = _upgrade_smtp(session, ehlo_name) if protocol == "smtp" else _upgrade_imap(session)
    sock.settimeout(timeout)
    return info


def probe_smtp(
    address: str, port: int, *, timeout: float, ehlo_name: str = "cyberstd.invalid"
) -> StartTlsInfo:
    """Connect to an SMTP server, read its banner and EHLO answer, QUIT; STARTTLS is not sent.

    `starttls_offered` on the result says whether the server advertises STARTTLS. The same
    bounds and errors as `upgrade` apply; the connection itself may take `timeout` too.
    """
    _check_ehlo_name(ehlo_name)
    with open_tcp(address, port, timeout) as sock:
        session = _Session(sock, timeout)
        info = _smtp_greet(session, ehlo_name)
        # Politeness only: the verdict is known, so a server that ignores QUIT changes nothing.
        with contextlib.suppress(ProbeError, OSError):
            session.timeout = min(timeout, _QUIT_TIMEOUT)
            session.send("QUIT")
            session.smtp_reply(msg("mail.session.what.quit"))
        return info
