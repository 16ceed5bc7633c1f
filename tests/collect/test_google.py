"""`cyberstd collect google` against a local token endpoint and Directory API: paging,
throttling, refusals, the key file never shown, and a file the google.* checks judge."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.cli.collect import collect
from cyberstd.collect.files import STAMP
from cyberstd.collect.google import collect as collect_google
from cyberstd.collect.google_api import (
    ENV_ADMIN,
    ENV_API,
    ENV_KEY,
    DirectoryClient,
    GoogleAccessError,
    GoogleError,
    Limits,
    read_key,
    retry_after,
    settings_from_env,
)
from cyberstd.errors import UsageError
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import detect
from cyberstd.messages import Msg
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, evaluate
from cyberstd.scaffold import scaffold
from cyberstd.schema import SchoolFile
from cyberstd.validation import parse
from cyberstd.yamlsrc import load
from tests.collect.google_server import (
    ADMIN,
    SCOPE,
    USERS_PATH,
    Fault,
    GoogleHTTPServer,
    google_server,
)
from tests.conftest import REPO

FIXED_NOW = dt.datetime(2026, 3, 1, 9, 30, 15, tzinfo=dt.UTC)
EXPORT = Path("exports") / "google" / "google-users.json"


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def google(tmp_path: Path) -> Iterator[tuple[GoogleHTTPServer, Path]]:
    keys = tmp_path / "keys"
    keys.mkdir()
    with google_server(keys) as running:
        yield running


@pytest.fixture
def server(google: tuple[GoogleHTTPServer, Path]) -> GoogleHTTPServer:
    return google[0]


@pytest.fixture
def env(google: tuple[GoogleHTTPServer, Path]) -> dict[str, str]:
    server, key_file = google
    return {ENV_KEY: str(key_file), ENV_ADMIN: ADMIN, ENV_API: server.base + "/"}


@pytest.fixture
def school(tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    scaffold(folder, "Sint-Voorbeeld")
    return folder


class Recorder:
    """Progress and sleeps, instead of printing and waiting."""

    def __init__(self) -> None:
        self.said: list[Msg] = []
        self.sleeps: list[float] = []

    def lines(self, lang: str = "en") -> list[str]:
        return [m.render(lang) for m in self.said]


def run(school: Path, env: dict[str, str], rec: Recorder | None = None, **limits: Any) -> Any:
    rec = rec or Recorder()
    with DirectoryClient(
        settings_from_env(env),
        sleep=rec.sleeps.append,
        progress=rec.said.append,
        limits=Limits(**limits),
    ) as client:
        return collect_google(school, client, progress=rec.said.append, now=lambda: FIXED_NOW)


def written(school: Path) -> dict[str, Any]:
    data = json.loads((school / EXPORT).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def key_secrets(key_file: Path) -> list[str]:
    """What of the key file must never be shown: the private key's lines and its id."""
    info = json.loads(key_file.read_text(encoding="utf-8"))
    lines = [line for line in info["private_key"].splitlines() if "PRIVATE KEY" not in line]
    return [info["private_key_id"], *lines]


def all_text(folder: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


def cli(env: dict[str, str | None], *args: str) -> Result:
    result = CliRunner().invoke(collect, ["google", *args], env=env)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def users_gets(server: GoogleHTTPServer) -> list[dict[str, str]]:
    return [
        {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        for method, path in server.state.requests
        if method == "GET" and urlsplit(path).path == USERS_PATH
    ]


# --- a whole run ------------------------------------------------------------------------------


def test_every_page_is_joined_into_one_users_list(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    rec = Recorder()
    outcome = run(school, env, rec)
    data = written(school)
    assert outcome.written == [school / EXPORT]
    assert data["kind"] == "admin#directory#users"
    assert "nextPageToken" not in data
    assert [u["id"] for u in data["users"]] == [u["id"] for u in server.state.users]
    assert data[STAMP]["at"] == "2026-03-01T09:30:15Z"
    assert data[STAMP]["source"].startswith("/admin/directory/v1/users?customer=my_customer")
    gets = users_gets(server)
    assert [g.get("pageToken") for g in gets] == [None, "100", "200"]
    assert {g["maxResults"] for g in gets} == {"500"}
    assert all("isEnforcedIn2Sv" in g["fields"] for g in gets)
    # signed in once, on behalf of the administrator, with the one read-only scope
    (claims,) = server.state.assertions
    assert claims["sub"] == ADMIN and claims["scope"] == SCOPE
    assert "  page 3: 250 users so far" in rec.lines()
    assert "  pagina 3: 250 gebruikers tot nu toe" in rec.lines("nl")


def test_the_written_file_is_a_google_users_export_the_checks_judge(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.users[4]["isEnforcedIn2Sv"] = False  # a teacher without enforced 2SV
    run(school, env)
    catalog: Catalog = load_catalog(REPO)[0]
    assert detect(school / EXPORT, catalog.kinds) == ["google-users"]
    parsed = ExportStore(catalog.kinds).parsed(
        ExportFile(school / EXPORT, str(EXPORT), "google-users")
    )
    assert parsed.tree is not None, parsed.error
    day = FIXED_NOW.date()

    def verdict(check: str) -> Any:
        params = RuleParams.model_validate(catalog.checks[check].params)
        return evaluate(params, {"google-users": [parsed.tree]}, day, {})

    staff = verdict("google.2sv-staff")
    assert staff.status is FindingStatus.FAIL
    assert "user0004@sintjozef.test" in staff.message
    assert verdict("google.2sv-admins").status is FindingStatus.PASS
    assert verdict("google.admin-count").status is FindingStatus.PASS
    assert verdict("google.stale-accounts").status is FindingStatus.PASS


def test_school_yaml_lists_the_file_and_keeps_comments(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    before = (school / "school.yaml").read_text(encoding="utf-8")
    outcome = run(school, env)
    after = (school / "school.yaml").read_text(encoding="utf-8")
    assert outcome.added == [EXPORT.as_posix()]
    comments = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
    assert comments == [line.strip() for line in after.splitlines() if line.strip().startswith("#")]
    school_file, problems = parse(load(school / "school.yaml"), SchoolFile)
    assert problems == [] and school_file is not None
    assert {e.path: e.kind for e in school_file.exports} == {EXPORT.as_posix(): "google-users"}
    assert run(school, env).added == []  # a second run lists nothing twice


def test_a_domain_without_users_gives_an_empty_list(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.users = []
    run(school, env)
    assert written(school)["users"] == []


# --- throttling and trouble -------------------------------------------------------------------


def test_429_and_503_are_retried_after_their_retry_after(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.faults[USERS_PATH] = [
        Fault(429, {"Retry-After": "7"}),
        Fault(503, {"Retry-After": "2"}),
    ]
    rec = Recorder()
    run(school, env, rec)
    assert rec.sleeps == [7.0, 2.0]
    assert len(written(school)["users"]) == 250
    assert any("HTTP 429 (throttled), retry 1 of 5; waiting 7 s" in line for line in rec.lines())
    assert any("HTTP 503 (dienst niet beschikbaar)" in line for line in rec.lines("nl"))


def test_without_retry_after_it_backs_off(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.faults[USERS_PATH] = [Fault(503), Fault(503)]
    rec = Recorder()
    run(school, env, rec)
    assert rec.sleeps == [2.0, 4.0]


def test_gives_up_after_the_retry_limit_writing_nothing(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.faults[USERS_PATH] = [Fault(503, {"Retry-After": "1"})] * 3
    with pytest.raises(GoogleError, match="still HTTP 503 after 2 retries"):
        run(school, env, max_retries=2)
    assert not (school / "exports" / "google").exists()


def test_gives_up_rather_than_wait_too_long(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.faults[USERS_PATH] = [Fault(429, {"Retry-After": "3600"})]
    rec = Recorder()
    with pytest.raises(GoogleError, match="try again later") as caught:
        run(school, env, rec, max_total_wait=60)
    assert rec.sleeps == []
    assert "probeer later opnieuw" in caught.value.text("nl")


def test_an_unreachable_api_is_tried_a_bounded_number_of_times(
    env: dict[str, str], school: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    rec = Recorder()
    with pytest.raises(GoogleError, match=r"could not reach 127\.0\.0\.1"):
        run(school, {**env, ENV_API: closed}, rec)
    assert rec.sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), (" 0 ", 0.0), ("1.5", 1.5), ("soon", None), (None, None), ("-3", None)],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    assert retry_after("Sun, 01 Mar 2026 09:30:45 GMT", now=FIXED_NOW.timestamp()) == 30.0


# --- refusals and the key file ----------------------------------------------------------------


def test_refused_delegation_exits_2_saying_what_to_grant_without_the_key(
    google: tuple[GoogleHTTPServer, Path], env: dict[str, str], school: Path
) -> None:
    server, key_file = google
    server.state.delegated = {ADMIN: set()}  # the client ID is in the Admin console, no scope
    result = cli({**env, "LANG": "en_GB.UTF-8"}, str(school))
    assert result.exit_code == 2
    assert "unauthorized_client" in result.output
    assert "Domain-wide delegation" in result.output and SCOPE in result.output
    for secret in key_secrets(key_file):
        assert secret not in result.output
        assert secret not in all_text(school)
    assert not (school / "exports" / "google").exists()
    dutch = cli({**env, "LANG": "nl_BE.UTF-8"}, str(school))
    assert dutch.exit_code == 2 and "Domeinbrede delegatie" in dutch.output


def test_an_unknown_administrator_is_refused(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    with pytest.raises(
        GoogleAccessError, match="invalid_grant: Invalid email or User ID"
    ) as caught:
        run(school, {**env, ENV_ADMIN: "niemand@sintjozef.test"})
    assert ENV_ADMIN in str(caught.value)


def test_an_administrator_who_may_not_read_users_is_refused_with_the_reason(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    forbidden = {"error": {"code": 403, "message": "Not Authorized to access this resource/api",
                           "errors": [{"reason": "forbidden", "domain": "global"}]}}  # fmt: skip
    server.state.faults[USERS_PATH] = [Fault(403, body=forbidden)]
    result = cli({**env, "LANG": "en_GB.UTF-8"}, str(school))
    assert result.exit_code == 2
    assert "HTTP 403 (forbidden: Not Authorized to access this resource/api)" in result.output


def test_a_signature_google_cannot_verify_is_refused(
    google: tuple[GoogleHTTPServer, Path], env: dict[str, str], school: Path
) -> None:
    server, key_file = google
    with google_server(key_file.parent.parent) as (_, other_key):  # another account's key
        info = json.loads(other_key.read_text(encoding="utf-8"))
    info["token_uri"] = f"{server.base}/token"
    key_file.write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(GoogleAccessError, match="Invalid JWT Signature"):
        run(school, env)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json at all", "not a JSON object"),
        ('{"type": "authorized_user"}', "its type is not service_account"),
        ('{"type": "service_account", "client_email": "a@b.test", "token_uri": "https://x.test/t"}',
         "the field private_key is missing"),
        ('{"type": "service_account", "client_email": "a@b.test", "private_key": "SECRETKEYTEXT",'
         ' "token_uri": "https://x.test/t"}', "the private key cannot be read"),
        ('{"type": "service_account", "client_email": "a@b.test", "private_key": "SECRETKEYTEXT",'
         ' "token_uri": "http://tokens.example.test/token"}', "token_uri is not an https address"),
    ],
)  # fmt: skip
def test_a_bad_key_file_is_refused_naming_its_path_not_its_content(
    env: dict[str, str], school: Path, tmp_path: Path, content: str, reason: str
) -> None:
    key = tmp_path / "bad-key.json"
    key.write_text(content, encoding="utf-8")
    result = cli({**env, ENV_KEY: str(key), "LANG": "en_GB.UTF-8"}, str(school))
    assert result.exit_code == 2
    assert str(key) in result.output and reason in result.output
    assert "SECRETKEYTEXT" not in result.output


def test_a_missing_key_file_is_refused(env: dict[str, str], school: Path, tmp_path: Path) -> None:
    result = cli(
        {**env, ENV_KEY: str(tmp_path / "nowhere.json"), "LANG": "en_GB.UTF-8"}, str(school)
    )
    assert result.exit_code == 2
    assert "nowhere.json" in result.output and "does not exist" in result.output


def test_the_key_is_read_not_changed(
    google: tuple[GoogleHTTPServer, Path], env: dict[str, str], school: Path
) -> None:
    _, key_file = google
    before = key_file.read_bytes()
    run(school, env)
    assert key_file.read_bytes() == before
    assert read_key(key_file)["client_email"].endswith(".iam.gserviceaccount.test")
    for secret in key_secrets(key_file):
        assert secret not in all_text(school)


def test_missing_variables_are_listed(school: Path) -> None:
    result = cli({ENV_KEY: None, ENV_ADMIN: None, "LANG": "nl_BE.UTF-8"}, str(school))
    assert result.exit_code == 2
    assert f"{ENV_KEY}, {ENV_ADMIN}" in result.output
    assert "ontbrekende omgevingsvariabele" in result.output


@pytest.mark.parametrize(
    ("name", "value"),
    [(ENV_ADMIN, "geen-adres"), (ENV_API, "http://admin.example.test/"), (ENV_API, "ftp://x/")],
)
def test_bad_settings(env: dict[str, str], name: str, value: str) -> None:
    with pytest.raises(UsageError, match=name):
        settings_from_env({**env, name: value})


# --- the command ------------------------------------------------------------------------------


def test_command_writes_and_reports_in_the_console_language(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    result = cli({**env, "LANG": "nl_BE.UTF-8"}, str(school))
    assert result.exit_code == 0, result.output
    assert str(school / EXPORT) in result.stdout
    assert f"vermeld in {school / 'school.yaml'}: {EXPORT.as_posix()}" in result.stdout
    assert "pagina 3: 250 gebruikers tot nu toe" in result.stderr
    again = cli({**env, "LANG": "en_GB.UTF-8"}, str(school))
    assert again.exit_code == 0
    assert f"{school / 'school.yaml'} already lists every file" in again.stdout


def test_command_throttled_beyond_limits_exits_3(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.faults[USERS_PATH] = [Fault(429, {"Retry-After": "3600"})]
    result = cli({**env, "LANG": "en_GB.UTF-8"}, str(school), "--max-wait", "60")
    assert result.exit_code == 3
    assert "GET /admin/directory/v1/users" in result.output and "try again later" in result.output
    assert not (school / "exports" / "google").exists()


def test_school_folder_is_checked_before_signing_in(
    server: GoogleHTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    result = cli({**env}, str(tmp_path / "no-school"))
    assert result.exit_code == 2
    assert server.state.requests == []
