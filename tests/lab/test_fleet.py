"""The lab fleet: many schools on shared servers, each scan finding exactly the seeded flaws."""

from __future__ import annotations

import csv
import errno
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import pytest
from click.testing import CliRunner
from cryptography import x509
from ruamel.yaml import YAML

from cyberstd.catalog import load_catalog
from cyberstd.cli import main
from cyberstd.lab.dns import DnsServer
from cyberstd.lab.fleet import Fleet, fleet_lab
from cyberstd.lab.fleetfiles import FleetRefused, write_fleet_files
from cyberstd.lab.fleetplan import (
    FLEET_RANGE,
    HOSTING_ADDRESSES,
    PERIMETER_CHECKS,
    PROFILE,
    FleetFlaw,
    design_fleet,
)
from cyberstd.lab.fleetweb import server_name
from cyberstd.messages import catalog as message_catalog
from cyberstd.results import Results
from cyberstd.runner import context_for, evaluate, execute, make_plan
from cyberstd.school import load_school
from tests.conftest import CLOCK, REPO

SEED = 20261129
SIZE = 20


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A fleet of 20 schools, a school folder each, dated from the session's one clock."""
    out = tmp_path_factory.mktemp("fleet") / "fleet"
    try:
        with fleet_lab(out, SIZE, SEED, CLOCK, folders=True) as running:
            yield running
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EADDRINUSE):
            pytest.skip(f"the lab fleet cannot bind its ports here: {exc}")
        raise


def _expected(fleet: Fleet) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fleet.expected_file.read_text(encoding="utf-8"))
    return data


def _verdicts(results: Results) -> tuple[dict[str, str], list[str]]:
    """Status by check, and the checks that passed with a warning (the vpn check gives none)."""
    statuses = {f.check: f.status.value for f in results.findings if f.check in PERIMETER_CHECKS}
    warned = sorted(f.check for f in results.findings if f.warning)
    return statuses, warned


def _scan(fleet: Fleet, school_id: str) -> Results:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    folder, problems = load_school(fleet.folder_of(fleet.school(school_id)), catalog, CLOCK.today)
    assert problems == [] and folder is not None
    plan = make_plan(catalog, folder, PROFILE)
    findings = execute(plan, context_for(folder, clock=CLOCK, kinds=catalog.kinds))
    return evaluate(plan, findings, clock=CLOCK, catalog_inputs=catalog.inputs)


# --- the design --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_fleet() -> None:
    assert design_fleet(50, 7, 0.4) == design_fleet(50, 7, 0.4)
    assert design_fleet(50, 7, 0.4) != design_fleet(50, 8, 0.4)
    small, large = design_fleet(50, 7, 0.4), design_fleet(500, 7, 0.4)
    assert [(s.institution_number, s.name, s.address) for s in small] == [
        (s.institution_number, s.name, s.address) for s in large[:50]
    ]


@pytest.mark.parametrize(("n", "share"), [(20, 0.4), (101, 0.25), (30, 0.0), (7, 1.0)])
def test_the_flawed_share_is_exact(n: int, share: float) -> None:
    schools = design_fleet(n, 3, share)
    assert sum(1 for s in schools if s.flaws) == round(n * share)
    assert len({s.institution_number for s in schools}) == n
    assert all(len(s.institution_number) == 6 for s in schools)
    assert {s.address for s in schools} <= set(HOSTING_ADDRESSES)


def test_flaws_of_one_setting_never_come_together() -> None:
    for school in design_fleet(2000, 11, 1.0):
        assert 1 <= len(school.flaws) <= 3
        assert not {FleetFlaw.NO_HSTS, FleetFlaw.SHORT_HSTS} <= school.flaws
        if FleetFlaw.CERT_EXPIRED in school.flaws:
            assert not school.flaws & {FleetFlaw.NO_HSTS, FleetFlaw.NO_SECURITY_TXT}


def test_the_expected_verdicts_cover_the_perimeter_profile(fleet: Fleet) -> None:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    folder, problems = load_school(fleet.folder_of(fleet.schools[0]), catalog, CLOCK.today)
    assert problems == [] and folder is not None
    plan = make_plan(catalog, folder, PROFILE)
    assert sorted(i.check_id for i in plan.items if i.target) == sorted(PERIMETER_CHECKS)


def test_bad_sizes_and_shares_are_refused() -> None:
    with pytest.raises(ValueError, match="1 to"):
        design_fleet(0, 1, 0.4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        design_fleet(5, 1, 1.5)


def test_client_hello_server_names() -> None:
    hello = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = hello.wrap_bio(incoming, outgoing, server_hostname="www.School-0001.test")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    record = outgoing.read()
    assert server_name(record[5:]) == "www.school-0001.test"
    assert server_name(b"") is None
    assert server_name(record[5:40]) is None
    assert server_name(b"\x02" + record[6:]) is None


# --- the files ---------------------------------------------------------------------------------


def test_the_fleet_writes_a_group_folder(fleet: Fleet) -> None:
    group = YAML(typ="safe").load(fleet.group_file.read_text(encoding="utf-8"))
    assert group["defaults"] == {
        "profile": PROFILE,
        "resolver": {"address": fleet.resolver[0], "port": fleet.resolver[1]},
        "ca_bundle": "ca.pem",
    }
    assert group["scope"][0]["ranges"] == [FLEET_RANGE]
    assert (fleet.workdir / "ca.pem").read_bytes() == fleet.ca_bundle.read_bytes()
    expected = _expected(fleet)
    assert expected["seed"] == SEED and len(expected["schools"]) == SIZE
    catalog, _ = load_catalog(REPO)
    for school in fleet.schools:
        folder, problems = load_school(fleet.folder_of(school), catalog, CLOCK.today)
        assert problems == [] and folder is not None
        assert folder.school.domains == [school.domain]
        entry = expected["schools"][school.id]
        assert entry["flaws"] == sorted(f.value for f in school.flaws)
        assert set(entry["checks"]) == set(PERIMETER_CHECKS)
        assert (set(entry["checks"].values()) == {"pass"}) == (not school.flaws)


def test_perimeter_mode_writes_the_list_of_schools(tmp_path: Path) -> None:
    schools = design_fleet(12, SEED, 0.5)
    files = write_fleet_files(
        tmp_path,
        schools,
        ca_pem=b"",
        seed=SEED,
        flawed=0.5,
        now=CLOCK.now,
        day=CLOCK.today,
        folders=False,
    )
    group = YAML(typ="safe").load(files.group_file.read_text(encoding="utf-8"))
    assert files.school_list is not None
    with files.school_list.open(encoding="utf-8", newline="") as listing:
        rows = list(csv.DictReader(listing, delimiter=";"))
    perimeter = group["perimeter"]
    assert perimeter["schools"] == "scholen.csv"
    assert perimeter["authorization"]["date"] == CLOCK.today
    assert perimeter["scope"][0]["ranges"] == [FLEET_RANGE]
    assert group["defaults"]["ca_bundle"] == "ca.pem"
    assert [r["domeinen"] for r in rows] == [s.domain for s in schools]
    assert [f"school-{r['instellingsnummer']}" for r in rows] == [s.id for s in schools]
    assert [r["naam"] for r in rows] == [s.name for s in schools]


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FleetRefused), fleet_lab(tmp_path, 3, 1, CLOCK):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    result = CliRunner().invoke(main, ["lab", "fleet", "--schools", "3", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not empty" in result.output


# --- the servers -------------------------------------------------------------------------------


def test_every_verdict_of_a_handful_of_schools_is_the_expected_one(fleet: Fleet) -> None:
    message_catalog()  # loaded once, before the scan's threads all want it
    expected = _expected(fleet)["schools"]
    flawed = [s for s in fleet.schools if s.flaws]
    handful = [*flawed[:6], next(s for s in fleet.schools if not s.flaws)]
    for school in handful:
        statuses, warned = _verdicts(_scan(fleet, school.id))
        assert statuses == expected[school.id]["checks"], school.flaws
        assert warned == expected[school.id]["warnings"], school.flaws


def test_the_cli_scan_of_a_school_folder_finds_its_flaws(fleet: Fleet, tmp_path: Path) -> None:
    school = next(s for s in reversed(fleet.schools) if len(s.flaws) > 1)
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(REPO),
            "scan",
            str(fleet.folder_of(school)),
            "--profile",
            PROFILE,
            "--out",
            str(tmp_path),
            "--as-of",
            CLOCK.today.isoformat(),
            "-q",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    results = Results.model_validate_json((tmp_path / "results.json").read_text())
    statuses, _ = _verdicts(results)
    assert statuses == _expected(fleet)["schools"][school.id]["checks"]
    assert result.exit_code == 1  # a flawed school has gaps


def test_https_presents_each_school_its_own_certificate(fleet: Fleet) -> None:
    for school in fleet.schools[:4]:
        context = ssl.create_default_context(cafile=str(fleet.ca_bundle))
        if FleetFlaw.CERT_EXPIRED in school.flaws:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with (
            socket.create_connection((school.address, 443), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=school.www) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            names = (
                x509.load_der_x509_certificate(der)
                .extensions.get_extension_for_class(x509.SubjectAlternativeName)
                .value.get_values_for_type(x509.DNSName)
            )
            assert school.www in names


def test_the_dns_server_answers_from_its_cache_as_it_would_without(fleet: Fleet) -> None:
    school = fleet.schools[0]
    address, port = fleet.resolver
    for name, kind in [(school.domain, "SOA"), (f"WwW.{school.domain}", "A")]:
        query = dns.message.make_query(name, kind, want_dnssec=True)
        first = dns.query.udp(query, address, port=port, timeout=5)
        again = dns.query.udp(query, address, port=port, timeout=5)
        assert first.to_wire() == again.to_wire()
        assert again.id == query.id and again.question == query.question
        assert again.question[0].name.to_text().startswith(name.split(".")[0])
        assert again.answer and dns.rdatatype.RRSIG in {r.rdtype for r in again.answer}
        assert bool(again.flags & dns.flags.AD) == (FleetFlaw.NO_DNSSEC not in school.flaws)
    assert fleet.dns.answers is not None and fleet.dns.answers.hits >= 2
    missing = dns.query.udp(dns.message.make_query("nowhere.test", "A"), address, port=port)
    assert missing.rcode() == dns.rcode.NXDOMAIN


def test_a_caching_dns_server_lists_no_queries() -> None:
    with pytest.raises(ValueError, match="cannot list"):
        DnsServer({}, answer_cache=10)


def test_warming_builds_every_zone_and_certificate(fleet: Fleet) -> None:
    fleet.warm()
    assert fleet.dns.zones_built == SIZE
    issued = {p.name for p in (fleet.workdir / "lab" / "certs").glob("*.pem")}
    assert all(f"{s.domain}.pem" in issued for s in fleet.schools)
