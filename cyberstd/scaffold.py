"""`cyberstd init`: a commented school folder that validates as it is."""

from __future__ import annotations

import re
from pathlib import Path

from cyberstd.attest import HEADER as ATTESTATIONS_HEADER
from cyberstd.errors import UsageError

SCHOOL_TEMPLATE = """\
# school.yaml: describes one school for cyberstd.
# Every network target cyberstd may touch must be listed here; nothing else is ever probed.
# Check the file with `cyberstd validate {folder}` and see what a scan would do with
# `cyberstd plan {folder}` (that sends nothing).

school:
  id: {slug}                 # short name without spaces, used in file names and reports
  name: "{name}"
  # institution_number: "012345"   # instellingsnummer

# Profile used when `cyberstd scan` gets no --profile: grip-basis-1 .. grip-basis-6,
# primary-school, secondary-school or school-group (`cyberstd profiles` lists them).
profile: grip-basis-2

# The school's own internet domains (website, e-mail).
domains: []
#  - example-school.be

# Hosts cyberstd may probe, with their roles: website, mail, vpn, firewall, dns, server,
# wifi-controller, nas, printer, other. Give the address to skip the DNS look-up;
# ports override the defaults per service (http 80, https 443).
hosts: []
#  - name: www.example-school.be
#    roles: [website]
#    # address: 203.0.113.10
#    # ports: {{https: 443, http: 80}}

# Network zones (for segmentation checks), e.g. pupils' Wi-Fi and administration.
zones: []
#  - id: pupils
#    cidr: 10.20.0.0/16
#    description: Wi-Fi for pupils

# Configuration exports to judge, with their kind.
exports: []
#  - path: exports/entra-users.json
#    kind: entra-users

# Who authorised scanning which internal ranges, and when. Internal (non-public)
# addresses are refused unless they lie in a range authorised here.
scope: []
#  - ranges: [10.20.0.0/16]
#    authorized_by: "Name of the director or school board"
#    date: 2026-09-01
#    expires: 2027-08-31

# Controls that do not apply to this school, each with a reason.
not_applicable: []
#  - control: T13
#    reason: "The school develops no software of its own."

# What DNS cannot tell about the school's mail: the DKIM selectors it signs with (the s= of
# a DKIM-Signature header). Without them mail.dkim only tries well-known selectors.
# mail:
#   dkim_selectors:
#     example-school.be: [selector1, selector2]

network:
  timeout: 10               # seconds per network operation
  # ca_bundle: certs/internal-ca.pem   # extra trusted CA for internal services

# Who is staff and who is a pupil, which the identity exports cannot tell: the object ids of
# the Entra ID groups that hold the staff and of those that hold only pupils, the domains of
# the pupils' accounts and the pupils' organisational units in Google Workspace.
# identity:
#   staff_groups: [3f2a9c1e-5b7d-4e8f-a1c2-d3e4f5a6b7c8]
#   pupil_groups: [9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a]
#   pupil_domains: [leerling.example-school.be]
#   pupil_org_units: [/Leerlingen]
"""

WAIVERS_TEMPLATE = """\
# Waivers: risks the school accepts for a while. Each needs a reason, who approved it and
# an expiry date. An expired waiver no longer counts and the report says so.
waivers: []
#  - control: T10
#    reason: "Network renewal planned in the summer holidays; segmentation follows then."
#    approved_by: "Director"
#    approved: 2026-09-01
#    expires: 2027-01-31
"""


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "school"


def scaffold(folder: Path, name: str | None = None) -> list[Path]:
    """Write school.yaml, attestations.yaml, waivers.yaml and evidence/ into a new folder."""
    if (folder / "school.yaml").exists():
        raise UsageError(f"{folder / 'school.yaml'} already exists; not overwriting it")
    folder.mkdir(parents=True, exist_ok=True)
    display = name or folder.resolve().name
    files = {
        folder / "school.yaml": SCHOOL_TEMPLATE.format(
            slug=slugify(display), name=display.replace('"', "'"), folder=folder
        ),
        folder / "attestations.yaml": ATTESTATIONS_HEADER + "attestations: []\n",
        folder / "waivers.yaml": WAIVERS_TEMPLATE,
    }
    for path in files:
        if path.exists():
            raise UsageError(f"{path} already exists; not overwriting it")
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    (folder / "evidence").mkdir(exist_ok=True)
    return [*files, folder / "evidence"]
