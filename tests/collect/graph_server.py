"""A local stand-in for the Microsoft identity platform and Microsoft Graph, on 127.0.0.1.

It answers the client-credentials token request and the six Graph reads of `cyberstd
collect m365` in Graph's JSON shapes (`@odata.context`, `value`, `@odata.nextLink` paging,
`$expand=members` cut at 20, error objects), and can be told to misbehave: answer a route with
queued faults first (429/503 with Retry-After, a dropped connection), refuse a route with
401/403, page to another host, or behave as a tenant without Entra ID P1/P2.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TENANT = "3f2a9c1e-5b7d-4e8f-a1c2-d3e4f5a6b7c8"
CLIENT_ID = "9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a"
CLIENT_SECRET = "Qx8~kZ2.fakeSecretValueForTests_9vN3mR7pL1wT5"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
EXPAND_LIMIT = 20


@dataclass
class Fault:
    """One bad answer served before the normal one: a status (with headers) or a dropped line."""

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    body: str
    authorization: str | None


def make_users(count: int) -> list[dict[str, Any]]:
    """Users as Graph returns them with signInActivity selected."""
    users = []
    for i in range(count):
        users.append(
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "displayName": f"Leerling {i}"
                if i >= 3
                else ["Directie", "ICT", "Secretariaat"][i],
                "userPrincipalName": f"user{i}@sint-voorbeeld.be",
                "mail": None if i == 1 else f"user{i}@sint-voorbeeld.be",
                "accountEnabled": i % 17 != 0 or i == 0,
                "userType": "Guest" if i % 50 == 49 else "Member",
                "createdDateTime": "2021-09-01T07:30:00Z",
                "signInActivity": {
                    "lastSignInDateTime": f"2026-0{1 + i % 9}-15T08:00:00Z",
                    "lastSignInRequestId": f"req-{i}",
                    "lastNonInteractiveSignInDateTime": None,
                    "lastNonInteractiveSignInRequestId": None,
                },
            }
        )
    return users


def _member(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user["id"],
        "displayName": user["displayName"],
        "userPrincipalName": user["userPrincipalName"],
    }


@dataclass
class GraphState:
    """What the tenant holds and how the server behaves; change it between runs."""

    users: list[dict[str, Any]] = field(default_factory=lambda: make_users(250))
    page_size: int = 100
    premium: bool = True
    expand_members: bool = True
    security_defaults_enabled: bool = False
    foreign_next_link: str | None = None  # base URL that the users' next page points at
    faults: dict[str, list[Fault]] = field(default_factory=dict)  # route -> faults to serve first
    deny: dict[str, int] = field(default_factory=dict)  # route -> 401 or 403, every time
    echo_credentials: bool = False  # a careless server: errors repeat the secret or the token
    tokens: list[str] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def roles(self) -> list[dict[str, Any]]:
        admins = [_member(u) for u in self.users[:2]]
        helpdesk = [_member(u) for u in self.users[:25]]  # more than $expand returns
        return [
            {
                "id": "a1b2c3d4-0001-4000-8000-000000000001",
                "deletedDateTime": None,
                "description": "Can manage all aspects of Microsoft Entra ID and Microsoft services "
                "that use Microsoft Entra identities.",
                "displayName": "Global Administrator",
                "roleTemplateId": GLOBAL_ADMIN,
                "members": admins,
            },
            {
                "id": "a1b2c3d4-0002-4000-8000-000000000002",
                "deletedDateTime": None,
                "description": "Can reset passwords for non-administrators and Helpdesk "
                "Administrators.",
                "displayName": "Helpdesk Administrator",
                "roleTemplateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
                "members": helpdesk,
            },
        ]

    def requests_to(self, route_prefix: str) -> list[str]:
        return [r.path for r in self.log if r.path.startswith(route_prefix)]


POLICIES = [
    {
        "id": "c0ffee00-1111-4222-8333-444455556666",
        "templateId": None,
        "displayName": "MFA voor beheerders",
        "createdDateTime": "2023-02-01T10:00:00Z",
        "modifiedDateTime": "2024-05-10T12:30:00Z",
        "state": "enabled",
        "sessionControls": None,
        "conditions": {
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "clientAppTypes": ["all"],
            "platforms": None,
            "locations": None,
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": [],
                "includeUserActions": [],
            },
            "users": {
                "includeUsers": [],
                "excludeUsers": [],
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [GLOBAL_ADMIN],
                "excludeRoles": [],
            },
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength": None,
        },
    },
    {
        "id": "c0ffee00-2222-4333-8444-555566667777",
        "templateId": None,
        "displayName": "Verouderde verificatie blokkeren",
        "createdDateTime": "2023-02-01T10:05:00Z",
        "modifiedDateTime": None,
        "state": "enabledForReportingButNotEnforced",
        "sessionControls": None,
        "conditions": {
            "clientAppTypes": ["exchangeActiveSync", "other"],
            "applications": {"includeApplications": ["All"], "excludeApplications": []},
            "users": {"includeUsers": ["All"], "excludeUsers": []},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    },
]


DOMAINS = [
    {
        "authenticationType": "Managed",
        "availabilityStatus": None,
        "id": name,
        "isAdminManaged": True,
        "isDefault": name == "sint-voorbeeld.be",
        "isInitial": name.endswith(".onmicrosoft.com"),
        "isRoot": True,
        "isVerified": True,
        "supportedServices": ["Email", "OfficeCommunicationsOnline"],
    }
    for name in ("sint-voorbeeld.be", "sintvoorbeeld.onmicrosoft.com")
]


def registration(user: dict[str, Any], index: int) -> dict[str, Any]:
    """A user's row of the registration report (userRegistrationDetails)."""
    registered = index % 3 != 2
    return {
        "id": user["id"],
        "userPrincipalName": user["userPrincipalName"],
        "userDisplayName": user["displayName"],
        "isAdmin": index < 2,
        "isSsprRegistered": registered,
        "isSsprEnabled": True,
        "isSsprCapable": registered,
        "isMfaRegistered": registered,
        "isMfaCapable": registered,
        "isPasswordlessCapable": False,
        "lastUpdatedDateTime": "2026-02-28T22:10:05.1234567Z",
        "methodsRegistered": ["microsoftAuthenticatorPush"] if registered else [],
        "userType": user["userType"].lower(),
    }


def _graph_error(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-03-01T10:00:00",
                "request-id": "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
                "client-request-id": "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
            },
        }
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GraphHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the request log instead."""

    @property
    def state(self) -> GraphState:
        return self.server.state

    @property
    def base(self) -> str:
        return self.server.base

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; odata.metadata=minimal")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _fault(self, route: str) -> bool:
        """Serve the next queued fault of a route, if any; True when one was served."""
        with self.state.lock:
            queue = self.state.faults.get(route) or []
            fault = queue.pop(0) if queue else None
        if fault is None:
            return False
        if fault.drop:
            self.close_connection = True
            return True
        code = "TooManyRequests" if fault.status == 429 else "serviceNotAvailable"
        self._send(fault.status, _graph_error(code, "Please retry later."), fault.headers)
        return True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        path = unquote(self.path)
        with self.state.lock:
            self.state.log.append(Request("POST", path, body, self.headers.get("Authorization")))
        if self._fault("token"):
            return
        if path != f"/{TENANT}/oauth2/v2.0/token":
            self._send(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{path.split('/')[1]}' not found. "
                    "Check to make sure you have the correct tenant ID.\r\nTrace ID: 1\r\n",
                    "error_codes": [90002],
                },
            )
            return
        form = {k: v[0] for k, v in parse_qs(body).items()}
        if form.get("grant_type") != "client_credentials" or form.get("scope") != (
            self.base + "/.default"
        ):
            self._send(400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad"})
            return
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            self._send(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure "
                    "the secret being sent in the request is the client secret value, not the "
                    f"client secret ID, for a secret added to app '{CLIENT_ID}'"
                    + (
                        f" (got {form.get('client_secret')!r})"
                        if self.state.echo_credentials
                        else ""
                    )
                    + ".\r\n"
                    "Trace ID: 5a6b7c8d\r\nCorrelation ID: 9e0f1a2b\r\nTimestamp: 2026-03-01",
                    "error_codes": [7000215],
                    "error_uri": "https://login.microsoftonline.com/error?code=7000215",
                },
            )
            return
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJncmFwaCJ9." + secrets.token_urlsafe(
            24
        )
        with self.state.lock:
            self.state.tokens.append(token)
        self._send(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            },
        )

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.state.lock:
            self.state.log.append(
                Request("GET", unquote(self.path), "", self.headers.get("Authorization"))
            )
        route = self._route(path)
        if route is None:
            self._send(
                404, _graph_error("Request_ResourceNotFound", f"Resource '{path}' not found.")
            )
            return
        if self._fault(route):
            return
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.state.tokens:
            self._send(401, _graph_error("InvalidAuthenticationToken", "Access token is empty."))
            return
        if route in self.state.deny:
            status = self.state.deny[route]
            code = "Authorization_RequestDenied" if status == 403 else "InvalidAuthenticationToken"
            message = "Insufficient privileges to complete the operation."
            if self.state.echo_credentials:
                message += f" Presented: {auth}."
            self._send(status, _graph_error(code, message))
            return
        getattr(self, f"_get_{route}")(path, query)

    def _route(self, path: str) -> str | None:
        routes = {
            "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": "defaults",
            "/v1.0/identity/conditionalAccess/policies": "policies",
            "/v1.0/directoryRoles": "roles",
            "/v1.0/users": "users",
            "/v1.0/domains": "domains",
            "/v1.0/reports/authenticationMethods/userRegistrationDetails": "registration",
        }
        if path in routes:
            return routes[path]
        if path.startswith("/v1.0/directoryRoles/") and path.endswith("/members"):
            return "members"
        return None

    def _get_defaults(self, path: str, query: dict[str, str]) -> None:
        self._send(
            200,
            {
                "@odata.context": f"{self.base}/v1.0/$metadata#policies/"
                "identitySecurityDefaultsEnforcementPolicy/$entity",
                "id": "00000000-0000-0000-0000-000000000005",
                "displayName": "Security Defaults",
                "description": "Security defaults is a set of basic identity security mechanisms "
                "recommended by Microsoft.",
                "isEnabled": self.state.security_defaults_enabled,
            },
        )

    def _get_policies(self, path: str, query: dict[str, str]) -> None:
        self._send(
            200,
            {
                "@odata.context": f"{self.base}/v1.0/$metadata#identity/conditionalAccess/policies",
                "value": POLICIES,
            },
        )

    def _get_roles(self, path: str, query: dict[str, str]) -> None:
        roles = self.state.roles()
        for role in roles:
            if query.get("$expand") == "members" and self.state.expand_members:
                role["members"] = role["members"][:EXPAND_LIMIT]
            else:
                del role["members"]
        context = "directoryRoles(members())" if query.get("$expand") else "directoryRoles"
        self._send(200, {"@odata.context": f"{self.base}/v1.0/$metadata#{context}", "value": roles})

    def _get_members(self, path: str, query: dict[str, str]) -> None:
        role_id = path.split("/")[3]
        role = next((r for r in self.state.roles() if r["id"] == role_id), None)
        if role is None:
            self._send(404, _graph_error("Request_ResourceNotFound", f"'{role_id}' not found."))
            return
        self._page(path, query, role["members"], "directoryObjects", self.base)

    def _get_users(self, path: str, query: dict[str, str]) -> None:
        fields = query.get("$select", "").split(",")
        if "signInActivity" in fields and not self.state.premium:
            self._non_premium()
            return
        users = [{k: u[k] for k in fields if k in u} for u in self.state.users]
        context = f"users({','.join(fields)})" if query.get("$select") else "users"
        self._page(path, query, users, context, self.state.foreign_next_link or self.base)

    def _non_premium(self) -> None:
        self._send(
            403,
            _graph_error(
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            ),
        )

    def _get_domains(self, path: str, query: dict[str, str]) -> None:
        self._send(200, {"@odata.context": f"{self.base}/v1.0/$metadata#domains", "value": DOMAINS})

    def _get_registration(self, path: str, query: dict[str, str]) -> None:
        if not self.state.premium:
            self._non_premium()
            return
        rows = [registration(u, i) for i, u in enumerate(self.state.users)]
        context = "reports/authenticationMethods/userRegistrationDetails"
        self._page(path, query, rows, context, self.base)

    def _page(
        self, path: str, query: dict[str, str], items: list[Any], context: str, next_base: str
    ) -> None:
        token = query.pop("$skiptoken", None)
        start = int(base64.urlsafe_b64decode(token).decode().split(":")[1]) if token else 0
        end = start + self.state.page_size
        body: dict[str, Any] = {
            "@odata.context": f"{self.base}/v1.0/$metadata#{context}",
            "value": items[start:end],
        }
        if end < len(items):
            skip = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode()
            rest = "".join(f"{k}={v}&" for k, v in query.items())
            body["@odata.nextLink"] = f"{next_base}{path}?{rest}$skiptoken={skip}"
        self._send(200, body)


class GraphHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GraphState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def graph_server(state: GraphState | None = None) -> Iterator[GraphHTTPServer]:
    """Run the server on an ephemeral loopback port for the duration of a `with` block."""
    server = GraphHTTPServer(state or GraphState())
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="graph-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
