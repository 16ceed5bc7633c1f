"""The JSON Schemas of school.yaml, attestations.yaml and waivers.yaml: what `cyberstd schema`
writes is what docs/schemas/ holds, the demo school and the init scaffold pass them, and the
schema and the loader agree on what they refuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from cyberstd import messages
from cyberstd.cli import main
from cyberstd.errors import InputError
from cyberstd.scaffold import scaffold
from cyberstd.schema_json import MODELS, SECTIONS, json_schema, schema_file, schema_texts
from cyberstd.validation import parse
from cyberstd.yamlsrc import load, load_text
from tests.conftest import REPO

DOCS = REPO / "docs" / "schemas"
DEMO = REPO / "examples" / "demo-school"


def validator(yaml_name: str) -> jsonschema.protocols.Validator:
    schema = json_schema(MODELS[yaml_name], yaml_name)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(yaml_name: str, data: Any) -> list[str]:
    return [e.message for e in validator(yaml_name).iter_errors(data)]


def loader_refuses(yaml_name: str, text: str) -> bool:
    """What `cyberstd validate` does with the file before its cross-checks: the safe YAML
    loader (dates stay text), then the model."""
    try:
        doc = load_text(text, text.encode(), yaml_name)
    except InputError:
        return True
    model, problems = parse(doc, MODELS[yaml_name])
    return model is None and problems != []


def schema_refuses(yaml_name: str, text: str) -> bool:
    doc = load_text(text, text.encode(), yaml_name)
    return schema_errors(yaml_name, doc.data) != []


# --- the generated files ----------------------------------------------------------------------


def test_the_docs_schemas_are_what_the_command_writes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert written == sorted(schema_file(n) for n in MODELS)
    for name in written:
        assert f"wrote {tmp_path / 's' / name}" in result.output
        assert (DOCS / name).read_text(encoding="utf-8") == (tmp_path / "s" / name).read_text(
            encoding="utf-8"
        ), f"regenerate: cyberstd schema --out docs/schemas ({name} differs)"


def test_the_schemas_are_draft_7_and_describe_every_field_in_both_languages() -> None:
    for yaml_name, text in zip(MODELS, schema_texts().values(), strict=True):
        schema = json.loads(text)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        jsonschema.Draft7Validator.check_schema(schema)
        assert "$defs" not in text and '"ge"' not in text and "patternProperties" not in text
        nodes = [schema, *schema["definitions"].values()]
        for node in nodes:
            assert " / " in node["description"]
            if node["type"] == "object":  # no field the loader would refuse
                assert node["additionalProperties"] is False
            for field, value in node.get("properties", {}).items():
                nl, _, en = value["description"].partition(" / ")
                assert nl and en and nl != en, (yaml_name, field)
                assert "$ref" not in value, field  # draft-07 would ignore its description
    ids = {i for i in messages.catalog() if i.startswith("schema.")}
    sections = {i.rsplit(".", 1)[0] if i.count(".") > 1 else i for i in ids}
    assert sections <= {f"schema.{s}" for s in SECTIONS.values()}, "stale schema.* texts"


def test_schema_writes_nowhere_it_cannot(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["schema", "--out", str(blocker / "sub")])
    assert result.exit_code == 2 and "cannot write the schemas" in result.output


# --- real files pass --------------------------------------------------------------------------


@pytest.mark.parametrize("yaml_name", list(MODELS))
def test_the_demo_school_passes_its_schemas(yaml_name: str) -> None:
    doc = load(DEMO / yaml_name)
    assert schema_errors(yaml_name, doc.data) == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_init_scaffold_passes_the_schemas_it_names(tmp_path: Path, lang: str) -> None:
    folder = tmp_path / "school"
    scaffold(folder, "Sint-Jan", lang)
    for yaml_name in MODELS:
        text = (folder / yaml_name).read_text(encoding="utf-8")
        first = text.splitlines()[0]
        assert first == f"# yaml-language-server: $schema=.schemas/{schema_file(yaml_name)}"
        # yaml-language-server resolves a relative path against the file's own folder
        named = folder / first.partition("$schema=")[2]
        assert named.read_text(encoding="utf-8") == schema_texts()[schema_file(yaml_name)]
        assert schema_errors(yaml_name, load(folder / yaml_name).data) == []


# --- the schema and the loader agree ----------------------------------------------------------

SCHOOL = "school:\n  id: sint-jan\n  name: Sint-Jan\n"
HOST = SCHOOL + "hosts:\n  - name: www.sintjan.be\n    roles: [website]\n"
ATT = (
    "attestations:\n  - control: O1\n    answer: implemented\n    explanation: Done.\n"
    "    attested_by: An, director\n    date: 2026-09-01\n    review_by: 2027-09-01\n"
)
WAIVER = "waivers:\n  - control: O12\n    reason: Later.\n    approved_by: Board\n"

# (file, text, refused): both the schema and the loader must give the verdict
AGREE = {
    "school: minimal": ("school.yaml", SCHOOL, False),
    "school: full": (
        "school.yaml",
        HOST
        + "    address: 2001:db8::1\n    ports: {https: 8443}\n    zone: wifi\n"
        + "domains: [sintjan.be]\nzones:\n  - {id: wifi, kind: pupils, cidr: 10.20.0.0/16}\n"
        + "scope:\n  - {ranges: [10.20.0.0/16], authorized_by: An, date: 2026-09-01}\n"
        + "network: {timeout: 2.5, resolver: {address: 10.20.0.53}}\n"
        + "mail: {dkim_selectors: {sintjan.be: [s1]}}\n"
        + "identity: {staff_groups: [3F2A9C1E-5B7D-4E8F-A1C2-D3E4F5A6B7C8], "
        + "pupil_org_units: [/Leerlingen/]}\n",
        False,
    ),
    "school: unknown key": ("school.yaml", SCHOOL + "hostz: []\n", True),
    "school: unknown key in a host": ("school.yaml", HOST + "    adress: 10.0.0.1\n", True),
    "school: missing name": ("school.yaml", "school:\n  id: s\n", True),
    "school: blank name": ("school.yaml", "school:\n  id: s\n  name: '  '\n", True),
    "school: id with a space": ("school.yaml", "school:\n  id: sint jan\n  name: S\n", True),
    "school: institution number unquoted": (
        "school.yaml",
        SCHOOL + "  institution_number: 12345\n",
        True,
    ),
    "school: wrong role": ("school.yaml", HOST.replace("[website]", "[nass]"), True),
    "school: no role": ("school.yaml", HOST.replace("[website]", "[]"), True),
    "school: wrong zone kind": (
        "school.yaml",
        SCHOOL + "zones:\n  - {id: wifi, kind: pupil, cidr: 10.20.0.0/16}\n",
        True,
    ),
    "school: impossible date": (
        "school.yaml",
        SCHOOL + "scope:\n  - {ranges: [10.20.0.0/16], authorized_by: An, date: 2026-02-30}\n",
        True,
    ),
    "school: date as d/m/y": (
        "school.yaml",
        SCHOOL + "scope:\n  - {ranges: [10.20.0.0/16], authorized_by: An, date: 1/9/2026}\n",
        True,
    ),
    "school: date as a number": (
        "school.yaml",
        SCHOOL + "scope:\n  - {ranges: [10.20.0.0/16], authorized_by: An, date: 20260901}\n",
        True,
    ),
    "school: range not CIDR": (
        "school.yaml",
        SCHOOL + "zones:\n  - {id: wifi, cidr: 10.20.0.0-16}\n",
        True,
    ),
    "school: bad address": ("school.yaml", HOST + "    address: 10.0.0.256\n", True),
    "school: port as text": ("school.yaml", HOST + "    ports: {https: '443'}\n", True),
    "school: port 0": ("school.yaml", HOST + "    ports: {https: 0}\n", True),
    "school: port true": ("school.yaml", HOST + "    ports: {https: true}\n", True),
    "school: service with a space": ("school.yaml", HOST + "    ports: {my svc: 443}\n", True),
    "school: bad host name": ("school.yaml", HOST.replace("www.sintjan.be", "www_-.be!"), True),
    "school: DKIM for a non-domain": (
        "school.yaml",
        SCHOOL + "mail: {dkim_selectors: {'not a domain': [s1]}}\n",
        True,
    ),
    "school: object id not a GUID": (
        "school.yaml",
        SCHOOL + "identity: {staff_groups: [Personeel]}\n",
        True,
    ),
    "school: the top unit": ("school.yaml", SCHOOL + "identity: {pupil_org_units: [/]}\n", True),
    "school: timeout too long": ("school.yaml", SCHOOL + "network: {timeout: 301}\n", True),
    "school: not a mapping": ("school.yaml", "- school\n", True),
    "attestations: ok": ("attestations.yaml", ATT, False),
    "attestations: empty list": ("attestations.yaml", "attestations: []\n", False),
    "attestations: wrong answer": ("attestations.yaml", ATT.replace("implemented", "yes"), True),
    "attestations: bad review date": (
        "attestations.yaml",
        ATT.replace("2027-09-01", "2027-13-01"),
        True,
    ),
    "attestations: unknown key": ("attestations.yaml", ATT + "    comment: x\n", True),
    "attestations: no one attests": (
        "attestations.yaml",
        ATT.replace("    attested_by: An, director\n", ""),
        True,
    ),
    "attestations: upper-case sha256": (
        "attestations.yaml",
        ATT + "    evidence:\n      - {path: e/a.pdf, sha256: " + "A" * 64 + "}\n",
        True,
    ),
    "waivers: ok": ("waivers.yaml", WAIVER + "    expires: 2027-01-31\n", False),
    "waivers: check with control null": (
        "waivers.yaml",
        WAIVER + "    check:\n    expires: 2027-01-31\n",
        False,
    ),
    "waivers: control and check": (
        "waivers.yaml",
        WAIVER + "    check: web.hsts\n    expires: 2027-01-31\n",
        True,
    ),
    "waivers: neither control nor check": (
        "waivers.yaml",
        "waivers:\n  - reason: Later.\n    approved_by: Board\n    expires: 2027-01-31\n",
        True,
    ),
    "waivers: no expiry": ("waivers.yaml", WAIVER, True),
    "waivers: expiry in words": ("waivers.yaml", WAIVER + "    expires: next summer\n", True),
    "waivers: unknown key": (
        "waivers.yaml",
        WAIVER + "    expires: 2027-01-31\n    expiry: 2027-01-31\n",
        True,
    ),
}


@pytest.mark.parametrize(("yaml_name", "text", "refused"), AGREE.values(), ids=AGREE.keys())
def test_the_schema_and_the_loader_agree(yaml_name: str, text: str, refused: bool) -> None:
    assert loader_refuses(yaml_name, text) is refused
    assert schema_refuses(yaml_name, text) is refused


# What only the loader can judge (an order of dates, host bits, ids of other files), and the
# one place where the schema is stricter: a number written as text, which pydantic converts.
# Kept here so that a change on either side is seen.
DIFFER = {
    "review before date": ("attestations.yaml", ATT.replace("2027-09-01", "2026-08-01"), False),
    "host bits set": ("school.yaml", SCHOOL + "zones:\n  - {id: w, cidr: 10.20.0.1/16}\n", False),
    "expires before approved": (
        "waivers.yaml",
        WAIVER + "    approved: 2026-09-01\n    expires: 2026-08-01\n",
        False,
    ),
    "timeout as text": ("school.yaml", SCHOOL + "network: {timeout: '10'}\n", True),
}


@pytest.mark.parametrize(("yaml_name", "text", "schema"), DIFFER.values(), ids=DIFFER.keys())
def test_where_schema_and_loader_differ(yaml_name: str, text: str, schema: bool) -> None:
    assert schema_refuses(yaml_name, text) is schema
    assert loader_refuses(yaml_name, text) is not schema
