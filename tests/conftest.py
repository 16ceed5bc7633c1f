"""Shared fixtures: a small second framework written as YAML only, and a probe whose verdict is a parameter."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

import pytest

from cyberstd.clock import Clock
from cyberstd.errors import ConnectivityError
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

REPO = Path(__file__).resolve().parent.parent
# The tests' one clock: read once per session, so that the lab's certificates and signatures,
# the probes and the expected verdicts agree on the day (also under faketime).
CLOCK = Clock.system()


# `make test-later` runs the suite under libfaketime, which moves the clock a year ahead but
# breaks timed waits on semaphores (Python's thread joins and Event.wait with a timeout never
# time out). Tests that time threads rather than dates are skipped there, and only there.
UNDER_FAKETIME = "FAKETIME" in os.environ
real_timers = pytest.mark.skipif(
    UNDER_FAKETIME, reason="times threads; libfaketime breaks timed waits (make test-later)"
)


@pytest.fixture
def clock() -> Clock:
    """The session's clock; tests that judge dated samples use Clock.at(their own day)."""
    return CLOCK


class StaticParams(ProbeParams):
    outcome: Literal["pass", "fail", "error", "crash", "hang"] = "pass"
    message: str = "as configured"


@probe("test.static", params=StaticParams, role="website")
def static_probe(target: Target, params: StaticParams, ctx: ProbeContext) -> ProbeOutcome:
    """Returns the verdict its parameters ask for; for testing the runner."""
    if params.outcome == "error":
        raise ConnectivityError(f"{target.name}: connection refused (configured)")
    if params.outcome == "crash":
        raise ZeroDivisionError("division by zero (configured)")
    if params.outcome == "hang":
        time.sleep(30)
    status = FindingStatus.PASS if params.outcome == "pass" else FindingStatus.FAIL
    return ProbeOutcome(status=status, message=params.message, evidence={"target": target.name})


MINI_FRAMEWORK = """\
id: mini
name: {nl: Mini-kader, en: Mini framework}
version: "1"
date: 2026-01-01
source: {publisher: Test, title: Test framework}
note: {nl: Eigen woorden., en: Our own words.}
control_types: [organisational, technical]
levels:
  - {level: 1, name: {nl: Een, en: One}}
  - {level: 2, name: {nl: Twee, en: Two}}
crosswalk_schemes:
  cyfun2023: {nl: CyFun, en: CyFun}
"""

MINI_CONTROLS = """\
controls:
{items}
"""

CONTROL = """\
  - id: {id}
    level: {level}
    type: {type}
    title: {{nl: Titel {id}, en: Title {id}}}
    description: {{nl: Beschrijving., en: Description.}}
    verification: {{nl: Zo beoordeeld., en: Judged so.}}
    evidence: [{evidence}]
"""

MINI_CHECKS = """\
checks:
  - id: mini.ok
    title: {nl: Altijd goed, en: Always fine}
    probe: test.static
    params: {outcome: pass}
    severity: low
    remediation: {nl: Niets., en: Nothing.}
  - id: mini.bad
    title: {nl: Altijd fout, en: Always wrong}
    probe: test.static
    params: {outcome: fail, message: "the thing is wrong"}
    severity: high
    remediation: {nl: Herstel het ding., en: Repair the thing.}
  - id: mini.broken
    title: {nl: Altijd stuk, en: Always broken}
    probe: test.static
    params: {outcome: error}
    severity: medium
    remediation: {nl: Kijk na., en: Look into it.}
"""


def write_mini_catalog(root: Path, mapping: dict[str, tuple[list[str], str]]) -> Path:
    """A catalog root with framework 'mini': controls A1 (level 1), A2 (1), B1 (2), B2 (2).

    `mapping` gives, per control, its check ids and its attestation rule.
    """
    fw = root / "standards" / "mini"
    fw.mkdir(parents=True)
    (fw / "framework.yaml").write_text(MINI_FRAMEWORK)
    controls = [
        ("A1", 1, "organisational"),
        ("A2", 1, "technical"),
        ("B1", 2, "organisational"),
        ("B2", 2, "technical"),
    ]
    items = "".join(
        CONTROL.format(id=cid, level=lvl, type=typ, evidence="probe, attestation")
        for cid, lvl, typ in controls
    )
    (fw / "controls.yaml").write_text(MINI_CONTROLS.format(items=items.rstrip("\n")))
    lines = ["framework: mini", "mappings:"]
    for cid, _, _ in controls:
        checks, rule = mapping.get(cid, ([], "always"))
        lines += [
            f"  - control: {cid}",
            f"    checks: [{', '.join(checks)}]",
            f"    attestation: {{required: {rule}, questions: [{{nl: Vraag?, en: Question?}}]}}",
        ]
    (fw / "mapping.yaml").write_text("\n".join(lines) + "\n")
    (root / "checks").mkdir()
    (root / "checks" / "mini.yaml").write_text(MINI_CHECKS)
    (root / "profiles").mkdir()
    (root / "profiles" / "mini-all.yaml").write_text(
        "id: mini-all\ntitle: {nl: Alles, en: All}\ndescription: {nl: Alles., en: All.}\nframework: mini\n"
    )
    (root / "profiles" / "mini-1.yaml").write_text(
        "id: mini-1\ntitle: {nl: Een, en: One}\ndescription: {nl: Een., en: One.}\nframework: mini\n"
        "extends: mini-all\ntarget_level: 1\n"
    )
    return root


SCHOOL_YAML = """\
school:
  id: test-school
  name: Test School
profile: mini-all
domains: [school.test]
hosts:
  - name: www.school.test
    address: 127.0.0.1
    roles: [website]
scope:
  - ranges: [127.0.0.0/8]
    authorized_by: Test Director
    date: 2026-01-01
"""


@pytest.fixture
def mini_root(tmp_path: Path) -> Path:
    return write_mini_catalog(
        tmp_path / "catalog",
        {
            "A1": (["mini.ok"], "if_no_checks"),
            "A2": ([], "always"),
            "B1": (["mini.bad"], "never"),
            "B2": ([], "always"),
        },
    )


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school.yaml").write_text(SCHOOL_YAML)
    return folder


@pytest.fixture(autouse=True, scope="session")
def _catalog_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the catalog cache of the test run out of the user's home."""
    import os

    os.environ["CYBERSTD_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


def scan_demo_config(out: Path) -> Path:
    """results.json of the demo school's configuration scan (profile ci-baseline: exports,
    attestations, waivers; no network), judged as of the demo's day."""
    from click.testing import CliRunner

    from cyberstd.cli import main
    from cyberstd.lab.timeshift import DEMO_DAY

    result = CliRunner().invoke(
        main,
        ["--root", str(REPO), "scan", str(REPO / "examples" / "demo-school"), "--profile",
         "ci-baseline", "--as-of", DEMO_DAY.isoformat(), "--out", str(out), "-q"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    return out / "results.json"
