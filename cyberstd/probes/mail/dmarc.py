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

from cyberstd.messages import Msg, msg
from cyberstd.probes.dns.lookup import Lookup, cut, cut_list, domain_name, show
from cyberstd.probes.mail.records import (
    RECORD_BUDGET,
    either,
    english,
    first_tag_is,
    outcome,
    summary,
)
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
    said: Msg


@dataclass(frozen=True)
class DmarcRecord:
    """One DMARC record, parsed as receivers read it, with what is wrong with it."""

    text: str
    tags: dict[str, str]
    problems: tuple[Problem, ...]
    notes: tuple[Msg, ...] = ()

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


def _uri_problem(uri: str) -> Msg | None:
    """Why a rua/ruf entry is no usable report address (RFC 7489 section 6.2), or None."""
    address = _SIZE_SUFFIX.sub("", uri)
    scheme, sep, rest = address.partition(":")
    if not sep or not scheme:
        return msg("mail.dmarc.uri.not-uri", uri=uri)
    if scheme.lower() == "https":
        if rest.startswith("//") and len(rest) > 2:
            return None
        return msg("mail.dmarc.uri.not-url", uri=uri)
    if scheme.lower() != "mailto":
        return msg("mail.dmarc.uri.scheme", uri=uri)
    match = _MAILTO.fullmatch(rest)
    valid = match is not None
    if match is not None:
        try:
            domain_name(match[1])
        except ValueError:
            valid = False
    return None if valid else msg("mail.dmarc.uri.bad-mailto", uri=uri)


def _check_tag(tag: str, value: str) -> Problem | None:
    """Why the value of a known tag is invalid, or None."""
    lowered = value.lower()
    shown = f"{tag}={cut(value, 80)}"
    if tag in ("rua", "ruf"):
        found = [_uri_problem(u.strip()) for u in value.split(",") if u.strip()]
        bad = [b for b in found if b is not None]
        if not found:
            return Problem(tag, msg("mail.dmarc.tag.no-address", tag=tag))
        if not bad:
            return None
        return Problem(tag, msg("mail.joined", items=bad))
    if tag in ("p", "sp", "np"):
        ok, expected = lowered in POLICIES, msg("mail.dmarc.expect.policy")
    elif tag in ("adkim", "aspf"):
        ok, expected = lowered in ("r", "s"), msg("mail.dmarc.expect.alignment")
    elif tag == "pct":
        ok, expected = value.isdigit() and int(value) <= 100, msg("mail.dmarc.expect.pct")
    elif tag == "ri":
        ok, expected = value.isdigit() and int(value) < _RI, msg("mail.dmarc.expect.seconds")
    elif tag == "fo":
        ok = all(p.strip() in ("0", "1", "d", "s") for p in value.split(":"))
        expected = msg("mail.dmarc.expect.fo")
    elif tag == "rf":
        ok = all(re.fullmatch(r"[A-Za-z0-9-]+", p.strip()) for p in value.split(":"))
        expected = msg("mail.dmarc.expect.rf")
    elif tag == "t":
        ok, expected = lowered in ("y", "n"), msg("mail.dmarc.expect.yes-no")
    elif tag == "psd":
        ok, expected = lowered in ("y", "n", "u"), msg("mail.dmarc.expect.psd")
    else:
        return None
    if ok:
        return None
    return Problem(tag, msg("mail.dmarc.tag.invalid", shown=shown, expected=expected))


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC record (RFC 7489 section 6.3 and 6.4, with the DMARCbis tags), collecting
    every problem instead of stopping at the first."""
    problems: list[Problem] = []
    notes: list[Msg] = []
    if text[:1].isspace():
        problems.append(Problem("", msg("mail.dmarc.leading-space")))
    tags: dict[str, str] = {}
    order: list[str] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problems.append(Problem("", msg("mail.record.not-a-pair", part=cut(part, 80))))
            continue
        if name in tags:
            problems.append(Problem(name, msg("mail.dmarc.tag-twice", tag=name)))
            continue
        tags[name] = value
        order.append(name)
    if tags.get("v") != "DMARC1":
        problems.append(Problem("v", msg("mail.dmarc.bad-version", value=tags.get("v", ""))))
    if "p" not in tags:
        problems.append(Problem("p", msg("mail.dmarc.no-p")))
    elif order[1:2] != ["p"]:
        notes.append(msg("mail.dmarc.late-p"))
    for tag in order:
        if tag not in KNOWN_TAGS:
            notes.append(msg("mail.dmarc.unknown-tag", tag=tag))
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
    said = (
        msg(
            "mail.dmarc.none-anywhere",
            domain=found.domain,
            where=where,
            organizational=found.organizational,
        )
        if found.organizational != found.domain
        else msg("mail.dmarc.none", domain=found.domain, where=where)
    )
    return outcome(FindingStatus.FAIL, said, found.evidence())


def _several(found: Discovery) -> ProbeOutcome:
    said = msg("mail.dmarc.several", location=found.location, n=len(found.records))
    return outcome(FindingStatus.FAIL, said, found.evidence())


def _source(found: Discovery, tag: str) -> Msg:
    """Which record was used, in words."""
    if not found.inherited:
        return msg("mail.dmarc.source.own", location=found.location)
    return msg(
        "mail.dmarc.source.inherited",
        organizational=found.organizational,
        location=found.location,
        tag=tag,
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
        problems=english([p.said for p in record.problems]),
    )
    if record.problems:
        problems = summary([p.said for p in record.problems])
        return outcome(
            FindingStatus.FAIL,
            msg("mail.dmarc.invalid", location=found.location, problems=problems),
            evidence,
            record.notes,
        )
    advice = _advice(record, policy, found)
    evidence["advice"] = english(advice)
    return outcome(
        FindingStatus.PASS,
        msg("mail.dmarc.pass", domain=domain, policy=policy, source=_source(found, tag)),
        evidence,
        [*advice, *record.notes],
    )


def _advice(record: DmarcRecord, policy: str | None, found: Discovery) -> list[Msg]:
    advice: list[Msg] = []
    if "rua" not in record.tags:
        advice.append(msg("mail.dmarc.advice.no-rua"))
    if policy == "none":
        advice.append(msg("mail.dmarc.advice.p-none"))
    if record.pct < 100:
        advice.append(msg("mail.dmarc.advice.pct", pct=record.pct))
    if record.testing:
        advice.append(msg("mail.dmarc.advice.testing"))
    if found.inherited:
        advice.append(
            msg("mail.dmarc.advice.inherited", domain=found.domain, location=found.location)
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
    allowed = either(params.allowed_policies)
    problems = [p for p in record.problems if p.tag in POLICY_TAGS]
    policy, tag = applied_policy(record, found.inherited)
    if policy in POLICIES and policy not in params.allowed_policies:
        said = msg(
            "mail.dmarc.enforce.policy",
            tag=tag,
            policy=policy,
            allowed=allowed,
            domain=found.domain,
        )
        problems.append(Problem(tag, said))
    if record.pct < params.min_pct:
        problems.append(Problem("pct", msg("mail.dmarc.enforce.pct", pct=record.pct)))
    if record.testing:
        problems.append(Problem("t", msg("mail.dmarc.enforce.testing")))
    for sub, value in subdomain_policies(record).items():
        if sub == "sp" and found.inherited:
            continue  # that is the policy of the domain itself, judged above
        if value in POLICIES and value not in params.allowed_policies:
            said = (
                msg("mail.dmarc.enforce.made-up", tag=sub, policy=value, domain=found.domain)
                if sub == "np"
                else msg(
                    "mail.dmarc.enforce.subdomains", tag=sub, policy=value, domain=found.domain
                )
            )
            problems.append(Problem(sub, said))
    return problems


def _group_warning(lookup: Lookup, found: Discovery, params: EnforcedParams) -> list[Msg]:
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
            msg("mail.dmarc.group.several", org=org, domain=found.domain)
            if records
            else msg("mail.dmarc.group.no-record", org=org, domain=found.domain)
        ]
    weak = {
        k: v
        for k, v in subdomain_policies(parse_dmarc(records[0])).items()
        if v not in params.allowed_policies
    }
    if not weak:
        return []
    shown = ", ".join(f"{k}={v}" for k, v in weak.items())
    return [msg("mail.dmarc.group.weak", org=org, policies=shown, domain=found.domain)]


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
        problems=english([p.said for p in problems]),
    )
    if problems:
        return outcome(
            FindingStatus.FAIL,
            msg(
                "mail.dmarc.enforced.fail",
                domain=domain,
                problems=summary([p.said for p in problems]),
            ),
            evidence,
        )
    subs = ", ".join(f"{k}={v}" for k, v in subdomain_policies(record).items())
    return outcome(
        FindingStatus.PASS,
        msg(
            "mail.dmarc.enforced.pass",
            domain=domain,
            tag=tag,
            policy=policy,
            subdomains=subs,
            source=_source(found, tag),
        ),
        evidence,
        warnings,
    )
