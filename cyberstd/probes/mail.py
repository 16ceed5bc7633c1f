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
from typing import Any, Literal, NoReturn

from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError, ScopeError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes import dkim as _dkim  # noqa: F401  (registers mail.dkim)
from cyberstd.probes import dmarc as _dmarc  # noqa: F401  (registers mail.dmarc*)
from cyberstd.probes.dns.lookup import DnsStatus, Lookup, cut, cut_list, domain_name
from cyberstd.probes.dns.mx import MxHost, is_null_mx, mx_hosts
from cyberstd.probes.mailrecords import (
    RECORD_BUDGET,
    RecordError,
    clipped,
    either,
    english,
    fail,
    outcome,
    report_uris,
    summary,
    tag_list,
    unique,
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


class SpfSyntaxError(RecordError):
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
        raise SpfSyntaxError(msg("mail.spf.syntax.empty-domain", term=term))
    if "%" in spec:
        if "%" in _MACRO.sub("", spec) or any(not 0x21 <= ord(c) <= 0x7E for c in spec):
            raise SpfSyntaxError(msg("mail.spf.syntax.bad-macro", term=term))
        return spec, True
    try:
        domain_name(spec)
    except ValueError:
        raise SpfSyntaxError(msg("mail.spf.syntax.bad-domain", term=term)) from None
    return spec.rstrip(".").lower(), False


def _check_ip(kind: str, value: str, term: str) -> None:
    address, _, prefix = value.partition("/")
    limit = 32 if kind == "ip4" else 128
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise SpfSyntaxError(msg("mail.spf.syntax.bad-address", term=term)) from None
    if (parsed.version == 4) != (kind == "ip4"):
        raise SpfSyntaxError(msg("mail.spf.syntax.mixed-ip", term=term))
    if prefix and not (prefix.isdigit() and int(prefix) <= limit and prefix == str(int(prefix))):
        raise SpfSyntaxError(msg("mail.spf.syntax.bad-prefix", term=term))


def _mechanism(term: str) -> SpfTerm:
    match = _MECHANISM.fullmatch(term)
    if match is None:
        raise SpfSyntaxError(msg("mail.spf.syntax.not-a-term", term=term))
    qualifier, name, rest = match[1], match[2].lower(), match[3]
    if name not in _SPF_MECHANISMS:
        raise SpfSyntaxError(msg("mail.spf.syntax.unknown-mechanism", name=name, term=term))
    if name == "all":
        if rest:
            raise SpfSyntaxError(msg("mail.spf.syntax.all-argument", term=term))
        return SpfTerm(qualifier, name, None, False)
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(msg("mail.spf.syntax.needs-address", term=term))
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
            raise SpfSyntaxError(msg("mail.spf.syntax.bad-prefix", term=term))
    if not spec:
        if name in ("include", "exists"):
            raise SpfSyntaxError(msg("mail.spf.syntax.needs-domain", term=term))
        return SpfTerm(qualifier, name, None, False)
    if not spec.startswith(":"):
        raise SpfSyntaxError(msg("mail.spf.syntax.not-a-term", term=term))
    domain, macro = _domain_spec(spec[1:], term)
    return SpfTerm(qualifier, name, domain, macro)


def parse_spf(text: str) -> SpfRecord:
    """Parse an SPF record (RFC 7208 section 4.6); raises SpfSyntaxError when it is invalid."""
    terms = text.split(" ")
    if terms[0].lower() != "v=spf1":
        raise SpfSyntaxError(msg("mail.spf.syntax.no-version"))
    terms = [t for t in terms[1:] if t]
    if len(terms) > SPF_MAX_TERMS:
        raise SpfSyntaxError(
            msg("mail.spf.syntax.too-many-terms", n=len(terms), limit=SPF_MAX_TERMS)
        )
    record = SpfRecord(text=text)
    seen_modifiers: set[str] = set()
    for term in terms:
        modifier = _MODIFIER.fullmatch(term)
        if modifier is not None:
            name = modifier[1].lower()
            if name in ("redirect", "exp"):
                if name in seen_modifiers:
                    raise SpfSyntaxError(msg("mail.spf.syntax.modifier-twice", name=name))
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
    problems: list[Msg] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)
    visited: list[dict[str, str]] = field(default_factory=list)

    def spf_of(self, domain: str, via: str) -> SpfRecord | None:
        """The one SPF record of an included or redirected-to domain; problems when not."""
        answer = self.lookup.query(domain, "TXT")
        records = [t for t in answer.texts() if is_spf(t)]
        if not records:
            if answer.void:
                self.voids += 1
            self.problems.append(msg("mail.spf.include-no-record", via=via, domain=domain))
            return None
        if len(records) > 1:
            self.problems.append(
                msg("mail.spf.include-several", via=via, domain=domain, n=len(records))
            )
            return None
        if len(self.visited) < 50:
            self.visited.append({"domain": domain, "via": via, "record": cut(records[0], 1024)})
        try:
            return parse_spf(records[0])
        except SpfSyntaxError as exc:
            self.problems.append(
                msg("mail.spf.include-invalid", domain=domain, via=via, why=exc.said)
            )
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
                    msg(
                        "mail.spf.mx-too-many",
                        target=target,
                        n=len(answer.rdatas),
                        limit=SPF_MX_LIMIT,
                    )
                )
            void = answer.void
        elif term.name == "a":
            void = self.lookup.query(target, "A").void and self.lookup.query(target, "AAAA").void
        else:
            void = self.lookup.query(target, "A").void
        if void:
            self.voids += 1
            self.warnings.append(msg("mail.spf.void", name=term.name, target=target))

    def walk(self, domain: str, record: SpfRecord, chain: tuple[str, ...]) -> SpfTerm | None:
        """Walk `record` of `domain`; return the `all` that ends it (through redirect=)."""
        for term in record.mechanisms:
            if term.name not in _SPF_LOOKUP_TERMS:
                continue
            if not self.count(term):
                return record.all
            if term.name == "ptr":
                self.warnings.append(msg("mail.spf.ptr"))
            elif term.name == "include":
                self.include(term, chain)
            else:
                self.query_term(term, domain)
        if record.all is not None:
            if record.redirect is not None:
                self.warnings.append(msg("mail.spf.redirect-ignored", domain=domain))
            return record.all
        if record.redirect is None or not self.count(record.redirect):
            return None
        target = record.redirect.domain or ""
        if record.redirect.has_macro:
            self.warnings.append(msg("mail.spf.macro-not-followed", term=f"redirect={target}"))
            return None
        if target in chain:
            self.problems.append(_loop("redirect", (*chain, target)))
            return None
        followed = self.spf_of(target, "redirect")
        if followed is None:
            return None
        return self.walk(target, followed, (*chain, target))

    def include(self, term: SpfTerm, chain: tuple[str, ...]) -> None:
        target = term.domain or ""
        if term.has_macro:
            self.warnings.append(msg("mail.spf.macro-not-followed", term=f"include:{target}"))
            return
        if target in chain:
            self.problems.append(_loop("include", (*chain, target)))
            return
        included = self.spf_of(target, "include")
        if included is None:
            return
        ending = self.walk(target, included, (*chain, target))
        if ending is not None and ending.qualifier in ("", "+"):
            self.problems.append(msg("mail.spf.include-plus-all", target=target))


def _loop(kind: str, chain: tuple[str, ...]) -> Msg:
    return msg("mail.spf.loop", kind=kind, chain=" -> ".join(chain))


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
        return fail(msg("mail.spf.nxdomain", domain=domain), evidence)
    if not records:
        return fail(msg("mail.spf.none", domain=domain), evidence)
    if len(records) > 1:
        return fail(msg("mail.spf.several", domain=domain, n=len(records)), evidence)
    try:
        record = parse_spf(records[0])
    except SpfSyntaxError as exc:
        return fail(msg("mail.spf.invalid", domain=domain, why=exc.said), evidence)
    walk = _SpfWalk(lookup)
    ending = walk.walk(domain, record, (domain,))
    lookups = (
        msg("mail.spf.lookups-capped", n=SPF_WALK_CAP)
        if walk.capped
        else verbatim(str(walk.lookups))
    )
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
            msg(
                "mail.spf.too-many-lookups",
                domain=domain,
                lookups=lookups,
                limit=params.max_lookups,
            ),
        )
    if walk.voids > params.max_void_lookups:
        problems.append(msg("mail.spf.too-many-voids", n=walk.voids, limit=params.max_void_lookups))
    if ends_with in ("+all",):
        qualifier = ending.qualifier if ending else ""
        problems.insert(0, msg("mail.spf.plus-all", domain=domain, qualifier=qualifier))
    elif ends_with is None:
        problems.append(msg("mail.spf.no-all", domain=domain))
    elif ends_with not in params.allowed_all:
        problems.append(
            msg(
                "mail.spf.wrong-all",
                domain=domain,
                ends_with=ends_with,
                allowed=either(params.allowed_all),
            )
        )
    warnings = unique(walk.warnings)
    if record.after_all:
        warnings.append(msg("mail.spf.after-all", terms=" ".join(record.after_all)[:200]))
    evidence["problems"] = cut_list(english(problems))
    if problems:
        return fail(summary(problems), evidence, warnings)
    return outcome(
        FindingStatus.PASS,
        msg(
            "mail.spf.pass",
            domain=domain,
            ends_with=ends_with,
            lookups=walk.lookups,
            limit=params.max_lookups,
        ),
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
    problems: tuple[Msg, ...]


def parse_mta_sts_policy(text: str) -> MtaStsPolicy:
    """Parse an MTA-STS policy file (RFC 8461 section 3.2), collecting its problems."""
    fields: dict[str, str] = {}
    mx: list[str] = []
    problems: list[Msg] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            problems.append(msg("mail.mta-sts.policy.bad-line", line=cut(line, 80)))
        elif key == "mx":
            mx.append(value.lower().rstrip("."))
        elif key in fields:
            problems.append(msg("mail.mta-sts.policy.twice", key=key))
        else:
            fields[key] = value
    version, mode, max_age = fields.get("version"), fields.get("mode"), fields.get("max_age")
    if version != "STSv1":
        problems.append(
            msg("mail.mta-sts.policy.version", value=version)
            if version
            else msg("mail.mta-sts.policy.no-version")
        )
    if mode not in ("enforce", "testing", "none"):
        problems.append(
            msg("mail.mta-sts.policy.mode", value=mode)
            if mode
            else msg("mail.mta-sts.policy.no-mode")
        )
    if max_age is None or not max_age.isdigit() or int(max_age) > MTA_STS_MAX_AGE:
        problems.append(
            msg("mail.mta-sts.policy.max-age", value=max_age)
            if max_age
            else msg("mail.mta-sts.policy.no-max-age")
        )
    if mode in ("enforce", "testing") and not mx:
        problems.append(msg("mail.mta-sts.policy.no-mx"))
    return MtaStsPolicy(version, mode, max_age, tuple(mx), tuple(problems))


def mx_matches(host: str, pattern: str) -> bool:
    """RFC 8461 section 4.1: exact match, or `*.` matching exactly one leftmost label."""
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


def _certificate_problem(host: str, address: str, port: int, ctx: ProbeContext) -> Msg | None:
    """Why the certificate of the policy host fails verification (as the TLS library says it),
    or None when it does not."""
    ctx.limiter.acquire()
    where = f"{host} ({address} port {port})"
    try:
        with open_tcp(address, port, ctx.timeout) as sock:
            tls_handshake(sock, trusting_context(ctx.ca_bundle, ctx.clock.now), host, where).close()
    except ssl.SSLCertVerificationError as exc:
        if not exc.verify_message:
            return msg("mail.mta-sts.verification-failed")
        return verbatim(exc.verify_message.rstrip("."))
    except ProbeError:
        return None
    return None


def _fetch_policy(host: str, address: str, port: int, ctx: ProbeContext) -> HttpAnswer | Msg:
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
        return fail(msg("mail.mta-sts.none", domain=domain), evidence)
    if len(records) > 1:
        return fail(msg("mail.mta-sts.several", domain=domain, n=len(records)), evidence)
    try:
        policy_id = tag_list(records[0]).get("id", "")
    except RecordError as exc:
        return fail(msg("mail.mta-sts.invalid", domain=domain, why=exc.said), evidence)
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", policy_id):
        return fail(msg("mail.mta-sts.bad-id", domain=domain), evidence)
    host = f"mta-sts.{domain}"
    addresses, _ = lookup.addresses(host)
    evidence["policy_host"] = host
    if not addresses:
        return fail(msg("mail.mta-sts.no-host", host=host), evidence)
    address = addresses[0]
    evidence["policy_address"] = address
    try:
        ctx.guard(host, address)
    except ScopeError as exc:
        evidence["not_probed"] = f"outside scope: {exc}"
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            msg("mail.mta-sts.outside-scope", host=host, address=address),
            evidence,
        )
    answer = _fetch_policy(host, address, params.policy_port, ctx)
    if isinstance(answer, Msg):
        evidence["certificate_problem"] = answer.render("en")
        return fail(msg("mail.mta-sts.bad-certificate", host=host, problem=answer), evidence)
    content_type = answer.first("Content-Type")
    evidence.update(http_status=answer.status, content_type=content_type)
    if answer.status != 200:
        location = answer.first("Location")
        evidence["location"] = cut(location, 300) if location else None
        return fail(msg("mail.mta-sts.http-status", url=answer.url, status=answer.status), evidence)
    if answer.body_truncated:
        return fail(msg("mail.mta-sts.too-large", domain=domain), evidence)
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
        allowed = either(params.allowed_modes)
        problems.insert(
            0, msg("mail.mta-sts.mode", domain=domain, mode=policy.mode, allowed=allowed)
        )
    if uncovered:
        problems.append(msg("mail.mta-sts.uncovered", hosts=", ".join(uncovered), n=len(uncovered)))
    if (
        policy.max_age is not None
        and policy.max_age.isdigit()
        and int(policy.max_age) < params.min_max_age_days * SECONDS_PER_DAY
    ):
        problems.append(
            msg(
                "mail.mta-sts.short-max-age",
                max_age=policy.max_age,
                n=params.min_max_age_days,
            )
        )
    warnings = []
    if content_type is not None and not content_type.lower().startswith("text/plain"):
        warnings.append(msg("mail.mta-sts.content-type", content_type=content_type))
    evidence["problems"] = cut_list(english(problems))
    if problems:
        return fail(summary(problems), evidence, warnings)
    return outcome(
        FindingStatus.PASS,
        msg(
            "mail.mta-sts.pass",
            domain=domain,
            mode=policy.mode,
            max_age=policy.max_age,
            n=len(hosts),
        ),
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
        return fail(msg("mail.tls-rpt.none", domain=domain), evidence)
    if len(records) > 1:
        return fail(msg("mail.tls-rpt.several", domain=domain, n=len(records)), evidence)
    try:
        tags = tag_list(records[0])
    except RecordError as exc:
        return fail(msg("mail.tls-rpt.invalid", domain=domain, why=exc.said), evidence)
    rua, bad = report_uris(tags.get("rua", ""))
    evidence["rua"] = cut_list(rua)
    if bad or not rua:
        return fail(msg("mail.tls-rpt.no-rua", domain=domain), evidence)
    return outcome(
        FindingStatus.PASS,
        msg("mail.tls-rpt.pass", domain=domain, rua=", ".join(rua)[:200]),
        evidence,
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
            FindingStatus.NOT_APPLICABLE, msg("mail.starttls.no-mx", domain=domain), evidence
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
    warnings: list[Msg] = []
    if skipped:
        warnings.append(msg("mail.starttls.outside-scope", servers=", ".join(skipped)))
    over = [f"{c.host} ({c.address})" for c in checks if c.status.endswith("over the limit")]
    if over:
        warnings.append(
            msg("mail.starttls.over-limit", limit=MAX_SMTP_ADDRESSES, servers=", ".join(over))
        )
    if unresolvable:
        warnings.append(
            msg("mail.starttls.no-address", hosts=", ".join(unresolvable), n=len(unresolvable))
        )
    missing = [c for c in checks if c.status == "not offered"]
    if missing:
        listed = ", ".join(f"{c.host} ({c.address})" for c in missing)
        said = msg("mail.starttls.missing", domain=domain, servers=listed, n=len(missing))
        return fail(said, evidence, warnings)
    errors = [c for c in checks if c.status == "error"]
    if errors:
        _cannot_judge(domain, errors)
    offered = [c for c in checks if c.status == "offered"]
    if not offered:
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            msg("mail.starttls.none-in-scope", domain=domain)
            if skipped
            else msg("mail.starttls.none-resolves", domain=domain),
            evidence,
            warnings,
        )
    listed = ", ".join(sorted({c.host for c in offered}))
    return outcome(
        FindingStatus.PASS,
        msg("mail.starttls.pass", domain=domain, hosts=listed),
        evidence,
        warnings,
    )


def _cannot_judge(domain: str, errors: list[_SmtpCheck]) -> NoReturn:
    """Raise the error of the first address that could not be judged, naming them all."""
    parts = [
        msg(
            "mail.starttls.error-at",
            host=c.host,
            address=c.address,
            error=c.error.said if c.error is not None and c.error.said else verbatim(str(c.error)),
        )
        for c in errors
    ]
    detail = clipped(msg("mail.joined", items=parts), 600)
    message = msg("mail.starttls.cannot-judge", domain=domain, detail=detail)
    first = errors[0].error
    if isinstance(first, ProbeTimeout):
        raise ProbeTimeout(message)
    if isinstance(first, ConnectivityError):
        raise ConnectivityError(message)
    raise ProtocolError(message)
