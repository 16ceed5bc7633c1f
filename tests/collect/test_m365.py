"""`cyberstd collect m365` against a local Graph server: paging, throttling, refusals, writing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from click.testing import CliRunner, Result

from cyberstd.cli.collect import collect
from cyberstd.collect.graph import (
    ENV_CERTIFICATE,
    ENV_CLIENT,
    ENV_GRAPH,
    ENV_LOGIN,
    ENV_SECRET,
    ENV_TENANT,
    GraphAccessError,
    GraphClient,
    GraphError,
    Limits,
    retry_after,
    settings_from_env,
)
from cyberstd.collect.m365 import RESOURCES, register_exports
from cyberstd.collect.m365 import collect as collect_m365
from cyberstd.errors import UsageError
from cyberstd.messages import Msg
from cyberstd.schema import SchoolFile
from cyberstd.validation import parse
from cyberstd.yamlsrc import load
from tests.collect.graph_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    Fault,
    GraphHTTPServer,
    make_users,
)
from tests.collect.pki import ca_file

FILES = {
    "security-defaults.json": "entra-security-defaults",
    "conditional-access.json": "entra-conditional-access",
    "directory-roles.json": "entra-directory-roles",
    "users.json": "entra-users",
    "domains.json": "entra-domains",
    "registration-details.json": "entra-registration-details",
    "managed-devices.json": "intune-managed-devices",
    "compliance-policies.json": "intune-compliance-policies",
}
FIXED_NOW = dt.datetime(2026, 3, 1, 9, 30, 15, tzinfo=dt.UTC)


def trusting() -> requests.Session:
    """A session that trusts the local server's test CA."""
    session = requests.Session()
    session.verify = ca_file()
    return session


class Recorder:
    """Progress lines (in English) and sleeps, instead of printing and waiting."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sleeps: list[float] = []

    def say(self, message: Msg) -> None:
        self.lines.append(message.render("en"))

    def client(self, env: dict[str, str], limits: Limits | None = None) -> GraphClient:
        return GraphClient(
            settings_from_env(env),
            session=trusting(),
            sleep=self.sleeps.append,
            progress=self.say,
            limits=limits,
        )


def run(school: Path, env: dict[str, str], rec: Recorder | None = None, **limits: Any) -> Any:
    rec = rec or Recorder()
    with rec.client(env, Limits(**limits)) as client:
        return collect_m365(school, client, progress=rec.say, now=lambda: FIXED_NOW)


def read(school: Path, name: str) -> dict[str, Any]:
    data = json.loads((school / "exports" / "m365" / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def all_text(folder: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


def cli(env: dict[str, str | None], *args: str) -> Result:
    env = {"REQUESTS_CA_BUNDLE": ca_file(), "LANG": "C", "LC_ALL": None, **env}
    result = CliRunner().invoke(collect, ["m365", *args], env=env)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# --- a whole run ------------------------------------------------------------------------------


def test_collects_every_resource_in_graph_shape(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    rec = Recorder()
    outcome = run(school, env, rec)
    folder = school / "exports" / "m365"
    assert sorted(p.name for p in outcome.written) == sorted(FILES)
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)  # no temporary files left

    defaults = read(school, "security-defaults.json")
    assert defaults["isEnabled"] is False
    assert defaults["id"] == "00000000-0000-0000-0000-000000000005"
    assert "identitySecurityDefaultsEnforcementPolicy" in defaults["@odata.context"]
    assert "value" not in defaults

    for name in FILES:
        data = read(school, name)
        assert list(data)[:2] == ["@odata.context", "cyberstdCollected"]
        assert "@odata.nextLink" not in data
        stamp = data["cyberstdCollected"]
        assert stamp["at"] == "2026-03-01T09:30:15Z"
        assert dt.datetime.fromisoformat(stamp["at"]).utcoffset() == dt.timedelta(0)
        assert stamp["source"].startswith("/v1.0/")
        assert "127.0.0.1" not in stamp["source"]
    assert read(school, "users.json")["cyberstdCollected"]["source"] == (
        "/v1.0/users?$select=id,displayName,userPrincipalName,mail,accountEnabled,userType,"
        "createdDateTime,signInActivity"
    )
    policies = read(school, "conditional-access.json")
    assert policies["@odata.context"].endswith("$metadata#identity/conditionalAccess/policies")
    assert [p["displayName"] for p in policies["value"]] == [
        "MFA voor beheerders",
        "Verouderde verificatie blokkeren",
    ]
    assert policies["value"][0]["grantControls"]["builtInControls"] == ["mfa"]
    assert any("signing in to tenant" in line for line in rec.lines)
    assert any("reading users" in line for line in rec.lines)
    users = read(school, "users.json")["value"]
    assert users[0]["mail"] == "user0@sint-voorbeeld.be" and users[1]["mail"] is None
    domains = read(school, "domains.json")
    assert domains["@odata.context"].endswith("$metadata#domains")
    assert [(d["id"], d["isVerified"]) for d in domains["value"]] == [
        ("sint-voorbeeld.be", True),
        ("sintvoorbeeld.onmicrosoft.com", True),
    ]
    details = read(school, "registration-details.json")
    assert details["@odata.context"].endswith(
        "$metadata#reports/authenticationMethods/userRegistrationDetails"
    )
    assert details["cyberstdCollected"]["source"] == (
        "/v1.0/reports/authenticationMethods/userRegistrationDetails"
    )
    assert len(details["value"]) == 250  # three pages, merged
    assert details["value"][2]["isMfaRegistered"] is False


def test_paging_merges_three_pages_of_users(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    rec = Recorder()
    run(school, env, rec)
    users = read(school, "users.json")
    assert len(users["value"]) == 250
    assert [u["userPrincipalName"] for u in users["value"]] == [
        f"user{i}@sint-voorbeeld.be" for i in range(250)
    ]
    assert users["value"][0]["signInActivity"]["lastSignInDateTime"] == "2026-01-15T08:00:00Z"
    assert "$metadata#users(" in users["@odata.context"]
    requests = graph.state.requests_to("/v1.0/users")
    assert len(requests) == 3
    assert "$skiptoken" not in requests[0] and all("$skiptoken" in r for r in requests[1:])
    assert any("page 3: 250 items so far" in line for line in rec.lines)


def test_role_members_read_in_full_when_not_expanded(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    run(school, env)
    roles = {r["displayName"]: r for r in read(school, "directory-roles.json")["value"]}
    assert [m["displayName"] for m in roles["Global Administrator"]["members"]] == [
        "Directie",
        "ICT",
    ]
    # $expand returned 20 of 25 helpdesk members: the role is read again, all pages
    assert len(roles["Helpdesk Administrator"]["members"]) == 25
    member_requests = graph.state.requests_to("/v1.0/directoryRoles/")
    assert member_requests == ["/v1.0/directoryRoles/a1b2c3d4-0002-4000-8000-000000000002/members"]

    graph.state.expand_members = False
    graph.state.page_size = 10
    run(school, env)
    roles = {r["displayName"]: r for r in read(school, "directory-roles.json")["value"]}
    assert len(roles["Global Administrator"]["members"]) == 2
    assert len(roles["Helpdesk Administrator"]["members"]) == 25
    assert len(graph.state.requests_to("/v1.0/directoryRoles/")) == 1 + 1 + 3


def test_tenant_without_premium_licence_gets_users_without_sign_in_activity(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.premium = False
    rec = Recorder()
    run(school, env, rec)
    users = read(school, "users.json")
    assert len(users["value"]) == 250
    assert "signInActivity" not in users["value"][0]
    assert "P1 or P2" in users["cyberstdCollected"]["note"]
    assert "signInActivity" not in users["cyberstdCollected"]["source"]
    assert any("signInActivity not available" in line for line in rec.lines)
    # The registration report needs P1/P2 too: an empty list, saying why, and no failed run.
    details = read(school, "registration-details.json")
    assert details["value"] == []
    assert "P1 or P2" in details["cyberstdCollected"]["note"]
    assert any("registration report is not available" in line for line in rec.lines)


def test_a_refused_registration_report_is_still_an_error(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    # Only the licence answer means "no report"; a missing permission stops the run.
    graph.state.deny["registration"] = 403
    with pytest.raises(GraphAccessError, match=r"AuditLog\.Read\.All"):
        run(school, env)
    assert not (school / "exports" / "m365").exists()


# --- throttling and retries -------------------------------------------------------------------


def test_429_waits_for_retry_after(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["users"] = [Fault(429, {"Retry-After": "7"})]
    rec = Recorder()
    run(school, env, rec)
    assert rec.sleeps == [7.0]
    assert len(read(school, "users.json")["value"]) == 250
    assert len(graph.state.requests_to("/v1.0/users")) == 4
    assert any("HTTP 429 (throttled), retry 1 of 5; waiting 7 s" in line for line in rec.lines)


def test_503_is_retried_also_on_a_later_page_and_on_sign_in(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["token"] = [Fault(503, {"Retry-After": "1"})]
    graph.state.faults["policies"] = [Fault(503), Fault(503, {"Retry-After": "0"})]
    rec = Recorder()
    run(school, env, rec)
    assert rec.sleeps == [1.0, 2.0, 0.0]  # Retry-After, else 2**n seconds of back-off
    assert len(read(school, "conditional-access.json")["value"]) == 2


def test_dropped_connection_is_retried(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["roles"] = [Fault(drop=True), Fault(drop=True)]
    rec = Recorder()
    run(school, env, rec)
    assert rec.sleeps == [1.0, 2.0]
    assert any("the server closed the connection (retry 2 of 3)" in line for line in rec.lines)
    assert len(read(school, "directory-roles.json")["value"]) == 2


def test_gives_up_after_the_retry_limit(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["users"] = [Fault(429, {"Retry-After": "1"})] * 4
    rec = Recorder()
    with pytest.raises(GraphError, match=r"still HTTP 429 \(throttled\) after 3 retries") as info:
        run(school, env, rec, max_retries=3)
    assert info.value.exit_code == 3
    assert rec.sleeps == [1.0, 1.0, 1.0]
    assert not (school / "exports" / "m365").exists()  # nothing written: not every read succeeded


def test_gives_up_rather_than_wait_too_long(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["defaults"] = [Fault(429, {"Retry-After": "20"})]
    graph.state.faults["users"] = [Fault(429, {"Retry-After": "15"})]
    rec = Recorder()
    with pytest.raises(GraphError, match="would pass the 30 s this run may wait") as info:
        run(school, env, rec, max_total_wait=30)
    assert rec.sleeps == [20.0]
    assert "already waited 20 s" in str(info.value)


def test_unreachable_graph(env: dict[str, str], school: Path, graph: GraphHTTPServer) -> None:
    graph.shutdown()
    graph.server_close()
    rec = Recorder()
    with pytest.raises(GraphError, match=r"could not reach 127\.0\.0\.1 \(connection refused"):
        run(school, env, rec)
    assert rec.sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-1", None),
        ("soon", None),
        ("nan", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after(value) == seconds


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "status", "permission"),
    [
        ("roles", 401, "RoleManagement.Read.Directory"),
        ("policies", 403, "Policy.Read.All"),
        ("defaults", 403, "Policy.Read.All"),
        ("users", 403, "AuditLog.Read.All"),
        ("domains", 403, "Directory.Read.All"),
        ("registration", 403, "AuditLog.Read.All"),
        ("devices", 403, "DeviceManagementManagedDevices.Read.All"),
        ("protection", 403, "DeviceManagementManagedDevices.Read.All"),
        ("compliance", 401, "DeviceManagementConfiguration.Read.All"),
    ],
)
def test_refused_resource_names_the_permission(
    graph: GraphHTTPServer,
    env: dict[str, str],
    school: Path,
    route: str,
    status: int,
    permission: str,
) -> None:
    graph.state.deny[route] = status
    with pytest.raises(GraphAccessError) as info:
        run(school, env)
    message = str(info.value)
    assert f"HTTP {status}" in message
    assert permission in message
    assert "admin consent" in message
    assert info.value.exit_code == 2
    assert not (school / "exports" / "m365").exists()


def test_bad_client_secret(graph: GraphHTTPServer, env: dict[str, str], school: Path) -> None:
    env[ENV_SECRET] = "Wrong~Secret.ValueThatMustNotLeak_123"
    with pytest.raises(GraphAccessError) as info:
        run(school, env)
    message = str(info.value)
    assert "invalid_client: AADSTS7000215: Invalid client secret provided." in message
    assert "Trace ID" not in message  # only the first line of the description
    assert env[ENV_SECRET] not in message and CLIENT_SECRET not in message
    assert graph.state.requests_to("/v1.0/") == []


def test_credentials_echoed_by_the_server_are_scrubbed(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.echo_credentials = True
    graph.state.deny["policies"] = 403
    with pytest.raises(GraphAccessError) as info:
        run(school, env)
    assert "Presented: Bearer [redacted]." in str(info.value)
    assert graph.state.tokens[0] not in str(info.value)
    wrong = "Wrong~Secret.ValueThatMustNotLeak_123"
    with pytest.raises(GraphAccessError) as info:
        run(school, {**env, ENV_SECRET: wrong})
    assert "(got '[redacted]')" in str(info.value)
    assert wrong not in str(info.value)


def test_unknown_tenant(graph: GraphHTTPServer, env: dict[str, str], school: Path) -> None:
    env[ENV_TENANT] = "other.onmicrosoft.com"
    with pytest.raises(GraphAccessError, match="invalid_tenant: AADSTS90002: Tenant") as info:
        run(school, env)
    assert f"check {ENV_TENANT}" in str(info.value)
    assert info.value.exit_code == 2
    assert [r.method for r in graph.state.log] == ["GET"]  # msal stopped at the discovery


def test_next_link_to_another_host_is_refused(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    port = graph.server_address[1]
    graph.state.foreign_next_link = f"http://127.0.0.2:{port}"
    with pytest.raises(GraphError, match=r"next page points at another host \('127\.0\.0\.2:\d+'"):
        run(school, env)
    assert len(graph.state.requests_to("/v1.0/users")) == 1
    assert not (school / "exports" / "m365").exists()


# --- writing ----------------------------------------------------------------------------------


def test_school_yaml_lists_the_files_and_keeps_comments(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    before = (school / "school.yaml").read_text(encoding="utf-8")
    outcome = run(school, env)
    after = (school / "school.yaml").read_text(encoding="utf-8")
    assert outcome.added == [f"exports/m365/{name}" for name in FILES]
    comments = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
    assert comments == [line.strip() for line in after.splitlines() if line.strip().startswith("#")]
    keys = [line.split(":")[0] for line in after.splitlines() if line[:1].isalpha()]
    assert keys == [
        "school",
        "profile",
        "domains",
        "hosts",
        "zones",
        "exports",
        "scope",
        "not_applicable",
        "network",
    ]
    # the new entries come before the commented example that followed `exports: []`
    assert after.index("kind: entra-users") < after.index("#  - path: exports/entra-users.json")
    school_file, problems = parse(load(school / "school.yaml"), SchoolFile)
    assert problems == []
    assert school_file is not None
    assert {e.path: e.kind for e in school_file.exports} == {
        f"exports/m365/{name}": kind for name, kind in FILES.items()
    }


def test_existing_entries_are_left_alone(tmp_path: Path) -> None:
    school_file = tmp_path / "school.yaml"
    school_file.write_text(
        "school: {id: s, name: S}\n"
        "exports:\n"
        "- path: exports/devices.csv   # the inventory\n"
        "  kind: device-inventory\n"
        "- path: ./exports/m365/users.json\n"
        "  kind: json\n"
        "\n"
        "# who may be scanned\n"
        "scope: []\n",
        encoding="utf-8",
    )
    added = register_exports(
        school_file,
        [
            ("exports/m365/users.json", "entra-users"),
            ("exports/m365/roles.json", "entra-directory-roles"),
        ],
    )
    assert added == ["exports/m365/roles.json"]
    text = school_file.read_text(encoding="utf-8")
    assert "kind: json" in text and "kind: entra-users" not in text
    assert "# the inventory" in text
    assert text.index("kind: entra-directory-roles") < text.index("\n\n# who may be scanned")
    assert register_exports(school_file, [("exports/m365/roles.json", "x")]) == []
    assert school_file.read_text(encoding="utf-8") == text  # not rewritten when nothing is new


def test_second_run_replaces_the_files(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    run(school, env)
    first_yaml = (school / "school.yaml").read_text(encoding="utf-8")
    graph.state.users = make_users(7)
    graph.state.security_defaults_enabled = True
    outcome = run(school, env)
    assert outcome.added == []
    assert len(read(school, "users.json")["value"]) == 7
    assert read(school, "security-defaults.json")["isEnabled"] is True
    assert (school / "school.yaml").read_text(encoding="utf-8") == first_yaml
    assert sorted(p.name for p in (school / "exports" / "m365").iterdir()) == sorted(FILES)


def test_failed_run_keeps_the_previous_files(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    run(school, env)
    before = {p.name: p.read_bytes() for p in (school / "exports" / "m365").iterdir()}
    graph.state.users = make_users(3)
    graph.state.deny["users"] = 403  # the last read fails, after the others succeeded
    with pytest.raises(GraphAccessError):
        run(school, env)
    after = {p.name: p.read_bytes() for p in (school / "exports" / "m365").iterdir()}
    assert after == before


def test_secret_and_token_are_never_written(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    rec = Recorder()
    run(school, env, rec)
    result = cli({**env}, str(school))
    assert result.exit_code == 0, result.output
    assert len(graph.state.tokens) == 2
    written = all_text(school)
    shown = "\n".join(rec.lines) + result.output
    for secret in [CLIENT_SECRET, *graph.state.tokens]:
        assert secret not in written
        assert secret not in shown
    # the secret went to the sign-in endpoint only, and a token only to Graph
    for request in graph.state.log:
        if request.method == "POST":
            assert parse_qs(request.body)["client_secret"] == [CLIENT_SECRET]
            assert request.authorization is None
        elif "/.well-known/" in request.path:
            assert request.path == f"/{TENANT}/v2.0/.well-known/openid-configuration"
            assert request.authorization is None
        else:
            assert CLIENT_SECRET not in request.path
            assert request.path.startswith("/v1.0/")
            assert request.authorization in [f"Bearer {t}" for t in graph.state.tokens]


def test_school_folder_is_checked_before_signing_in(
    graph: GraphHTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="not a school folder"):
        run(tmp_path, env)
    (tmp_path / "school.yaml").write_text("school: {id: s, name: S}\nexports: {a: b}\n")
    with pytest.raises(Exception, match="'exports' must be a list"):
        run(tmp_path, env)
    assert graph.state.log == []


# --- settings ---------------------------------------------------------------------------------


def test_missing_variables_are_listed() -> None:
    with pytest.raises(UsageError) as info:
        settings_from_env({ENV_CLIENT: CLIENT_ID, ENV_SECRET: "  "})
    assert f"{ENV_TENANT}, {ENV_CERTIFICATE} / {ENV_SECRET}" in str(info.value)
    assert ENV_CLIENT + "," not in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (ENV_GRAPH, "http://graph.example.com/v1.0", "plain http is only allowed to this machine"),
        (ENV_LOGIN, "ftp://127.0.0.1", "not an http(s) URL"),
        (ENV_LOGIN, "http://127.0.0.1:8080", "signing in works over https only"),
        (ENV_GRAPH, "https://user@graph.example.com/v1.0", "without user name"),
        (ENV_TENANT, "../../evil", "not a tenant id"),
    ],
)
def test_bad_settings(env: dict[str, str], name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from_env({**env, name: value})


def test_default_endpoints_and_scope() -> None:
    settings = settings_from_env({ENV_TENANT: TENANT, ENV_CLIENT: CLIENT_ID, ENV_SECRET: "s"})
    assert settings.token_url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert settings.graph_url == "https://graph.microsoft.com/v1.0"
    assert settings.scope == "https://graph.microsoft.com/.default"
    assert "client_secret" not in repr(settings)


# --- the command ------------------------------------------------------------------------------


def test_command_writes_and_reports(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    result = cli({**env}, str(school))
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert f"wrote {school / 'exports' / 'm365' / name}" in result.stdout
    assert "listed in" in result.stdout and "exports/m365/users.json" in result.stdout
    assert "reading users with their sign-in activity" in result.stderr
    assert "page 3: 250 items so far" in result.stderr
    again = cli({**env}, str(school))
    assert again.exit_code == 0
    assert "already lists every file" in again.stdout


def test_command_missing_variables_exit_2(school: Path) -> None:
    result = cli(
        {ENV_TENANT: None, ENV_CLIENT: None, ENV_SECRET: None, ENV_CERTIFICATE: None}, str(school)
    )
    assert result.exit_code == 2
    assert f"{ENV_TENANT}, {ENV_CLIENT}, {ENV_CERTIFICATE} / {ENV_SECRET}" in result.output


def test_command_bad_secret_exit_2(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    wrong = "Wrong~Secret.ValueThatMustNotLeak_123"
    result = cli({**env, ENV_SECRET: wrong}, str(school))
    assert result.exit_code == 2
    assert "invalid_client" in result.output
    assert wrong not in result.output and wrong not in all_text(school)


def test_command_throttled_beyond_limits_exit_3(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    graph.state.faults["users"] = [Fault(429, {"Retry-After": "3600"})]
    result = cli({**env}, str(school), "--max-wait", "60")
    assert result.exit_code == 3
    assert "error: GET /v1.0/users" in result.output
    assert "try again later" in result.output
    assert not (school / "exports" / "m365").exists()


def test_command_unreadable_school_yaml_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "school.yaml").write_text("school: [unclosed\n")
    result = cli({**env}, str(tmp_path))
    assert result.exit_code == 2
    assert "yaml-syntax" in result.output


def test_resources_cover_every_kind() -> None:
    assert {r.file: r.kind for r in RESOURCES} == FILES
