"""The GRIP checks over FortiGate, pfSense/OPNsense, sshd_config and secedit exports, run exactly
as the catalog defines them on the realistic samples: every check passes on the good sample and
fails on the bad one, pointing at the offending lines."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.parsers import parse_file, parse_source
from cyberstd.parsers.base import Node, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "exports"
TODAY = dt.date(2026, 11, 29)
SAMPLES: dict[str, tuple[Path, Path]] = {
    "fortigate": (
        DATA / "fortigate" / "school-fw-good.conf",
        DATA / "fortigate" / "school-fw-bad.conf",
    ),
    "pfsense": (DATA / "pfsense" / "config-good.xml", DATA / "pfsense" / "config-bad.xml"),
    "sshd_config": (
        DATA / "sshd_config" / "good" / "sshd_config",
        DATA / "sshd_config" / "bad" / "sshd_config",
    ),
    "secedit": (DATA / "secedit" / "good-dc01.inf", DATA / "secedit" / "bad-balie-pc.inf"),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found, problems = load_catalog(REPO)
    assert problems == []
    return found


def checks_of(kind: str) -> list[str]:
    catalog, _ = load_catalog(REPO)
    return sorted(
        cid
        for cid, c in catalog.checks.items()
        if c.probe == "config.rule"
        and RuleParams.model_validate(c.params).kind == kind
        # the FortiGate's Wi-Fi has samples of its own (tests/rules/test_checks_fortiap.py)
        and not cid.startswith("fortiap.")
    )


def judge(catalog: Catalog, check_id: str, tree: Node) -> Verdict:
    params = RuleParams.model_validate(catalog.checks[check_id].params)
    return evaluate(params, {params.kind: [tree]}, TODAY)


CASES = [(kind, cid) for kind in SAMPLES for cid in checks_of(kind)]


def test_every_device_kind_has_checks() -> None:
    assert {k for k, _ in CASES} == set(SAMPLES)
    assert len(CASES) >= 17


@pytest.mark.parametrize(("kind", "check_id"), CASES)
def test_good_sample_passes(catalog: Catalog, kind: str, check_id: str) -> None:
    tree = parse_file(SAMPLES[kind][0], catalog.kinds[kind].format)
    v = judge(catalog, check_id, tree)
    assert v.status is FindingStatus.PASS, v.message


@pytest.mark.parametrize(("kind", "check_id"), CASES)
def test_bad_sample_fails_at_a_line(catalog: Catalog, kind: str, check_id: str) -> None:
    path = SAMPLES[kind][1]
    tree = parse_file(path, catalog.kinds[kind].format, display=str(path))
    v = judge(catalog, check_id, tree)
    assert v.status is FindingStatus.FAIL, v.message
    items = v.evidence.get("items") or [
        it
        for part in v.evidence.get("any_of", []) + v.evidence.get("all_of", [])
        for it in part.get("items", [])
    ]
    located = [it for it in items if it.get("ok") is not True and it.get("line")]
    if not items or any(it.get("default") for it in items):
        return  # too few items, or a setting absent where its default fails: no line to point at
    assert located, v.evidence
    for it in located:
        assert Path(it["file"]).exists()


def _vdom_layout(text: str) -> str:
    """The same FortiGate configuration as a multi-VDOM backup: policies in VDOM root, the rest
    under `config global`."""
    header, body = [], []
    for line in text.splitlines():
        (header if line.startswith("#") and not body else body).append(line)
    blocks: list[list[str]] = []
    for line in body:
        if line.startswith("config "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    per_vdom = [b for b in blocks if b[0].strip() == "config firewall policy"]
    global_ = [b for b in blocks if b not in per_vdom]
    header[0] = re.sub(r"vdom=0", "vdom=1", header[0])
    lines = [*header, "config vdom", "edit root", "next", "end", "config global"]
    lines += [ln for b in global_ for ln in b]
    lines += ["end", "config vdom", "edit root"]
    lines += [ln for b in per_vdom for ln in b]
    lines += ["next", "end"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("check_id", checks_of("fortigate"))
def test_multi_vdom_backups_are_judged_the_same(catalog: Catalog, check_id: str) -> None:
    good, bad = (p.read_text() for p in SAMPLES["fortigate"])
    for text, expected in ((good, FindingStatus.PASS), (bad, FindingStatus.FAIL)):
        tree = parse_source(source_from_text(_vdom_layout(text), "fw.conf"), "fortigate")
        assert "vdom" in tree.plain() and "global" in tree.plain()
        assert judge(catalog, check_id, tree).status is expected, check_id


def test_contains_is_not_a_substring_match(catalog: Catalog) -> None:
    text = (
        SAMPLES["fortigate"][0]
        .read_text()
        .replace(
            "config firewall policy\n",
            'config firewall policy\n    edit 99\n        set name "sporthal"\n        set srcintf "wan1"\n'
            '        set dstintf "internal"\n        set action accept\n        set srcaddr "Sporthall"\n'
            '        set dstaddr "all"\n        set service "ALL_ICMP"\n    next\n',
            1,
        )
    )
    tree = parse_source(source_from_text(text, "fw.conf"), "fortigate")
    assert judge(catalog, "fortigate.accept-all-inbound", tree).status is FindingStatus.PASS


# check -> the offending items of the bad sample: (label, file name, line, text on that line)
BAD_REASONS: dict[str, set[tuple[str | None, str, int, str]]] = {
    "fortigate.accept-all-inbound": {
        ("tijdelijk - camera's van buitenaf", "school-fw-bad.conf", 160, "edit")
    },
    "fortigate.admin-2fa": {
        ("admin", "school-fw-bad.conf", 43, 'edit "admin"'),
        ("leverancier", "school-fw-bad.conf", 49, 'edit "leverancier"'),
    },
    "fortigate.admin-lockout": {(None, "school-fw-bad.conf", 6, "admin-lockout-threshold")},
    "fortigate.admin-on-wan": {("wan1", "school-fw-bad.conf", 15, 'edit "wan1"')},
    "fortigate.firmware": {(None, "school-fw-bad.conf", 1, "#config-version=FGT60F-7.0.12")},
    "fortigate.inter-zone-any": {("Gasten naar printer", "school-fw-bad.conf", 171, "edit")},
    "fortigate.log-forwarding": {(None, "school-fw-bad.conf", 144, "set status disable")},
    "fortigate.traffic-logging": {("LAN naar internet", "school-fw-bad.conf", 147, "edit")},
    "fortigate.web-filter": {("LAN naar internet", "school-fw-bad.conf", 147, "edit")},
    "pfsense.wan-pass-any": {
        ("tijdelijk: alles open voor de leverancier", "config-bad.xml", 105, "<rule")
    },
    "pfsense.webgui-on-wan": {  # an any-to-any rule on WAN reaches the firewall's GUI too
        ("Webbeheer van thuis uit", "config-bad.xml", 132, "<rule"),
        ("tijdelijk: alles open voor de leverancier", "config-bad.xml", 105, "<rule"),
    },
    "ssh.empty-passwords": {(None, "sshd_config", 24, "PermitEmptyPasswords yes")},
    "ssh.password-auth": {  # every way in with a password alone, at the line that opens it
        (
            "password (global: PasswordAuthentication yes)",
            "50-cloud-init.conf",
            1,
            "PasswordAuthentication yes",
        ),
        (
            "keyboard-interactive (global: KbdInteractiveAuthentication yes)",
            "sshd_config",
            25,
            "ChallengeResponseAuthentication yes",
        ),
        (
            "password (Match Address 0.0.0.0/0: PasswordAuthentication yes)",
            "sshd_config",
            39,
            "PasswordAuthentication yes",
        ),
        (
            "keyboard-interactive (Match Address 0.0.0.0/0: KbdInteractiveAuthentication yes)",
            "sshd_config",
            25,
            "ChallengeResponseAuthentication yes",
        ),
    },
    "ssh.root-login": {
        (None, "sshd_config", 14, "PermitRootLogin yes"),
        (None, "sshd_config", 38, "PermitRootLogin yes"),
    },
    "windows.account-lockout": {(None, "bad-balie-pc.inf", 9, "LockoutBadCount = 0")},
    "windows.password-complexity": {(None, "bad-balie-pc.inf", 7, "PasswordComplexity = 0")},
}


def _text_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    text = data.decode("utf-16") if data[:2] == b"\xff\xfe" else data.decode("utf-8")
    return text.splitlines()


@pytest.mark.parametrize("check_id", sorted(BAD_REASONS))
def test_bad_sample_fails_for_the_named_reason(catalog: Catalog, check_id: str) -> None:
    kind = RuleParams.model_validate(catalog.checks[check_id].params).kind
    path = SAMPLES[kind][1]
    tree = parse_file(path, catalog.kinds[kind].format, display=str(path))
    v = judge(catalog, check_id, tree)
    items = v.evidence.get("items") or [
        it
        for part in v.evidence.get("any_of", []) + v.evidence.get("all_of", [])
        for it in part.get("items", [])
    ]
    found = {
        (it.get("label"), Path(it["file"]).name, it["line"])
        for it in items
        if it.get("ok") is not True
    }
    expected = BAD_REASONS[check_id]
    assert found == {(label, name, line) for label, name, line, _ in expected}
    for _, name, line, text in expected:
        source = next(p for p in [path, *path.parent.rglob(name)] if p.name == name)
        assert text in _text_lines(source)[line - 1], (name, line)
