"""`cyberstd collect m365` against a hostile server: names with terminal escapes in the
progress, a token endpoint repeating part of the signed assertion, a certificate file others
may read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cyberstd.collect.graph import ENV_CERTIFICATE, ENV_SECRET, GraphAccessError
from tests.collect.graph_server import GraphHTTPServer, GraphState, graph_server
from tests.collect.pki import app_certificate
from tests.collect.test_m365 import cli, run

ESCAPES = "\x1b[2J\x1b]0;owned\x07\r\nfake line"


class EscapingRoles(GraphState):
    """A tenant whose helpdesk role has a name that would clear the screen and fake a line."""

    def roles(self) -> list[dict[str, Any]]:
        roles = super().roles()
        roles[1]["displayName"] = "Helpdesk" + ESCAPES
        return roles


@pytest.fixture
def escaping(env: dict[str, str]) -> Iterator[tuple[GraphHTTPServer, dict[str, str]]]:
    with graph_server(EscapingRoles()) as server:
        base = {k: v.replace(env["CYBERSTD_M365_LOGIN_URL"], server.base) for k, v in env.items()}
        yield server, base


def test_progress_quoting_the_server_cannot_steer_the_terminal(
    escaping: tuple[GraphHTTPServer, dict[str, str]], school: Path
) -> None:
    _, env = escaping
    result = cli(env, str(school))
    assert result.exit_code == 0, result.output
    assert "members of Helpdesk\\x1b[2J" in result.stderr
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\r" not in result.output
    assert "\nfake line" not in result.output


def test_a_token_endpoint_repeating_the_assertion_signature_has_it_scrubbed(
    graph: GraphHTTPServer, env: dict[str, str], school: Path, tmp_path: Path
) -> None:
    graph.state.echo_credentials = True
    path = app_certificate("not-uploaded").write(tmp_path, "other.pem")
    cert_env = {k: v for k, v in env.items() if k != ENV_SECRET}
    with pytest.raises(GraphAccessError) as info:
        run(school, {**cert_env, ENV_CERTIFICATE: str(path)})
    (posted,) = [r.body for r in graph.state.log if r.method == "POST"]
    signature = posted.rpartition("client_assertion=")[2].split("&")[0].rpartition(".")[2]
    assert len(signature) > 100
    assert "(signature [redacted])" in str(info.value)
    assert signature[:40] not in str(info.value)


def test_a_certificate_file_others_may_read_is_warned_about(
    env: dict[str, str], school: Path, tmp_path: Path
) -> None:
    path = app_certificate().write(tmp_path, "cyberstd-m365.pem")
    cert_env = {k: v for k, v in env.items() if k != ENV_SECRET}
    cert_env[ENV_CERTIFICATE] = str(path)
    path.chmod(0o640)
    result = cli({**cert_env, "LANG": "nl_BE.UTF-8"}, str(school))
    assert result.exit_code == 0, result.output
    assert f"let op: het sleutelbestand {path} ({ENV_CERTIFICATE})" in result.stderr
    assert "(rechten 0640)" in result.stderr
    path.chmod(0o600)
    quiet = cli({**cert_env, "LANG": "nl_BE.UTF-8"}, str(school))
    assert quiet.exit_code == 0
    assert "chmod 600" not in quiet.stderr
