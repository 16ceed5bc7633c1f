"""Signing in through msal against the local identity platform: a certificate (the key signs a
client assertion the server verifies), a client secret, and the refusals said as what to fix."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import msal  # type: ignore[import-untyped]
import pytest

from cyberstd.collect.graph import (
    ENV_CERTIFICATE,
    ENV_CLIENT,
    ENV_PASSPHRASE,
    ENV_SECRET,
    GraphAccessError,
    GraphClient,
    GraphError,
    settings_from_env,
)
from cyberstd.collect.signin import Certificate
from cyberstd.errors import UsageError
from tests.collect.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, GraphHTTPServer
from tests.collect.pki import app_certificate
from tests.collect.test_m365 import Recorder, all_text, cli, read, run, trusting

PASSPHRASE = "Correct-Horse-Battery-Staple-42"


@pytest.fixture
def cert_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment with the registered certificate instead of the secret."""
    path = app_certificate().write(tmp_path, "cyberstd-app.pem")
    out = {k: v for k, v in env.items() if k != ENV_SECRET}
    return {**out, ENV_CERTIFICATE: str(path)}


def key_text() -> str:
    """The base64 body of the app key's PEM: what must never be shown or written."""
    lines = app_certificate().key_pem().decode().splitlines()
    return "".join(lines[1:-1])


def test_certificate_sign_in_is_verified_by_the_server(
    graph: GraphHTTPServer, cert_env: dict[str, str], school: Path
) -> None:
    rec = Recorder()
    run(school, cert_env, rec)
    assert len(read(school, "users.json")["value"]) == 250
    # The server checked signature, thumbprint, audience and issuer of the assertion.
    [claims] = graph.state.assertions
    assert claims["aud"] == f"{graph.base}/{TENANT}/oauth2/v2.0/token"
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    [post] = [r for r in graph.state.log if r.method == "POST"]
    form = parse_qs(post.body)
    assert "client_secret" not in form
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    thumbprint = app_certificate().sha1
    assert any(
        f"with the certificate {cert_env[ENV_CERTIFICATE]} (thumbprint {thumbprint})" in line
        for line in rec.lines
    )
    # Neither the key nor the signed assertion is written or shown.
    written, shown = all_text(school), "\n".join(rec.lines)
    for hidden in (key_text()[:64], form["client_assertion"][0], *graph.state.tokens):
        assert hidden not in written and hidden not in shown


def test_an_encrypted_key_needs_its_passphrase(
    graph: GraphHTTPServer, cert_env: dict[str, str], school: Path, tmp_path: Path
) -> None:
    path = app_certificate().write(tmp_path, "encrypted.pem", PASSPHRASE)
    env = {**cert_env, ENV_CERTIFICATE: str(path)}
    with pytest.raises(UsageError, match=f"encrypted: set its passphrase in {ENV_PASSPHRASE}"):
        settings_from_env(env)
    with pytest.raises(UsageError, match=f"or the passphrase in {ENV_PASSPHRASE} is wrong"):
        settings_from_env({**env, ENV_PASSPHRASE: "wrong"})
    rec = Recorder()
    run(school, {**env, ENV_PASSPHRASE: PASSPHRASE}, rec)
    assert len(graph.state.assertions) == 1
    assert PASSPHRASE not in all_text(school) + "\n".join(rec.lines)


def test_the_certificate_wins_over_a_secret_given_too(
    graph: GraphHTTPServer, cert_env: dict[str, str], school: Path
) -> None:
    graph.state.secret = None  # the app has no secret: only the certificate can work
    run(school, {**cert_env, ENV_SECRET: "Stale~Secret.Value"})
    assert len(graph.state.assertions) == 1


def test_unregistered_certificate_is_refused_with_what_to_do(
    graph: GraphHTTPServer, cert_env: dict[str, str], school: Path, tmp_path: Path
) -> None:
    other = app_certificate("not-uploaded")
    path = other.write(tmp_path, "other.pem")
    env = {**cert_env, ENV_CERTIFICATE: str(path)}
    with pytest.raises(GraphAccessError) as info:
        run(school, env)
    message = str(info.value)
    assert "invalid_client: AADSTS700027: The certificate with identifier" in message
    assert (
        f"does not know the certificate of {ENV_CERTIFICATE} (thumbprint {other.sha1})" in message
    )
    assert "upload its .cer file" in message
    assert info.value.exit_code == 2
    assert graph.state.requests_to("/v1.0/") == []
    result = cli(env, str(school))
    assert result.exit_code == 2
    assert "AADSTS700027" in result.output
    assert not (school / "exports" / "m365").exists()


def test_the_server_refuses_a_registered_thumbprint_signed_with_another_key(
    graph: GraphHTTPServer,
) -> None:
    # Not something cyberstd can send (it checks that key and certificate match): msal told
    # to sign with a stranger's key under the registered certificate's name.
    app = msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential={
            "private_key": app_certificate("intruder").key_pem().decode(),
            "public_certificate": app_certificate().cert_pem().decode(),
        },
        authority=f"{graph.base}/{TENANT}",
        http_client=trusting(),
        instance_discovery=False,
    )
    answer = app.acquire_token_for_client(scopes=[f"{graph.base}/.default"])
    assert answer.get("error") == "invalid_client"
    assert "AADSTS700027: Client assertion contains an invalid signature." in str(
        answer.get("error_description")
    )
    assert graph.state.tokens == [] and graph.state.assertions == []


def test_unknown_app_names_the_client_id(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    env[ENV_CLIENT] = "00000000-1111-4222-8333-444444444444"
    with pytest.raises(GraphAccessError) as info:
        run(school, env)
    assert "AADSTS700016: Application with identifier" in str(info.value)
    assert f"check {ENV_CLIENT}: this tenant has no app registration" in str(info.value)


def test_secret_sign_in_still_works_and_is_refused_when_wrong(
    graph: GraphHTTPServer, env: dict[str, str], school: Path
) -> None:
    run(school, env)
    [post] = [r for r in graph.state.log if r.method == "POST"]
    assert parse_qs(post.body)["client_secret"] == [CLIENT_SECRET]
    with pytest.raises(GraphAccessError, match=f"check {ENV_SECRET}: give the client secret"):
        run(school, {**env, ENV_SECRET: "Wrong~Secret.Value"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("cert-only", "holds no private key"),
        ("key-only", "holds no certificate"),
        ("mismatch", "do not belong together"),
        ("ec", "no RSA key"),
        ("garbage", "no readable PEM or PFX file"),
        ("missing", "cannot read the certificate file"),
    ],
)
def test_bad_certificate_files_are_refused_before_signing_in(
    graph: GraphHTTPServer, cert_env: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    mine, other = app_certificate(), app_certificate("other")
    data = {
        "cert-only": mine.cert_pem(),
        "key-only": mine.key_pem(),
        "mismatch": other.key_pem() + mine.cert_pem(),
        "ec": app_certificate("curve", curve=True).key_pem()
        + app_certificate("curve", curve=True).cert_pem(),
        "garbage": b"\x30\x82 not a certificate",
    }
    path = tmp_path / "app.pem"
    if content in data:
        path.write_bytes(data[content])
    with pytest.raises(UsageError, match=message) as info:
        settings_from_env({**cert_env, ENV_CERTIFICATE: str(path)})
    assert info.value.exit_code == 2
    assert "PRIVATE KEY" not in str(info.value)
    assert graph.state.log == []


def test_certificate_file_is_read_into_what_msal_needs(cert_env: dict[str, str]) -> None:
    settings = settings_from_env(cert_env)
    assert isinstance(settings.credential, Certificate)
    assert settings.credential.thumbprint == app_certificate().sha1
    assert "key" not in repr(settings) and "PRIVATE" not in repr(settings)
    assert settings.secrets == ()


def test_messages_are_dutch_when_the_locale_is(
    graph: GraphHTTPServer, cert_env: dict[str, str], school: Path
) -> None:
    result = cli({**cert_env, "LANG": "nl_BE.UTF-8"}, str(school))
    assert result.exit_code == 0, result.output
    assert "aanmelden bij tenant" in result.stderr
    assert "met het certificaat" in result.stderr
    assert "toestellen die Intune beheert" not in result.stderr  # that is the help's wording
    assert "toestellen beheerd in Intune lezen: GET /v1.0/deviceManagement" in result.stderr
    wrong = cli({**cert_env, "LANG": "nl_BE.UTF-8", ENV_CLIENT: "x"}, str(school))
    assert wrong.exit_code == 2
    assert "aanmelding bij tenant" in wrong.output and "geweigerd" in wrong.output
    assert json.loads((school / "exports/m365/users.json").read_text())["value"]


def test_a_login_server_with_an_untrusted_certificate_is_refused(
    graph: GraphHTTPServer, cert_env: dict[str, str], school: Path
) -> None:
    client = GraphClient(settings_from_env(cert_env))  # trusts only the system's CAs
    with client, pytest.raises(GraphError, match=r"TLS failed \(certificate not trusted\)") as info:
        client.sign_in()
    assert info.value.exit_code == 3
    assert graph.state.assertions == [] and graph.state.tokens == []
