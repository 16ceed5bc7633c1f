"""Tests of mail.dmarc, mail.dmarc-enforced and mail.dkim against a lab DNS server on loopback.

Addresses: DNS on 127.0.52.53. The records follow public examples, rebuilt with names of our own
under .test:
- DMARC syntax mistakes as CERT Polska's mailgoose tests them (CERT-Polska/mailgoose,
  test/test_dmarc.py: a record starting with whitespace, '=none' without a tag, p= not right
  after v=, rua without mailto:, 'mailto:mailto:', unrelated TXT records at _dmarc);
- policy discovery as RFC 7489 section 6.6.3 and Mail::DMARC's dmarc_lookup describe it (the
  From domain's record, else the organizational domain's after the Public Suffix List);
- DKIM as the providers publish it: Microsoft 365 CNAMEs selector1/selector2._domainkey to
  selector1-<domain-with-dashes>._domainkey.<tenant> (MicrosoftDocs/defender-docs,
  defender-office-365/email-authentication-dkim-configure.md), Google's TXT at
  google._domainkey (support.google.com/a/answer/174124), Mailchimp's CNAME at k1._domainkey,
  Plesk's default._domainkey (docs.plesk.com, DKIM mail settings).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from cyberstd.catalog import load_catalog
from cyberstd.lab.dns import LAB_DKIM_KEY, DnsServer, lab_school_zone, zone_records
from cyberstd.net.resolver import Resolver
from cyberstd.probes.mail.dkim import DkimParams, dkim, dkim_preview
from cyberstd.probes.mail.dmarc import (
    EnforcedParams,
    dmarc,
    dmarc_enforced,
    organizational_domain,
    parse_dmarc,
)
from cyberstd.profiles import PlannedCheck, remediation_for
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.schema import SchoolFile
from tests.conftest import CLOCK, REPO

DNS_ADDRESS = "127.0.52.53"
TIMEOUT = 2.0
NO_PARAMS = ProbeParams()

ED25519_KEY = base64.b64encode(
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()
RSA_1024 = base64.b64encode(
    rsa.generate_private_key(public_exponent=65537, key_size=1024)
    .public_key()
    .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()
KEY = f"v=DKIM1; k=rsa; p={LAB_DKIM_KEY}"

Records = dict[str, list[tuple[str, str]]]
ZONE: Records = {}


def txt(text: str) -> tuple[str, str]:
    return ("TXT", text)


def add(name: str, records: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """A domain with SOA and NS, plus `records` by owner relative to it ("" is the domain)."""
    ZONE.setdefault(name, []).extend(
        [("SOA", f"ns1.{name} hostmaster.{name} 1 3600 600 86400 300"), ("NS", f"ns1.{name}")]
    )
    for owner, entries in (records or {}).items():
        ZONE.setdefault(f"{owner}.{name}" if owner else name, []).extend(entries)


def dmarc_domain(name: str, *records: str) -> None:
    add(name, {"_dmarc": [txt(r) for r in records]})


# DMARC: valid records with every kind of policy
dmarc_domain("reject.test", "v=DMARC1; p=reject; rua=mailto:dmarc@reject.test")
dmarc_domain("quarantine.test", "v=DMARC1;p=quarantine;rua=mailto:d@x.test,https://r.x.test/")
dmarc_domain("none.test", "v=DMARC1; p=none; rua=mailto:d@x.test")
dmarc_domain("norua.test", "v=DMARC1; p=reject")
dmarc_domain("pct.test", "v=DMARC1; p=reject; pct=50; rua=mailto:d@x.test")
dmarc_domain("fullpct.test", "v=DMARC1; p=reject; pct=100; rua=mailto:d@x.test")
dmarc_domain("testing.test", "v=DMARC1; p=reject; t=y; rua=mailto:d@x.test")
dmarc_domain("spnone.test", "v=DMARC1; p=reject; sp=none; rua=mailto:d@x.test")
dmarc_domain("spquar.test", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@x.test")
dmarc_domain("npnone.test", "v=DMARC1; p=reject; np=none; rua=mailto:d@x.test")
dmarc_domain("size.test", "v=DMARC1; p=reject; rua=mailto:d@x.test!10m; ruf=mailto:f@x.test")
dmarc_domain("unknowntag.test", "v=DMARC1; p=quarantine; foo=bar")
dmarc_domain("porder.test", "v=DMARC1; rua=mailto:d@x.test; p=reject")
add(
    "unrelated.test",
    {"_dmarc": [txt("v=DMARC1; p=reject"), txt("some-verification=abc123")]},
)
# DMARC: broken records
dmarc_domain("space.test", " v=DMARC1; p=reject")
dmarc_domain("emptytag.test", "v=DMARC1; =none")
dmarc_domain("nomailto.test", "v=DMARC1; p=reject; rua=dmarc@nomailto.test")
dmarc_domain("doublemailto.test", "v=DMARC1; p=reject; rua=mailto:mailto:d@x.test")
dmarc_domain("badp.test", "v=DMARC1; p=maybe; rua=mailto:d@x.test")
dmarc_domain("nop.test", "v=DMARC1; rua=mailto:d@x.test")
dmarc_domain("lowerv.test", "v=dmarc1; p=reject")
dmarc_domain("badpct.test", "v=DMARC1; p=reject; pct=all")
dmarc_domain("dup.test", "v=DMARC1; p=reject; p=none")
dmarc_domain("two.test", "v=DMARC1; p=reject", "v=DMARC1; p=none")
add("missing.test")
# DMARC: school domains under a school group's domain
dmarc_domain("groep.test", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@groep.test")
add("sintjan.groep.test", {"": [("A", "127.0.52.80")]})
dmarc_domain("groep-spnone.test", "v=DMARC1; p=reject; sp=none; rua=mailto:d@x.test")
add("school.groep-spnone.test")
dmarc_domain("groep-nosp.test", "v=DMARC1; p=reject; rua=mailto:d@x.test")
add("school.groep-nosp.test")
# RFC 7489 asks the organizational domain, not the names in between.
dmarc_domain("groep2.test", "v=DMARC1; p=reject")
dmarc_domain("sintjan.groep2.test", "v=DMARC1; p=none")
add("afdeling.sintjan.groep2.test")
# A school with a record of its own under a group that publishes a weak one, or none.
dmarc_domain("groep3.test", "v=DMARC1; p=none; rua=mailto:d@x.test")
dmarc_domain("eigen.groep3.test", "v=DMARC1; p=reject; rua=mailto:d@x.test")
add("groep4.test")
dmarc_domain("eigen.groep4.test", "v=DMARC1; p=reject; rua=mailto:d@x.test")
add("nogroup.test")
add("lonely.nogroup.test")

# DKIM
add(
    "m365.test", {"selector1._domainkey": [("CNAME", "selector1-m365-test._domainkey.tenant.test")]}
)
# The inactive selector's CNAME points to a name that does not exist yet: no verdict from it.
ZONE["selector2._domainkey.m365.test"] = [("CNAME", "selector2-m365-test._domainkey.tenant.test")]
ZONE["selector1-m365-test._domainkey.tenant.test"] = [txt(KEY)]
add("google.test", {"google._domainkey": [txt(KEY)]})
add("mailchimp.test", {"k1._domainkey": [("CNAME", "dkim.mcsv.test")]})
ZONE["dkim.mcsv.test"] = [txt(KEY)]
add("own.test", {"s2026._domainkey": [txt(f"v=DKIM1; k=ed25519; p={ED25519_KEY}")]})
add("nokey.test", {"": [txt("v=spf1 -all")]})
add("revoked.test", {"selector1._domainkey": [txt("v=DKIM1; p=")]})
add(
    "retired.test",
    {"selector1._domainkey": [txt("v=DKIM1; p=")], "selector2._domainkey": [txt(KEY)]},
)
add(
    "broken.test",
    {"google._domainkey": [txt(KEY)], "default._domainkey": [txt("v=DKIM1; p=!!!")]},
)
add("weak.test", {"google._domainkey": [txt(KEY)], "s1._domainkey": [txt(f"p={RSA_1024}")]})
add("service.test", {"dkim._domainkey": [txt(f"v=DKIM1; s=other; p={LAB_DKIM_KEY}")]})
add("twokeys.test", {"mail._domainkey": [txt(KEY), txt(f"v=DKIM1; p={RSA_1024}")]})
# A wildcard TXT answers every selector with a record that is no DKIM key.
add("wildcard.test", {"*._domainkey": [txt("v=spf1 -all")]})

# The lab school's own zone, with its mail flaws, and under a school group's domain.
LAB_FLAWS = {
    "lab.test": set(),
    "lab-none.test": {"dmarc-none"},
    "lab-spnone.test": {"dmarc-sp-none"},
    "lab-invalid.test": {"dmarc-invalid"},
    "lab-nodkim.test": {"no-dkim"},
    "lab-revoked.test": {"dkim-revoked"},
    "sintjan.labgroep.test": {"no-dmarc"},
}
for _name, _flaws in LAB_FLAWS.items():
    ZONE.update(
        zone_records(
            lab_school_zone(
                _name,
                mail_address="127.0.52.25",
                web_address="127.0.52.80",
                flaws=_flaws,
                now=CLOCK.timestamp,
            )
        )
    )
dmarc_domain("labgroep.test", "v=DMARC1; p=reject; rua=mailto:d@labgroep.test")


def domain(name: str) -> Target:
    return Target(name=name, kind=TargetKind.DOMAIN)


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(ZONE, address=DNS_ADDRESS) as srv:
        yield srv


def context(server: DnsServer, school: dict[str, Any] | None = None) -> ProbeContext:
    return ProbeContext(
        clock=CLOCK,
        resolver=Resolver(DNS_ADDRESS, server.port, TIMEOUT),
        timeout=TIMEOUT,
        school=SchoolFile.model_validate(school) if school is not None else None,
    )


@pytest.fixture
def ctx(dns_server: DnsServer) -> ProbeContext:
    return context(dns_server)


def published(name: str, ctx: ProbeContext) -> ProbeOutcome:
    return dmarc(domain(name), NO_PARAMS, ctx)


def enforced(name: str, ctx: ProbeContext, **params: Any) -> ProbeOutcome:
    return dmarc_enforced(domain(name), EnforcedParams(**params), ctx)


# --- mail.dmarc: a valid record is published ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("reject.test", "reject"),
        ("quarantine.test", "quarantine"),
        ("none.test", "none"),
        ("norua.test", "reject"),
        ("pct.test", "reject"),
        ("testing.test", "reject"),
        ("size.test", "reject"),
        ("lab.test", "reject"),
    ],
)
def test_dmarc_passes_any_valid_policy(ctx: ProbeContext, name: str, policy: str) -> None:
    outcome = published(name, ctx)
    assert outcome.status is FindingStatus.PASS, outcome.message
    assert outcome.evidence["policy"] == policy
    assert outcome.evidence["source"] == "own record"
    assert outcome.evidence["found_at"] == f"_dmarc.{name}"
    assert f"publishes a valid DMARC record (p={policy})" in outcome.message
    assert outcome.messages["nl"].startswith(f"{name} publiceert een geldig DMARC-record")


def test_dmarc_gives_advice_without_failing(ctx: ProbeContext) -> None:
    outcome = published("norua.test", ctx)
    assert outcome.warning is not None and "no rua= address" in outcome.warning
    assert any("rua" in a for a in outcome.evidence["advice"])
    none = published("none.test", ctx)
    assert none.warning is not None and "p=none" in none.warning
    assert "mail.dmarc-enforced" in none.warning
    assert published("reject.test", ctx).evidence["advice"] == []


def test_dmarc_notes_a_late_p_and_unknown_tags(ctx: ProbeContext) -> None:
    late = published("porder.test", ctx)
    assert late.status is FindingStatus.PASS
    assert late.warning is not None and "p= is not the tag right after v=" in late.warning
    unknown = published("unknowntag.test", ctx)
    assert unknown.status is FindingStatus.PASS
    assert unknown.warning is not None and "unknown tag foo=" in unknown.warning


def test_dmarc_keeps_unrelated_txt_records_in_the_evidence(ctx: ProbeContext) -> None:
    outcome = published("unrelated.test", ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["other_txt"] == ["some-verification=abc123"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("space.test", "starts with a space"),
        ("emptytag.test", "'=none' is not a tag=value pair"),
        ("nomailto.test", "'dmarc@nomailto.test' is not a URI (it needs mailto:)"),
        ("doublemailto.test", "'mailto:mailto:d@x.test' is not a valid mailto: address"),
        ("badp.test", "p=maybe is not none, quarantine or reject"),
        ("nop.test", "no p= tag"),
        ("lowerv.test", "v=dmarc1 is not DMARC1"),
        ("badpct.test", "pct=all is not a whole number from 0 to 100"),
        ("dup.test", "tag p appears twice"),
        ("lab-invalid.test", "is not a URI"),
    ],
)
def test_dmarc_fails_a_syntax_error(ctx: ProbeContext, name: str, words: str) -> None:
    outcome = published(name, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert outcome.message.startswith(f"the DMARC record at _dmarc.{name} is invalid")
    assert words in outcome.message
    assert outcome.messages["nl"].startswith(f"het DMARC-record op _dmarc.{name} is ongeldig")


def test_dmarc_counts_every_problem(ctx: ProbeContext) -> None:
    outcome = published("emptytag.test", ctx)
    assert outcome.evidence["problems"] == [
        "'=none' is not a tag=value pair",
        "no p= tag: RFC 7489 requires the policy; receivers then read the record as p=none at best",
    ]
    assert "(and 1 more problem)" in outcome.message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("missing.test", "has no DMARC record at _dmarc.missing.test"),
        ("two.test", "_dmarc.two.test has 2 DMARC records; receivers then apply none of them"),
        ("lonely.nogroup.test", "nor at _dmarc.nogroup.test, its organizational domain"),
    ],
)
def test_dmarc_fails_without_exactly_one_record(ctx: ProbeContext, name: str, words: str) -> None:
    outcome = published(name, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message
    assert outcome.messages["nl"]


# --- policy discovery: the organizational domain -----------------------------------------------


def test_a_school_without_a_record_uses_its_groups_record(ctx: ProbeContext) -> None:
    outcome = published("sintjan.groep.test", ctx)
    assert outcome.status is FindingStatus.PASS
    evidence = outcome.evidence
    assert evidence["asked"] == ["_dmarc.sintjan.groep.test", "_dmarc.groep.test"]
    assert evidence["found_at"] == "_dmarc.groep.test"
    assert evidence["source"] == "organizational domain"
    assert evidence["organizational_domain"] == "groep.test"
    assert (evidence["policy"], evidence["policy_tag"]) == ("quarantine", "sp")
    assert "the record of its organizational domain groep.test at _dmarc.groep.test (sp=)" in (
        outcome.message
    )
    assert "het record van het organisatiedomein groep.test" in outcome.messages["nl"]
    assert outcome.warning is not None and "has no DMARC record of its own" in outcome.warning
    passed = enforced("sintjan.groep.test", ctx)
    assert passed.status is FindingStatus.PASS, passed.message
    assert "sp=quarantine" in passed.message


def test_the_groups_sp_is_what_applies_to_the_school(ctx: ProbeContext) -> None:
    weak = enforced("school.groep-spnone.test", ctx)
    assert weak.status is FindingStatus.FAIL
    assert "sp=none, not quarantine or reject" in weak.message
    assert published("school.groep-spnone.test", ctx).evidence["policy"] == "none"
    # Without sp= the group's p= applies to its subdomains.
    plain = enforced("school.groep-nosp.test", ctx)
    assert plain.status is FindingStatus.PASS
    assert (plain.evidence["policy"], plain.evidence["policy_tag"]) == ("reject", "p")


def test_discovery_asks_the_organizational_domain_not_the_names_in_between(
    ctx: ProbeContext,
) -> None:
    outcome = published("afdeling.sintjan.groep2.test", ctx)
    assert outcome.evidence["asked"] == [
        "_dmarc.afdeling.sintjan.groep2.test",
        "_dmarc.groep2.test",
    ]
    assert outcome.evidence["policy"] == "reject"


def test_a_schools_own_record_wins_and_the_groups_is_a_warning(ctx: ProbeContext) -> None:
    own = enforced("eigen.groep3.test", ctx)
    assert own.status is FindingStatus.PASS
    assert own.evidence["source"] == "own record"
    assert own.warning is not None
    assert "apply _dmarc.groep3.test (sp=none) to made-up subdomains" in own.warning
    lonely = enforced("eigen.groep4.test", ctx)
    assert lonely.status is FindingStatus.PASS
    assert lonely.warning is not None and "find no record there" in lonely.warning
    assert enforced("reject.test", ctx).warning is None


@pytest.mark.parametrize(
    ("name", "organizational"),
    [
        ("sintjan.scholengroep.be", "scholengroep.be"),
        ("Leerlingen.Sint-Jan.BE.", "sint-jan.be"),
        ("scholengroep.be", "scholengroep.be"),
        ("www.school.ac.uk", "school.ac.uk"),
        ("a.b.github.io", "b.github.io"),
        ("x.school.test", "school.test"),
    ],
)
def test_organizational_domain(name: str, organizational: str) -> None:
    assert organizational_domain(name) == organizational


# --- mail.dmarc-enforced -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["reject.test", "quarantine.test", "norua.test", "fullpct.test", "spquar.test", "lab.test"],
)
def test_enforcement_passes(ctx: ProbeContext, name: str) -> None:
    outcome = enforced(name, ctx)
    assert outcome.status is FindingStatus.PASS, outcome.message
    assert "for all failing mail" in outcome.message
    assert outcome.messages["nl"].startswith(f"{name} heeft DMARC")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("none.test", "p=none, not quarantine or reject: receivers deliver forged mail"),
        ("lab-none.test", "p=none, not quarantine or reject"),
        ("pct.test", "pct=50: the policy applies to only 50% of the failing mail"),
        ("testing.test", "t=y: the policy is in testing mode"),
        ("spnone.test", "sp=none: forged mail from subdomains of spnone.test (such as office."),
        ("lab-spnone.test", "sp=none"),
        ("npnone.test", "np=none: forged mail from made-up (non-existent) subdomains"),
        ("badp.test", "p=maybe is not none, quarantine or reject"),
        ("nop.test", "no p= tag"),
        ("space.test", "starts with a space"),
        ("lowerv.test", "v=dmarc1 is not DMARC1"),
        ("badpct.test", "pct=all"),
        ("missing.test", "has no DMARC record"),
        ("two.test", "2 DMARC records"),
    ],
)
def test_enforcement_fails(ctx: ProbeContext, name: str, words: str) -> None:
    outcome = enforced(name, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message
    assert outcome.messages["nl"]


def test_a_broken_report_address_does_not_stop_enforcement(ctx: ProbeContext) -> None:
    """Receivers skip a malformed rua and still apply p=reject: mail.dmarc fails, this passes."""
    for name in ("nomailto.test", "lab-invalid.test"):
        assert published(name, ctx).status is FindingStatus.FAIL
        assert enforced(name, ctx).status is FindingStatus.PASS


def test_enforcement_parameters(ctx: ProbeContext) -> None:
    assert enforced("pct.test", ctx, min_pct=50).status is FindingStatus.PASS
    strict = enforced("quarantine.test", ctx, allowed_policies=["reject"])
    assert strict.status is FindingStatus.FAIL
    assert "p=quarantine, not reject" in strict.message


def test_parse_dmarc_reads_dmarcbis_tags() -> None:
    record = parse_dmarc("v=DMARC1; p=reject; np=quarantine; psd=n; t=n; fo=0:d; ri=86400")
    assert record.problems == ()
    assert record.tags["np"] == "quarantine"
    # Problems come in the record's order.
    assert [p.tag for p in parse_dmarc("v=DMARC1; p=reject; psd=x; fo=2").problems] == [
        "psd",
        "fo",
    ]


# --- mail.dkim ---------------------------------------------------------------------------------


def dkim_of(name: str, ctx: ProbeContext, **params: Any) -> ProbeOutcome:
    return dkim(domain(name), DkimParams(**params), ctx)


@pytest.mark.parametrize(
    ("name", "selector"),
    [
        ("m365.test", "selector1"),
        ("google.test", "google"),
        ("mailchimp.test", "k1"),
        ("lab.test", "selector1"),
    ],
)
def test_dkim_finds_a_key_at_a_well_known_selector(
    ctx: ProbeContext, name: str, selector: str
) -> None:
    outcome = dkim_of(name, ctx)
    assert outcome.status is FindingStatus.PASS, outcome.message
    row = outcome.evidence["selectors"][selector]
    assert row["valid"] and row["key_bits"] == 2048
    assert selector in outcome.message
    assert outcome.messages["nl"].startswith(f"{name} publiceert ")
    assert "bruikbare DKIM-sleutel" in outcome.messages["nl"]


def test_dkim_ignores_a_selector_whose_cname_leads_nowhere(ctx: ProbeContext) -> None:
    row = dkim_of("m365.test", ctx).evidence["selectors"]["selector2"]
    assert row == {
        "declared": False,
        "records": [],
        "valid": False,
        "reason": "no DKIM key record",
        "found": False,
    }


@pytest.mark.parametrize("name", ["nokey.test", "lab-nodkim.test", "wildcard.test", "own.test"])
def test_dkim_is_not_assessed_when_no_guessed_selector_has_a_key(
    ctx: ProbeContext, name: str
) -> None:
    outcome = dkim_of(name, ctx)
    assert outcome.status is FindingStatus.NOT_APPLICABLE
    assert outcome.message.startswith("not assessed: no DKIM key at the well-known selectors")
    assert "Name your DKIM selector in school.yaml" in outcome.message
    assert "Geef je DKIM-selector op in school.yaml" in outcome.messages["nl"]
    assert set(outcome.evidence["selectors"]) >= {"selector1", "google", "default", "s2"}


def test_dkim_checks_the_selectors_school_yaml_declares(dns_server: DnsServer) -> None:
    school = {
        "school": {"id": "s", "name": "S"},
        "domains": ["own.test", "nokey.test"],
        "mail": {"dkim_selectors": {"own.test": ["s2026"], "nokey.test": ["s2026"]}},
    }
    ctx = context(dns_server, school)
    found = dkim_of("own.test", ctx)
    assert found.status is FindingStatus.PASS
    assert found.evidence["declared"] == ["s2026"]
    assert found.evidence["selectors"]["s2026"]["key_type"] == "ed25519"
    missing = dkim_of("nokey.test", ctx)
    assert missing.status is FindingStatus.FAIL
    assert "declared DKIM selector(s) without a sound key: s2026 (no DKIM key record)" in (
        missing.message
    )
    assert "opgegeven DKIM-selector zonder bruikbare sleutel: s2026" in missing.messages["nl"]
    # The check's own parameter declares too.
    assert dkim_of("own.test", context(dns_server), selectors=["s2026"]).status is (
        FindingStatus.PASS
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("revoked.test", "only revoked DKIM keys (empty p=) at selector(s) selector1"),
        ("lab-revoked.test", "only revoked DKIM keys"),
        ("broken.test", "broken or weak: default (p= is not valid base64)"),
        ("service.test", "dkim (s=other does not allow the key for e-mail)"),
        ("twokeys.test", "mail (2 key records for one selector)"),
    ],
)
def test_dkim_fails_a_published_key_that_is_broken_or_revoked(
    ctx: ProbeContext, name: str, words: str
) -> None:
    outcome = dkim_of(name, ctx)
    assert outcome.status is FindingStatus.FAIL
    assert words in outcome.message
    assert outcome.messages["nl"]


def test_dkim_fails_a_weak_key_even_next_to_a_sound_one(ctx: ProbeContext) -> None:
    assert dkim_of("weak.test", ctx).status is FindingStatus.PASS  # 1024 bits: allowed
    outcome = dkim_of("weak.test", ctx, min_rsa_bits=2048)
    assert outcome.status is FindingStatus.FAIL
    assert "s1 (the RSA key has 1024 bits, fewer than 2048)" in outcome.message


def test_dkim_passes_a_retired_key_next_to_a_sound_one(ctx: ProbeContext) -> None:
    outcome = dkim_of("retired.test", ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.warning == "revoked key(s) at selector(s) selector1 (retired keys)"


def test_a_declared_revoked_selector_fails(dns_server: DnsServer) -> None:
    school = {
        "school": {"id": "s", "name": "S"},
        "domains": ["retired.test"],
        "mail": {"dkim_selectors": {"retired.test": ["selector1"]}},
    }
    outcome = dkim_of("retired.test", context(dns_server, school))
    assert outcome.status is FindingStatus.FAIL
    assert "selector1 (the key is revoked (empty p=))" in outcome.message


def test_the_plan_shows_the_selectors_and_what_happens_without_one(
    dns_server: DnsServer,
) -> None:
    preview = dkim_preview(domain("own.test"), DkimParams(), context(dns_server))
    assert preview.reaches[0].what == "selector1._domainkey.own.test"
    assert "no DKIM selector declared" in preview.notes[0]
    school = {
        "school": {"id": "s", "name": "S"},
        "domains": ["own.test"],
        "mail": {"dkim_selectors": {"own.test": ["s2026"]}},
    }
    declared = dkim_preview(domain("own.test"), DkimParams(), context(dns_server, school))
    assert declared.reaches[0].what == "s2026._domainkey.own.test" and declared.notes == ()


# --- the lab school under its school group -----------------------------------------------------


def test_the_lab_school_without_a_record_is_covered_by_its_group(ctx: ProbeContext) -> None:
    outcome = published("sintjan.labgroep.test", ctx)
    assert outcome.status is FindingStatus.PASS
    assert outcome.evidence["found_at"] == "_dmarc.labgroep.test"
    assert enforced("sintjan.labgroep.test", ctx).status is FindingStatus.PASS


# --- remediation names the school's own records ------------------------------------------------


def test_remediation_shows_the_schools_domain(tmp_path: Path) -> None:
    catalog, problems = load_catalog(REPO)
    assert problems == []
    for check_id in ("mail.dmarc", "mail.dmarc-enforced", "mail.tls-rpt", "mail.mta-sts"):
        check = catalog.checks[check_id]
        planned = PlannedCheck(check=check, params=NO_PARAMS, controls=())
        finding = planned.finding("f", check_id, "sintjan.be", FindingStatus.FAIL, "m")
        assert "{domain}" not in finding.remediation["nl"] + finding.remediation["en"]
        assert "sintjan.be" in finding.remediation["nl"]
        assert "sintjan.be" in finding.remediation["en"]
    dmarc_fix = remediation_for(catalog.checks["mail.dmarc-enforced"].remediation, "sintjan.be")
    assert "'_dmarc.sintjan.be'" in dmarc_fix["nl"] and "'_dmarc.sintjan.be'" in dmarc_fix["en"]
    example = remediation_for(catalog.checks["mail.dmarc"].remediation, None)
    assert "'_dmarc.uwschool.be'" in example["nl"] and "'_dmarc.yourschool.be'" in example["en"]


def test_mail_remediation_names_the_schools_domain_not_an_example() -> None:
    """Every remediation in checks/mail.yaml that shows a record name or address of the school
    writes its domain as {domain}, so that the report names the school's own domain."""
    text = (REPO / "checks" / "mail.yaml").read_text(encoding="utf-8")
    for example in ("uwschool", "yourschool", "school.be", "example."):
        assert example not in text, example
    catalog, _ = load_catalog(REPO)
    ids = re.findall(r"^  - id: (\S+)$", text, re.MULTILINE)
    assert "mail.spf" in ids and "mail.starttls" in ids
    naming = {
        check_id
        for check_id in ids
        if "{domain}" in catalog.checks[check_id].remediation.get("nl")
        and "{domain}" in catalog.checks[check_id].remediation.get("en")
    }
    assert naming == {
        "mail.dmarc",
        "mail.dmarc-enforced",
        "mail.dkim",
        "mail.mta-sts",
        "mail.tls-rpt",
    }
    for check_id in ids:
        planned = PlannedCheck(check=catalog.checks[check_id], params=NO_PARAMS, controls=())
        finding = planned.finding("f", check_id, "sintjan.be", FindingStatus.FAIL, "m")
        for lang in ("nl", "en"):
            fix = finding.remediation[lang]
            assert "{domain}" not in fix and "uwschool" not in fix and "yourschool" not in fix
            assert ("sintjan.be" in fix) is (check_id in naming), (check_id, lang)
    dkim_fix = remediation_for(catalog.checks["mail.dkim"].remediation, "sintjan.be")
    assert "'selector1._domainkey.sintjan.be'" in dkim_fix["nl"]
    assert "'google._domainkey.sintjan.be'" in dkim_fix["en"]


def test_an_empty_list_of_dkim_selectors_is_refused() -> None:
    """`{domain: []}` would read as "the school named its selectors" while naming none."""
    from pydantic import ValidationError

    base = {"school": {"id": "s", "name": "S"}, "domains": ["own.test"]}
    with pytest.raises(ValidationError, match="at least 1 item"):
        SchoolFile.model_validate({**base, "mail": {"dkim_selectors": {"own.test": []}}})
    SchoolFile.model_validate({**base, "mail": {"dkim_selectors": {"own.test": ["s2026"]}}})
