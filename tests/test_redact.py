"""Redaction for sharing: identifying values gone everywhere, placeholders stable, facts kept."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from cyberstd.cli import main
from cyberstd.lab.timeshift import DEMO_DAY
from cyberstd.redact import (
    RedactionMap,
    is_internal,
    mapping_for,
    redact,
    redact_text,
    registrable,
)
from cyberstd.report import FORMATS, renderer
from cyberstd.report.terminal import summary
from cyberstd.results import (
    Answer,
    AttestationRecord,
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    FrameworkRef,
    Results,
    Run,
    SchoolRef,
    Severity,
    Summary,
    Tool,
    WaiverRecord,
)

REPO = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 9, 15)

# Every identifying value in the sample below; none may survive redaction.
SECRETS = [
    "sint-jan.be",
    "www.sint-jan.be",
    "mail.sint-jan.be",
    "ns1.sint-jan.be",
    "intranet.sint-jan.be",
    "sintjan.onmicrosoft.com",
    "10.1.2.3",
    "10.20.0.0",
    "192.168.10.7",
    "172.16.5.4",
    "100.64.1.2",
    "127.0.10.1",
    "169.254.9.9",
    "fd12:3456::10",
    "fe80::1",
    "j.peeters@sint-jan.be",
    "J.Peeters@Sint-Jan.be",
    "m.claes@sint-jan.be",
    "jan_gmail.com#EXT#@sintjan.onmicrosoft.com",
    "external@partner-firm.example",
    "partner-firm.example",
    "fwadmin-jp",
    "LKR-LAPTOP-031",
    "Jan Peeters",
    "Marie Claes",
    "Sam Vos",
    "jpeeters",
    "mclaes",
    "srv-dc01",
    "fileserver",
]


def finding(
    fid: str, check: str, target: str, message: str, evidence: dict[str, Any], **kw: Any
) -> Finding:
    return Finding(
        id=fid,
        check=check,
        title={"nl": "Titel", "en": "TLS 1.2 or newer"},
        remediation={"nl": "Doe het.", "en": "Do it."},
        controls=["T1"],
        target=target,
        status=kw.pop("status", FindingStatus.FAIL),
        severity=Severity.HIGH,
        message=message,
        evidence=evidence,
        **kw,
    )


def sample() -> Results:
    findings = [
        finding(
            "tls.min-version@www.sint-jan.be",
            "tls.min-version",
            "www.sint-jan.be",
            "www.sint-jan.be (10.1.2.3) accepts TLSv1.0 on port 443; see also mail.sint-jan.be",
            {
                "address": "10.1.2.3",
                "port": 443,
                "protocols": ["TLSv1.0", "TLSv1.2"],
                "certificate": {
                    "subject": "CN=www.sint-jan.be",
                    "san": ["*.sint-jan.be", "www.sint-jan.be"],
                },
                "resolver": "8.8.8.8",
                "public": "2001:4860:4860::8888",
            },
        ),
        finding(
            "dns.mx@sint-jan.be",
            "dns.mx",
            "sint-jan.be",
            "sint-jan.be receives mail at mail.sint-jan.be.",
            {
                "mx_records": ["10 mail.sint-jan.be."],
                "soa": ["ns1.sint-jan.be. hostmaster.sint-jan.be. 2024010101 3600"],
                "intranet.sint-jan.be": {
                    "addresses": ["192.168.10.7", "fd12:3456::10", "fe80::1%eth0"]
                },
                "networks": [
                    "10.20.0.0/16",
                    "fd12:3456::/48",
                    "100.64.1.2",
                    "127.0.10.1",
                    "169.254.9.9",
                ],
                "mapped": "::ffff:172.16.5.4",
            },
            status=FindingStatus.PASS,
        ),
        finding(
            "ports.allowed@srv-dc01",
            "ports.allowed",
            "srv-dc01",
            "srv-dc01 has port 3389 open; share \\\\fileserver\\exports",
            {"open": [3389, 445], "address": "172.16.5.4"},
        ),
        finding(
            "entra.stale-accounts@school-sj",
            "entra.stale-accounts",
            "school-sj",
            "2 enabled accounts unused: j.peeters@sint-jan.be, jan_gmail.com#EXT#@sintjan.onmicrosoft.com",
            {
                "files": [
                    {
                        "path": "/home/jpeeters/scans/users.json",
                        "kind": "entra-users",
                        "sha256": "ab" * 32,
                    }
                ],
                "kind": "entra-users",
                "select": ["value[*]"],
                "items": [
                    {
                        "file": "/home/jpeeters/scans/users.json",
                        "line": 8,
                        "label": "J.Peeters@Sint-Jan.be",
                    },
                    {
                        "file": "/home/jpeeters/scans/users.json",
                        "line": 9,
                        "label": "jan_gmail.com#EXT#@sintjan.onmicrosoft.com",
                    },
                ],
            },
        ),
        finding(
            "fortigate.admin-2fa@school-sj",
            "fortigate.admin-2fa",
            "school-sj",
            "2 administrators without two-factor authentication: fwadmin-jp, admin",
            {
                "kind": "fortigate",
                "select": ['"system admin".*'],
                "items": [
                    {
                        "file": "C:\\Users\\mclaes\\Desktop\\fgt.conf",
                        "line": 40,
                        "path": "system admin.fwadmin-jp",
                        "label": "fwadmin-jp",
                    },
                    {
                        "file": "C:\\Users\\mclaes\\Desktop\\fgt.conf",
                        "line": 52,
                        "path": "system admin.admin",
                        "label": "admin",
                    },
                ],
                "any_of": [
                    {
                        "kind": "intune-devices",
                        "select": ["rows[*]"],
                        "status": "fail",
                        "items": [{"file": "devices.csv", "line": 4, "label": "LKR-LAPTOP-031"}],
                    }
                ],
            },
            waived_by="Sam Vos (until 2027-01-01): replacing the firewall",
        ),
        finding(
            "endpoint.disk-encryption@school-sj",
            "endpoint.disk-encryption",
            "school-sj",
            "1 device not encrypted: LKR-LAPTOP-031 (owner external@partner-firm.example); "
            "also m.claes@sint-j...",
            {
                "kind": "intune-devices",
                "select": ["rows[*]"],
                "items": [{"label": "LKR-LAPTOP-031", "line": 4}],
            },
        ),
    ]
    controls = [
        ControlResult(
            id="T1",
            level=1,
            type="technical",
            title={"nl": "Beveiligde verbindingen", "en": "Secure connections"},
            status=ControlStatus.NON_COMPLIANT,
            reason="attested by Jan Peeters, ICT coordinator on 2026-09-15; waiver by Marie Claes expired",
            finding_ids=[f.id for f in findings],
            attestation=AttestationRecord(
                answer=Answer.NOT_IMPLEMENTED,
                explanation="Jan Peeters still has to move srv-dc01 off 192.168.10.7.",
                attested_by="Jan Peeters, ICT coordinator",
                date=DAY,
                review_by=DAY,
                expired=False,
                evidence=[{"path": "/home/jpeeters/evidence/plan.md", "sha256": "cd" * 32}],
            ),
            waiver=WaiverRecord(
                reason="Asked by m.claes@sint-jan.be",
                approved_by="Marie Claes, director",
                expires=DAY,
                expired=True,
                scope="control T1",
            ),
        )
    ]
    now = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    return Results(
        tool=Tool(version="0.1.0"),
        run=Run(
            id="20261001T000000Z-abcdef12",
            started=now,
            finished=now,
            profile="secondary-school",
            framework=FrameworkRef(id="grip", version="2026.02"),
            inputs={"/home/jpeeters/schools/sint-jan/school.yaml": "ef" * 32},
        ),
        school=SchoolRef(
            id="school-sj", name="Sint-Jan College", folder="/home/jpeeters/schools/sint-jan"
        ),
        summary=Summary(
            target_level=1,
            level_reached=0,
            score=0.0,
            counts={s: int(s is ControlStatus.NON_COMPLIANT) for s in ControlStatus},
            finding_counts={s: 0 for s in FindingStatus},
        ),
        controls=controls,
        findings=findings,
    )


def dumped(r: Results) -> str:
    return r.model_dump_json()


def test_no_identifying_value_survives() -> None:
    text = dumped(redact(sample())).lower()
    left = [s for s in SECRETS if s.lower() in text]
    assert left == []


def test_placeholders_are_stable_across_fields() -> None:
    r = redact(sample())
    tls, mx, ports, stale, fw, disk = r.findings
    host = tls.target
    assert re.fullmatch(r"host-\d+", host)
    assert tls.id == f"tls.min-version@{host}"
    assert tls.message.startswith(f"{host} (")
    assert tls.evidence["certificate"] == {"subject": f"CN={host}", "san": ["*.school", host]}
    ip = tls.evidence["address"]
    assert re.fullmatch(r"ip-\d+", ip) and f"({ip})" in tls.message
    # the same mail host in a message, an MX record and another finding's message
    mail = mx.evidence["mx_records"][0].split()[1].rstrip(".")
    assert mx.message == f"school receives mail at {mail}."
    assert tls.message.endswith(f"see also {mail}")
    assert mx.target == "school" and mx.id == "dns.mx@school"
    # the same UPN, written in another case, in a message and as a label
    upn = stale.evidence["items"][0]["label"]
    assert re.fullmatch(r"user-\d+@school", upn)
    assert upn in stale.message
    # a device in two findings, an account in message and label, a host in target and text
    assert disk.evidence["items"][0]["label"] == fw.evidence["any_of"][0]["items"][0]["label"]
    account = fw.evidence["items"][0]["label"]
    assert re.fullmatch(r"user-\d+", account) and account in fw.message
    assert fw.evidence["items"][0]["path"] == f"system admin.{account}"
    assert ports.target in ports.message and ports.target in r.controls[0].attestation.explanation  # type: ignore[union-attr]
    assert r.controls[0].finding_ids == [f.id for f in r.findings]


def test_people_and_paths() -> None:
    r = redact(sample())
    c = r.controls[0]
    assert c.attestation is not None and c.waiver is not None
    jan = c.attestation.attested_by.split(",")[0]
    marie = c.waiver.approved_by.split(",")[0]
    assert re.fullmatch(r"person-\d+", jan) and re.fullmatch(r"person-\d+", marie) and jan != marie
    assert c.attestation.attested_by == f"{jan}, ICT coordinator"
    assert (
        c.reason == f"attested by {jan}, ICT coordinator on 2026-09-15; waiver by {marie} expired"
    )
    assert c.attestation.explanation.startswith(f"{jan} still has to move ")
    assert re.fullmatch(
        r"person-\d+ \(until 2027-01-01\): replacing the firewall", r.findings[4].waived_by or ""
    )
    # the school folder is one neutral name, even when the school itself is kept
    assert r.school.folder == "<school>"
    assert list(r.run.inputs) == ["<school>/school.yaml"]
    # a path outside it keeps its shape, without the user's name
    assert re.fullmatch(r"/home/user-\d+/evidence/plan\.md", c.attestation.evidence[0]["path"])
    assert r.findings[4].evidence["items"][0]["file"].startswith("C:\\Users\\user-")


def test_public_facts_are_kept() -> None:
    before, after = sample(), redact(sample())
    tls = after.findings[0]
    assert tls.evidence["port"] == 443 and tls.evidence["protocols"] == ["TLSv1.0", "TLSv1.2"]
    assert "TLSv1.0 on port 443" in tls.message
    assert tls.evidence["resolver"] == "8.8.8.8"
    assert tls.evidence["public"] == "2001:4860:4860::8888"
    assert after.findings[2].evidence["open"] == [3389, 445]
    assert "admin" in after.findings[4].message.split(": ")[1]
    for b, a in zip(before.findings, after.findings, strict=True):
        assert (a.check, a.status, a.severity, a.title, a.remediation, a.controls) == (
            b.check,
            b.status,
            b.severity,
            b.title,
            b.remediation,
            b.controls,
        )
    assert after.controls[0].id == "T1" and after.controls[0].title == before.controls[0].title
    assert after.summary == before.summary and after.run.framework == before.run.framework
    assert after.run.profile == "secondary-school" and after.run.id == before.run.id
    assert after.school.id == "school-sj" and after.school.name == "Sint-Jan College"
    assert after.findings[3].evidence["files"][0]["sha256"] == "ab" * 32
    assert after.findings[3].evidence["select"] == ["value[*]"]


def test_ipv6_cidr_and_mapped_forms() -> None:
    mx = redact(sample()).findings[1]
    addresses = mx.evidence[next(k for k in mx.evidence if k.startswith("host-"))]["addresses"]
    v4, v6, link = addresses
    assert re.fullmatch(r"ip-\d+", v4) and re.fullmatch(r"ip-\d+", v6)
    assert re.fullmatch(r"ip-\d+%eth0", link)
    nets = mx.evidence["networks"]
    assert re.fullmatch(r"ip-\d+/16", nets[0]) and re.fullmatch(r"ip-\d+/48", nets[1])
    assert all(re.fullmatch(r"ip-\d+", n) for n in nets[2:])
    assert re.fullmatch(r"ip-\d+", mx.evidence["mapped"])
    # the mapped address is the same IPv4 address as elsewhere: same placeholder
    ports = redact(sample()).findings[2]
    assert ports.evidence["address"] != mx.evidence["mapped"]  # ::ffff:a.b.c.d is its own value
    assert len(set(addresses)) == 3


def test_emails_and_foreign_domains() -> None:
    disk = redact(sample()).findings[5]
    assert re.search(r"owner user-\d+@domain-\d+\)", disk.message)
    # an address cut short in a message is still replaced
    assert re.search(r"also user-\d+@school\.\.\.$", disk.message)
    stale = redact(sample()).findings[3]
    assert stale.evidence["items"][1]["label"].endswith("@school-2")
    mapping = mapping_for(sample())
    assert mapping.school_domains == ["sint-jan.be", "sintjan.onmicrosoft.com"]
    assert mapping.other_domains == ["partner-firm.example"]


def test_idempotent_and_valid() -> None:
    once = redact(sample())
    assert redact(once) == once
    Results.model_validate_json(once.model_dump_json())
    hidden = redact(sample(), keep_school=False)
    assert redact(hidden, keep_school=False) == hidden


def test_keep_school_false_hides_the_school() -> None:
    r = redact(sample(), keep_school=False)
    text = dumped(r).lower()
    assert "school-sj" not in text and "sint-jan college" not in text
    assert r.school.id == "school" and r.school.name == "School"
    assert r.findings[3].id == "entra.stale-accounts@school" and r.findings[3].target == "school"


def test_redact_text_with_and_without_the_map() -> None:
    original = sample()
    mapping = mapping_for(original)
    r = redact(original, mapping=mapping)
    line = "Host www.sint-jan.be at 10.1.2.3 for Jan Peeters"
    out = redact_text(line, mapping)
    assert (
        out
        == f"Host {r.findings[0].target} at {r.findings[0].evidence['address']} for {r.controls[0].attestation.attested_by.split(',')[0]}"
    )  # type: ignore[union-attr]
    bare = redact_text(
        "ssh to fe80::1 and 10.0.0.9 from /Users/anna/x as anna@x.example; 8.8.4.4 ok"
    )
    assert bare == "ssh to ip-1 and ip-2 from /Users/user-2/x as user-1@domain-1; 8.8.4.4 ok"


def test_registrable_and_internal() -> None:
    assert registrable("www.school.be") == "school.be"
    assert registrable("mail.school.sch.uk") == "school.sch.uk"
    assert registrable("x.mail.onmicrosoft.com") == "x.mail.onmicrosoft.com"
    assert registrable("sintjan.onmicrosoft.com") == "sintjan.onmicrosoft.com"
    import ipaddress

    assert is_internal(ipaddress.ip_address("100.64.0.1"))
    assert is_internal(ipaddress.ip_address("::ffff:192.168.1.1"))
    assert not is_internal(ipaddress.ip_address("192.0.2.1"))
    assert not is_internal(ipaddress.ip_address("2001:db8::1"))


def test_redacted_results_render_in_every_format() -> None:
    r = redact(sample())
    rendered = 0
    for fmt in FORMATS:
        try:
            render = renderer(fmt)
        except ModuleNotFoundError:
            continue
        for lang in ("nl", "en"):
            out = render(r, lang)
            assert out and "sint-jan.be" not in out and "10.1.2.3" not in out
        rendered += 1
    assert rendered >= 4
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(summary(r, "en"))
    assert "Sint-Jan College" in buffer.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Results:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(REPO),
            "scan",
            "--as-of",
            DEMO_DAY.isoformat(),
            str(REPO / "examples" / "demo-school"),
            "--profile",
            "ci-baseline",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code in (0, 1, 3), result.output
    return Results.model_validate_json((out / "results.json").read_text())


def test_demo_results(demo: Results) -> None:
    emails = set(re.findall(r"[\w.]+@demo-school\.test", dumped(demo)))
    assert len(emails) >= 5
    r = redact(demo)
    text = dumped(r)
    assert not any(e in text for e in emails)
    assert "demo-school.test" not in text and "LKR-LAPTOP-031" not in text
    assert "K. Peeters" not in text and "L. Janssens" not in text
    assert [c.status for c in r.controls] == [c.status for c in demo.controls]
    assert redact(r) == r
    md = renderer("md")(r, "en")
    assert "user-1@school" in md


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "10.0.0.1",
                    "fe80::2",
                    "a@b.example",
                    "host",
                    "::",
                    "1.2.3",
                    "…",
                    "...",
                    "/home/x/",
                ]
            ),
            st.text(max_size=12),
        ),
        max_size=8,
    )
)
def test_any_text_is_handled(parts: list[str]) -> None:
    text = " ".join(parts)
    mapping = RedactionMap()
    out = mapping.apply(text)
    words = out.split()
    assert "10.0.0.1" not in words and "fe80::2" not in words and "a@b.example" not in words
    assert mapping.apply(out) == out


def with_banner(results: Results, banner: str, message: str = "") -> Results:
    """`results` with one more network finding whose evidence carries a server banner."""
    extra = finding(
        "mail.starttls@mail.sint-jan.be",
        "mail.starttls",
        "mail.sint-jan.be",
        message or "STARTTLS offered",
        {"banner": banner, "endpoints": [{"service": "smtp", "banner": banner}]},
        status=FindingStatus.PASS,
    )
    return results.model_copy(update={"findings": [*results.findings, extra]})


@pytest.mark.parametrize(
    "name",
    [
        "EXCH01.sintjozef.local",
        "nas.home.arpa",
        "srv-files.school.lan",
        "dc1.ad.sintjozef.internal",
        "wiki.intranet",
        "fs01.sintjozef.corp",
        "pc-042.localdomain",
    ],
)
def test_internal_names_are_always_replaced(name: str) -> None:
    banner = f"220 {name} Microsoft ESMTP MAIL Service ready"
    r = redact(with_banner(sample(), banner, f"banner names {name.upper()}"))
    text = dumped(r)
    assert name.lower() not in text.lower()
    first = r.findings[-1]
    placeholder = first.evidence["banner"].split()[1]
    assert re.fullmatch(r"(host|school)(-\d+)?", placeholder)
    assert (
        first.evidence["endpoints"][0]["banner"]
        == f"220 {placeholder} Microsoft ESMTP MAIL Service ready"
    )
    assert first.message == f"banner names {placeholder}"


def test_internal_host_in_a_banner_also_by_its_short_name() -> None:
    banner = "220 EXCH01.sintjozef.local Microsoft ESMTP MAIL Service ready at EXCH01"
    r = redact(with_banner(sample(), banner))
    shown = r.findings[-1].evidence["banner"]
    host = shown.split()[1]
    assert re.fullmatch(r"host-\d+", host)
    assert shown == f"220 {host} Microsoft ESMTP MAIL Service ready at {host}"
    assert "sintjozef" not in dumped(r).lower() and "EXCH01" not in dumped(r)
    # a user at the internal domain is the school's user, not someone else's
    text = RedactionMap().apply("mail kpeeters@sintjozef.local via EXCH01.sintjozef.local")
    assert re.fullmatch(r"mail user-1@school via host-\d+", text)


def test_netbios_accounts_become_users() -> None:
    message = (
        r"logon failures: SINTJAN\jpeeters, SINTJAN\m.claes; service BUILTIN\Administrators "
        r"and NT AUTHORITY\SYSTEM; file exports\fw.conf"
    )
    base = sample()
    base.findings[2].message = message
    r = redact(base)
    out = r.findings[2].message
    assert "SINTJAN" not in dumped(r) and "m.claes" not in out
    users = re.findall(r"user-\d+", out)
    assert len(users) == 2 and users[0] != users[1]
    # the same account in a path elsewhere gets the same placeholder
    assert r.findings[3].evidence["files"][0]["path"] == f"/home/{users[0]}/scans/users.json"
    assert r"BUILTIN\Administrators" in out and r"NT AUTHORITY\SYSTEM" in out
    assert r"exports\fw.conf" in out
    assert redact(r) == r


def test_school_folder_becomes_a_neutral_name_everywhere() -> None:
    base = sample()
    folder = base.school.folder
    assert folder
    base.findings[3].message = f"read {folder}/exports/users.json:8"
    base.findings[3].evidence["files"][0]["path"] = f"{folder}/exports/users.json"
    base.controls[0].attestation.evidence[0]["path"] = f"{folder}/evidence/plan.md"  # type: ignore[union-attr]
    r = redact(base)
    assert r.school.folder == "<school>"
    assert r.findings[3].message == "read <school>/exports/users.json:8"
    assert r.findings[3].evidence["files"][0]["path"] == "<school>/exports/users.json"
    assert r.controls[0].attestation.evidence[0]["path"] == "<school>/evidence/plan.md"  # type: ignore[union-attr]
    assert list(r.run.inputs) == ["<school>/school.yaml"]
    for fmt in ("md", "html", "csv", "oscal"):
        out = renderer(fmt)(r, "en")
        assert folder not in out and "schools/sint-jan" not in out, fmt
    assert redact(r) == r
    # the command a report suggests names the neutral folder too
    base.controls[0] = base.controls[0].model_copy(
        update={
            "status": ControlStatus.NOT_ASSESSED,
            "finding_ids": [],
            "attestation": None,
            "waiver": None,
        }
    )
    md = renderer("md")(redact(base), "en")
    assert "`cyberstd attest '<school>' T1`" in md and folder not in md
    assert redact(base, keep_school=False).school.folder == "<school>"


def test_home_folders_in_every_usual_form() -> None:
    text = (
        "/home/anna/a /Users/bert/b /var/home/carl/c /export/home/dirk/d /usr/home/eva/e "
        "/mnt/c/Users/fien/f C:\\Users\\gert\\g D:/Users/hans/h "
        "C:\\Documents and Settings\\ilse\\i /home/Public/x https://www.site.example/home/index"
    )
    out = RedactionMap().apply(text)
    for name in ("anna", "bert", "carl", "dirk", "eva", "fien", "gert", "hans", "ilse"):
        assert name not in out
    assert out.count("user-") == 9
    assert "/home/Public/x" in out and "www.site.example/home/index" in out


def test_a_bare_school_folder_name_becomes_the_neutral_name() -> None:
    base = sample()
    base.school.folder = "sint-jan-college"  # as results.json records it: the folder's name
    assert redact(base).school.folder == "<school>"
    assert redact(base, keep_school=False).school.folder == "<school>"
