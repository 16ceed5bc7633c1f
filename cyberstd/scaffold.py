"""`cyberstd init`: a commented school folder that validates as it is, in Dutch or English.

The files' structure (keys, values, commented examples) is written here; every sentence in
them comes from the message catalog (cyberstd/locale/cli.yaml, ids init.*), so that a Dutch
folder holds no English comment and the other way round. Each file's first line names its
JSON Schema in the folder's .schemas/ (written alongside), for editors that validate YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

from cyberstd.errors import UsageError
from cyberstd.i18n import t
from cyberstd.schema_json import SCHEMA_DIR, modeline, write_schemas

SCHOOL_TEMPLATE = """\
{header}

school:
  id: {slug}                 # {c_id}
  name: "{name}"
  # institution_number: "012345"   # {c_institution}

{c_profile}
profile: grip-basis-2

{c_domains}
domains: []
#  - example-school.be

{c_hosts}
hosts: []
#  - name: www.example-school.be
#    roles: [website]
#    # address: 203.0.113.10
#    # ports: {{https: 443, http: 80}}

{c_zones}
zones: []
#  - id: {zone_id}
#    kind: pupils
#    cidr: 10.20.0.0/16
#    description: {zone_description}

{c_exports}
exports: []
#  - path: exports/entra-users.json
#    kind: entra-users

{c_scope}
scope: []
#  - ranges: [10.20.0.0/16]
#    authorized_by: "{scope_by}"
#    date: 2026-09-01
#    expires: 2027-08-31

{c_not_applicable}
not_applicable: []
#  - control: T13
#    reason: "{na_reason}"

{c_mail}
# mail:
#   dkim_selectors:
#     example-school.be: [selector1, selector2]

network:
  timeout: 10               # {c_timeout}
  # ca_bundle: certs/internal-ca.pem   # {c_ca_bundle}

{c_identity}
# identity:
#   staff_groups: [3f2a9c1e-5b7d-4e8f-a1c2-d3e4f5a6b7c8]
#   pupil_groups: [9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a]
#   pupil_domains: [leerling.example-school.be]
#   pupil_org_units: [/Leerlingen]
"""

WAIVERS_TEMPLATE = """\
{header}
waivers: []
#  - control: T10
#    reason: "{reason}"
#    approved_by: "{approved_by}"
#    approved: 2026-09-01
#    expires: 2027-01-31
"""


def comment(id: str, lang: str, **values: str) -> str:
    """A catalog text as a block of YAML comment lines."""
    return "\n".join(f"# {line}".rstrip() for line in t(id, lang, **values).splitlines())


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "school"


def school_text(folder: Path, name: str, lang: str) -> str:
    parts = ("profile", "domains", "hosts", "zones", "exports", "scope", "not_applicable", "mail")
    blocks = {f"c_{part}": comment(f"init.school.{part}", lang) for part in (*parts, "identity")}
    words = {
        key: t(f"init.school.{key}", lang)
        for key in ("zone_id", "zone_description", "scope_by", "na_reason")
    }
    return modeline("school.yaml") + SCHOOL_TEMPLATE.format(
        header=comment("init.school.header", lang, folder=str(folder)),
        slug=slugify(name),
        name=name.replace('"', "'"),
        c_id=t("init.school.id", lang),
        c_institution=t("init.school.institution_number", lang),
        c_timeout=t("init.school.timeout", lang),
        c_ca_bundle=t("init.school.ca_bundle", lang),
        **blocks,
        **words,
    )


def attestations_header(lang: str, with_schema: bool = True) -> str:
    """The comment that opens attestations.yaml (also when `cyberstd attest` creates it)."""
    first = modeline("attestations.yaml") if with_schema else ""
    return first + comment("init.attestations.header", lang) + "\n"


def waivers_text(lang: str) -> str:
    return modeline("waivers.yaml") + WAIVERS_TEMPLATE.format(
        header=comment("init.waivers.header", lang),
        reason=t("init.waivers.reason", lang),
        approved_by=t("init.waivers.approved_by", lang),
    )


def scaffold(folder: Path, name: str | None = None, lang: str = "nl") -> list[Path]:
    """Write school.yaml, attestations.yaml, waivers.yaml, evidence/ and the files' JSON
    Schemas (.schemas/) into a new folder, commented in `lang` ('nl' or 'en')."""
    if (folder / "school.yaml").exists():
        raise UsageError(f"{folder / 'school.yaml'} already exists; not overwriting it")
    display = name or folder.resolve().name
    files = {
        folder / "school.yaml": school_text(folder, display, lang),
        folder / "attestations.yaml": attestations_header(lang) + "attestations: []\n",
        folder / "waivers.yaml": waivers_text(lang),
    }
    for path in files:
        if path.exists():
            raise UsageError(f"{path} already exists; not overwriting it")
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    (folder / "evidence").mkdir(exist_ok=True)
    schemas = write_schemas(folder / SCHEMA_DIR)
    return [*files, folder / "evidence", *schemas]
