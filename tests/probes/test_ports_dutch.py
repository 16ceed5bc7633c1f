"""The port probes, nmap, the scope guard and the runner's own findings speak Dutch: every
outcome, warning and error has a Dutch text of its own, with no English sentence in it.

Real nmap against the lab services of test_ports (127.0.41.x); the runner's errors through the
mini catalog of test_runner."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from cyberstd.catalog import load_catalog
from cyberstd.clock import Clock
from cyberstd.errors import ProbeError, ScopeError
from cyberstd.lab.services import TcpService
from cyberstd.messages import Msg
from cyberstd.net import nmap as nmapscan
from cyberstd.net.nmap import Deadline, ToolMissing
from cyberstd.probes import probes
from cyberstd.probes.ports import (
    ExposedParams,
    OutdatedParams,
    UndeclaredParams,
    exposed_services,
    outdated,
    undeclared,
)
from cyberstd.registry import ProbeContext, Target
from cyberstd.results import ErrorReason, Finding, FindingStatus, ProbeOutcome
from cyberstd.runner import execute, make_plan
from cyberstd.schema import SchoolFile
from cyberstd.school import SchoolFolder, authorize, authorize_range
from tests.probes import test_ports
from tests.probes.test_ports import CLEAN, EMPTY, EXPOSED, HOSTILE, _closed_port, _host, _run_check
from tests.test_runner import _set_outcome, run

# the fixtures of test_ports: its lab services, its context and its version scans
lab = test_ports.lab
ctx = test_ports.ctx
version_outcomes = test_ports.version_outcomes

# Words that give an English sentence away; none may be in a Dutch text outside quoted data.
ENGLISH = re.compile(
    r"\b(the|is not|has no|does not|could not|cannot|with|which|none|found|are|and|or|not|"
    r"declares|exposes|reachable|outside|unknown|refusing|runs|ran out|gave up|did|probe)\b"
)
QUOTED = re.compile(r"'[^']*'")


def dutch(nl: str | None, en: str | None = None) -> str:
    """`nl` after checking that it is there, differs from the English and has no English in it
    (quoted data such as a banner aside)."""
    assert nl, "no Dutch text"
    if en is not None:
        assert nl != en
    english = ENGLISH.findall(QUOTED.sub("''", nl))
    assert english == [], f"English in the Dutch text: {english}: {nl}"
    return nl


def said(outcome: ProbeOutcome | Finding) -> str:
    return dutch(outcome.messages.get("nl"), outcome.message)


def warned(outcome: ProbeOutcome) -> str:
    assert outcome.warning is not None
    return dutch(outcome.warning_messages.get("nl"), outcome.warning)


def error_said(exc: ProbeError | ScopeError, data: str = "") -> str:
    """The Dutch text of an error; `data` starts what a lower layer said (in its words)."""
    assert isinstance(exc.said, Msg)
    english, others = exc.texts()
    nl = others.get("nl") or ""
    dutch(nl.partition(data)[0] if data else nl, english)
    return nl


# --- ports.exposed-services --------------------------------------------------------------------


def test_exposed_services_in_dutch(lab: dict[str, TcpService], ctx: ProbeContext) -> None:
    target = _host(EXPOSED, rdp=lab["rdp"].port, telnet=lab["telnet"].port)
    fail = exposed_services(target, ExposedParams(banner_timeout=0.5), ctx)
    assert fail.status is FindingStatus.FAIL
    text = said(fail)
    assert text.startswith(f"op {target.name} ({EXPOSED}) zijn 2 risicovolle diensten bereikbaar")
    assert f"{lab['rdp'].port}/tcp RDP (extern bureaublad) (nmap: " in text

    clean = exposed_services(_host(CLEAN), ExposedParams(), ctx)
    assert clean.status is FindingStatus.PASS
    assert said(clean).startswith("geen van de 13 risicovolle poorten is bereikbaar op host-")

    admin = _host(EXPOSED, roles=("firewall",), admin=lab["mysql"].port)
    params = ExposedParams(ports=[lab["mysql"].port], banners=False)
    on_firewall = exposed_services(admin, params, ctx)
    assert "1 risicovolle dienst bereikbaar" in said(on_firewall)
    assert "beheerinterface van de firewall/VPN" in said(on_firewall)


# --- ports.undeclared --------------------------------------------------------------------------


def test_undeclared_ports_in_dutch(lab: dict[str, TcpService], ctx: ProbeContext) -> None:
    ssh, http = lab["new_ssh"].port, lab["new_http"].port
    base = _host(CLEAN)
    only_ssh = Target(name=base.name, address=CLEAN, roles=base.roles, allowed_ports=(ssh,))
    fail = undeclared(only_ssh, UndeclaredParams(ports=[ssh, http]), ctx)
    assert fail.status is FindingStatus.FAIL
    assert said(fail).startswith(
        f"{base.name} ({CLEAN}) heeft 1 open poort die niet in allowed_ports staat: {http}/tcp ("
    )

    both = Target(name=base.name, address=CLEAN, roles=base.roles, allowed_ports=(ssh, http))
    ok = undeclared(both, UndeclaredParams(ports=[ssh, http]), ctx)
    assert ok.status is FindingStatus.PASS
    assert said(ok) == (
        f"{base.name}: 2 van de poorten {min(ssh, http)}, {max(ssh, http)} open, "
        "allemaal in allowed_ports"
    )
    assert ok.evidence["scanned"] == f"ports {min(ssh, http)}, {max(ssh, http)}"  # data: English

    none = undeclared(base, UndeclaredParams(), ctx)
    assert none.status is FindingStatus.NOT_APPLICABLE
    assert said(none) == f"{base.name} vermeldt geen allowed_ports in school.yaml"


# --- software.outdated -------------------------------------------------------------------------


def test_outdated_software_in_dutch(
    lab: dict[str, TcpService], version_outcomes: dict[str, ProbeOutcome], ctx: ProbeContext
) -> None:
    old = version_outcomes["old"]
    assert old.status is FindingStatus.FAIL
    assert f"OpenSSH 7.4 op poort {lab['old_ssh'].port} (oudste ondersteunde versie: 7.7)" in said(
        old
    )
    assert said(old).startswith(f"host-{EXPOSED} draait verouderde software: ")

    new = version_outcomes["new"]
    assert new.status is FindingStatus.PASS
    assert said(new).startswith(f"host-{CLEAN}: enkel ondersteunde versies (")

    silent = outdated(_host(HOSTILE), OutdatedParams(ports=[lab["silent"].port]), ctx)
    assert silent.status is FindingStatus.NOT_APPLICABLE
    assert "toonde een product en versie die in min-versions.yaml staan" in said(silent)
    assert warned(silent) == (
        f"poort {lab['silent'].port} zei niets en antwoordde noch op een HTTP-vraag, noch op een "
        "TLS-handdruk; nmap luistert 6 s voor het iets vraagt, langer dan version_budget (5 s): "
        "niet beoordeeld"
    )

    budget = OutdatedParams(ports=[lab["silent"].port], version_budget=6.5)
    late = outdated(_host(HOSTILE), budget, ctx)
    assert late.status is FindingStatus.NOT_APPLICABLE
    assert warned(late) == (
        "de versiedetectie van nmap gaf binnen version_budget (6,5 s) geen antwoord op poort "
        f"{lab['silent'].port}: niet beoordeeld"
    )

    empty = outdated(_host(EMPTY), OutdatedParams(ports=[_closed_port(EMPTY)]), ctx)
    assert empty.status is FindingStatus.NOT_APPLICABLE
    assert said(empty) == f"geen open poort op host-{EMPTY} (1 poort gescand)"


def test_a_broken_data_file_is_said_in_dutch(tmp_path: Path, ctx: ProbeContext) -> None:
    bad = tmp_path / "min.yaml"
    bad.write_text("policy: x\nentries:\n  - id: a\n    name: A\n    minimum: abc\n")
    with pytest.raises(ProbeError) as caught:
        outdated(_host(EMPTY), OutdatedParams(data_file=str(bad)), ctx)
    assert "ongeldig bestand met minimumversies: " in error_said(caught.value, ": entries")
    with pytest.raises(ProbeError) as missing:
        outdated(_host(EMPTY), OutdatedParams(data_file=str(tmp_path / "absent.yaml")), ctx)
    assert error_said(missing.value, "[Errno").startswith("het bestand met minimumversies ")


# --- nmap --------------------------------------------------------------------------------------


def test_nmap_errors_in_dutch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ctx: ProbeContext
) -> None:
    monkeypatch.setattr(nmapscan, "NMAP_SEARCH_PATH", (str(tmp_path / "nmap"),))
    with pytest.raises(ToolMissing) as caught:
        outdated(_host(EMPTY), OutdatedParams(), ctx)
    assert error_said(caught.value).startswith("nmap is niet gevonden (gezocht naar ")

    with pytest.raises(ProbeError) as late:
        Deadline(0.0).budget()
    assert error_said(late.value) == "de tijd voor de controle (0 s) is op"


# --- the runner and the scope guard ------------------------------------------------------------


def test_findings_of_the_runner_in_dutch(
    lab: dict[str, TcpService], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host: dict[str, Any] = {
        "name": "elsewhere.school.test",
        "address": EXPOSED,
        "roles": ["server"],
    }
    refused = _run_check("ports.exposed-services", tmp_path, host, scope="127.0.99.0/24")
    assert refused.error_reason is ErrorReason.SCOPE
    assert said(refused).startswith(
        f"elsewhere.school.test ({EXPOSED}) is een intern adres buiten elk toegestaan bereik"
    )

    monkeypatch.setattr(nmapscan, "NMAP_SEARCH_PATH", (str(tmp_path / "nmap"),))
    missing = _run_check("ports.exposed-services", tmp_path, host)
    assert missing.error_reason is ErrorReason.TOOL_MISSING
    assert said(missing).startswith("nmap is niet gevonden")

    # checked before the scan: the checks that need nmap do not start
    school = SchoolFile.model_validate(
        {
            "school": {"id": "s", "name": "S"},
            "hosts": [host],
            "scope": [{"ranges": ["127.0.41.0/24"], "authorized_by": "Me", "date": "2026-01-01"}],
        }
    )
    catalog, _ = load_catalog()
    plan = make_plan(catalog, SchoolFolder(dir=tmp_path, school=school), "grip-basis-6")
    plan.items = [  # the checks that need nmap, and those without a target: nothing else runs
        i for i in plan.items if i.target is None or probes()[i.planned.check.probe].tool == "nmap"
    ]
    findings = execute(plan, ProbeContext(clock=Clock.at(dt.date(2026, 6, 1)), timeout=2.0))
    stopped = [f for f in findings if f.error_reason is ErrorReason.TOOL_MISSING]
    assert stopped
    assert said(stopped[0]) == (
        "nmap is niet geïnstalleerd, dus de controles die het nodig hebben liepen niet; "
        "installeer het met: sudo apt-get install nmap"
    )
    no_target = [
        f for f in findings if f.status is FindingStatus.NOT_APPLICABLE and f.target == "-"
    ]
    assert no_target
    for finding in no_target:
        assert finding.messages["nl"].startswith("de school vermeldt geen ")
        said(finding)


def test_a_crashing_probe_in_dutch(mini_root: Path, school_dir: Path) -> None:
    _set_outcome(mini_root, "mini.ok", "crash")
    finding = next(f for f in run(mini_root, school_dir).findings if f.check == "mini.ok")
    assert finding.error_reason is ErrorReason.BUG
    assert said(finding).startswith("de controle crashte: ZeroDivisionError")


def test_an_address_outside_scope_in_dutch(mini_root: Path, school_dir: Path) -> None:
    text = (
        (school_dir / "school.yaml").read_text().replace("address: 127.0.0.1", "address: 10.9.8.7")
    )
    school = SchoolFile.model_validate(YAML(typ="safe").load(text))
    catalog, _ = load_catalog(mini_root)
    plan = make_plan(catalog, SchoolFolder(dir=school_dir, school=school))
    findings = execute(plan, ProbeContext(clock=Clock.at(dt.date(2026, 11, 29)), timeout=2.0))
    scoped = [f for f in findings if f.error_reason is ErrorReason.SCOPE]
    assert scoped
    for finding in scoped:
        assert "10.9.8.7" in said(finding) and "toegestaan bereik" in said(finding)


@pytest.mark.parametrize(
    ("address", "said_nl"),
    [
        ("10.1.2.3", "is een intern adres buiten elk toegestaan bereik in 'scope' van school.yaml"),
        ("::ffff:10.1.2.3", "dat uitkomt bij 10.1.2.3"),
        ("224.0.0.1", "een multicastadres"),
        ("0.0.0.0", "het niet-gespecificeerde adres"),
        ("255.255.255.255", "het broadcastadres"),
        ("not-an-ip", "is geen IP-adres"),
    ],
)
def test_the_scope_guard_in_dutch(address: str, said_nl: str) -> None:
    school = SchoolFile.model_validate(
        {
            "school": {"id": "s", "name": "S"},
            "domains": ["school.test"],
            "hosts": [{"name": "srv.school.test", "roles": ["server"]}],
            "scope": [
                {
                    "ranges": ["10.9.0.0/24"],
                    "authorized_by": "Director",
                    "date": "2026-01-01",
                    "expires": "2026-03-01",
                }
            ],
        }
    )
    with pytest.raises(ScopeError) as caught:
        authorize(school, "srv.school.test", address, dt.date(2026, 6, 1))
    assert said_nl in error_said(caught.value)
    with pytest.raises(ScopeError) as undeclared_host:
        authorize(school, "elders.test", "10.1.2.3", dt.date(2026, 6, 1))
    assert "staat niet in school.yaml" in error_said(undeclared_host.value)
    with pytest.raises(ScopeError) as expired:
        authorize_range(school, "10.9.0.0/25", dt.date(2026, 6, 1))
    assert "de toestemming van Director daarvoor is verlopen op 2026-03-01" in error_said(
        expired.value
    )


def test_a_port_nmap_calls_unknown_is_said_in_dutch() -> None:
    # nmap names a port its services list lacks "unknown": a word, not a name
    from cyberstd.net.nmap import service_name

    assert service_name("unknown").render("nl") == "onbekend"
    assert service_name("").render("nl") == "onbekend"
    assert service_name("http-alt").render("nl") == "http-alt"
