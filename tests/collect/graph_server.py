"""A local stand-in for the Microsoft identity platform and Microsoft Graph, on 127.0.0.1.

It speaks https with a certificate from a test CA made here (msal accepts only https for its
authority; a client trusts `ca_file()`), serves what msal asks of the identity platform (the
tenant's OpenID configuration, the token endpoint) and verifies a sign-in: a client secret, or
a client assertion (a JWT signed PS256/RS256 with the app's key, whose `x5t#S256`/`x5t` names a
certificate registered on the app). It answers the Graph reads of `cyberstd collect m365` in
Graph's JSON shapes (`@odata.context`, `value`, `@odata.nextLink` paging, `$expand=members`
cut at 20, `$select`, error objects), the Intune ones included, and can be told to misbehave:
answer a route with queued faults first (429/503 with Retry-After, a dropped connection),
refuse a route with 401/403, page to another host, or behave as a tenant without Entra ID
P1/P2 or without Intune.
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

from cryptography import x509

from tests.collect.intune_data import COMPLIANCE_POLICIES, make_devices, protection_state
from tests.collect.pki import AssertionRefused, app_certificate, server_context, verify_assertion

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
    devices: list[dict[str, Any]] = field(default_factory=lambda: make_devices(30))
    intune: bool = True  # False: a tenant without an Intune licence
    secret: str | None = CLIENT_SECRET  # the app's client secret (None: it has none)
    registered: list[x509.Certificate] = field(
        default_factory=lambda: [app_certificate().cert]
    )  # the certificates uploaded to the app registration
    assertions: list[dict[str, Any]] = field(default_factory=list)  # verified claims
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
            self._unknown_tenant(path)
            return
        form = {k: v[0] for k, v in parse_qs(body).items()}
        if form.get("grant_type") != "client_credentials" or form.get("scope") != (
            self.base + "/.default"
        ):
            self._send(400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad"})
            return
        if form.get("client_id") != CLIENT_ID:
            self._refuse_sign_in(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{TENANT}'. This can happen if the application has not been "
                "installed by the administrator of the tenant.",
            )
            return
        if "client_assertion" in form:
            if form.get("client_assertion_type") != (
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ):
                self._refuse_sign_in(400, "invalid_request", 50027, "Invalid assertion type.")
                return
            try:
                claims = verify_assertion(
                    form["client_assertion"], self.state.registered, self._token_url, CLIENT_ID
                )
            except AssertionRefused as refused:
                signature = form["client_assertion"].rpartition(".")[2]
                echoed = f"(signature {signature}) " if self.state.echo_credentials else ""
                self._refuse_sign_in(
                    401, "invalid_client", refused.code, echoed + refused.description
                )
                return
            with self.state.lock:
                self.state.assertions.append(claims)
        elif self.state.secret is None or form.get("client_secret") != self.state.secret:
            self._refuse_sign_in(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{CLIENT_ID}'"
                + (f" (got {form.get('client_secret')!r})" if self.state.echo_credentials else ""),
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

    @property
    def _token_url(self) -> str:
        return f"{self.base}/{TENANT}/oauth2/v2.0/token"

    def _refuse_sign_in(self, status: int, error: str, code: int, description: str) -> None:
        """An error answer of the token endpoint, as Entra writes them."""
        self._send(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {description}\r\n"
                "Trace ID: 5a6b7c8d\r\nCorrelation ID: 9e0f1a2b\r\nTimestamp: 2026-03-01",
                "error_codes": [code],
                "timestamp": "2026-03-01 10:00:00Z",
                "trace_id": "5a6b7c8d-0000-4000-8000-000000000001",
                "correlation_id": "9e0f1a2b-0000-4000-8000-000000000002",
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            },
        )

    def _unknown_tenant(self, path: str) -> None:
        self._send(
            400,
            {
                "error": "invalid_tenant",
                "error_description": f"AADSTS90002: Tenant '{path.split('/')[1]}' not found. "
                "Check to make sure you have the correct tenant ID and are signing into the "
                "correct cloud.\r\nTrace ID: 1\r\n",
                "error_codes": [90002],
                "error_uri": "https://login.microsoftonline.com/error?code=90002",
            },
        )

    def _discovery(self, path: str) -> None:
        """The tenant's OpenID configuration, which msal reads before signing in."""
        if self._fault("discovery"):
            return
        if path != f"/{TENANT}/v2.0/.well-known/openid-configuration":
            self._unknown_tenant(path)
            return
        root = f"{self.base}/{TENANT}"
        self._send(
            200,
            {
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{self.base}/{TENANT}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{self.base}/{TENANT}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
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
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            self._discovery(path)
            return
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
            "/v1.0/deviceManagement/managedDevices": "devices",
            "/v1.0/deviceManagement/deviceCompliancePolicies": "compliance",
        }
        if path in routes:
            return routes[path]
        if path.startswith("/v1.0/directoryRoles/") and path.endswith("/members"):
            return "members"
        if path.startswith("/v1.0/deviceManagement/managedDevices/") and path.endswith(
            "/windowsProtectionState"
        ):
            return "protection"
        return None

    def _no_intune(self) -> bool:
        """Graph's answer to a tenant without an Intune licence; True when it was given."""
        if self.state.intune:
            return False
        self._send(400, _graph_error("BadRequest", "Request not applicable to target tenant."))
        return True

    def _get_devices(self, path: str, query: dict[str, str]) -> None:
        if self._no_intune():
            return
        fields = [f for f in query.get("$select", "").split(",") if f]
        devices = [
            {k: d[k] for k in fields if k in d} if fields else dict(d) for d in self.state.devices
        ]
        context = "deviceManagement/managedDevices"
        context += f"({','.join(fields)})" if fields else ""
        self._page(path, query, devices, context, self.base)

    def _get_protection(self, path: str, query: dict[str, str]) -> None:
        if self._no_intune():
            return
        device_id = path.split("/")[4]
        found = [(i, d) for i, d in enumerate(self.state.devices) if d["id"] == device_id]
        state = protection_state(found[0][1], found[0][0]) if found else None
        if state is None:
            self._send(
                404,
                _graph_error("ResourceNotFound", f"windowsProtectionState of '{device_id}'"),
            )
            return
        context = f"{self.base}/v1.0/$metadata#deviceManagement/managedDevices('{device_id}')"
        if found[0][0] % 10 == 6:
            # The Graph reference's example wraps the object in "value"; some answers do too.
            self._send(200, {"value": state})
            return
        self._send(200, {"@odata.context": f"{context}/windowsProtectionState/$entity", **state})

    def _get_compliance(self, path: str, query: dict[str, str]) -> None:
        if self._no_intune():
            return
        expand = query.get("$expand") == "assignments"
        policies = [
            {k: v for k, v in p.items() if expand or k != "assignments"}
            for p in COMPLIANCE_POLICIES
        ]
        context = "deviceManagement/deviceCompliancePolicies"
        context += "(assignments())" if expand else ""
        self._page(path, query, policies, context, self.base)

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
        self._tls = server_context()

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        return self._tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that refuses the test CA ends its connection, which is no failure."""

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


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
