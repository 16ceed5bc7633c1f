"""JSON Schemas of a school folder's files (school.yaml, attestations.yaml, waivers.yaml), for
editors: VS Code's YAML extension and every other client of yaml-language-server validate and
complete a file whose first line names its schema:

    # yaml-language-server: $schema=.schemas/school.schema.json

The schemas are generated from the pydantic models that the loader validates with
(cyberstd.schema), so they cannot drift from it: required fields, types, enums, date and id
patterns, and no field the loader refuses. What a schema cannot say (a field that names a zone
of `zones`, a date that must not lie before another, a range with host bits set, a file that
must exist) the loader still refuses with a positioned message; `cyberstd validate` is the
judge, the schema is the editor's first help. Descriptions come from the message catalog
(cyberstd/locale/cli.yaml, ids schema.*), in Dutch and English: "nl / en".

Draft-07, the newest draft every yaml-language-server reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cyberstd.messages import render
from cyberstd.schema import AttestationsFile, SchoolFile, WaiversFile

DRAFT = "http://json-schema.org/draft-07/schema#"
# Where `cyberstd init` puts the schemas, inside the school folder; the modelines point there.
SCHEMA_DIR = ".schemas"
MODELS: dict[str, type[BaseModel]] = {
    "school.yaml": SchoolFile,
    "attestations.yaml": AttestationsFile,
    "waivers.yaml": WaiversFile,
}
# The message id (schema.SECTION[.FIELD]) of each model's description, by model name.
SECTIONS = {
    "SchoolFile": "school_yaml",
    "SchoolInfo": "school",
    "HostDef": "host",
    "HostRole": "host_role",
    "ZoneDef": "zone",
    "ZoneKind": "zone_kind",
    "ExportDef": "export",
    "Authorization": "scope",
    "SchoolNotApplicable": "not_applicable",
    "NetworkSettings": "network",
    "ResolverSettings": "resolver",
    "MailSettings": "mail",
    "IdentitySettings": "identity",
    "AttestationsFile": "attestations_yaml",
    "AttestationDef": "attestation",
    "EvidenceFile": "evidence",
    "Answer": "answer",
    "WaiversFile": "waivers_yaml",
    "WaiverDef": "waiver",
}
_ONE_OF_TWO = [
    {"required": [name], "properties": {name: {"type": "string"}}} for name in ("control", "check")
]
# What a model validator checks that the fields alone do not say, where JSON Schema can say it.
RULES: dict[str, dict[str, Any]] = {
    # exactly one of control and check (WaiverDef._valid)
    "WaiverDef": {
        "anyOf": _ONE_OF_TWO,
        "not": {
            "required": ["control", "check"],
            "properties": {"control": {"type": "string"}, "check": {"type": "string"}},
        },
    },
}
# Per enum value, what it means (shown by editors that read enumDescriptions).
VALUE_TEXTS = {"Answer": "attest.answer"}


def schema_file(yaml_name: str) -> str:
    """school.yaml -> school.schema.json"""
    return yaml_name.removesuffix(".yaml") + ".schema.json"


def modeline(yaml_name: str) -> str:
    """The first line of a school folder file, naming its schema in the folder's .schemas/."""
    return f"# yaml-language-server: $schema={SCHEMA_DIR}/{schema_file(yaml_name)}\n"


def both(id: str, **values: Any) -> str:
    return f"{render(id, 'nl', values)} / {render(id, 'en', values)}"


def _clean(node: Any) -> Any:
    """pydantic's schema without its English titles and docstrings, without `default: null`,
    and with a mapping's key pattern as propertyNames (so that other keys are refused)."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "description") or (key == "default" and value is None):
            continue
        if key in ("properties", "definitions", "$defs"):
            out["definitions" if key == "$defs" else key] = {k: _clean(v) for k, v in value.items()}
        else:
            out[key] = _clean(value)
    patterns = out.pop("patternProperties", None)
    if patterns:
        if len(patterns) != 1 or "additionalProperties" in out:
            raise ValueError(f"cannot express {sorted(patterns)} as propertyNames")
        ((pattern, values),) = patterns.items()
        out["propertyNames"] = {"pattern": pattern, **out.get("propertyNames", {})}
        out["additionalProperties"] = values
    return out


def _no_sibling(node: dict[str, Any]) -> dict[str, Any]:
    """A reference that can stand beside a description: draft-07 ignores what stands beside
    `$ref`, so the reference goes into allOf."""
    return {"allOf": [node]} if "$ref" in node else node


def _describe(name: str, node: dict[str, Any]) -> dict[str, Any]:
    """The model (or enum) `name`'s schema with its descriptions and rules, in a fixed order."""
    section = SECTIONS[name]  # a new model in the files needs its texts: KeyError until then
    out: dict[str, Any] = {"description": both(f"schema.{section}")}
    out.update(node)
    if "properties" in node:
        out["properties"] = {
            field: {"description": both(f"schema.{section}.{field}"), **_no_sibling(value)}
            for field, value in node["properties"].items()
        }
    if name in VALUE_TEXTS:
        out["enumDescriptions"] = [both(f"{VALUE_TEXTS[name]}.{v}") for v in node["enum"]]
    out.update(RULES.get(name, {}))
    return out


def json_schema(model: type[BaseModel], yaml_name: str) -> dict[str, Any]:
    """The JSON Schema of one file (draft-07)."""
    raw = model.model_json_schema(mode="validation", ref_template="#/definitions/{model}")
    cleaned = _clean(raw)
    definitions = cleaned.pop("definitions", {})
    root = _describe(model.__name__, cleaned)
    return {
        "$schema": DRAFT,
        "$comment": f"cyberstd {yaml_name}: generated by `cyberstd schema` from the models that "
        "validate the file; do not edit.",
        "title": f"cyberstd {yaml_name}",
        **root,
        "definitions": {name: _describe(name, node) for name, node in sorted(definitions.items())},
    }


def schema_texts() -> dict[str, str]:
    """Every schema as the file it is written to: file name -> JSON text."""
    return {
        schema_file(name): json.dumps(json_schema(model, name), indent=2, ensure_ascii=False) + "\n"
        for name, model in MODELS.items()
    }


def write_schemas(folder: Path) -> list[Path]:
    """Write the three schemas into `folder` (created if needed); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
