"""OSCAL assessment-results: valid against NIST's schema, statuses mapped, reproducible, inert."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import regex
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from cyberstd.report import renderer
from cyberstd.report.oscal import NS, OSCAL_VERSION, render, token
from cyberstd.results import Results
from tests.report_formats import HOSTILE, make_results, scan_demo

SCHEMA = (
    Path(__file__).resolve().parent.parent
    / "data"
    / "oscal"
    / "oscal_assessment-results_schema.json"
)
TOKEN = regex.compile(r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$")


def _pattern(
    validator: Validator, pattern: str, instance: object, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """The 'pattern' keyword with the `regex` package, which knows \\p{L} and \\p{N}."""
    if isinstance(instance, str) and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("uri", raises=ValueError)
    def uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and not any(ch.isspace() for ch in value)

    @checker.checks("uri-reference", raises=ValueError)
    def uri_reference(value: object) -> bool:
        if not isinstance(value, str):
            return True
        urlsplit(value)
        return not any(ch.isspace() or not ch.isprintable() for ch in value)

    return checker


@pytest.fixture(scope="module")
def validator() -> Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"].endswith(f"/{OSCAL_VERSION}/oscal-ar-schema.json")
    cls = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern})
    return cls(schema, format_checker=_format_checker())


def errors(validator: Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]


def load(results: Results, lang: str = "en") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(results, lang))["assessment-results"]
    return doc


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a JSON document, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def finding_for(doc: dict[str, Any], control_id: str) -> dict[str, Any]:
    (found,) = [
        f
        for f in doc["results"][0]["findings"]
        if {"name": "control-id", "ns": NS, "value": control_id} in f["props"]
    ]
    return found


def observation_for(doc: dict[str, Any], finding_id: str) -> dict[str, Any]:
    (found,) = [
        o
        for o in doc["results"][0]["observations"]
        if {"name": "finding-id", "ns": NS, "value": finding_id} in o.get("props", [])
    ]
    return found


def prop(item: dict[str, Any], name: str) -> str | None:
    values = [p["value"] for p in item.get("props", []) if p["name"] == name]
    return values[0] if values else None


def test_validator_rejects_what_the_schema_forbids(validator: Validator) -> None:
    doc = json.loads(render(make_results(), "en"))
    assert errors(validator, doc) == []
    finding = doc["assessment-results"]["results"][0]["findings"][0]
    finding["target"]["target-id"] = "not a token"
    finding["title"] = "two\nlines"
    doc["assessment-results"]["results"][0]["start"] = "2026-11-01T09:00:00"
    doc["assessment-results"]["uuid"] = "not-a-uuid"
    found = "\n".join(errors(validator, doc))
    assert "target-id" in found and "title" in found and "start" in found and "uuid" in found


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("hostile", [False, True])
def test_output_validates_against_nist_schema(
    validator: Validator, lang: str, hostile: bool
) -> None:
    doc = json.loads(render(make_results(hostile=hostile), lang))
    assert errors(validator, doc) == []
    assert doc["assessment-results"]["metadata"]["oscal-version"] == OSCAL_VERSION


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return scan_demo(tmp_path_factory.mktemp("demo"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_demo_school_validates(validator: Validator, demo: Results, lang: str) -> None:
    doc = json.loads(renderer("oscal")(demo, lang))
    assert errors(validator, doc) == []
    result = doc["assessment-results"]["results"][0]
    assert len(result["findings"]) == len(demo.controls)
    attested = sum(c.attestation is not None for c in demo.controls)
    assert len(result["observations"]) == len(demo.findings) + attested


def test_statuses_map_to_objective_states() -> None:
    doc = load(make_results())
    states = {
        cid: finding_for(doc, cid)["target"]["status"]
        for cid in ["C1", "C2", "C3", "C4", "C5", "C6.1", "7 odd id"]
    }
    assert {cid: s["state"] for cid, s in states.items()} == {
        "C1": "satisfied",
        "C2": "not-satisfied",
        "C3": "not-satisfied",
        "C4": "satisfied",
        "C5": "not-satisfied",
        "C6.1": "not-satisfied",
        "7 odd id": "not-satisfied",
    }
    assert states["C1"]["reason"] == "pass" and states["C2"]["reason"] == "fail"
    assert states["C3"]["reason"] == "fail"  # waived: judged on its underlying status
    assert {prop(finding_for(doc, c), "status") for c in states} == {
        "compliant",
        "non_compliant",
        "waived",
        "not_applicable",
        "error",
        "partial",
        "not_assessed",
    }


def test_non_compliant_control_relates_its_failing_findings() -> None:
    doc = load(make_results())
    c2 = finding_for(doc, "C2")
    assert c2["target"] == {
        "type": "objective-id",
        "target-id": "C2",
        "title": "C2 Failing control (en)",
        "status": {"state": "not-satisfied", "reason": "fail"},
    }
    config = observation_for(doc, "cfg.bad@test-school")
    probe = observation_for(doc, "web.bad@www.school.test")
    related = [r["observation-uuid"] for r in c2["related-observations"]]
    assert related == [config["uuid"], probe["uuid"]]
    assert prop(config, "status") == "fail" and prop(probe, "status") == "fail"
    assert config["methods"] == ["EXAMINE"] and probe["methods"] == ["TEST"]
    assert [e["description"] for e in config["relevant-evidence"]] == [
        "exports/fw.conf:14 (wan1)",
        "exports/fw.conf:30 (wan2)",
    ]
    assert probe["relevant-evidence"] == [{"description": "address=127.0.0.1; header=missing"}]
    assert config["description"] == "2 interfaces allow admin access"
    assert config["collected"] == "2026-11-01T09:00:00.123456Z"
    assert c2["remarks"].startswith("Repair it.")


def test_waived_control_is_not_satisfied_and_says_why() -> None:
    doc = load(make_results())
    c3 = finding_for(doc, "C3")
    assert c3["target"]["status"]["state"] == "not-satisfied"
    remarks = c3["target"]["status"]["remarks"]
    assert "waived by School board until 30 June 2027: New firewall arrives in spring." in remarks
    assert "(underlying status: non-compliant)" in remarks
    assert prop(c3, "status") == "waived"
    assert prop(c3, "waived") == "true"
    assert prop(c3, "waiver-reason") == "New firewall arrives in spring."
    assert prop(c3, "waiver-approved-by") == "School board"
    assert prop(c3, "waiver-expires") == "2027-06-30"
    assert prop(c3, "underlying-status") == "non_compliant"
    related = [r["observation-uuid"] for r in c3["related-observations"]]
    assert related == [observation_for(doc, "web.bad@www.school.test")["uuid"]]
    c4 = finding_for(doc, "C4")
    assert "No mail." in c4["target"]["status"]["remarks"]
    nl = load(make_results(), "nl")
    assert (
        "risico aanvaard door School board" in finding_for(nl, "C3")["target"]["status"]["remarks"]
    )


def test_attestations_are_observations_with_hashed_evidence() -> None:
    doc = load(make_results())
    c1 = finding_for(doc, "C1")
    observations = {o["uuid"]: o for o in doc["results"][0]["observations"]}
    related = [observations[r["observation-uuid"]] for r in c1["related-observations"]]
    assert [o["methods"] for o in related] == [["EXAMINE"], ["TEST"], ["EXAMINE"]]
    attestation = related[-1]
    assert attestation["title"] == "Attestation for C1"
    assert prop(attestation, "attested-by") == "A. Director"
    assert prop(attestation, "review-by") == "2027-09-01"
    assert attestation["expires"] == "2027-09-01T00:00:00Z"
    (evidence,) = attestation["relevant-evidence"]
    assert prop(evidence, "sha256") == "ab" * 32
    resources = {r["uuid"]: r for r in doc["back-matter"]["resources"]}
    resource = resources[evidence["href"].removeprefix("#")]
    assert resource["rlinks"] == [
        {"href": "evidence/policy.md", "hashes": [{"algorithm": "SHA-256", "value": "ab" * 32}]}
    ]
    parties = {p["uuid"]: p for p in doc["metadata"]["parties"]}
    actor = attestation["origins"][0]["actors"][0]
    assert parties[actor["actor-uuid"]] == {
        "uuid": actor["actor-uuid"],
        "type": "person",
        "name": "A. Director",
    }


def test_every_reference_resolves_and_uuids_are_unique() -> None:
    doc = load(make_results())
    uuids = [v for k, v in walk(doc) if k == "uuid"]
    assert len(uuids) == len(set(uuids))
    known = set(uuids)
    refs = [v for k, v in walk(doc) if k in ("observation-uuid", "subject-uuid", "actor-uuid")]
    refs += [u for k, v in walk(doc) if k == "party-uuids" for u in v]
    refs += [v.removeprefix("#") for k, v in walk(doc) if k == "href" and v.startswith("#")]
    assert refs and set(refs) <= known
    resources = {r["uuid"]: r for r in doc["back-matter"]["resources"]}
    plan = resources[doc["import-ap"]["href"].removeprefix("#")]
    assert "assessment plan" in plan["remarks"] and "import-ap" in doc["import-ap"]["remarks"]


def test_control_ids_become_tokens() -> None:
    doc = load(make_results())
    targets = [f["target"]["target-id"] for f in doc["results"][0]["findings"]]
    assert targets == ["C1", "C2", "C3", "C4", "C5", "C6.1", "_7_odd_id"]
    (selection,) = doc["results"][0]["reviewed-controls"]["control-selections"]
    assert [c["control-id"] for c in selection["include-controls"]] == targets
    tokens = [v for k, v in walk(doc) if k in ("target-id", "control-id", "role-id")]
    tokens += [p["name"] for k, v in walk(doc) if k == "props" for p in v]
    assert tokens and all(TOKEN.match(v) for v in tokens)
    assert token("PR.AC-1") == "PR.AC-1" and token("Été 2") == "Été_2" and token("") == "_"
    assert token("O9.2") == "O9.2" and token("T12") == "T12" and token("9 x/y") == "_9_x_y"


def test_renders_are_reproducible() -> None:
    results = make_results()
    first = render(results, "en")
    assert render(results, "en") == first
    again = Results.model_validate_json(results.model_dump_json())
    assert render(again, "en") == first
    other = make_results()
    other.run.id = "20261102T090000Z-00000000"
    assert load(other)["uuid"] != load(results)["uuid"]
    assert finding_for(load(other), "C1")["uuid"] != finding_for(load(results), "C1")["uuid"]


def test_hostile_strings_stay_plain_json_strings() -> None:
    results = make_results(hostile=True)
    text = render(results, "en")
    raw = json.loads(text)
    assert list(raw) == ["assessment-results"]
    doc = raw["assessment-results"]
    assert list(doc) == ["uuid", "metadata", "import-ap", "results", "back-matter"]
    assert "injected" not in {k for k, _ in walk(doc)}
    assert not any("\x1b" in s or "\r" in s for s in strings(doc))
    observation = observation_for(doc, "cfg.bad@test-school")
    assert observation["description"].startswith('=HYPERLINK("http://x","click") | ')
    assert "<script>alert(1)</script>" in observation["description"]
    assert '"}, "injected": {"x": "' in observation["description"]
    assert "\\x1b[31mred" in observation["description"]
    single_line = [v for k, v in walk(doc) if k in ("title", "name", "value")]
    assert all(isinstance(v, str) and "\n" not in v and v == v.strip() for v in single_line)
    assert {
        i["description"] for i in doc["results"][0]["local-definitions"]["inventory-items"]
    } >= {
        "+cmd|' /C calc'!A0",
        "=1",  # "\t=1" with its white space collapsed
    }
    assert doc["metadata"]["parties"][0]["name"] == HOSTILE[0]


def test_demo_ids_keep_the_catalog_case(demo: Results) -> None:
    doc = json.loads(renderer("oscal")(demo, "en"))["assessment-results"]
    targets = {f["target"]["target-id"] for f in doc["results"][0]["findings"]}
    assert targets == {c.id for c in demo.controls}
    assert {"O9.2", "T12"} <= targets


def _hrefs(text: str) -> dict[str, str]:
    doc = json.loads(text)["assessment-results"]
    return {
        r["title"]: r["rlinks"][0]["href"] for r in doc["back-matter"]["resources"] if "rlinks" in r
    }


def test_files_are_named_relative_to_the_school_folder(demo: Results) -> None:
    assert demo.school.folder and "/" not in demo.school.folder  # the folder's name only
    text = renderer("oscal")(demo, "en")
    hrefs = _hrefs(text)
    assert hrefs["exports/m365/users.json"] == "exports/m365/users.json"
    assert hrefs["evidence/o3-policy.md"] == "evidence/o3-policy.md"
    assert hrefs["school.yaml"] == "school.yaml"
    # results.json says catalog:standards/grip/controls.yaml: a URI reference has no scheme
    assert "catalog:standards/grip/controls.yaml" in demo.run.inputs
    assert hrefs["standards/grip/controls.yaml"] == "standards/grip/controls.yaml"
    assert all(not h.startswith("/") and ":" not in h for h in hrefs.values())
    doc = json.loads(text)["assessment-results"]
    evidence = [
        e
        for o in doc["results"][0]["observations"]
        for e in o.get("relevant-evidence", [])
        if "props" in e and prop(e, "file")
    ]
    assert evidence and all(not str(prop(e, "file")).startswith("/") for e in evidence)


def test_absolute_paths_of_older_results_are_made_relative(demo: Results) -> None:
    # results.json as versions before portable names wrote it: absolute paths of the machine
    folder = "/srv/scans/jan/demo-school"
    inputs = {}
    for name, sha in demo.run.inputs.items():
        if name.startswith("catalog:"):
            inputs["/opt/cyberstd/" + name.removeprefix("catalog:")] = sha
        else:
            inputs[f"{folder}/{name}"] = sha
    old = demo.model_copy(deep=True)
    old.run.inputs = inputs
    old.school.folder = folder
    text = renderer("oscal")(old, "en")
    assert "file:/" not in text and folder not in text and "/opt/cyberstd" not in text
    hrefs = _hrefs(text)
    assert hrefs["exports/m365/users.json"] == "exports/m365/users.json"
    assert hrefs["school.yaml"] == "school.yaml"
    assert hrefs["standards/grip/controls.yaml"] == "standards/grip/controls.yaml"
    assert all(not h.startswith("/") and ":" not in h for h in hrefs.values())


def test_absolute_paths_outside_the_school_folder_are_not_shown() -> None:
    results = make_results()
    results.school.folder = "/home/jan/schools/test"
    results.run.inputs = {
        "/home/jan/schools/test/school.yaml": "ab" * 32,
        "/opt/cyberstd/checks/data/min-versions.yaml": "ab" * 32,
        "C:\\Users\\jan\\Desktop\\fw.conf": "ab" * 32,
    }
    results.findings[0].message = "see /home/jan/schools/test/exports/fw.conf:14"
    text = render(results, "en")
    assert "/home/jan" not in text and "Users" not in text and "file:/" not in text
    hrefs = [
        r["rlinks"][0]["href"]
        for r in json.loads(text)["assessment-results"]["back-matter"]["resources"]
        if "rlinks" in r
    ]
    assert {"school.yaml", "checks/data/min-versions.yaml", "fw.conf"} <= set(hrefs)
    assert (
        "see exports/fw.conf:14"
        in observation_for(load(results), "cfg.bad@test-school")["description"]
    )
