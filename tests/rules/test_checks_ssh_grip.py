"""ssh.password-auth as GRIP O7 words it: no sign-in with a password alone; a key, or a
password with a second factor, is accepted.

The configurations follow sshd_config(5) (https://man.openbsd.org/sshd_config):
AuthenticationMethods ("one or more lists of comma-separated authentication method names
... successful authentication requires completion of every method in at least one of these
lists"; "keyboard-interactive:pam"; "any"), Match ("the first obtained value for each
parameter is used", a matching block's settings override the global ones) and sshd's
auth2.c (a list naming a method that is switched off is skipped). The expected effective
values were checked with `sshd -T -C user=...,addr=...` of OpenSSH 9.2p1.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import Node, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 29)
P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE
KEYS = "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


def parse(text: str) -> Node:
    return parse_source(source_from_text(text, "sshd_config"), "sshd_config")


def judge(catalog: Catalog, text: str) -> Verdict:
    params = RuleParams.model_validate(catalog.checks["ssh.password-auth"].params)
    return evaluate(params, {"sshd_config": [parse(text)]}, TODAY)


CASES = [
    # a key and a second factor, in either order, with the PAM device or not
    ("key then password", "AuthenticationMethods publickey,password\n", P, ""),
    (
        "key then pam",
        "UsePAM yes\nAuthenticationMethods publickey,keyboard-interactive:pam\n",
        P,
        "",
    ),
    ("password then key", "AuthenticationMethods password,publickey\n", P, ""),
    (
        "two lists with keys",
        "AuthenticationMethods publickey,password publickey,keyboard-interactive\n",
        P,
        "",
    ),
    ("keys only", KEYS, P, ""),
    # a password alone, by a list or by the methods switched on
    (
        "password list",
        "AuthenticationMethods password\n",
        F,
        "password (global: AuthenticationMethods password)",
    ),
    ("key or password", "AuthenticationMethods publickey password\n", F, ": password (global"),
    ("defaults", "Port 22\n", F, "password (global: PasswordAuthentication yes by default)"),
    (
        "kbd by default",
        "PasswordAuthentication no\n",
        F,
        "keyboard-interactive (global: KbdInteractiveAuthentication yes by default)",
    ),
    (
        "empty passwords",
        "PermitEmptyPasswords yes\nAuthenticationMethods none\n",
        F,
        "none (global",
    ),
    # keyboard-interactive alone as the chosen method: the PAM stack decides
    (
        "kbd list",
        "AuthenticationMethods keyboard-interactive\n",
        NA,
        "decided by the PAM configuration",
    ),
    (
        "kbd:pam list",
        "AuthenticationMethods keyboard-interactive:pam\n",
        NA,
        "keyboard-interactive:pam (global",
    ),
    ("key or kbd", "AuthenticationMethods publickey keyboard-interactive\n", NA, "PAM"),
    ("password and kbd", "AuthenticationMethods password,keyboard-interactive\n", NA, "PAM"),
    (
        "kerberos",
        KEYS + "GSSAPIAuthentication yes\n",
        NA,
        "gssapi-with-mic (global: GSSAPIAuthentication yes)",
    ),
    # a list naming a method switched off is skipped; without any list no one signs in
    (
        "skipped list",
        "PasswordAuthentication no\nAuthenticationMethods publickey,password publickey\n",
        P,
        "",
    ),
    (
        "no list left",
        "PasswordAuthentication no\nAuthenticationMethods password\n",
        NA,
        "holds none",
    ),
]


@pytest.mark.parametrize(
    ("text", "status", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_password_auth(catalog: Catalog, text: str, status: FindingStatus, words: str) -> None:
    v = judge(catalog, text)
    assert v.status is status, v.message
    assert words in v.message
    assert v.cannot_decide is (status is NA and "holds none" not in v.message)


MATCH_CASES = [
    # the old check failed this: a second factor for admins in their block, keys elsewhere
    (
        "mfa for admins",
        KEYS + "Match Group admins\n  KbdInteractiveAuthentication yes\n"
        "  AuthenticationMethods publickey,keyboard-interactive\n",
        P,
        "",
    ),
    # the global AuthenticationMethods holds in a block that only turns passwords on
    (
        "block inherits methods",
        "AuthenticationMethods publickey\nMatch User backup\n  PasswordAuthentication yes\n",
        P,
        "",
    ),
    (
        "block opens passwords",
        "AuthenticationMethods publickey\nPasswordAuthentication no\nMatch User backup\n"
        "  AuthenticationMethods publickey password\n  PasswordAuthentication yes\n",
        F,
        "password (Match User backup: AuthenticationMethods publickey password)",
    ),
    # the block's list, with passwords switched on outside the block
    (
        "block takes global password",
        "PasswordAuthentication yes\nKbdInteractiveAuthentication no\n"
        "AuthenticationMethods publickey,password\n"
        "Match Address 10.0.0.0/8\n  AuthenticationMethods password\n",
        F,
        "1 ways to sign in with a password alone (password, or keyboard-interactive next to the "
        "other methods), where at most 0 are expected: password (Match Address 10.0.0.0/8: "
        "AuthenticationMethods password)",
    ),
    # the first value in a block wins too
    (
        "first in block",
        KEYS + "Match User a\n  PasswordAuthentication no\n  PasswordAuthentication yes\n",
        P,
        "",
    ),
    # Match all holds for every connection, the global scope included
    (
        "match all",
        "PasswordAuthentication yes\nMatch all\n  PasswordAuthentication no\n  KbdInteractiveAuthentication no\n",
        P,
        "",
    ),
    # each block alone is safe; together they let a password in (sshd -T -C user=oud,addr=10.1.1.1)
    (
        "blocks together",
        KEYS + "Match User oud\n  AuthenticationMethods publickey,password password\n"
        "Match Address 10.0.0.0/8\n  PasswordAuthentication yes\n"
        "  AuthenticationMethods publickey,password\n",
        NA,
        "password (Match User oud + Match Address 10.0.0.0/8: AuthenticationMethods publickey,password password)",
    ),
]


@pytest.mark.parametrize(
    ("text", "status", "words"), [c[1:] for c in MATCH_CASES], ids=[c[0] for c in MATCH_CASES]
)
def test_password_auth_with_match_blocks(
    catalog: Catalog, text: str, status: FindingStatus, words: str
) -> None:
    v = judge(catalog, text)
    assert v.status is status, v.message
    assert words in v.message


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # sshd reads ChallengeResponseAuthentication as KbdInteractiveAuthentication: first wins
        (KEYS + "ChallengeResponseAuthentication yes\n", P),
        (
            "PasswordAuthentication no\nChallengeResponseAuthentication yes\nKbdInteractiveAuthentication no\n",
            F,
        ),
    ],
    ids=["new name first", "old name first"],
)
def test_the_old_keyword_counts_where_it_comes(
    catalog: Catalog, text: str, status: FindingStatus
) -> None:
    assert judge(catalog, text).status is status


def test_not_judged_says_what_to_attest_in_both_languages(catalog: Catalog) -> None:
    v = judge(catalog, "AuthenticationMethods keyboard-interactive\n")
    assert v.message.startswith("not judged: 1 ways to sign in without a key")
    assert "Attest that it asks for a second factor" in v.message
    assert v.message_nl.startswith("niet beoordeeld: 1 manieren om zonder sleutel aan te melden")
    assert "attestatie" in v.message_nl


def test_each_way_in_points_at_the_line_that_opens_it() -> None:
    tree = parse(
        "Port 22\nPasswordAuthentication yes\nMatch User a\n  AuthenticationMethods password\n"
    )
    ways = {w["way"]: w for w in tree.plain()["auth-paths"]}
    lines = {n.value["way"].value: n.line for n in tree.value["auth-paths"].value}
    assert lines["password (global: PasswordAuthentication yes)"] == 2
    assert lines["password (Match User a: AuthenticationMethods password)"] == 4
    assert (
        ways["password (Match User a: AuthenticationMethods password)"]["via"]
        == "AuthenticationMethods"
    )
    assert ways["publickey (global: PubkeyAuthentication yes by default)"]["methods"] == [
        "publickey"
    ]


def test_too_many_blocks_to_combine_are_not_judged(catalog: Catalog) -> None:
    blocks = "".join(f"Match User u{i}\n  AuthenticationMethods publickey\n" for i in range(10))
    v = judge(catalog, KEYS + blocks)
    assert v.status is NA and "more than 8 Match blocks" in v.message
