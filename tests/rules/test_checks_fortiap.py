"""GRIP Wi-Fi checks on the FortiGate's own Wi-Fi (config wireless-controller vap), run exactly
as the catalog defines them: the sound backup passes, the weak one fails naming its SSIDs, a
backup without Wi-Fi is not judged, and the passphrases never reach a verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.parsers import parse_file, parse_source
from cyberstd.parsers.base import Node, source_from_text
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, evaluate
from cyberstd.rules.select import compile_selector, select
from tests.conftest import REPO
from tests.rules.conftest import TODAY, check_params, line_of
from tests.rules.test_checks_devices import SAMPLES as DEVICE_SAMPLES
from tests.rules.test_checks_devices import _vdom_layout
from tests.rules.test_positive_evidence import _cut, _targets

DATA = REPO / "tests" / "data" / "exports" / "fortiap"
GOOD, BAD_FILE = DATA / "good" / "fortigate.conf", DATA / "bad" / "fortigate.conf"
BAD: dict[str, tuple[str, ...]] = {
    # the library still on WEP; the open guest network is a guest network
    "fortiap.no-open-staff-ssid": ("SintRita-Bib",),
    # the teachers on WPA/WPA2 mixed with a shared key
    "fortiap.staff-enterprise": ("SintRita-Leraren",),
    # mixed WPA/WPA2, WEP, and TKIP on a WPA2 network
    "fortiap.no-wpa1": ("SintRita-Leraren", "SintRita-Bib", "SintRita-Printers"),
    # guests see each other, and a policy lets them into the LAN
    "fortiap.guest-isolation": ("SintRita-Gasten", "Gasten naar LAN"),
}
# The passphrases and the WEP key of the samples (FortiOS writes them as ENC ...).
SECRETS = ("xT4vQm9bK2pLr7sW", "pL0kO9iJ8uH7yG6t", "aB3dE5fG7hJ9kL1z", "qW2eR4tY6uI8oP0a")


def _judge(catalog: Catalog, check_id: str, tree: Node) -> tuple[FindingStatus, str]:
    v = evaluate(check_params(catalog, check_id), {"fortigate": [tree]}, TODAY)
    return v.status, v.message


def test_every_fortiap_check_is_tested_here(catalog: Catalog) -> None:
    assert {cid for cid in catalog.checks if cid.startswith("fortiap.")} == set(BAD)
    for cid in BAD:
        assert RuleParams.model_validate(catalog.checks[cid].params).kinds() == ["fortigate"]


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_the_sound_wifi_passes(catalog: Catalog, check_id: str) -> None:
    status, message = _judge(catalog, check_id, parse_file(GOOD, "fortigate"))
    assert status is FindingStatus.PASS, message


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_the_weak_wifi_fails_naming_its_networks(catalog: Catalog, check_id: str) -> None:
    tree = parse_file(BAD_FILE, "fortigate", display=BAD_FILE.name)
    v = evaluate(check_params(catalog, check_id), {"fortigate": [tree]}, TODAY)
    assert v.status is FindingStatus.FAIL, v.message
    failed = [p for p in v.evidence.get("all_of", []) if p["status"] == "fail"] or [v.evidence]
    items = [it for part in failed for it in part.get("items", [])]
    named = {it["label"]: it["line"] for it in items if "label" in it}
    assert set(named) == set(BAD[check_id])
    for label, line in named.items():
        assert label in v.message
        needle = f'set ssid "{label}"' if label.startswith("SintRita") else f'set name "{label}"'
        assert line == line_of(BAD_FILE, needle) - 1  # the line of its `edit`


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_a_fortigate_without_wifi_is_not_judged(catalog: Catalog, check_id: str) -> None:
    for path in DEVICE_SAMPLES["fortigate"]:
        status, message = _judge(catalog, check_id, parse_file(path, "fortigate"))
        assert status is FindingStatus.NOT_APPLICABLE, (path, message)


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_multi_vdom_backups_are_judged_the_same(catalog: Catalog, check_id: str) -> None:
    for path, expected in ((GOOD, FindingStatus.PASS), (BAD_FILE, FindingStatus.FAIL)):
        tree = parse_source(
            source_from_text(_vdom_layout(path.read_text()), "fw.conf"), "fortigate"
        )
        assert _judge(catalog, check_id, tree)[0] is expected, check_id


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_nothing_to_judge_is_never_a_pass(catalog: Catalog, check_id: str) -> None:
    params = check_params(catalog, check_id)
    tree = parse_file(GOOD, "fortigate")
    doomed = {id(m.node) for steps in _targets(params) for m in select(tree, steps)}
    _cut(tree, doomed)
    status, message = _judge(catalog, check_id, tree)
    assert status is not FindingStatus.PASS, message


def test_a_guest_network_is_needed_to_judge_its_isolation(catalog: Catalog) -> None:
    text = (
        GOOD.read_text()
        .replace('"SintRita-Gasten"', '"SintRita-Extra"')
        .replace("wpa2-only-personal+captive-portal", "wpa2-only-enterprise")
    )
    tree = parse_source(source_from_text(text, "fw.conf"), "fortigate")
    status, message = _judge(catalog, "fortiap.guest-isolation", tree)
    assert status is FindingStatus.NOT_APPLICABLE
    assert "no guest network" in message


def test_a_vap_without_security_has_wpa2_personal(catalog: Catalog) -> None:
    text = GOOD.read_text().replace('"SintRita-Leerlingen"', '"SintRita-Personeel-BYOD"')
    tree = parse_source(source_from_text(text, "fw.conf"), "fortigate")
    status, message = _judge(catalog, "fortiap.staff-enterprise", tree)
    assert status is FindingStatus.FAIL
    assert "SintRita-Personeel-BYOD" in message


def test_passphrases_and_keys_never_reach_the_tree_or_a_verdict(catalog: Catalog) -> None:
    texts = []
    for path in (GOOD, BAD_FILE):
        tree = parse_file(path, "fortigate")
        vaps = tree.plain()["wireless-controller vap"]
        assert all(v.get("passphrase", "[redacted]") == "[redacted]" for v in vaps.values())
        assert vaps.get("Bib", {}).get("key", "[redacted]") == "[redacted]"
        texts.append(repr(tree.plain()))
        for check_id in BAD:
            v = evaluate(check_params(catalog, check_id), {"fortigate": [tree]}, TODAY)
            texts += [v.message, repr(v.evidence)]
    for secret in SECRETS:
        assert all(secret not in t for t in texts)
    assert any(secret in Path(p).read_text() for p in (GOOD, BAD_FILE) for secret in SECRETS)


def test_the_selectors_reach_the_vaps(catalog: Catalog) -> None:
    tree = parse_file(GOOD, "fortigate")
    found = select(tree, compile_selector('"wireless-controller vap".*'))
    assert len(found) == 3
