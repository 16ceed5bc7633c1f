"""What a lab fleet writes for whoever scans it: group.yaml, scholen.csv (or a school folder per
school), expected.json, and the lab CA to trust.

Perimeter mode (docs/groups.md): `group.yaml` with the batch authorisation, the lab-only
`scope` over the fleet's addresses and `defaults` (profile, resolver, `ca_bundle: ca.pem`),
and `scholen.csv` (instellingsnummer;naam;domeinen). Folder mode: `group.yaml` with the same
defaults and scope, and one folder per school whose `school.yaml` a plain `cyberstd scan
FOLDER --profile perimeter` takes. Both write `expected.json`: per school id the flaws it
carries and the status every check of the perimeter profile must have.

The folder is the fleet's own: a new fleet refuses a folder that holds anything else, and
replaces what an earlier fleet wrote there (listed in `lab/fleet.json`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyberstd.errors import Said
from cyberstd.lab.fleetplan import (
    DNS_ADDRESS,
    DNS_PORT,
    FLEET_RANGE,
    PERIMETER_CHECKS,
    PROFILE,
    FleetSchool,
)
from cyberstd.messages import msg

LAB_DIR = "lab"
MANIFEST = "fleet.json"
GROUP_FILE = "group.yaml"
SCHOOL_LIST = "scholen.csv"
EXPECTED = "expected.json"
CA_FILE = "ca.pem"
AUTHORIZED_BY = "cyberstd lab fleet, loopback only"


class FleetRefused(Said):
    """The fleet cannot write into the folder it was given."""


@dataclass(frozen=True)
class FleetFiles:
    """What the fleet wrote: the group file, the expected verdicts, the CA to trust."""

    group_file: Path
    expected: Path
    ca_bundle: Path
    school_list: Path | None
    written: tuple[str, ...]


def _q(text: str) -> str:
    """A YAML scalar in double quotes (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def earlier_manifest(folder: Path) -> dict[str, Any] | None:
    """What an earlier fleet recorded in `folder`, or None when it holds none."""
    path = folder / LAB_DIR / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def claim(folder: Path) -> dict[str, Any] | None:
    """Make `folder` ready for a fleet: create it, or clear what an earlier fleet wrote there
    (the lab's certificates stay for reuse); refuse one that holds anything else. Returns the
    earlier fleet's manifest, if any."""
    if folder.exists() and not folder.is_dir():
        raise FleetRefused(msg("lab.fleet.not-a-folder", folder=str(folder)))
    if not folder.exists():
        folder.mkdir(parents=True)
        return None
    earlier = earlier_manifest(folder)
    if earlier is None:
        if any(folder.iterdir()):
            raise FleetRefused(msg("lab.fleet.not-empty", folder=str(folder)))
        return None
    for name in earlier.get("written", []):
        if not isinstance(name, str) or "/" in name or name in ("", ".", "..", LAB_DIR):
            continue
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    return earlier


def _scope_yaml(day: dt.date, indent: str) -> str:
    return (
        f"{indent}- ranges: [{FLEET_RANGE}]\n"
        f"{indent}  authorized_by: {_q(AUTHORIZED_BY)}\n"
        f"{indent}  date: {day.isoformat()}\n"
        f"{indent}  expires: {(day + dt.timedelta(days=365)).isoformat()}\n"
    )


def _defaults_yaml() -> str:
    return (
        "defaults:\n"
        f"  profile: {PROFILE}\n"
        f"  resolver: {{address: {DNS_ADDRESS}, port: {DNS_PORT}}}\n"
        f"  ca_bundle: {CA_FILE}\n"
    )


def group_yaml(n: int, seed: int, day: dt.date, *, folders: bool) -> str:
    head = (
        f"group:\n  id: lab-fleet-{seed}\n  name: {_q(f'Lab-vloot: {n} scholen (seed {seed})')}\n"
    )
    if folders:
        return head + _defaults_yaml() + "scope:\n" + _scope_yaml(day, "  ")
    return (
        head
        + _defaults_yaml()
        + "perimeter:\n"
        + f"  schools: {SCHOOL_LIST}\n"
        + "  authorization:\n"
        + f"    authorized_by: {_q(AUTHORIZED_BY)}\n"
        + f"    date: {day.isoformat()}\n"
        + f"    expires: {(day + dt.timedelta(days=365)).isoformat()}\n"
        + f"    reference: {_q(f'lab-fleet-seed-{seed}')}\n"
        + "  scope:\n"
        + _scope_yaml(day, "    ")
    )


def school_list(schools: Sequence[FleetSchool]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["instellingsnummer", "naam", "domeinen"])
    for school in schools:
        writer.writerow([school.institution_number, school.name, school.domain])
    return out.getvalue()


def school_yaml(school: FleetSchool, day: dt.date) -> str:
    return (
        "school:\n"
        f"  id: {school.id}\n"
        f"  name: {_q(school.name)}\n"
        f"  institution_number: {_q(school.institution_number)}\n"
        f"profile: {PROFILE}\n"
        f"domains: [{school.domain}]\n"
        "hosts:\n"
        f"  - name: {school.www}\n"
        "    roles: [website]\n"
        "scope:\n" + _scope_yaml(day, "  ") + "network:\n"
        f"  resolver: {{address: {DNS_ADDRESS}, port: {DNS_PORT}}}\n"
        f"  ca_bundle: ../{CA_FILE}\n"
    )


def expected_json(
    schools: Sequence[FleetSchool], *, seed: int, flawed: float, now: dt.datetime
) -> dict[str, Any]:
    return {
        "seed": seed,
        "schools_total": len(schools),
        "flawed_share": flawed,
        "clock": now.isoformat(),
        "profile": PROFILE,
        "checks": list(PERIMETER_CHECKS),
        "schools": {
            s.id: {
                "domain": s.domain,
                "name": s.name,
                "address": s.address,
                "mail_address": s.mail_address,
                "flaws": sorted(f.value for f in s.flaws),
                "checks": s.expected(),
                "warnings": s.warnings(),
            }
            for s in schools
        },
    }


def write_fleet_files(
    folder: Path,
    schools: Sequence[FleetSchool],
    *,
    ca_pem: bytes,
    seed: int,
    flawed: float,
    now: dt.datetime,
    day: dt.date,
    folders: bool,
) -> FleetFiles:
    """Write the fleet's files into `folder` (already claimed); see the module's docstring."""
    written = [GROUP_FILE, EXPECTED, CA_FILE]
    (folder / CA_FILE).write_bytes(ca_pem)
    (folder / GROUP_FILE).write_text(
        group_yaml(len(schools), seed, day, folders=folders), encoding="utf-8"
    )
    listing: Path | None = None
    if folders:
        for school in schools:
            (folder / school.id).mkdir()
            (folder / school.id / "school.yaml").write_text(
                school_yaml(school, day), encoding="utf-8"
            )
            written.append(school.id)
    else:
        listing = folder / SCHOOL_LIST
        listing.write_text(school_list(schools), encoding="utf-8", newline="")
        written.append(SCHOOL_LIST)
    expected = expected_json(schools, seed=seed, flawed=flawed, now=now)
    (folder / EXPECTED).write_text(
        json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return FleetFiles(
        folder / GROUP_FILE, folder / EXPECTED, folder / CA_FILE, listing, tuple(written)
    )


def write_manifest(folder: Path, record: dict[str, Any]) -> None:
    (folder / LAB_DIR).mkdir(exist_ok=True)
    (folder / LAB_DIR / MANIFEST).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
