"""Lab mail servers on loopback: SMTP with STARTTLS, IMAP with STARTTLS or implicit TLS."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from typing import Literal

from cyberstd.lab.certs import CertFiles
from cyberstd.lab.server import ThreadedTcpServer
from cyberstd.lab.web import server_tls_context

# The longest command line a lab server reads; longer ones end the session.
MAX_COMMAND = 4096

# A banner meant to break whatever displays it, yet valid SMTP: HTML and script tags, ANSI
# escapes that clear the screen, colour text and set the terminal title, and control characters.
HOSTILE_SMTP_BANNER = (
    '220-<html><script>alert("cyberstd")</script><img src=x onerror=alert(1)>\r\n'
    "220-\x1b[2J\x1b[31mRED\x1b[0m\x1b]0;owned\x07 \x00\x01\x08\x7f ctrl\r\n"
    "220 {host} ESMTP <b>ready</b>\r\n"
)
HOSTILE_EHLO_LINE = "X-<marquee>\x1b[5mBLINK\x1b[0m</marquee>\x00"


def mta_sts_policy(
    mx_patterns: Sequence[str],
    *,
    mode: Literal["enforce", "testing", "none"] = "enforce",
    max_age: int = 604800,
) -> bytes:
    """The body of an MTA-STS policy file (RFC 8461 section 3.2), to serve from a lab WebServer."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {mx}" for mx in mx_patterns)]
    lines.append(f"max_age: {max_age}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


class _Link:
    """One client connection: line reads bounded in size, and the switch to TLS."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.tls = False
        self._buffer = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode("utf-8"))

    def readline(self) -> str | None:
        """The next line without its line break; None when the client hung up or sent too much."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_COMMAND:
                return None
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.removesuffix(b"\r").decode("utf-8", "replace")

    def start_tls(self, context: ssl.SSLContext) -> None:
        # Anything the client pipelined before the handshake must not count as protected.
        self._buffer = b""
        self.sock = context.wrap_socket(self.sock, server_side=True)
        self.tls = True


class _LabServer(ThreadedTcpServer):
    """A mail server: one `_Link` per connection, which may switch to TLS (STARTTLS) midway."""

    # A handshake the client fails shows up as ValueError as well as OSError.
    quiet_errors = (OSError, ValueError)

    def __init__(self, *, address: str, port: int, cert: CertFiles | None) -> None:
        super().__init__(address=address, port=port)
        self.cert = cert
        self.commands: list[str] = []
        self._tls = server_tls_context(cert) if cert is not None else None

    def handle(self, conn: socket.socket) -> None:
        link = _Link(conn)
        try:
            self._handle(link)
        finally:
            link.sock.close()  # after STARTTLS the TLS socket owns the connection

    def _record(self, command: str) -> None:
        with self._lock:
            self.commands.append(command)

    def _handle(self, link: _Link) -> None:
        raise NotImplementedError

    def _start_tls(self, link: _Link) -> None:
        assert self._tls is not None
        link.start_tls(self._tls)


def _one_line(name: str, value: str) -> None:
    if any(ch in value for ch in "\r\n") or not value:
        raise ValueError(f"{name} {value!r} must be one non-empty line")


class SmtpServer(_LabServer):
    """An SMTP server on loopback that speaks enough SMTP for the mail and TLS probes.

    It sends a 220 banner, answers EHLO (advertising STARTTLS when `starttls` is on and TLS is
    not yet active), HELO, STARTTLS (220, then TLS with `cert`), NOOP, RSET, MAIL (250), RCPT
    (550: it relays nothing), QUIT (221), and 502 to anything else. `implicit_tls=True` starts
    TLS at once, as on port 465. Use it as a context manager; `port` is the bound port (give 0
    to let the system pick one).

    `banner` replaces the greeting and is sent as given (a CRLF is added when it does not end in
    a line break), so tests can send multi-line, malformed or refusing (554) greetings.
    `hostile=True` sends a valid greeting and EHLO answer full of HTML, script tags, ANSI
    escapes and control characters. `connections` counts accepted connections and `commands`
    lists every command line received, for tests to assert on.
    """

    kind = "smtp"

    def __init__(
        self,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        host_name: str = "mail.example.test",
        cert: CertFiles | None,
        starttls: bool = True,
        banner: str | None = None,
        hostile: bool = False,
        implicit_tls: bool = False,
    ) -> None:
        if (starttls or implicit_tls) and cert is None:
            raise ValueError("STARTTLS and implicit TLS need a certificate")
        if starttls and implicit_tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        _one_line("host name", host_name)
        super().__init__(address=address, port=port, cert=cert)
        self.host_name = host_name
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.hostile = hostile
        if banner is None:
            banner = (
                HOSTILE_SMTP_BANNER.format(host=host_name)
                if hostile
                else f"220 {host_name} ESMTP cyberstd lab\r\n"
            )
        self.banner = banner if banner.endswith("\n") else banner + "\r\n"

    def _ehlo(self, link: _Link, client: str) -> str:
        lines = [f"{self.host_name} greets {client or 'you'}", "PIPELINING", "SIZE 10240000"]
        if self.starttls and not link.tls:
            lines.append("STARTTLS")
        if self.hostile:
            lines.append(HOSTILE_EHLO_LINE)
        lines += ["8BITMIME", "ENHANCEDSTATUSCODES"]
        return "".join(
            f"250{'-' if i < len(lines) - 1 else ' '}{line}\r\n" for i, line in enumerate(lines)
        )

    def _handle(self, link: _Link) -> None:
        if self.implicit_tls:
            self._start_tls(link)
        link.send(self.banner)
        while (line := link.readline()) is not None:
            self._record(line)
            verb, _, rest = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                link.send(self._ehlo(link, rest.strip()))
            elif verb == "HELO":
                link.send(f"250 {self.host_name}\r\n")
            elif verb == "STARTTLS":
                if not self.starttls or link.tls:
                    link.send("502 5.5.1 STARTTLS not available\r\n")
                    continue
                link.send("220 2.0.0 Ready to start TLS\r\n")
                self._start_tls(link)
            elif verb in ("NOOP", "RSET", "MAIL"):
                link.send("250 2.0.0 OK\r\n")
            elif verb == "RCPT":
                link.send("550 5.7.1 Relaying denied\r\n")
            elif verb == "QUIT":
                link.send("221 2.0.0 Bye\r\n")
                return
            else:
                link.send("502 5.5.2 Command not recognised\r\n")


class ImapServer(_LabServer):
    """An IMAP server on loopback: greeting, CAPABILITY, STARTTLS, NOOP, LOGOUT.

    CAPABILITY lists STARTTLS (and LOGINDISABLED) while `starttls` is on and TLS is not yet
    active; `implicit_tls=True` is IMAPS (port 993): TLS from the first byte, no STARTTLS.
    `greeting` replaces the "* OK" greeting (a CRLF is added when missing). Every other command
    gets a tagged BAD. `connections` and `commands` are kept as on SmtpServer.
    """

    kind = "imap"

    def __init__(
        self,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        host_name: str = "mail.example.test",
        cert: CertFiles | None,
        starttls: bool = True,
        implicit_tls: bool = False,
        greeting: str | None = None,
    ) -> None:
        if (starttls or implicit_tls) and cert is None:
            raise ValueError("STARTTLS and implicit TLS need a certificate")
        _one_line("host name", host_name)
        super().__init__(address=address, port=port, cert=cert)
        self.host_name = host_name
        self.starttls = starttls and not implicit_tls
        self.implicit_tls = implicit_tls
        if greeting is None:
            greeting = f"* OK [{host_name}] IMAP4rev1 cyberstd lab ready\r\n"
        self.greeting = greeting if greeting.endswith("\n") else greeting + "\r\n"

    def _capabilities(self, link: _Link) -> str:
        if self.starttls and not link.tls:
            return "IMAP4rev1 STARTTLS LOGINDISABLED"
        return "IMAP4rev1 AUTH=PLAIN"

    def _handle(self, link: _Link) -> None:
        if self.implicit_tls:
            self._start_tls(link)
        link.send(self.greeting)
        while (line := link.readline()) is not None:
            self._record(line)
            tag, _, rest = line.partition(" ")
            command = rest.split(" ", 1)[0].upper()
            if not tag or not command:
                link.send("* BAD missing tag or command\r\n")
            elif command == "CAPABILITY":
                link.send(f"* CAPABILITY {self._capabilities(link)}\r\n{tag} OK done\r\n")
            elif command == "STARTTLS":
                if not self.starttls or link.tls:
                    link.send(f"{tag} BAD STARTTLS not available\r\n")
                    continue
                link.send(f"{tag} OK Begin TLS negotiation now\r\n")
                self._start_tls(link)
            elif command == "NOOP":
                link.send(f"{tag} OK done\r\n")
            elif command == "LOGOUT":
                link.send(f"* BYE logging out\r\n{tag} OK done\r\n")
                return
            else:
                link.send(f"{tag} BAD unknown command\r\n")
