"""`cyberstd collect google` as a new user and against a hostile server: a school folder it
cannot write, a symbolic link out of it, deeply nested JSON, a redirect to another host, a
token endpoint that repeats the signed assertion, a key file others may read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from cyberstd.collect.google_api import ENV_ADMIN, ENV_API, ENV_KEY
from tests.collect.google_server import (
    ADMIN,
    USERS_PATH,
    Fault,
    GoogleHTTPServer,
    State,
    google_server,
)
from tests.collect.test_google import EXPORT, cli

NL = {"LANG": "nl_BE.UTF-8", "LC_ALL": None, "LC_MESSAGES": None}


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
    running, key_file = google
    return {ENV_KEY: str(key_file), ENV_ADMIN: ADMIN, ENV_API: running.base + "/"}


@pytest.fixture
def other() -> Iterator[GoogleHTTPServer]:
    """A second server: another host, as far as the client can tell."""
    running = GoogleHTTPServer(State())
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join()


# --- the school folder --------------------------------------------------------------------------


def test_a_folder_without_school_yaml_is_said_in_dutch_before_signing_in(
    server: GoogleHTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "leeg").mkdir()
    result = cli({**env, **NL}, str(tmp_path / "leeg"))
    assert result.exit_code == 2
    assert "is geen schoolmap (er staat geen school.yaml in)" in result.stderr
    assert "cyberstd init" in result.stderr
    assert "aanmelden" not in result.stderr  # nothing said about signing in first
    assert server.state.requests == []


def test_an_export_folder_that_cannot_be_made_is_refused_before_reading(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    (school / "exports").write_text("not a folder\n", encoding="utf-8")
    result = cli({**env, **NL}, str(school))
    assert result.exit_code == 2
    assert f"kan niet schrijven in {school / 'exports'}" in result.stderr
    assert "internal error" not in result.output
    assert server.state.requests == []


def test_a_file_that_cannot_be_replaced_is_a_clear_error_not_an_internal_one(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    (school / EXPORT).mkdir(parents=True)  # a folder where the file goes
    result = cli({**env, **NL}, str(school))
    assert result.exit_code == 2
    assert f"kan niet schrijven in {school / EXPORT.parent}" in result.stderr
    assert "internal error" not in result.output
    assert [p.name for p in (school / EXPORT.parent).iterdir()] == [EXPORT.name]  # no leftovers


def test_a_symlinked_export_folder_out_of_the_school_is_not_followed(
    server: GoogleHTTPServer, env: dict[str, str], school: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (school / "exports").symlink_to(outside, target_is_directory=True)
    result = cli({**env, **NL}, str(school))
    assert result.exit_code == 2
    assert "ligt buiten de schoolmap" in result.stderr
    assert list(outside.iterdir()) == []  # not even an empty folder made out there
    assert server.state.requests == []


# --- a hostile server ---------------------------------------------------------------------------


def test_json_nested_deeper_than_python_reads_is_a_bad_answer(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    depth = 100_000
    body = b'{"kind": "admin#directory#users", "users": ' + b"[" * depth + b"]" * depth + b"}"
    headers = {"Content-Type": "application/json"}
    server.state.faults[USERS_PATH] = [Fault(200, headers, raw=body)]
    result = cli({**env, "LANG": "C"}, str(school))
    assert result.exit_code == 3
    assert "the answer is no list of users" in result.stderr
    assert "internal error" not in result.output
    assert not (school / EXPORT).exists()


def test_a_redirect_to_another_host_is_not_followed(
    server: GoogleHTTPServer, other: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    away = {"Location": f"{other.base}{USERS_PATH}?customer=my_customer"}
    server.state.faults[USERS_PATH] = [Fault(302, away, raw=b"")]
    result = cli({**env, "LANG": "C"}, str(school))
    assert result.exit_code == 3
    assert "HTTP 302" in result.stderr
    assert other.state.requests == []
    assert not (school / EXPORT).exists()


def test_a_token_endpoint_repeating_the_signed_assertion_has_it_scrubbed(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    server.state.echo = True
    result = cli({**env, "LANG": "C"}, str(school))
    assert result.exit_code == 2
    (posted,) = server.state.bodies
    assertion = parse_qs(posted)["assertion"][0]
    signature = assertion.rpartition(".")[2]
    assert "Invalid JWT: [redacted]" in result.stderr
    assert assertion not in result.output
    assert signature[:40] not in result.output


def test_a_key_file_others_may_read_is_warned_about(
    server: GoogleHTTPServer, env: dict[str, str], school: Path
) -> None:
    key = Path(env["CYBERSTD_GOOGLE_KEY_FILE"])
    key.chmod(0o644)
    result = cli({**env, **NL}, str(school))
    assert result.exit_code == 0
    assert f"let op: het sleutelbestand {key}" in result.stderr
    assert f"chmod 600 {key}" in result.stderr
    key.chmod(0o600)
    quiet = cli({**env, **NL}, str(school))
    assert quiet.exit_code == 0
    assert "chmod 600" not in quiet.stderr


def test_the_client_libraries_load_without_their_python_version_warning() -> None:
    """google.api_core warns (FutureWarning, in English) once the Python in use is past
    Google's support dates: not for the coordinator. Under the suite run a year ahead, the
    import turns that warning into an error unless it is kept quiet."""
    import subprocess
    import sys

    code = "from cyberstd.collect.google_api import client_libraries; client_libraries()"
    done = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "FutureWarning" not in done.stderr


def test_a_failed_connection_is_said_in_both_languages() -> None:
    """Google's connection failures were said in English inside Dutch messages; both
    collectors now take the reason from the catalog."""
    from cyberstd.collect.transport import connection_reason

    said = connection_reason(ConnectionRefusedError())
    assert said.render("nl") == "verbinding geweigerd"
    assert said.render("en") == "connection refused"
    assert connection_reason(OSError("Unable to find the server at x")).render("nl") == (
        "hostnaam niet gevonden"
    )
