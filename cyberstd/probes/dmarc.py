"""DMARC of a school's domain: a valid record is published (`mail.dmarc`), and its policy has
forged mail stopped (`mail.dmarc-enforced`).

Policy discovery follows RFC 7489 section 6.6.3: the record at `_dmarc.<domain>`, and when the
domain has none, the record of its organizational domain (RFC 7489 section 3.2, found with the
Public Suffix List), whose `sp=` then applies. A school at `sintjan.scholengroep.be` without a
record of its own is thus covered by `_dmarc.scholengroep.be`, and the evidence says so.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import dns.name
from publicsuffixlist import PublicSuffixList
from pydantic import Field

from cyberstd.probes.dns import Lookup, cut, cut_list, domain_name, show
from cyberstd.probes.mailrecords import RECORD_BUDGET, first_tag_is, outcome, summary
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

Policy = Literal["none", "quarantine", "reject"]
POLICIES = ("none", "quarantine", "reject")
# The tags RFC 7489 section 6.3 defines, and those DMARCbis (RFC 9989) adds.
KNOWN_TAGS = frozenset(
    {"v", "p", "sp", "np", "adkim", "aspf", "fo", "pct", "rf", "ri", "rua", "ruf", "t", "psd"}
)
# A problem with one of these tags (or with the record as a whole) changes which policy
# receivers apply, so enforcement cannot be shown.
POLICY_TAGS = frozenset({"", "v", "p", "sp", "np", "pct", "t"})
_MAILTO = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9.-]+)")
_SIZE_SUFFIX = re.compile(r"!\d+[kmgtKMGT]?$")
_RI = 2**32


class Problem(NamedTuple):
    """One thing wrong with a record: the tag it concerns ("" for the record) and why."""

    tag: str
    en: str
    nl: str


@dataclass(frozen=True)
class DmarcRecord:
    """One DMARC record, parsed as receivers read it, with what is wrong with it."""

    text: str
    tags: dict[str, str]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()

    def policy_tag(self, tag: str) -> str | None:
        value = self.tags.get(tag)
        return value.lower() if value is not None else None

    @property
    def pct(self) -> int:
        value = self.tags.get("pct", "100")
        return int(value) if value.isdigit() and int(value) <= 100 else 100

    @property
    def testing(self) -> bool:
        return self.tags.get("t", "n").lower() == "y"


def _uri_problem(uri: str) -> tuple[str, str] | None:
    """Why a rua/ruf entry is no usable report address (RFC 7489 section 6.2), or None."""
    address = _SIZE_SUFFIX.sub("", uri)
    scheme, sep, rest = address.partition(":")
    if not sep or not scheme:
        return (
            f"{uri!r} is not a URI (it needs mailto:)",
            f"{uri!r} is geen URI (mailto: ontbreekt)",
        )
    if scheme.lower() == "https":
        if rest.startswith("//") and len(rest) > 2:
            return None
        return f"{uri!r} is not a URL", f"{uri!r} is geen URL"
    if scheme.lower() != "mailto":
        return (
            f"{uri!r}: receivers send reports to mailto: addresses",
            f"{uri!r}: ontvangers sturen rapporten naar mailto:-adressen",
        )
    match = _MAILTO.fullmatch(rest)
    valid = match is not None
    if match is not None:
        try:
            domain_name(match[1])
        except ValueError:
            valid = False
    if valid:
        return None
    return f"{uri!r} is not a valid mailto: address", f"{uri!r} is geen geldig mailto:-adres"


def _check_tag(tag: str, value: str) -> Problem | None:
    """Why the value of a known tag is invalid, or None."""
    lowered = value.lower()
    shown = f"{tag}={cut(value, 80)}"
    if tag in ("rua", "ruf"):
        found = [_uri_problem(u.strip()) for u in value.split(",") if u.strip()]
        bad = [b for b in found if b is not None]
        if not found:
            return Problem(tag, f"{tag}= names no address", f"{tag}= noemt geen adres")
        if not bad:
            return None
        return Problem(tag, "; ".join(b[0] for b in bad), "; ".join(b[1] for b in bad))
    if tag in ("p", "sp", "np"):
        ok, en, nl = lowered in POLICIES, "none, quarantine or reject", "none, quarantine of reject"
    elif tag in ("adkim", "aspf"):
        ok, en, nl = lowered in ("r", "s"), "r or s", "r of s"
    elif tag == "pct":
        ok = value.isdigit() and int(value) <= 100
        en, nl = "a whole number from 0 to 100", "een geheel getal van 0 tot 100"
    elif tag == "ri":
        ok, en, nl = (
            value.isdigit() and int(value) < _RI,
            "a number of seconds",
            "een aantal seconden",
        )
    elif tag == "fo":
        ok = all(p.strip() in ("0", "1", "d", "s") for p in value.split(":"))
        en, nl = "a list of 0, 1, d and s", "een lijst van 0, 1, d en s"
    elif tag == "rf":
        ok = all(re.fullmatch(r"[A-Za-z0-9-]+", p.strip()) for p in value.split(":"))
        en, nl = "a list of report formats", "een lijst van rapportformaten"
    elif tag == "t":
        ok, en, nl = lowered in ("y", "n"), "y or n", "y of n"
    elif tag == "psd":
        ok, en, nl = lowered in ("y", "n", "u"), "y, n or u", "y, n of u"
    else:
        return None
    return None if ok else Problem(tag, f"{shown} is not {en}", f"{shown} is geen {nl}")


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC record (RFC 7489 section 6.3 and 6.4, with the DMARCbis tags), collecting
    every problem instead of stopping at the first."""
    problems: list[Problem] = []
    notes: list[str] = []
    if text[:1].isspace():
        problems.append(
            Problem(
                "",
                "the record starts with a space; receivers that follow RFC 7489 skip it",
                "het record begint met een spatie; ontvangers die RFC 7489 volgen slaan het over",
            )
        )
    tags: dict[str, str] = {}
    order: list[str] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            why = f"{cut(part, 80)!r} is not a tag=value pair"
            problems.append(Problem("", why, f"{cut(part, 80)!r} is geen tag=waarde-paar"))
            continue
        if name in tags:
            problems.append(
                Problem(name, f"tag {name} appears twice", f"de tag {name} staat er twee keer in")
            )
            continue
        tags[name] = value
        order.append(name)
    if tags.get("v") != "DMARC1":
        problems.append(
            Problem(
                "v",
                f"v={tags.get('v', '')} is not DMARC1 (the version is case-sensitive)",
                f"v={tags.get('v', '')} is niet DMARC1 (hoofdletters tellen)",
            )
        )
    if "p" not in tags:
        problems.append(
            Problem(
                "p",
                "no p= tag: RFC 7489 requires the policy; receivers then read the record as "
                "p=none at best",
                "geen p=-tag: RFC 7489 vereist het beleid; ontvangers lezen het record dan "
                "hoogstens als p=none",
            )
        )
    elif order[1:2] != ["p"]:
        notes.append("p= is not the tag right after v=, as RFC 7489 section 6.4 writes it")
    for tag in order:
        if tag not in KNOWN_TAGS:
            notes.append(f"unknown tag {tag}= is ignored by receivers")
            continue
        problem = _check_tag(tag, tags[tag])
        if problem is not None:
            problems.append(problem)
    return DmarcRecord(text, tags, tuple(problems), tuple(notes))


# --- policy discovery --------------------------------------------------------------------------


@functools.cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The organizational domain of `domain` (RFC 7489 section 3.2): the public suffix plus one
    label, after the Public Suffix List shipped with the publicsuffixlist package (ICANN and
    private sections). A name under an unlisted top-level domain counts that label as the
    suffix (the list's default rule "*")."""
    name = domain.lower().rstrip(".")
    return str(_suffix_list().privatesuffix(name) or name)


@dataclass
class Discovery:
    """Where the DMARC policy of a domain comes from (RFC 7489 section 6.6.3)."""

    domain: str
    organizational: str
    location: str = ""
    records: list[str] = field(default_factory=list)
    inherited: bool = False
    asked: list[str] = field(default_factory=list)
    other_txt: list[str] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        source = "organizational domain" if self.inherited else "own record"
        found: dict[str, Any] = {
            "domain": self.domain,
            "organizational_domain": self.organizational,
            "asked": self.asked,
            "dmarc": cut_list(self.records),
        }
        if self.records:
            found.update(found_at=self.location, source=source)
        if self.other_txt:
            found["other_txt"] = cut_list(self.other_txt, 5)
        return found


def _dmarc_at(lookup: Lookup, name: str, found: Discovery) -> list[str]:
    qname = dns.name.Name((b"_dmarc", *domain_name(name).labels))
    found.asked.append(show(qname))
    texts = lookup.query(qname, "TXT").texts()
    records = [t for t in texts if first_tag_is(t, "DMARC1")]
    found.other_txt.extend(t for t in texts if t not in records)
    return records


def discover(lookup: Lookup, domain: str) -> Discovery:
    """The DMARC records that apply to `domain`: its own, else its organizational domain's."""
    found = Discovery(domain, organizational_domain(domain))
    found.records = _dmarc_at(lookup, domain, found)
    found.location = f"_dmarc.{domain}"
    if not found.records and found.organizational != domain:
        found.records = _dmarc_at(lookup, found.organizational, found)
        found.location = f"_dmarc.{found.organizational}"
        found.inherited = True
    return found


def applied_policy(record: DmarcRecord, inherited: bool) -> tuple[str | None, str]:
    """The policy receivers apply to the domain, and the tag it comes from: `sp` when the
    record is the organizational domain's (RFC 7489 section 6.3), else `p`."""
    if inherited and "sp" in record.tags:
        return record.policy_tag("sp"), "sp"
    return record.policy_tag("p"), "p"


def subdomain_policies(record: DmarcRecord) -> dict[str, str | None]:
    """The policies for subdomains without a record of their own: `sp` (else p) for every
    subdomain, and DMARCbis's `np` for names that do not exist, when the record sets it."""
    policies = {"sp": record.policy_tag("sp") or record.policy_tag("p")}
    if "np" in record.tags:
        policies["np"] = record.policy_tag("np")
    return policies


def _the_record(lookup: Lookup, domain: str) -> tuple[Discovery, DmarcRecord] | ProbeOutcome:
    """The one DMARC record that applies to `domain`, parsed; or the finding when there is
    none or more than one."""
    found = discover(lookup, domain)
    if not found.records:
        return _no_record(found)
    if len(found.records) > 1:
        return _several(found)
    return found, parse_dmarc(found.records[0])


def _no_record(found: Discovery) -> ProbeOutcome:
    where = f"_dmarc.{found.domain}"
    also = (
        f" nor at _dmarc.{found.organizational}, its organizational domain"
        if found.organizational != found.domain
        else ""
    )
    ook = (
        f" en ook niet op _dmarc.{found.organizational}, het organisatiedomein"
        if found.organizational != found.domain
        else ""
    )
    return outcome(
        FindingStatus.FAIL,
        f"{found.domain} has no DMARC record at {where}{also}: receivers do not know what to "
        "do with forged mail in its name",
        found.evidence(),
        nl=f"{found.domain} heeft geen DMARC-record op {where}{ook}: ontvangers weten niet wat "
        "ze met vervalste mail op naam van de school moeten doen",
    )


def _several(found: Discovery) -> ProbeOutcome:
    n = len(found.records)
    return outcome(
        FindingStatus.FAIL,
        f"{found.location} has {n} DMARC records; receivers then apply none of them",
        found.evidence(),
        nl=f"{found.location} heeft {n} DMARC-records; ontvangers passen er dan geen enkel toe",
    )


def _source(found: Discovery, tag: str) -> tuple[str, str]:
    """Which record was used, in words (en, nl)."""
    if not found.inherited:
        return f"its own record at {found.location}", f"het eigen record op {found.location}"
    return (
        f"the record of its organizational domain {found.organizational} at {found.location} "
        f"({tag}=), as it has none of its own",
        f"het record van het organisatiedomein {found.organizational} op {found.location} "
        f"({tag}=), want het heeft geen eigen record",
    )


# --- mail.dmarc --------------------------------------------------------------------------------


@probe("mail.dmarc", params=ProbeParams, target=TargetKind.DOMAIN, budget=RECORD_BUDGET)
def dmarc(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """A valid DMARC record is published for the domain (any policy, p=none included).

    Finds the record as receivers do (RFC 7489 section 6.6.3): the TXT records at
    `_dmarc.<domain>` that start with v=DMARC1; when there are none, those of the
    organizational domain (the registrable domain after the Public Suffix List: for
    sintjan.scholengroep.be that is scholengroep.be), whose `sp=` then applies. The record is
    parsed with every tag of RFC 7489 and DMARCbis (RFC 9989).

    Pass: exactly one DMARC record applies, and it is valid: v=DMARC1 first, a p= of none,
    quarantine or reject, and valid values for sp, np, adkim, aspf, pct, fo, rf, ri, t, psd and
    the rua/ruf report addresses. Advice that does not change the verdict is given as a
    warning: no rua= (nobody sees the reports), p=none, pct below 100 or t=y (mail.dmarc-enforced
    judges those), the record coming from the organizational domain.
    Fail: no DMARC record (at the domain nor at its organizational domain), several (receivers
    then apply none), or a syntax error: a record starting with a space, a part that is no
    tag=value pair, a tag given twice, v= other than DMARC1, no p=, an unknown policy, a
    malformed report address or another invalid value.

    No parameters. Evidence: `dmarc` (the records), `found_at`, `source` (own record or
    organizational domain), `organizational_domain`, `asked` (the names looked up), `policy`
    and `policy_tag` (p or sp), `subdomain_policy`, `pct`, `rua`, `problems`, `advice`.
    """
    domain = target.name.rstrip(".").lower()
    one = _the_record(Lookup(ctx, budget=RECORD_BUDGET), domain)
    if isinstance(one, ProbeOutcome):
        return one
    found, record = one
    evidence = found.evidence()
    policy, tag = applied_policy(record, found.inherited)
    rua = [u.strip() for u in record.tags.get("rua", "").split(",") if u.strip()]
    evidence.update(
        policy=policy,
        policy_tag=tag,
        subdomain_policy=subdomain_policies(record),
        pct=record.tags.get("pct"),
        rua=cut_list(rua),
        problems=[p.en for p in record.problems],
    )
    if record.problems:
        first = record.problems[0]
        more = len(record.problems) - 1
        return outcome(
            FindingStatus.FAIL,
            f"the DMARC record at {found.location} is invalid: "
            + summary([p.en for p in record.problems]),
            evidence,
            list(record.notes),
            nl=f"het DMARC-record op {found.location} is ongeldig: {first.nl}"
            + (f" (en nog {more} probleem/problemen)" if more else ""),
        )
    advice = _advice(record, policy, found)
    evidence["advice"] = advice
    used, gebruikt = _source(found, tag)
    return outcome(
        FindingStatus.PASS,
        f"{domain} publishes a valid DMARC record (p={policy}) through {used}",
        evidence,
        [*advice, *record.notes],
        nl=f"{domain} publiceert een geldig DMARC-record (p={policy}) via {gebruikt}",
    )


def _advice(record: DmarcRecord, policy: str | None, found: Discovery) -> list[str]:
    advice: list[str] = []
    if "rua" not in record.tags:
        advice.append(
            "no rua= address: nobody receives the aggregate reports that show who sends mail "
            "in the school's name"
        )
    if policy == "none":
        advice.append("p=none: receivers still deliver forged mail (see mail.dmarc-enforced)")
    if record.pct < 100:
        advice.append(f"pct={record.pct}: the policy covers only part of the failing mail")
    if record.testing:
        advice.append("t=y: the policy is in testing mode")
    if found.inherited:
        advice.append(
            f"{found.domain} has no DMARC record of its own; {found.location} applies to it"
        )
    return advice


# --- mail.dmarc-enforced -----------------------------------------------------------------------


class EnforcedParams(ProbeParams):
    allowed_policies: list[Policy] = Field(
        default=["quarantine", "reject"],
        min_length=1,
        description="The policies (p=, sp=, np=) that count as enforcing.",
    )
    min_pct: int = Field(
        default=100, ge=0, le=100, description="The smallest pct= that passes (absent = 100)."
    )


def _enforcement_problems(
    record: DmarcRecord, found: Discovery, params: EnforcedParams
) -> list[Problem]:
    allowed = " or ".join(params.allowed_policies)
    problems = [p for p in record.problems if p.tag in POLICY_TAGS]
    policy, tag = applied_policy(record, found.inherited)
    if policy in POLICIES and policy not in params.allowed_policies:
        problems.append(
            Problem(
                tag,
                f"{tag}={policy}, not {allowed}: receivers deliver forged mail in the name "
                f"of {found.domain}",
                f"{tag}={policy}, niet {allowed}: ontvangers leveren vervalste mail op naam "
                f"van {found.domain} gewoon af",
            )
        )
    if record.pct < params.min_pct:
        problems.append(
            Problem(
                "pct",
                f"pct={record.pct}: the policy applies to only {record.pct}% of the failing mail",
                f"pct={record.pct}: het beleid geldt maar voor {record.pct}% van de mail die faalt",
            )
        )
    if record.testing:
        problems.append(
            Problem(
                "t",
                "t=y: the policy is in testing mode and receivers need not apply it",
                "t=y: het beleid staat in testmodus en ontvangers hoeven het niet toe te passen",
            )
        )
    for sub, value in subdomain_policies(record).items():
        if sub == "sp" and found.inherited:
            continue  # that is the policy of the domain itself, judged above
        if value in POLICIES and value not in params.allowed_policies:
            which = "made-up (non-existent) subdomains" if sub == "np" else "subdomains"
            welke = "verzonnen (onbestaande) subdomeinen" if sub == "np" else "de subdomeinen"
            problems.append(
                Problem(
                    sub,
                    f"{sub}={value}: forged mail from {which} of {found.domain} (such as "
                    f"office.{found.domain}) is still delivered",
                    f"{sub}={value}: vervalste mail van {welke} van {found.domain} (zoals "
                    f"secretariaat.{found.domain}) wordt nog afgeleverd",
                )
            )
    return problems


def _group_warning(lookup: Lookup, found: Discovery, params: EnforcedParams) -> list[str]:
    """RFC 7489 receivers ignore sp= on a record below the organizational domain: made-up
    subdomains of the school fall back to the organizational domain's record."""
    if found.inherited or found.organizational == found.domain:
        return []
    group = Discovery(found.organizational, found.organizational)
    records = _dmarc_at(lookup, found.organizational, group)
    found.asked.extend(group.asked)
    org = f"_dmarc.{found.organizational}"
    if len(records) != 1:
        return [
            f"receivers that follow RFC 7489 look up {org} for made-up subdomains of "
            f"{found.domain}, and find {'no' if not records else 'more than one'} record there"
        ]
    weak = {
        k: v
        for k, v in subdomain_policies(parse_dmarc(records[0])).items()
        if v not in params.allowed_policies
    }
    if not weak:
        return []
    shown = ", ".join(f"{k}={v}" for k, v in weak.items())
    return [
        f"receivers that follow RFC 7489 apply {org} ({shown}) to made-up subdomains of "
        f"{found.domain}, not the sp= of its own record"
    ]


@probe("mail.dmarc-enforced", params=EnforcedParams, target=TargetKind.DOMAIN, budget=RECORD_BUDGET)
def dmarc_enforced(target: Target, params: EnforcedParams, ctx: ProbeContext) -> ProbeOutcome:
    """The DMARC policy of the domain has forged mail in the school's name quarantined or
    rejected, for all mail and for its subdomains.

    Finds the policy as mail.dmarc does (the domain's own record, else its organizational
    domain's, whose sp= then applies).

    Pass: one valid record applies, its policy for the domain (p=, or sp= of the
    organizational domain's record) is in `allowed_policies`, pct= is absent or at least
    `min_pct`, t=y is not set, and the record's policies for subdomains are enforcing too:
    sp= when present (forgers pick subdomains that do not exist, such as
    secretariaat.<domain>, and receivers apply sp= to them; which subdomains really send
    mail cannot be seen from DNS, so sp= is judged always) and DMARCbis's np= when present.
    Fail: no record or several, a problem with v=, p=, sp=, np=, pct= or t= (receivers then
    fall back to p=none or skip the record), a policy of none, pct below `min_pct`, t=y,
    or sp=/np= none.
    A school below its organizational domain with a record of its own gets a warning when
    the organizational domain's record does not enforce for subdomains: receivers that
    follow RFC 7489 use that record, not the school's sp=, for its made-up subdomains.

    Parameters: `allowed_policies` (default [quarantine, reject]), `min_pct` (default 100).
    Evidence: as mail.dmarc, with `problems` the reasons enforcement fails.
    """
    domain = target.name.rstrip(".").lower()
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    one = _the_record(lookup, domain)
    if isinstance(one, ProbeOutcome):
        return one
    found, record = one
    policy, tag = applied_policy(record, found.inherited)
    problems = _enforcement_problems(record, found, params)
    warnings = [] if problems else _group_warning(lookup, found, params)
    evidence = found.evidence()
    evidence.update(
        policy=policy,
        policy_tag=tag,
        subdomain_policy=subdomain_policies(record),
        pct=record.tags.get("pct"),
        allowed_policies=list(params.allowed_policies),
        problems=[p.en for p in problems],
    )
    if problems:
        more = len(problems) - 1
        return outcome(
            FindingStatus.FAIL,
            f"the DMARC policy of {domain} does not stop forged mail: "
            + summary([p.en for p in problems]),
            evidence,
            nl=f"het DMARC-beleid van {domain} houdt vervalste mail niet tegen: {problems[0].nl}"
            + (f" (en nog {more} probleem/problemen)" if more else ""),
        )
    used, gebruikt = _source(found, tag)
    subs = ", ".join(f"{k}={v}" for k, v in subdomain_policies(record).items())
    return outcome(
        FindingStatus.PASS,
        f"{domain} has DMARC {tag}={policy} for all failing mail ({subs} for subdomains), "
        f"through {used}",
        evidence,
        warnings,
        nl=f"{domain} heeft DMARC {tag}={policy} voor alle mail die faalt ({subs} voor "
        f"subdomeinen), via {gebruikt}",
    )
