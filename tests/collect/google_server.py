"""A local stand-in for Google's OAuth2 token endpoint and the Admin SDK Directory API.

It speaks the documented JSON: the token endpoint takes a service account's signed JWT
(`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`), verifies its RS256 signature with
the key's public key and checks `iss`, `sub` (the administrator), `aud` and `scope` against the
delegation granted; users.list pages with `maxResults`/`pageToken` as the API does, answering
`{"kind": "admin#directory#users", "etag": ..., "users": [...], "nextPageToken": ...}`.
Faults (429/503 with Retry-After, 403) can be queued per path. Loopback only.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ADMIN = "ict@sintjozef.test"
ACCOUNT = "cyberstd-reader@school-audit.iam.gserviceaccount.test"
SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
TOKEN = "ya29.local-test-access-token"
USERS_PATH = "/admin/directory/v1/users"
AUDIENCE = "https://oauth2.googleapis.com/token"


@dataclass
class Fault:
    """One answer given instead of the normal one."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    raw: bytes | None = None  # a body sent as it is (not JSON, or JSON no encoder would write)


@dataclass
class State:
    """What the server knows and what it saw."""

    public_key: rsa.RSAPublicKey | None = None
    users: list[dict[str, Any]] = field(default_factory=list)
    # admin -> the scopes granted to the service account (domain-wide delegation)
    delegated: dict[str, set[str]] = field(default_factory=dict)
    page_size: int = 100
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    echo: bool = False  # a careless token endpoint: its refusals repeat what was posted
    lock: threading.Lock = field(default_factory=threading.Lock)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def make_key(folder: Path, token_uri: str) -> tuple[Path, rsa.RSAPublicKey]:
    """A service account key file as the Cloud console downloads it, with a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "school-audit",
        "private_key_id": "3f9c1e7a52b04d6e8a1f0c2b9d4e6a7b8c9d0e1f",
        "private_key": pem,
        "client_email": ACCOUNT,
        "client_id": "104729385610293847561",
        "auth_uri": "https://accounts.google.test/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.test/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.test/robot/v1/metadata/x509/x",
        "universe_domain": "googleapis.com",
    }
    path = folder / "service-account.json"
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return path, key.public_key()


def make_users(n: int, domain: str = "sintjozef.test") -> list[dict[str, Any]]:
    """n users as the Directory API gives them: the first a super admin, every third a pupil."""
    out = []
    for i in range(n):
        pupil = i % 3 == 2
        out.append(
            {
                "kind": "admin#directory#user",
                "id": str(104000000000000000000 + i),
                "etag": f'"etag/{i}"',
                "primaryEmail": f"user{i:04d}@{'leerling.' if pupil else ''}{domain}",
                "name": {"fullName": f"Gebruiker {i}"},
                "isAdmin": i in (0, 1),
                "isDelegatedAdmin": False,
                "lastLoginTime": "2026-02-27T08:00:00.000Z",
                "creationTime": "2020-09-01T06:30:00.000Z",
                "suspended": False,
                "archived": False,
                "orgUnitPath": "/Leerlingen/3A" if pupil else "/Personeel",
                "isEnrolledIn2Sv": not pupil,
                "isEnforcedIn2Sv": not pupil,
            }
        )
    return out


class Handler(BaseHTTPRequestHandler):
    server: GoogleHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _fault(self, path: str) -> bool:
        state = self.server.state
        with state.lock:
            queue = state.faults.get(path) or []
            fault = queue.pop(0) if queue else None
        if fault is None:
            return False
        if fault.raw is not None:
            self.send_response(fault.status)
            for k, v in {"Content-Length": str(len(fault.raw)), **fault.headers}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(fault.raw)
            return True
        body = fault.body or {
            "error": {
                "code": fault.status,
                "message": "Quota exceeded" if fault.status == 429 else "Backend Error",
                "errors": [
                    {"reason": "rateLimitExceeded" if fault.status == 429 else "backendError"}
                ],
            }
        }
        self._send(fault.status, body, fault.headers)
        return True

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        with state.lock:
            state.requests.append(("POST", self.path))
            state.bodies.append(raw)
        if urlsplit(self.path).path != "/token" or self._fault("/token"):
            if urlsplit(self.path).path != "/token":
                self._send(404, {"error": "not_found"})
            return
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        if state.echo:
            said = f"Invalid JWT: {form.get('assertion')} (signature {form.get('assertion', '').split('.')[-1]})"
            self._send(400, {"error": "invalid_grant", "error_description": said})
            return
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._send(400, {"error": "unsupported_grant_type"})
            return
        try:
            header_b64, claims_b64, sig_b64 = form["assertion"].split(".")
            header = json.loads(_b64(header_b64))
            claims = json.loads(_b64(claims_b64))
            assert header.get("alg") == "RS256" and state.public_key is not None
            state.public_key.verify(
                _b64(sig_b64),
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (KeyError, ValueError, AssertionError, InvalidSignature):
            self._send(
                400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            )
            return
        with state.lock:
            state.assertions.append(claims)
        # google-auth signs for Google's token audience whatever the token_uri; accept both
        audiences = {AUDIENCE, f"http://127.0.0.1:{self.server.server_address[1]}/token"}
        if claims.get("iss") != ACCOUNT or claims.get("aud") not in audiences:
            self._send(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
            return
        sub = claims.get("sub")
        if sub not in state.delegated:
            self._send(
                400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
            )
            return
        asked = set(str(claims.get("scope", "")).split())
        if not asked or not asked <= state.delegated[sub]:
            self._send(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens using "
                    "this method, or client not authorized for any of the scopes requested.",
                },
            )
            return
        self._send(200, {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"})

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        with state.lock:
            state.requests.append(("GET", self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Login Required.",
                        "errors": [{"reason": "required"}],
                    }
                },
            )
            return
        if self._fault(parts.path):
            return
        if parts.path != USERS_PATH:
            self._send(404, {"error": {"code": 404, "message": "Not Found"}})
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query.get("customer") != "my_customer":
            self._send(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "Bad Request",
                        "errors": [{"reason": "badRequest"}],
                    }
                },
            )
            return
        size = min(int(query.get("maxResults", "100")), state.page_size)
        start = int(query.get("pageToken", "0") or "0")
        page = state.users[start : start + size]
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": '"list-etag"'}
        if page:
            body["users"] = page
        if start + size < len(state.users):
            body["nextPageToken"] = str(start + size)
        self._send(200, body)


class GoogleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def google_server(
    folder: Path, users: list[dict[str, Any]] | None = None
) -> Iterator[tuple[GoogleHTTPServer, Path]]:
    """A running server and the path of a key file whose token_uri points at it."""
    server = GoogleHTTPServer(State())
    key_file, public = make_key(folder, f"{server.base}/token")
    server.state.public_key = public
    server.state.users = make_users(250) if users is None else users
    server.state.delegated = {ADMIN: {SCOPE}}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, key_file
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
