"""Mail probes of a school's domain: SPF, MTA-STS, TLS-RPT and STARTTLS on every MX.

DMARC and DKIM live in their own modules; they are imported here so that looking up any
`mail.*` probe registers them all.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError, ScopeError
from cyberstd.probes import dkim as _dkim  # noqa: F401  (registers mail.dkim)
from cyberstd.probes import dmarc as _dmarc  # noqa: F401  (registers mail.dmarc*)
from cyberstd.probes.dns import (
    DnsStatus,
    Lookup,
    MxHost,
    cut,
    cut_list,
    domain_name,
    is_null_mx,
    mx_hosts,
)
from cyberstd.probes.mailrecords import (
    RECORD_BUDGET,
    fail,
    outcome,
    report_uris,
    summary,
    tag_list,
    versioned,
)
from cyberstd.probes.starttls import probe_smtp
from cyberstd.probes.web import HttpAnswer, http_get
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.tlsconn import open_tcp, tls_handshake, trusting_context

# Time budgets, in multiples of the scan's timeout (see `registry.probe`).
SPF_BUDGET = 8.0
MTA_STS_BUDGET = 6.0
STARTTLS_BUDGET = 8.0

# RFC 7208 section 4.6.4: the limits on DNS look-ups while evaluating one SPF record.
SPF_LOOKUP_LIMIT = 10
SPF_VOID_LIMIT = 2
# Past this many look-ups the walk stops: the verdict is long known, and it bounds the work.
SPF_WALK_CAP = 30
# A record with more terms than this is not a real policy (and would take long to judge).
SPF_MAX_TERMS = 200
# RFC 7208 section 4.6.4: an mx mechanism may name at most 10 hosts.
SPF_MX_LIMIT = 10

# RFC 8461 section 3.3: a policy file is at most 64 KB.
MTA_STS_MAX_POLICY = 64 * 1024
# RFC 8461 section 3.2: max_age is at most 31557600 seconds (a year).
MTA_STS_MAX_AGE = 31557600
SECONDS_PER_DAY = 86400

# All MX addresses are probed at once, so the probe takes as long as the slowest; the cap
# keeps that one round and spares the mail provider a crowd of connections.
MAX_SMTP_ADDRESSES = 8
# Addresses probed per MX host: enough to see a server farm's behaviour, not all of it.
MAX_ADDRESSES_PER_HOST = 4

# --- mail.spf ----------------------------------------------------------------------------------

_SPF_MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
_SPF_LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)", re.DOTALL)
_DUAL_CIDR = re.compile(r"(?:/([0-9]{1,2}))?(?://([0-9]{1,3}))?")
_MACRO = re.compile(r"%(?:\{[slodiphcrtvSLODIPHCRTV][0-9]*[rR]?[.\-+,/_=]*\}|[%_\-])")
_QUALIFIER_NAME = {"+": "pass", "": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class SpfSyntaxError(ValueError):
    """An SPF record that receivers reject as a whole (permerror)."""


@dataclass(frozen=True)
class SpfTerm:
    qualifier: str
    name: str
    domain: str | None
    has_macro: bool


@dataclass
class SpfRecord:
    text: str
    mechanisms: list[SpfTerm] = field(default_factory=list)
    redirect: SpfTerm | None = None
    after_all: list[str] = field(default_factory=list)

    @property
    def all(self) -> SpfTerm | None:
        return next((m for m in self.mechanisms if m.name == "all"), None)


def _domain_spec(spec: str, term: str) -> tuple[str, bool]:
    """A checked domain-spec and whether it holds macros (then it cannot be followed here)."""
    if not spec:
        raise SpfSyntaxError(f"{term!r} has an empty domain")
    if "%" in spec:
        if "%" in _MACRO.sub("", spec) or any(not 0x21 <= ord(c) <= 0x7E for c in spec):
            raise SpfSyntaxError(f"{term!r} has an invalid macro")
        return spec, True
    try:
        domain_name(spec)
    except ValueError:
        raise SpfSyntaxError(f"{term!r} does not name a valid domain") from None
    return spec.rstrip(".").lower(), False


def _check_ip(kind: str, value: str, term: str) -> None:
    address, _, prefix = value.partition("/")
    limit = 32 if kind == "ip4" else 128
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise SpfSyntaxError(f"{term!r} has an invalid address") from None
    if (parsed.version == 4) != (kind == "ip4"):
        raise SpfSyntaxError(f"{term!r} mixes up IPv4 and IPv6")
    if prefix and not (prefix.isdigit() and int(prefix) <= limit and prefix == str(int(prefix))):
        raise SpfSyntaxError(f"{term!r} has an invalid prefix length")


def _mechanism(term: str) -> SpfTerm:
    match = _MECHANISM.fullmatch(term)
    if match is None:
        raise SpfSyntaxError(f"{term!r} is not an SPF term")
    qualifier, name, rest = match[1], match[2].lower(), match[3]
    if name not in _SPF_MECHANISMS:
        raise SpfSyntaxError(f"unknown mechanism {name!r} in {term!r}")
    if name == "all":
        if rest:
            raise SpfSyntaxError(f"{term!r}: 'all' takes no argument")
        return SpfTerm(qualifier, name, None, False)
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"{term!r} needs an address")
        _check_ip(name, rest[1:], term)
        return SpfTerm(qualifier, name, rest[1:], False)
    spec, cidr = rest, ""
    if name in ("a", "mx"):
        cut_at = spec.find("/")
        if cut_at >= 0:
            spec, cidr = spec[:cut_at], spec[cut_at:]
        cidr_match = _DUAL_CIDR.fullmatch(cidr)
        if (
            cidr_match is None
            or (cidr_match[1] and int(cidr_match[1]) > 32)
            or (cidr_match[2] and int(cidr_match[2]) > 128)
        ):
            raise SpfSyntaxError(f"{term!r} has an invalid prefix length")
    if not spec:
        if name in ("include", "exists"):
            raise SpfSyntaxError(f"{term!r} needs a domain")
        return SpfTerm(qualifier, name, None, False)
    if not spec.startswith(":"):
        raise SpfSyntaxError(f"{term!r} is not an SPF term")
    domain, macro = _domain_spec(spec[1:], term)
    return SpfTerm(qualifier, name, domain, macro)


def parse_spf(text: str) -> SpfRecord:
    """Parse an SPF record (RFC 7208 section 4.6); raises SpfSyntaxError when it is invalid."""
    terms = text.split(" ")
    if terms[0].lower() != "v=spf1":
        raise SpfSyntaxError("the record does not start with v=spf1")
    terms = [t for t in terms[1:] if t]
    if len(terms) > SPF_MAX_TERMS:
        raise SpfSyntaxError(f"the record has {len(terms)} terms, more than {SPF_MAX_TERMS}")
    record = SpfRecord(text=text)
    seen_modifiers: set[str] = set()
    for term in terms:
        modifier = _MODIFIER.fullmatch(term)
        if modifier is not None:
            name = modifier[1].lower()
            if name in ("redirect", "exp"):
                if name in seen_modifiers:
                    raise SpfSyntaxError(f"the {name}= modifier appears twice")
                seen_modifiers.add(name)
                domain, macro = _domain_spec(modifier[2], term)
                if name == "redirect":
                    record.redirect = SpfTerm("", name, domain, macro)
            continue  # other modifiers are allowed and ignored (RFC 7208 section 6)
        mechanism = _mechanism(term)
        if record.all is not None:
            record.after_all.append(term)
        record.mechanisms.append(mechanism)
    return record


def is_spf(text: str) -> bool:
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


@dataclass
class _SpfWalk:
    """The state of one evaluation-like walk through an SPF record and its includes."""

    lookup: Lookup
    lookups: int = 0
    voids: int = 0
    capped: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    visited: list[dict[str, str]] = field(default_factory=list)

    def spf_of(self, domain: str, via: str) -> SpfRecord | None:
        """The one SPF record of an included or redirected-to domain; problems when not."""
        answer = self.lookup.query(domain, "TXT")
        records = [t for t in answer.texts() if is_spf(t)]
        if not records:
            if answer.void:
                self.voids += 1
            self.problems.append(f"{via}:{domain} has no SPF record (receivers return permerror)")
            return None
        if len(records) > 1:
            self.problems.append(f"{via}:{domain} has {len(records)} SPF records (permerror)")
            return None
        if len(self.visited) < 50:
            self.visited.append({"domain": domain, "via": via, "record": cut(records[0], 1024)})
        try:
            return parse_spf(records[0])
        except SpfSyntaxError as exc:
            self.problems.append(f"the SPF record of {domain} ({via}) is invalid: {exc}")
            return None

    def count(self, term: SpfTerm) -> bool:
        """Count one DNS-querying term; False once the walk has gone far enough."""
        self.lookups += 1
        if self.lookups > SPF_WALK_CAP:
            self.capped = True
        return not self.capped

    def query_term(self, term: SpfTerm, domain: str) -> None:
        """Ask what an a, mx or exists term asks, to count void look-ups."""
        if term.has_macro:
            return
        target = term.domain or domain
        if term.name == "mx":
            answer = self.lookup.query(target, "MX")
            if len(answer.rdatas) > SPF_MX_LIMIT:
                self.problems.append(
                    f"mx:{target} names {len(answer.rdatas)} hosts, more than {SPF_MX_LIMIT}"
                )
            void = answer.void
        elif term.name == "a":
            void = self.lookup.query(target, "A").void and self.lookup.query(target, "AAAA").void
        else:
            void = self.lookup.query(target, "A").void
        if void:
            self.voids += 1
            self.warnings.append(f"{term.name}:{target} finds nothing (a void look-up)")

    def walk(self, domain: str, record: SpfRecord, chain: tuple[str, ...]) -> SpfTerm | None:
        """Walk `record` of `domain`; return the `all` that ends it (through redirect=)."""
        for term in record.mechanisms:
            if term.name not in _SPF_LOOKUP_TERMS:
                continue
            if not self.count(term):
                return record.all
            if term.name == "ptr":
                self.warnings.append("the ptr mechanism is slow and deprecated (RFC 7208 5.5)")
            elif term.name == "include":
                self.include(term, chain)
            else:
                self.query_term(term, domain)
        if record.all is not None:
            if record.redirect is not None:
                self.warnings.append(f"{domain}: redirect= is ignored because 'all' is present")
            return record.all
        if record.redirect is None or not self.count(record.redirect):
            return None
        target = record.redirect.domain or ""
        if record.redirect.has_macro:
            self.warnings.append(f"redirect={target} uses macros and was not followed")
            return None
        if target in chain:
            self.problems.append(f"redirect loop: {' -> '.join((*chain, target))}")
            return None
        followed = self.spf_of(target, "redirect")
        if followed is None:
            return None
        return self.walk(target, followed, (*chain, target))

    def include(self, term: SpfTerm, chain: tuple[str, ...]) -> None:
        target = term.domain or ""
        if term.has_macro:
            self.warnings.append(f"include:{target} uses macros and was not followed")
            return
        if target in chain:
            self.problems.append(f"include loop: {' -> '.join((*chain, target))}")
            return
        included = self.spf_of(target, "include")
        if included is None:
            return
        ending = self.walk(target, included, (*chain, target))
        if ending is not None and ending.qualifier in ("", "+"):
            self.problems.append(
                f"include:{target} ends in +all, so it authorises every sender on the internet"
            )


class SpfParams(ProbeParams):
    allowed_all: list[Literal["-all", "~all"]] = Field(
        default=["-all", "~all"],
        min_length=1,
        description="How the record may end: -all (reject) and/or ~all (soft fail).",
    )
    max_lookups: int = Field(default=SPF_LOOKUP_LIMIT, ge=1, le=SPF_LOOKUP_LIMIT)
    max_void_lookups: int = Field(default=SPF_VOID_LIMIT, ge=0, le=SPF_VOID_LIMIT)


@probe("mail.spf", params=SpfParams, target=TargetKind.DOMAIN, budget=SPF_BUDGET)
def spf(target: Target, params: SpfParams, ctx: ProbeContext) -> ProbeOutcome:
    """The domain says, with one valid SPF record, which servers may send its mail.

    Reads the TXT records of the domain, takes the one starting with `v=spf1`, parses it
    (RFC 7208) and walks it the way a receiving server evaluates it: it follows include: and
    redirect= (with loop detection) and counts the terms that cost a DNS look-up (include, a,
    mx, ptr, exists, redirect), through every nested include. The a, mx and exists terms are
    looked up too, to count void look-ups (names that answer nothing). Terms with macros are
    counted but not followed.

    Pass: exactly one SPF record, valid syntax, at most `max_lookups` DNS-querying terms and
    at most `max_void_lookups` void look-ups, and it ends in one of `allowed_all` (directly or
    through redirect=).
    Fail: no SPF record or more than one; a syntax error (unknown mechanism, bad address,
    bad domain); an include or redirect to a domain without (exactly one valid) SPF record;
    an include or redirect loop; too many look-ups or void look-ups; `+all` or a bare `all`
    (the whole internet may send as the school), also inside an include; `?all`, no `all` at
    all, or an ending not in `allowed_all`.

    Parameters: `allowed_all` (default [-all, ~all]), `max_lookups` (default 10, the RFC's
    limit), `max_void_lookups` (default 2).
    Evidence: `spf` (the record), `txt_count`, `lookups`, `void_lookups`, `ends_with`,
    `includes` (each followed record), `problems`.
    """
    lookup = Lookup(ctx, budget=SPF_BUDGET)
    domain = target.name.rstrip(".").lower()
    answer = lookup.query(domain, "TXT")
    texts = answer.texts()
    records = [t for t in texts if is_spf(t)]
    evidence: dict[str, Any] = {
        "domain": domain,
        "txt_count": len(texts),
        "spf": cut_list(records),
        "allowed_all": list(params.allowed_all),
    }
    if answer.status is DnsStatus.NXDOMAIN:
        return fail(f"{domain} does not exist in DNS (NXDOMAIN)", evidence)
    if not records:
        return fail(
            f"{domain} has no SPF record: anyone can send mail that claims to come from it",
            evidence,
        )
    if len(records) > 1:
        return fail(
            f"{domain} has {len(records)} SPF records; receivers reject them all (permerror)",
            evidence,
        )
    try:
        record = parse_spf(records[0])
    except SpfSyntaxError as exc:
        return fail(f"the SPF record of {domain} is invalid: {exc}", evidence)
    walk = _SpfWalk(lookup)
    ending = walk.walk(domain, record, (domain,))
    lookups = f"more than {SPF_WALK_CAP}" if walk.capped else str(walk.lookups)
    ends_with = f"{ending.qualifier or '+'}all" if ending is not None else None
    evidence.update(
        lookups=walk.lookups if not walk.capped else f">{SPF_WALK_CAP}",
        max_lookups=params.max_lookups,
        void_lookups=walk.voids,
        ends_with=ends_with,
        includes=walk.visited[:20],
    )
    problems = list(walk.problems)
    if walk.lookups > params.max_lookups:
        problems.insert(
            0,
            f"the SPF record of {domain} needs {lookups} DNS look-ups, more than "
            f"{params.max_lookups}: receivers stop with permerror",
        )
    if walk.voids > params.max_void_lookups:
        problems.append(
            f"{walk.voids} void look-ups, more than {params.max_void_lookups} (permerror)"
        )
    if ends_with in ("+all",):
        problems.insert(
            0,
            f"the SPF record of {domain} ends in {ending.qualifier if ending else ''}all: it "
            "authorises every server on the internet to send as the school",
        )
    elif ends_with is None:
        problems.append(
            f"the SPF record of {domain} has no 'all' at the end: mail from other servers "
            "gets a neutral result instead of being rejected"
        )
    elif ends_with not in params.allowed_all:
        problems.append(
            f"the SPF record of {domain} ends in {ends_with}, not in "
            f"{' or '.join(params.allowed_all)}"
        )
    warnings = list(dict.fromkeys(walk.warnings))
    if record.after_all:
        warnings.append(f"terms after 'all' are ignored: {' '.join(record.after_all)[:200]}")
    evidence["problems"] = cut_list(problems)
    if problems:
        return fail(summary(problems), evidence, warnings)
    return outcome(
        FindingStatus.PASS,
        f"{domain} has one valid SPF record ending in {ends_with}, with {walk.lookups} of "
        f"{params.max_lookups} DNS look-ups",
        evidence,
        warnings,
    )


# --- mail.mta-sts ------------------------------------------------------------------------------


class MtaStsParams(ProbeParams):
    allowed_modes: list[Literal["enforce", "testing"]] = Field(
        default=["enforce"], min_length=1, description="The policy modes that pass."
    )
    min_max_age_days: int = Field(default=7, ge=0, le=365)
    policy_port: int = Field(
        default=443, ge=1, le=65535, description="HTTPS port of the policy host (443; tests)."
    )


@dataclass(frozen=True)
class MtaStsPolicy:
    version: str | None
    mode: str | None
    max_age: str | None
    mx: tuple[str, ...]
    problems: tuple[str, ...]


def parse_mta_sts_policy(text: str) -> MtaStsPolicy:
    """Parse an MTA-STS policy file (RFC 8461 section 3.2), collecting its problems."""
    fields: dict[str, str] = {}
    mx: list[str] = []
    problems: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            problems.append(f"line {cut(line, 80)!r} is not 'key: value'")
        elif key == "mx":
            mx.append(value.lower().rstrip("."))
        elif key in fields:
            problems.append(f"{key} appears twice")
        else:
            fields[key] = value
    version, mode, max_age = fields.get("version"), fields.get("mode"), fields.get("max_age")
    if version != "STSv1":
        problems.append(f"version is {version or 'missing'}, not STSv1")
    if mode not in ("enforce", "testing", "none"):
        problems.append(f"mode is {mode or 'missing'}, not enforce, testing or none")
    if max_age is None or not max_age.isdigit() or int(max_age) > MTA_STS_MAX_AGE:
        problems.append(f"max_age is {max_age or 'missing'}, not a number of seconds up to a year")
    if mode in ("enforce", "testing") and not mx:
        problems.append("no mx lines")
    return MtaStsPolicy(version, mode, max_age, tuple(mx), tuple(problems))


def mx_matches(host: str, pattern: str) -> bool:
    """RFC 8461 section 4.1: exact match, or `*.` matching exactly one leftmost label."""
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


def _certificate_problem(host: str, address: str, port: int, ctx: ProbeContext) -> str | None:
    """Why the certificate of the policy host fails verification, or None when it does not."""
    ctx.limiter.acquire()
    where = f"{host} ({address} port {port})"
    try:
        with open_tcp(address, port, ctx.timeout) as sock:
            tls_handshake(sock, trusting_context(ctx.ca_bundle, ctx.clock.now), host, where).close()
    except ssl.SSLCertVerificationError as exc:
        return (exc.verify_message or "verification failed").rstrip(".")
    except ProbeError:
        return None
    return None


def _fetch_policy(host: str, address: str, port: int, ctx: ProbeContext) -> HttpAnswer | str:
    """The answer to GET https://<host>/.well-known/mta-sts.txt from `address`, or why the
    host's certificate is not valid (senders then ignore the policy)."""
    authority = host if port == 443 else f"{host}:{port}"
    try:
        return http_get(
            f"https://{authority}/.well-known/mta-sts.txt",
            address,
            ctx,
            body_limit=MTA_STS_MAX_POLICY,
        )
    except ConnectivityError:
        # http_get reports a certificate it cannot verify as a connectivity error; for
        # MTA-STS that is the verdict itself, so find out whether it was the certificate.
        problem = _certificate_problem(host, address, port, ctx)
        if problem is None:
            raise
        return problem


@probe("mail.mta-sts", params=MtaStsParams, target=TargetKind.DOMAIN, budget=MTA_STS_BUDGET)
def mta_sts(target: Target, params: MtaStsParams, ctx: ProbeContext) -> ProbeOutcome:
    """MTA-STS makes sending servers insist on TLS with a valid certificate for the school's MX.

    Reads the TXT record at `_mta-sts.<domain>` (v=STSv1 and an id), resolves
    `mta-sts.<domain>` with the scan's resolver, and, when that address is in scope, fetches
    https://mta-sts.<domain>/.well-known/mta-sts.txt from it (SNI and Host are the name, the
    certificate must be valid for it: senders ignore a policy they cannot fetch securely;
    redirects are not followed, as RFC 8461 requires). The MX records are compared with the
    policy's mx lines.

    Pass: one valid STSv1 record, the policy served with status 200, version STSv1, a mode in
    `allowed_modes`, mx lines that cover every MX host, and max_age of at least
    `min_max_age_days` days.
    Fail: no record (or several, or without id), the policy host does not resolve, the
    policy cannot be fetched securely (certificate problem, not 200, redirect, over 64 KB),
    or the policy is invalid, in another mode (testing, none), misses an MX host, or has too
    short a max_age.
    Not applicable: the policy host's address lies outside the authorised scope (nothing is
    fetched).

    Parameters: `allowed_modes` (default [enforce]), `min_max_age_days` (default 7),
    `policy_port` (default 443; other values are for tests).
    Evidence: `record`, `policy_host`, `policy_address`, `policy` (the file, cut), `mode`,
    `max_age`, `policy_mx`, `mx`, `uncovered_mx`, `problems`.
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    records = versioned(lookup.query(f"_mta-sts.{domain}", "TXT"), "STSv1")
    evidence: dict[str, Any] = {"domain": domain, "record": cut_list(records)}
    if not records:
        return fail(
            f"{domain} has no MTA-STS record (_mta-sts.{domain}): sending servers may deliver "
            "its mail without TLS",
            evidence,
        )
    if len(records) > 1:
        return fail(
            f"_mta-sts.{domain} has {len(records)} STSv1 records; senders ignore them", evidence
        )
    try:
        policy_id = tag_list(records[0]).get("id", "")
    except ValueError as exc:
        return fail(f"the MTA-STS record of {domain} is invalid: {exc}", evidence)
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", policy_id):
        return fail(
            f"the MTA-STS record of {domain} has no valid id= (1 to 32 letters and digits)",
            evidence,
        )
    host = f"mta-sts.{domain}"
    addresses, _ = lookup.addresses(host)
    evidence["policy_host"] = host
    if not addresses:
        return fail(f"{host} does not resolve, so senders cannot fetch the policy", evidence)
    address = addresses[0]
    evidence["policy_address"] = address
    try:
        ctx.guard(host, address)
    except ScopeError as exc:
        evidence["not_probed"] = f"outside scope: {exc}"
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            f"the MTA-STS policy host {host} ({address}) is outside the authorised scope: "
            "not fetched",
            evidence,
        )
    answer = _fetch_policy(host, address, params.policy_port, ctx)
    if isinstance(answer, str):
        evidence["certificate_problem"] = answer
        return fail(
            f"the certificate of {host} is not valid ({answer}): senders ignore the policy",
            evidence,
        )
    content_type = answer.first("Content-Type")
    evidence.update(http_status=answer.status, content_type=content_type)
    if answer.status != 200:
        location = answer.first("Location")
        evidence["location"] = cut(location, 300) if location else None
        return fail(f"{answer.url} answers {answer.status}, not 200", evidence)
    if answer.body_truncated:
        return fail(f"the MTA-STS policy of {domain} is larger than 64 KB", evidence)
    text = answer.body.decode("utf-8", "replace")
    policy = parse_mta_sts_policy(text)
    mx_answer = lookup.query(domain, "MX")
    hosts = [h.host for h in mx_hosts(mx_answer) if h.host != "."]
    uncovered = [h for h in hosts if not any(mx_matches(h, p) for p in policy.mx)]
    evidence.update(
        policy=cut(text, 1024),
        mode=policy.mode,
        max_age=policy.max_age,
        policy_mx=cut_list(policy.mx),
        mx=cut_list(hosts),
        uncovered_mx=uncovered,
    )
    problems = list(policy.problems)
    if policy.mode in ("enforce", "testing", "none") and policy.mode not in params.allowed_modes:
        problems.insert(
            0,
            f"the MTA-STS policy of {domain} is in mode {policy.mode}, not "
            f"{' or '.join(params.allowed_modes)}: senders still deliver without TLS",
        )
    if uncovered:
        problems.append(f"the policy's mx lines do not cover MX host(s) {', '.join(uncovered)}")
    if (
        policy.max_age is not None
        and policy.max_age.isdigit()
        and int(policy.max_age) < params.min_max_age_days * SECONDS_PER_DAY
    ):
        problems.append(
            f"max_age={policy.max_age} s is shorter than {params.min_max_age_days} days"
        )
    warnings = []
    if content_type is not None and not content_type.lower().startswith("text/plain"):
        warnings.append(f"the policy is served as {content_type}, not text/plain")
    evidence["problems"] = cut_list(problems)
    if problems:
        return fail(summary(problems), evidence, warnings)
    return outcome(
        FindingStatus.PASS,
        f"{domain} has an MTA-STS policy in mode {policy.mode} covering its MX host(s), "
        f"max_age {policy.max_age} s",
        evidence,
        warnings,
    )


# --- mail.tls-rpt ------------------------------------------------------------------------------


@probe("mail.tls-rpt", params=ProbeParams, target=TargetKind.DOMAIN, budget=RECORD_BUDGET)
def tls_rpt(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """TLS-RPT: sending servers report to the school when TLS to its mail servers fails.

    Reads the TXT record at `_smtp._tls.<domain>` (RFC 8460).

    Pass: exactly one record starting with v=TLSRPTv1, with a rua= of mailto: or https: URIs.
    Fail: no record, several, or no valid rua.

    No parameters. Evidence: `record`, `rua`.
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    records = versioned(lookup.query(f"_smtp._tls.{domain}", "TXT"), "TLSRPTv1")
    evidence: dict[str, Any] = {"domain": domain, "record": cut_list(records)}
    if not records:
        return fail(
            f"{domain} has no TLS-RPT record (_smtp._tls.{domain}): nobody hears about failed "
            "encrypted deliveries",
            evidence,
        )
    if len(records) > 1:
        return fail(f"_smtp._tls.{domain} has {len(records)} TLS-RPT records", evidence)
    try:
        tags = tag_list(records[0])
    except ValueError as exc:
        return fail(f"the TLS-RPT record of {domain} is invalid: {exc}", evidence)
    rua, bad = report_uris(tags.get("rua", ""))
    evidence["rua"] = cut_list(rua)
    if bad or not rua:
        return fail(
            f"the TLS-RPT record of {domain} has no valid rua= (mailto: or https:)", evidence
        )
    return outcome(
        FindingStatus.PASS, f"{domain} asks for TLS reports at {', '.join(rua)[:200]}", evidence
    )


# --- mail.starttls -----------------------------------------------------------------------------


class StartTlsParams(ProbeParams):
    port: int = Field(
        default=25, ge=1, le=65535, description="The SMTP port of the MX hosts (25; tests)."
    )


@dataclass
class _SmtpCheck:
    host: str
    address: str
    status: str = "not probed"
    banner: str | None = None
    capabilities: tuple[str, ...] = ()
    error: ProbeError | None = None
    port: int | None = None  # when school.yaml declares another SMTP port than the check's

    def evidence(self) -> dict[str, Any]:
        row: dict[str, Any] = {"host": self.host, "address": self.address, "status": self.status}
        if self.port is not None:
            row["port"] = self.port
        if self.banner is not None:
            row["banner"] = cut(self.banner, 1024)
            row["capabilities"] = cut_list(self.capabilities)
        if self.error is not None:
            row["error"] = cut(str(self.error), 500)
        return row


def _smtp_port(ctx: ProbeContext, host: str, default: int) -> int:
    """The SMTP port of an MX host: the one school.yaml declares for it (`ports: {smtp: N}`),
    as the TLS checks use it, else the check's port (25)."""
    school = ctx.school
    if school is not None:
        for declared in school.hosts:
            if declared.name == host.rstrip(".").lower() and "smtp" in declared.ports:
                return declared.ports["smtp"]
    return default


def _probe_one(check: _SmtpCheck, port: int, ctx: ProbeContext) -> None:
    ctx.limiter.acquire()
    try:
        info = probe_smtp(check.address, port, timeout=ctx.timeout)
    except ProbeError as exc:
        check.status, check.error = "error", exc
        return
    check.banner, check.capabilities = info.banner, info.capabilities
    check.status = "offered" if info.starttls_offered else "not offered"


def _mx_addresses(lookup: Lookup, host: MxHost) -> list[str]:
    addresses, _ = lookup.addresses(host.host)
    ipv4 = [a for a in addresses if ":" not in a]
    # IPv4 where there is one: a vantage point without IPv6 would otherwise fail every host.
    return (ipv4 or addresses)[:MAX_ADDRESSES_PER_HOST]


@probe("mail.starttls", params=StartTlsParams, target=TargetKind.DOMAIN, budget=STARTTLS_BUDGET)
def starttls(target: Target, params: StartTlsParams, ctx: ProbeContext) -> ProbeOutcome:
    """Every mail server of the domain offers STARTTLS, so mail to the school can travel encrypted.

    Resolves the MX hosts (at most 10) and their addresses with the scan's resolver (IPv4
    addresses when a host has them, else IPv6; at most 4 per host). Each address must pass
    the scope guard: one outside the authorised scope is not connected to and is listed as
    "not probed". The others (at most 8) are probed at the same time: banner, EHLO, and
    whether the EHLO answer lists STARTTLS; then QUIT (STARTTLS itself and the certificate
    are the TLS checks' work).

    Pass: every probed address offers STARTTLS (addresses not probed are listed in a
    warning).
    Fail: an address does not offer STARTTLS (mail to it travels in plain text).
    Not applicable: the domain has no MX (mail.mx reports that), or no MX address is in scope.
    An address that cannot be judged (refused, timeout, garbage) makes the probe report an
    error, unless another address already fails.

    Parameters: `port` (default 25).
    Evidence: `mx` (one entry per address: host, address, status offered / not offered /
    error / not probed, banner, capabilities, error).
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    answer = lookup.query(domain, "MX")
    hosts = mx_hosts(answer)
    evidence: dict[str, Any] = {"domain": domain, "port": params.port}
    if not hosts or is_null_mx(hosts):
        evidence["mx_records"] = cut_list(answer.records)
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            f"{domain} has no MX host to probe (mail.mx reports why)",
            evidence,
        )
    checks: list[_SmtpCheck] = []
    unresolvable: list[str] = []
    for host in hosts[:10]:
        try:
            addresses = _mx_addresses(lookup, host)
        except ValueError:
            addresses = []
        if not addresses:
            unresolvable.append(host.host)
        for address in addresses:
            check = _SmtpCheck(host.host, address)
            try:
                ctx.guard(host.host, address)
            except ScopeError as exc:
                check.status = "not probed: outside scope"
                evidence.setdefault("scope", []).append(cut(str(exc), 300))
            checks.append(check)
    to_probe = [c for c in checks if c.status == "not probed"]
    for check in to_probe[MAX_SMTP_ADDRESSES:]:
        check.status = "not probed: over the limit"
    to_probe = to_probe[:MAX_SMTP_ADDRESSES]
    if to_probe:
        with ThreadPoolExecutor(max_workers=len(to_probe)) as pool:
            ports = [_smtp_port(ctx, c.host, params.port) for c in to_probe]
            futures = [
                pool.submit(_probe_one, c, n, ctx) for c, n in zip(to_probe, ports, strict=True)
            ]
            for future in futures:
                future.result()
            for c, n in zip(to_probe, ports, strict=True):
                if n != params.port:
                    c.port = n
    evidence["mx"] = [c.evidence() for c in checks]
    if unresolvable:
        evidence["unresolvable"] = unresolvable
    skipped = [f"{c.host} ({c.address})" for c in checks if c.status.endswith("outside scope")]
    warnings = [f"not probed (outside scope): {', '.join(skipped)}"] if skipped else []
    over = [f"{c.host} ({c.address})" for c in checks if c.status.endswith("over the limit")]
    if over:
        warnings.append(f"not probed (over {MAX_SMTP_ADDRESSES} addresses): {', '.join(over)}")
    if unresolvable:
        warnings.append(f"MX host(s) without an address: {', '.join(unresolvable)}")
    missing = [c for c in checks if c.status == "not offered"]
    if missing:
        listed = ", ".join(f"{c.host} ({c.address})" for c in missing)
        return fail(
            f"MX server(s) of {domain} without STARTTLS: {listed}; mail to the school "
            "reaches them unencrypted",
            evidence,
            warnings,
        )
    errors = [c for c in checks if c.status == "error"]
    if errors:
        first = errors[0].error
        detail = cut("; ".join(f"{c.host} ({c.address}): {c.error}" for c in errors), 600)
        message = f"cannot judge STARTTLS on the MX servers of {domain}: {detail}"
        if isinstance(first, ProbeTimeout):
            raise ProbeTimeout(message)
        if isinstance(first, ConnectivityError):
            raise ConnectivityError(message)
        raise ProtocolError(message)
    offered = [c for c in checks if c.status == "offered"]
    if not offered:
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            f"no MX server of {domain} could be probed: "
            + ("all are outside the authorised scope" if skipped else "none has an address"),
            evidence,
            warnings,
        )
    listed = ", ".join(sorted({c.host for c in offered}))
    return outcome(
        FindingStatus.PASS,
        f"every probed MX server of {domain} offers STARTTLS: {listed}",
        evidence,
        warnings,
    )
