"""GRIP Wi-Fi checks on a UniFi controller's wireless networks (rest/wlanconf), run exactly as
the catalog defines them; the passphrases in the export never reach a verdict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import detect
from cyberstd.parsers.base import Node
from cyberstd.probes import probes
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.report.locations import locations
from cyberstd.results import Finding, FindingStatus, Severity
from cyberstd.rules.engine import RuleParams, evaluate
from tests.rules.conftest import (
    SAMPLES,
    SECRETS,
    TODAY,
    assert_named,
    assert_no_secret,
    evidence_items,
    item_line,
    parse_json,
    parse_kind,
    run_check,
    sample,
)

KIND = "wifi-controller"
BAD: dict[str, tuple[str, ...]] = {
    # "Leraarskamer" is open and "Bibliotheek" still WEP, neither a guest network; the
    # disabled "Oud-Personeel-2018" is not counted.
    "wifi.no-open-staff-ssid": ("Leraarskamer", "Bibliotheek"),
    # Staff on a shared key (wpapsk) and the teachers' room open. The WEP library and the
    # printers' network are named for no one: not judged (they would not fail it on their own).
    "wifi.staff-enterprise": ("SintJozef-Personeel", "Leraarskamer"),
    # The printers' network runs WPA1 (TKIP).
    "wifi.no-wpa1": ("SintJozef-Printers",),
    # The guest network lets guests reach each other.
    "wifi.guest-isolation": ("SintJozef-Gasten",),
}


def test_every_wifi_check_is_tested_here(catalog: Catalog) -> None:
    assert {cid for cid in catalog.checks if cid.startswith("wifi.")} == set(BAD)
    for cid in BAD:
        assert RuleParams.model_validate(catalog.checks[cid].params).kinds() == [KIND]


@pytest.mark.parametrize("variant", ["good", "bad"])
def test_detect_recognises_the_samples(catalog: Catalog, variant: str, tmp_path: Path) -> None:
    path = sample(KIND, variant)
    assert detect(path, catalog.kinds) == [KIND]
    anonymous = tmp_path / "export.json"
    shutil.copy(path, anonymous)
    assert detect(anonymous, catalog.kinds) == [KIND]


def test_sample_has_the_unifi_shape() -> None:
    data = json.loads(sample(KIND, "good").read_text(encoding="utf-8"))
    assert data["meta"] == {"rc": "ok"}
    assert {w["security"] for w in data["data"]} <= {"open", "wpapsk", "wpaeap", "wep", "osen"}
    assert {w["wpa_mode"] for w in data["data"]} <= {"auto", "wpa1", "wpa2"}


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_good_sample_passes(catalog: Catalog, check_id: str) -> None:
    v = run_check(catalog, check_id, "good")
    assert v.status is FindingStatus.PASS, v.message
    parts = v.evidence.get("all_of", [v.evidence])
    counts = [p["count"] for p in parts if p["expected"] == "count at most 0"]
    assert counts and all(n == 0 for n in counts)


@pytest.mark.parametrize("check_id", sorted(BAD))
def test_bad_sample_fails_naming_the_networks(catalog: Catalog, check_id: str) -> None:
    path = sample(KIND, "bad")
    v = run_check(catalog, check_id, "bad")
    assert v.status is FindingStatus.FAIL
    if "all_of" in v.evidence:  # what fails, not what the export could not decide
        v.evidence = {"all_of": [p for p in v.evidence["all_of"] if p["status"] == "fail"]}
    assert_named(v, path, {name: item_line(path, f'"name": "{name}"') for name in BAD[check_id]})
    assert all(it["path"].startswith("data[") for it in evidence_items(v.evidence))


def test_network_without_is_guest_counts_as_internal(catalog: Catalog) -> None:
    # Older controllers leave out is_guest when it is false.
    tree = parse_json(
        '{"meta": {"rc": "ok"}, "data": [{"name": "Vergaderzaal", "enabled": true, "security": "open"}]}',
        "wlanconf.json",
    )
    v = run_check(catalog, "wifi.no-open-staff-ssid", {KIND: [tree]})
    assert v.status is FindingStatus.FAIL
    assert v.message.endswith(": Vergaderzaal")


def test_an_empty_controller_is_no_evidence(catalog: Catalog) -> None:
    """A controller export without a single network proves nothing: not judged, never a pass."""
    tree = parse_json('{"meta": {"rc": "ok"}, "data": []}', "wlanconf.json")
    for check_id in BAD:
        verdict = run_check(catalog, check_id, {KIND: [tree]})
        assert verdict.status is FindingStatus.NOT_APPLICABLE
        assert "not judged" in verdict.message and "niet beoordeeld" in verdict.message_nl


# --- secrets ------------------------------------------------------------------------------------


def test_samples_really_hold_the_secrets() -> None:
    texts = [
        sample(kind, variant).read_text(encoding="utf-8-sig")
        for kind in SAMPLES
        for variant in ("good", "bad")
    ]
    for secret in SECRETS:
        assert any(secret in text for text in texts), secret


def _expose_all() -> RuleParams:
    """A rule whose evidence holds every network in full (every field, as parsed)."""
    return RuleParams.model_validate(
        {"kind": KIND, "select": "data[*]", "expect": {"present": False}, "label": "name"}
    )


@pytest.mark.parametrize("variant", ["good", "bad"])
def test_passphrases_never_reach_a_verdict(catalog: Catalog, variant: str) -> None:
    for check_id in BAD:
        v = run_check(catalog, check_id, variant)
        assert_no_secret(v.message, repr(v.evidence))
    docs = {KIND: [parse_kind(catalog, KIND, sample(KIND, variant))]}
    v = evaluate(_expose_all(), docs, TODAY)
    assert_no_secret(v.message, repr(v.evidence))
    shown = {it["label"]: it["actual"] for it in v.evidence["items"]}
    assert shown["SintJozef-Printers"]["x_passphrase"] == "[redacted]"


def test_passphrases_never_reach_a_probe_outcome(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "exports" / "wlanconf.json"
    path.parent.mkdir()
    shutil.copy(sample(KIND, "bad"), path)
    store = ExportStore(catalog.kinds, [ExportFile(path, "exports/wlanconf.json", KIND)])
    ctx = ProbeContext(exports=store, clock=Clock.at(TODAY))
    spec = probes()["config.rule"]
    target = Target("sint-jozef", kind=TargetKind.SCHOOL)
    for check_id in BAD:
        params = spec.params.model_validate(catalog.checks[check_id].params)
        outcome = spec.func(target, params, ctx)
        assert outcome.status is FindingStatus.FAIL
        assert_no_secret(outcome.message, repr(outcome.evidence))
    outcome = spec.func(target, _expose_all(), ctx)
    assert_no_secret(outcome.message, repr(outcome.evidence))
    assert "[redacted]" in repr(outcome.evidence)


def test_wep_and_roaming_keys_are_redacted(catalog: Catalog) -> None:
    docs = {KIND: [parse_kind(catalog, KIND, sample(KIND, "bad"))]}
    v = evaluate(_expose_all(), docs, TODAY)
    shown = {it["label"]: it["actual"] for it in v.evidence["items"]}
    assert shown["Bibliotheek"]["x_wep"] == "[redacted]"
    assert shown["Bibliotheek"]["x_iapp_key"] == "[redacted]"


# --- staff and pupils' networks (GRIP T3) ------------------------------------------------------

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE


def wlans(*nets: tuple[str, str]) -> dict[str, list[Node]]:
    """A controller export (the UniFi envelope) with these (name, security) networks and an
    isolated open guest network."""
    data = [
        {"name": name, "enabled": True, "security": sec, "wpa_mode": "wpa2", "is_guest": False}
        for name, sec in nets
    ]
    data.append({"name": "Gasten", "enabled": True, "security": "open", "is_guest": True,
                 "l2_isolation": True})  # fmt: skip
    return {KIND: [parse_json(json.dumps({"meta": {"rc": "ok"}, "data": data}), "wlanconf.json")]}


@pytest.mark.parametrize(
    ("nets", "status", "words"),
    [
        # T3: the pupils' network may use a shared key
        ((("Personeel", "wpaeap"), ("Leerlingen", "wpapsk")), P, ""),
        ((("SJ-LKR", "wpaeap"), ("SJ-LLN", "wpapsk"), ("SJ-Students", "wpapsk")), P, ""),
        ((("Personeel", "wpapsk"), ("Leerlingen", "wpaeap")), F, ": Personeel"),
        # a name with a staff word and a pupils' word is a network staff use
        (
            (("Personeel", "wpaeap"), ("Leerkrachten-Leerlingen", "wpapsk")),
            F,
            "Leerkrachten-Leerlingen",
        ),
        # a name that says nobody: judged only when it is 802.1X anyway
        ((("SintJozef", "wpaeap"), ("Leerlingen", "wpapsk")), P, ""),
        (
            (("Personeel", "wpaeap"), ("SintJozef-BYOD", "wpapsk")),
            NA,
            ": SintJozef-BYOD. GRIP (T3)",
        ),
        # only pupils' and guest networks: where staff sign in is not in the export
        ((("Leerlingen", "wpapsk"),), NA, "There is no network for staff"),
        # the short word ict is a word, not a piece of another
        ((("Personeel", "wpaeap"), ("Benedictus", "wpapsk")), NA, ": Benedictus."),
        ((("Personeel", "wpaeap"), ("SJ-ICT", "wpapsk")), F, ": SJ-ICT"),
    ],
    ids=[
        "pupils psk",
        "short names",
        "staff psk",
        "staff and pupils",
        "unnamed enterprise",
        "unnamed psk",
        "no staff network",
        "ict inside a word",
        "ict as a word",
    ],
)
def test_staff_enterprise_by_role(
    catalog: Catalog, nets: tuple[tuple[str, str], ...], status: FindingStatus, words: str
) -> None:
    v = run_check(catalog, "wifi.staff-enterprise", wlans(*nets))
    assert v.status is status, v.message
    assert words in v.message
    assert v.cannot_decide is (status is NA)
    if status is NA:
        assert "niet beoordeeld" in v.message_nl and "attest" in v.message.lower()


def test_a_failing_network_is_where_the_finding_points(catalog: Catalog) -> None:
    """A failure points at the staff network, not at the networks the export could not place."""
    v = run_check(
        catalog, "wifi.staff-enterprise", wlans(("Personeel", "wpapsk"), ("BYOD", "wpapsk"))
    )
    assert v.status is F
    finding = Finding(id="x", check="wifi.staff-enterprise", controls=["T3"], target="school",
                      status=v.status, severity=Severity.MEDIUM, message=v.message,
                      evidence=v.evidence)  # fmt: skip
    assert [loc.label for loc in locations(finding)] == ["Personeel"]
    v = run_check(
        catalog, "wifi.staff-enterprise", wlans(("Personeel", "wpaeap"), ("BYOD", "wpapsk"))
    )
    finding = finding.model_copy(update={"status": v.status, "evidence": v.evidence})
    assert [loc.label for loc in locations(finding)] == ["BYOD"]
