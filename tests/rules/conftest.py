"""Shared helpers for the rule tests: the real catalog, the sample exports and the fixed day.

Samples live under tests/data/exports/<vendor>/{good,bad}/ with the file names that the export
kinds recognise. Every check runs exactly as the catalog defines it, on a fixed `TODAY`, so
that dates in the samples age the same way on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from cyberstd.catalog import Catalog, load_catalog
from cyberstd.kinds import parse_export
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import Node, read_source, source_from_text
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 29)
EXPORTS = REPO / "tests" / "data" / "exports"
# Formats that another part of the project is adding; the catalog may still report them.
PENDING_FORMATS = ("sshd_config", "secedit", "fortigate")

# Every sample of this task: kind -> file name inside <vendor>/{good,bad}/.
SAMPLES: dict[str, tuple[str, str]] = {
    "entra-security-defaults": ("entra", "security-defaults.json"),
    "entra-conditional-access": ("entra", "conditional-access.json"),
    "entra-directory-roles": ("entra", "directory-roles.json"),
    "entra-users": ("entra", "users.json"),
    "entra-domains": ("entra", "domains.json"),
    "entra-registration-details": ("entra", "registration-details.json"),
    "google-users": ("google", "google-users.json"),
    "gam-users": ("google", "gam-users.csv"),
    "wifi-controller": ("wifi", "wlanconf.json"),
    "unifi-firewall-rules": ("unifi-gateway", "firewallrule.json"),
    "unifi-firewall-policies": ("unifi-gateway", "firewall-policies.json"),
    "intune-devices": ("intune", "intune-devices.csv"),
    "intune-defender-agents": ("intune", "defender-agents.csv"),
    "intune-managed-devices": ("intune", "managed-devices.json"),
    "intune-compliance-policies": ("intune", "compliance-policies.json"),
    "backup-report": ("backup", "backup-report.csv"),
    "veeam-sessions": ("backup", "veeam-sessions.csv"),
    "synology-hyper-backup": ("backup", "hyper-backup-log.csv"),
    "synology-active-backup": ("backup", "active-backup-history.json"),
    "device-inventory": ("inventory", "inventory-devices.csv"),
    "application-inventory": ("inventory", "applications.csv"),
    "sophos": ("sophos", "Entities.xml"),
    "meraki-admins": ("meraki", "admins.json"),
    "meraki-l3-firewall": ("meraki", "l3-firewall-rules.json"),
    "meraki-ssids": ("meraki", "ssids.json"),
    "ad-users": ("ad", "ad-users.csv"),
    "ad-password-policy": ("ad", "ad-password-policy.json"),
}

# What the sample school (Sint-Jozef) declares in its school.yaml: its domain, the Entra ID
# groups of its staff and pupils, the domain and organisational unit of its pupils, the
# Active Directory service account whose password never expires.
STAFF_GROUP = "0b6d1f3a-5c7e-4a9b-8d2f-6e4c3b2a1f09"
PUPIL_GROUP = "9e2c4a6b-8d0f-4e1a-b3c5-7d9f1e3a5c7b"
SCHOOL_FACTS: dict[str, list[str] | None] = {
    "domains": ["sintjozef.be"],
    "identity.staff_groups": [STAFF_GROUP],
    "identity.pupil_groups": [PUPIL_GROUP],
    "identity.pupil_domains": ["leerling.sintjozef.be"],
    "identity.pupil_org_units": ["/Leerlingen"],
    "identity.service_accounts": ["svc-scan"],
}

# Secrets written into the samples; none may reach a verdict.
SECRETS = (
    "Pr1nt3rs-Sint-Jozef-2019!",
    "Leerkracht2024!",
    "printer123-lokaal-b12",
    "eyJ0eXAiOiJKV1Qi",
    "bm90LWEtcmVhbC1zaWduYXR1cmUtanVzdC1hLXRlc3Q",
    "Radius-SintJozef-2026!",
)


def sample(kind: str, variant: str) -> Path:
    """The path of the good or bad sample of an export kind."""
    folder, name = SAMPLES[kind]
    return EXPORTS / folder / variant / name


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog; problems about formats still being added are tolerated."""
    loaded, problems = load_catalog(REPO)
    other = [str(p) for p in problems if not any(f in p.message for f in PENDING_FORMATS)]
    assert other == []
    return loaded


def parse_kind(catalog: Catalog, kind: str, path: Path) -> Node:
    """Parse an export with the format of its kind, shown by its file name (as evidence shows
    it), in its kind's shape (columns under the names the rules use), as a scan reads it."""
    return parse_export(catalog.kinds[kind], read_source(path, path.name))


def parse_json(text: str, name: str = "export.json") -> Node:
    """A tree from JSON text in memory."""
    return parse_source(source_from_text(text, name), "json")


def parse_csv(text: str, name: str = "export.csv") -> Node:
    """A tree from CSV text in memory."""
    return parse_source(source_from_text(text, name), "csv")


def check_params(catalog: Catalog, check_id: str) -> RuleParams:
    """The parameters of a catalog check, validated as the probe validates them."""
    check = catalog.checks[check_id]
    assert check.probe == "config.rule"
    return RuleParams.model_validate(check.params)


def docs_for(
    catalog: Catalog, params: RuleParams, variant: str, kinds: Sequence[str] | None = None
) -> dict[str, list[Node]]:
    """The parsed samples of every kind a rule reads (or only `kinds`)."""
    wanted = params.kinds() if kinds is None else kinds
    return {k: [parse_kind(catalog, k, sample(k, variant))] for k in wanted}


def run_check(
    catalog: Catalog,
    check_id: str,
    variant: str | Mapping[str, Sequence[Node]],
    kinds: Sequence[str] | None = None,
    facts: Mapping[str, list[str] | None] | None = None,
) -> Verdict:
    """Evaluate a catalog check on the good/bad samples (or on given trees) on TODAY, with what
    a school.yaml declares (`facts`; none: nothing declared, as in a baseline)."""
    params = check_params(catalog, check_id)
    docs = docs_for(catalog, params, variant, kinds) if isinstance(variant, str) else variant
    return evaluate(params, docs, TODAY, facts)


def evidence_items(evidence: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every evidence item, including those of any_of/all_of parts."""
    yield from evidence.get("items", [])
    for mode in ("any_of", "all_of"):
        for part in evidence.get(mode, []):
            yield from part.get("items", [])


def labelled(evidence: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Evidence items by label."""
    return {it["label"]: it for it in evidence_items(evidence) if "label" in it}


def line_of(path: Path, needle: str, after: int = 0) -> int:
    """The 1-based line of the first line (past line `after`) of a file that contains `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if number > after and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def item_line(path: Path, needle: str, after: int = 0) -> int:
    """The line of the `{` that opens the JSON object holding the key line `needle`.

    Found from the text alone (the samples are indented by two), not through the parser."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = line_of(path, needle, after) - 1
    indent = len(lines[at]) - len(lines[at].lstrip()) - 2
    for i in range(at, -1, -1):
        text = lines[i]
        if text.strip() == "{" and len(text) - len(text.lstrip()) == indent:
            return i + 1
    raise AssertionError(f"no object opens before {needle!r} in {path}")


def assert_named(verdict: Verdict, path: Path, expected: Mapping[str, int]) -> None:
    """The failing evidence names exactly these items (label -> line) in this file."""
    found = labelled(verdict.evidence)
    assert set(found) == set(expected)
    for label, line in expected.items():
        assert found[label]["file"] == path.name
        assert found[label]["line"] == line, label
        assert label in verdict.message


def assert_no_secret(*texts: str) -> None:
    """None of the sample secrets appears in the given texts."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
