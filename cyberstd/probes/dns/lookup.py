"""DNS probes of a school's domain: SOA and name servers, DNSSEC, CAA, and the MX records."""

from __future__ import annotations

import datetime as dt
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import dns.dnssec
import dns.exception
import dns.flags
import dns.name
import dns.node
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.resolver
from dns.dnssecalgs import get_algorithm_cls_from_dnskey
from dns.dnssecalgs.rsa import PublicRSA
from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.starttls import printable
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.tlsconn import number

# Evidence stays small enough to read and store: long texts and lists are cut, and say so.
MAX_EVIDENCE_TEXT = 2048
MAX_EVIDENCE_ITEMS = 20
# The most MX or NS hosts one probe looks at (real domains have a handful).
MAX_HOSTS = 10
# Time budgets, in multiples of the scan's timeout (see `registry.probe`).
DNS_BUDGET = 4.0
# The DNS look-ups of one probe run share a deadline a little inside the runner's hard limit.
_DEADLINE_SHARE = 0.95

# DNSSEC algorithms and DS digests that RFC 8624 no longer recommends (MD5, DSA, SHA-1).
_WEAK_ALGORITHMS = frozenset({1, 3, 5, 6, 7})
_WEAK_DIGESTS = frozenset({1})

PROVIDERS = (
    (".mail.protection.outlook.com", "Microsoft 365"),
    (".google.com", "Google Workspace"),
    (".googlemail.com", "Google Workspace"),
)


def cut(text: str, limit: int = MAX_EVIDENCE_TEXT) -> str:
    """`text` with control characters escaped, cut to `limit` characters with a note when longer."""
    shown = printable(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... (cut: {len(shown)} characters in all)"


def cut_list(items: Iterable[str], limit: int = MAX_EVIDENCE_ITEMS) -> list[str]:
    """The first `limit` items, each cut, and a last item saying how many were left out."""
    values = list(items)
    shown = [cut(item) for item in values[:limit]]
    if len(values) > limit:
        shown.append(f"... and {len(values) - limit} more ({len(values)} in all)")
    return shown


# --- look-ups ----------------------------------------------------------------------------------


class DnsStatus(StrEnum):
    """How a name answered: with records, without records of the type (NODATA), or not at all."""

    ANSWER = "answer"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"


@dataclass(frozen=True)
class DnsAnswer:
    """One look-up's result: the records (after CNAMEs), the name they belong to, the AD flag."""

    name: str
    rdtype: str
    status: DnsStatus
    rdatas: tuple[dns.rdata.Rdata, ...]
    canonical_name: str
    authenticated: bool
    signatures: tuple[dns.rdata.Rdata, ...] = ()

    @property
    def records(self) -> list[str]:
        """Each record in presentation format (what `dig` shows)."""
        return [rdata.to_text() for rdata in self.rdatas]

    @property
    def void(self) -> bool:
        return not self.rdatas

    def texts(self) -> list[str]:
        """TXT records, each one's strings joined as RFC 7208 section 3.3 and others say."""
        return [
            b"".join(rdata.strings).decode("utf-8", "backslashreplace")  # type: ignore[attr-defined]
            for rdata in self.rdatas
        ]


def domain_name(text: str) -> dns.name.Name:
    """An absolute DNS name; ValueError when `text` cannot be one."""
    try:
        name = dns.name.from_text(text.strip(), origin=dns.name.root)
    except dns.exception.DNSException as exc:
        raise ValueError(f"{text!r} is not a valid domain name ({exc})") from None
    if len(name.labels) < 2 or any(not label for label in name.labels[:-1]):
        raise ValueError(f"{text!r} is not a valid domain name")
    return name


def show(name: dns.name.Name | str) -> str:
    text = name.to_text(omit_final_dot=True) if isinstance(name, dns.name.Name) else name
    return printable(text.rstrip(".") or ".")


class Lookup:
    """The DNS look-ups of one probe run, through the scan's resolver, with one deadline for all.

    Each query waits at most the scan's timeout, and all of them together at most `budget`
    times it. Answers are cached, so a name asked twice (an SPF include used twice) costs one
    query. NXDOMAIN and NODATA are answers, not errors; a timeout raises ProbeTimeout, a
    server failure (SERVFAIL, REFUSED) ConnectivityError, a malformed answer ProtocolError.
    """

    def __init__(self, ctx: ProbeContext, *, budget: float = DNS_BUDGET, dnssec: bool = False):
        self._resolver = ctx.resolver.dns()
        if dnssec:
            # DO asks a validating resolver to validate and say so with the AD flag.
            self._resolver.use_edns(0, dns.flags.DO, 1232)
        self._timeout = ctx.timeout
        self._total = budget * ctx.timeout * _DEADLINE_SHARE
        self._deadline = time.monotonic() + self._total
        self._cache: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], DnsAnswer] = {}
        self.queries = 0

    def query(self, name: dns.name.Name | str, rdtype: str) -> DnsAnswer:
        qname = domain_name(name) if isinstance(name, str) else name
        qtype = dns.rdatatype.from_text(rdtype)
        key = (qname, qtype)
        if key not in self._cache:
            self._cache[key] = self._ask(qname, qtype)
        return self._cache[key]

    def _ask(self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> DnsAnswer:
        what = f"{show(qname)} {dns.rdatatype.to_text(qtype)}"
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeTimeout(msg("dns.lookup.deadline", seconds=f"{self._total:.0f}"))
        lifetime = min(self._timeout, remaining)
        self._resolver.lifetime = self._resolver.timeout = lifetime
        self.queries += 1
        try:
            answer = self._resolver.resolve(qname, qtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return DnsAnswer(
                show(qname),
                dns.rdatatype.to_text(qtype),
                DnsStatus.NXDOMAIN,
                (),
                show(qname),
                False,
            )
        except dns.exception.Timeout:
            raise ProbeTimeout(
                msg("dns.lookup.timeout", what=what, seconds=number(lifetime))
            ) from None
        except dns.resolver.NoNameservers as exc:
            raise ConnectivityError(
                msg("dns.lookup.server-failed", what=what, detail=cut(str(exc), 300))
            ) from None
        except dns.exception.DNSException as exc:
            raise ProtocolError(
                msg("dns.lookup.failed", what=what, detail=cut(str(exc), 300))
            ) from None
        rdatas = tuple(answer.rrset) if answer.rrset is not None else ()
        signatures: tuple[dns.rdata.Rdata, ...] = ()
        if answer.rrset is not None:
            found = answer.response.get_rrset(
                answer.response.answer,
                answer.rrset.name,
                dns.rdataclass.IN,
                dns.rdatatype.RRSIG,
                qtype,
            )
            signatures = tuple(found) if found is not None else ()
        return DnsAnswer(
            name=show(qname),
            rdtype=dns.rdatatype.to_text(qtype),
            status=DnsStatus.ANSWER if rdatas else DnsStatus.NODATA,
            rdatas=rdatas,
            canonical_name=show(answer.canonical_name),
            authenticated=bool(answer.response.flags & dns.flags.AD),
            signatures=signatures,
        )

    def addresses(self, name: dns.name.Name | str) -> tuple[list[str], str]:
        """IPv4 then IPv6 addresses of `name`, and its canonical name (after CNAMEs)."""
        found: list[str] = []
        canonical = show(name)
        for rdtype in ("A", "AAAA"):
            answer = self.query(name, rdtype)
            found.extend(answer.records)
            if answer.rdatas:
                canonical = answer.canonical_name
        return found, canonical


def _outcome(
    status: FindingStatus, message: Msg, evidence: dict[str, Any], warnings: Sequence[Msg] = ()
) -> ProbeOutcome:
    return ProbeOutcome.said(status, message, evidence, warnings)


# --- dns.soa-ns --------------------------------------------------------------------------------


class SoaNsParams(ProbeParams):
    min_ns: int = Field(
        default=1,
        ge=1,
        le=MAX_HOSTS,
        description="The fewest resolvable name servers that pass; fewer than two warns.",
    )


@probe("dns.soa-ns", params=SoaNsParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET + 2)
def soa_ns(target: Target, params: SoaNsParams, ctx: ProbeContext) -> ProbeOutcome:
    """The domain is a DNS zone of its own, with an SOA record and working name servers.

    Asks the scan's resolver for the domain's SOA and NS records, then for the addresses (A,
    AAAA) of each name server (at most 10). A name server counts as working when its name
    resolves; the name servers themselves are not queried, since they usually lie outside
    the scope the school authorised.

    Pass: an SOA record at the domain and at least `min_ns` name servers that resolve; with
    only one the check passes with a warning (RFC 1034 and most registries, DNS Belgium
    included, ask for at least two on separate networks).
    Fail: the domain does not exist, has no SOA of its own (it is part of another zone), has
    no NS records, or fewer than `min_ns` of them resolve.

    Parameters: `min_ns` (default 1; set 2 to make a single name server a failure).
    Evidence: `soa`, `ns`, `ns_addresses` (name -> addresses) and `ns_unresolvable`.
    """
    lookup = Lookup(ctx)
    domain = target.name
    soa = lookup.query(domain, "SOA")
    evidence: dict[str, Any] = {"domain": domain, "soa": cut_list(soa.records)}
    if soa.status is DnsStatus.NXDOMAIN:
        return _outcome(FindingStatus.FAIL, msg("dns.nxdomain", domain=domain), evidence)
    if soa.void:
        return _outcome(FindingStatus.FAIL, msg("dns.soa-ns.no-soa", domain=domain), evidence)
    ns = lookup.query(domain, "NS")
    hosts = sorted({show(rdata.target) for rdata in ns.rdatas})  # type: ignore[attr-defined]
    evidence["ns"] = cut_list(hosts)
    if not hosts:
        return _outcome(FindingStatus.FAIL, msg("dns.soa-ns.no-ns", domain=domain), evidence)
    resolved: dict[str, list[str]] = {}
    unresolvable: list[str] = []
    for host in hosts[:MAX_HOSTS]:
        try:
            addresses, _ = lookup.addresses(host)
        except ValueError:
            addresses = []
        if addresses:
            resolved[host] = cut_list(addresses)
        else:
            unresolvable.append(host)
    evidence.update(ns_addresses=resolved, ns_unresolvable=unresolvable, min_ns=params.min_ns)
    warnings: list[Msg] = []
    if unresolvable:
        warnings.append(
            msg("dns.soa-ns.unresolvable", n=len(unresolvable), hosts=", ".join(unresolvable))
        )
    if len(resolved) < params.min_ns:
        too_few = msg("dns.soa-ns.too-few", domain=domain, n=len(resolved), minimum=params.min_ns)
        return _outcome(FindingStatus.FAIL, too_few, evidence, warnings)
    if len(resolved) < 2:
        warnings.insert(0, msg("dns.soa-ns.single"))
    return _outcome(
        FindingStatus.PASS,
        msg("dns.soa-ns.pass", domain=domain, n=len(resolved), hosts=", ".join(resolved)),
        evidence,
        warnings,
    )


# --- DNSSEC signatures -------------------------------------------------------------------------


class SignatureError(ValueError):
    """Why a DNSSEC signature is not valid, in the words of the message catalog (`said`)."""

    def __init__(self, said: Msg) -> None:
        super().__init__(said.render("en"))
        self.said = said


_UNSUPPORTED = "dns.dnssec.sig.unsupported"


def _unsupported(algorithm: object) -> Msg:
    return msg(_UNSUPPORTED, algorithm=algorithm)


def verify_rrsig(
    owner: dns.name.Name,
    rdatas: Sequence[dns.rdata.Rdata],
    rrsig: dns.rdata.Rdata,
    key: dns.rdata.Rdata,
    now: float,
) -> None:
    """Check that `rrsig` over the record set is valid at `now` (the run's clock, seconds
    since the epoch) and made with `key`.

    dnspython verifies the signature (`dns.dnssec.validate_rrsig`, told the run's clock); the
    checks before it say why in the catalog's words. Raises SignatureError with the reason:
    another key or algorithm, outside its validity period, an algorithm dnspython cannot or
    may not (RFC 8624) verify, or a signature that does not match; ValueError in
    cryptography's words when the key's bytes are no key.
    """
    sig: Any = rrsig
    dnskey: Any = key
    if int(sig.algorithm) != int(dnskey.algorithm) or sig.key_tag != dns.dnssec.key_id(dnskey):
        raise SignatureError(msg("dns.dnssec.sig.other-key", tag=sig.key_tag))
    moment = int(now)
    if moment > sig.expiration:
        raise SignatureError(msg("dns.dnssec.sig.expired", date=_utc(sig.expiration)))
    if moment < sig.inception:
        raise SignatureError(msg("dns.dnssec.sig.not-yet-valid", date=_utc(sig.inception)))
    try:
        public_cls = get_algorithm_cls_from_dnskey(dnskey).public_cls
    except (dns.exception.DNSException, IndexError):
        raise SignatureError(_unsupported(sig.algorithm)) from None
    if not dns.dnssec.default_policy.ok_to_validate(dnskey):
        raise SignatureError(_unsupported(sig.algorithm))
    if issubclass(public_cls, PublicRSA) and not dnskey.key:
        raise SignatureError(msg("dns.dnssec.sig.empty-rsa-key"))
    try:
        public_cls.from_dnskey(dnskey)  # a ValueError says why the bytes are no key
    except (IndexError, struct.error) as exc:  # (dnspython before 2.8 on cut-off keys)
        raise ValueError(f"truncated key ({exc})") from None
    signed = (owner, dns.rdataset.from_rdata_list(sig.original_ttl, rdatas))
    keys: dict[dns.name.Name, dns.node.Node | dns.rdataset.Rdataset] = {
        sig.signer: dns.rdataset.from_rdata(sig.original_ttl, dnskey)
    }
    try:
        dns.dnssec.validate_rrsig(signed, sig, keys, now=moment)
    except dns.exception.ValidationFailure:
        raise SignatureError(msg("dns.dnssec.sig.mismatch")) from None


def _utc(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- dns.dnssec --------------------------------------------------------------------------------


class DnssecParams(ProbeParams):
    require_validation: bool = Field(
        default=False,
        description="Fail unless the resolver validated the answer (AD flag).",
    )


def _ds_matches(
    owner: dns.name.Name, ds_records: Iterable[dns.rdata.Rdata], keys: Iterable[dns.rdata.Rdata]
) -> list[tuple[dict[str, Any], dns.rdata.Rdata]]:
    """The DS records whose digest is the digest of a DNSKEY, with that key."""
    found: list[tuple[dict[str, Any], dns.rdata.Rdata]] = []
    key_list = list(keys)
    for ds in ds_records:
        record: Any = ds
        for key in key_list:
            try:
                computed = dns.dnssec.make_ds(owner, key, record.digest_type, validating=True)
            except (dns.exception.UnsupportedAlgorithm, dns.exception.DeniedByPolicy, ValueError):
                continue
            if computed == ds:
                facts = {
                    "key_tag": record.key_tag,
                    "algorithm": int(record.algorithm),
                    "digest_type": int(record.digest_type),
                }
                found.append((facts, key))
    return found


def _check_signatures(
    owner: dns.name.Name, keys: DnsAnswer, trusted: list[dns.rdata.Rdata], now: float
) -> tuple[dns.rdata.Rdata | None, list[Msg]]:
    """The RRSIG over the DNSKEY set that a DS-linked key makes valid, or why there is none."""
    reasons: list[Msg] = []
    for sig in keys.signatures:
        for key in trusted:
            if getattr(sig, "key_tag", None) != dns.dnssec.key_id(key):  # type: ignore[arg-type]
                continue
            try:
                verify_rrsig(owner, keys.rdatas, sig, key, now)
            except ValueError as exc:
                # cryptography says why a key's bytes are unusable in its own (English) words
                reasons.append(exc.said if isinstance(exc, SignatureError) else verbatim(str(exc)))
                continue
            return sig, reasons
    if not reasons:
        reasons.append(msg("dns.dnssec.sig.not-by-ds-key"))
    return None, reasons


@probe("dns.dnssec", params=DnssecParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET)
def dnssec(target: Target, params: DnssecParams, ctx: ProbeContext) -> ProbeOutcome:
    """The domain is signed with DNSSEC and the parent zone links to its key (DS record).

    Asks the scan's resolver (with the DNSSEC OK bit) for the domain's DNSKEY records with
    their signatures (RRSIG) and for its DS records, computes for each DS the digest of each
    DNSKEY, and verifies the signature over the DNSKEY records with the key the DS points to
    (ECDSA, RSA and EdDSA algorithms).

    What this proves: the parent zone's DS points to a key of the zone, and that key signed
    the zone's key set with a signature that is valid today: the chain of trust from the
    parent to the zone's keys holds. What it does not prove: the signatures over the other
    records (SOA, MX, TXT, ...) and the proofs of non-existence (NSEC/NSEC3). A validating
    resolver checks all of those and then sets the AD flag; the evidence says whether the
    scan's resolver did (`validated_by_resolver`). A domain whose signatures are broken
    usually fails to resolve at all through a validating resolver; the probe then reports an
    error.

    Pass: DNSKEY present, DS present, a DS matches a DNSKEY, and that key's signature over the
    DNSKEY set is valid (or the resolver validated the answer); with `require_validation`,
    the resolver must also have set the AD flag. Deprecated algorithms (RSA/SHA-1, DSA, MD5),
    SHA-1 DS digests, or an algorithm this probe cannot verify pass with a warning.
    Fail: no DNSKEY (the zone is not signed); keys but no DS at the parent (the chain of trust
    is not linked: resolvers treat the domain as unsigned); a DS that matches no key; a key
    set without a signature, or with an expired, not yet valid or wrong signature (validating
    resolvers refuse the domain); no AD flag when `require_validation`.

    Parameters: `require_validation` (default false).
    Evidence: `dnskey`, `ds`, `matching_ds` (key tag, algorithm, digest type),
    `dnskey_signatures`, `signature_valid`, `signature_expires`, `validated_by_resolver`.
    """
    lookup = Lookup(ctx, dnssec=True)
    domain = target.name
    owner = domain_name(domain)
    keys = lookup.query(owner, "DNSKEY")
    ds = lookup.query(owner, "DS")
    validated = keys.authenticated and ds.authenticated
    evidence: dict[str, Any] = {
        "domain": domain,
        "dnskey": cut_list(keys.records),
        "ds": cut_list(ds.records),
        "validated_by_resolver": validated,
    }

    def fail(message: Msg, warnings: Sequence[Msg] = ()) -> ProbeOutcome:
        return _outcome(FindingStatus.FAIL, message, evidence, warnings)

    if keys.status is DnsStatus.NXDOMAIN:
        return fail(msg("dns.nxdomain", domain=domain))
    if keys.void:
        return fail(msg("dns.dnssec.unsigned", domain=domain))
    if ds.void:
        return fail(msg("dns.dnssec.no-ds", domain=domain))
    matches = _ds_matches(owner, ds.rdatas, keys.rdatas)
    evidence["matching_ds"] = [facts for facts, _ in matches][:MAX_EVIDENCE_ITEMS]
    if not matches:
        return fail(msg("dns.dnssec.ds-mismatch", domain=domain, n=len(ds.rdatas)))
    warnings: list[Msg] = []
    algorithms = sorted({int(k.algorithm) for k in keys.rdatas})  # type: ignore[attr-defined]
    weak = [a for a in algorithms if a in _WEAK_ALGORITHMS]
    if weak:
        warnings.append(msg("dns.dnssec.weak-algorithm", n=len(weak), algorithms=str(weak)))
    if all(facts["digest_type"] in _WEAK_DIGESTS for facts, _ in matches):
        warnings.append(msg("dns.dnssec.sha1-ds"))
    evidence["dnskey_signatures"] = cut_list(r.to_text() for r in keys.signatures)
    if not keys.signatures and not validated:
        return fail(msg("dns.dnssec.no-signature", domain=domain), warnings)
    if keys.signatures:
        good, reasons = _check_signatures(
            owner, keys, [key for _, key in matches], ctx.clock.timestamp
        )
        evidence["signature_valid"] = good is not None
        if good is None:
            if all(r.id == _UNSUPPORTED for r in reasons):
                warnings.append(msg("dns.dnssec.not-verified", reason=reasons[0]))
            else:
                bad = msg("dns.dnssec.bad-signature", domain=domain, reason=reasons[0])
                return fail(bad, warnings)
        else:
            evidence["signature_expires"] = _utc(good.expiration)  # type: ignore[attr-defined]
    if not validated:
        if params.require_validation:
            return fail(msg("dns.dnssec.not-validated-required", domain=domain), warnings)
        warnings.append(msg("dns.dnssec.not-validated"))
    signed = msg("dns.dnssec.pass.signed-key-set") if evidence.get("signature_valid") else ""
    passed = msg(
        "dns.dnssec.pass",
        domain=domain,
        tags=", ".join(str(facts["key_tag"]) for facts, _ in matches),
        signed=signed,
        validated=msg("dns.dnssec.pass.validated") if validated else "",
    )
    return _outcome(FindingStatus.PASS, passed, evidence, warnings)


# --- dns.caa -----------------------------------------------------------------------------------


def _caa_value(rdata: dns.rdata.Rdata) -> tuple[int, str, str]:
    return (
        int(rdata.flags),  # type: ignore[attr-defined]
        rdata.tag.decode("ascii", "backslashreplace").lower(),  # type: ignore[attr-defined]
        rdata.value.decode("utf-8", "backslashreplace"),  # type: ignore[attr-defined]
    )


_KNOWN_CAA_TAGS = frozenset({"issue", "issuewild", "iodef", "issuemail", "issuevmc"})


@probe("dns.caa", params=ProbeParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET)
def caa(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """CAA records say which certificate authorities may issue certificates for the domain.

    Looks for CAA records at the domain and, when it has none, at its parent domains (not
    the top-level domain), as certificate authorities do (RFC 8659 section 3).

    Pass: the relevant CAA set has at least one `issue` or `issuewild` property (an empty
    value, `;`, means no authority may issue: that passes too). An unknown property marked
    critical passes with a warning, because authorities must then refuse to issue.
    Fail: no CAA records, or only properties that restrict nothing (e.g. only `iodef`).

    No parameters. Evidence: `found_at`, `caa` (the records), `issuers`, `wildcard_issuers`,
    `iodef`.
    """
    lookup = Lookup(ctx)
    domain = target.name
    name = domain_name(domain)
    evidence: dict[str, Any] = {"domain": domain}
    answer = lookup.query(name, "CAA")
    while answer.void and len(name.labels) > 3:
        name = name.parent()
        answer = lookup.query(name, "CAA")
    if answer.void:
        evidence["caa"] = []
        return _outcome(FindingStatus.FAIL, msg("dns.caa.none", domain=domain), evidence)
    values = [_caa_value(r) for r in answer.rdatas]
    issuers = [v.split(";", 1)[0].strip() for _, tag, v in values if tag == "issue"]
    wild = [v.split(";", 1)[0].strip() for _, tag, v in values if tag == "issuewild"]
    evidence.update(
        found_at=show(name),
        caa=cut_list(answer.records),
        issuers=cut_list(issuers),
        wildcard_issuers=cut_list(wild),
        iodef=cut_list(v for _, tag, v in values if tag == "iodef"),
    )
    critical = sorted(
        {tag for flags, tag, _ in values if flags & 128 and tag not in _KNOWN_CAA_TAGS}
    )
    warnings = (
        [msg("dns.caa.critical", n=len(critical), tags=", ".join(critical))] if critical else []
    )
    where = "" if show(name) == domain else msg("dns.caa.inherited", parent=show(name))
    if not issuers and not wild:
        no_issue = msg("dns.caa.no-issue", domain=domain, where=where)
        return _outcome(FindingStatus.FAIL, no_issue, evidence, warnings)
    allowed = [i for i in issuers + wild if i]
    allows = (
        msg("dns.caa.allow", domain=domain, where=where, issuers=", ".join(sorted(set(allowed))))
        if allowed
        else msg("dns.caa.allow-none", domain=domain, where=where)
    )
    return _outcome(FindingStatus.PASS, allows, evidence, warnings)


# --- mail.mx -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MxHost:
    preference: int
    host: str


def provider_of(host: str) -> str | None:
    """The mail provider an MX host name belongs to, when it is a well-known one."""
    lowered = "." + host.lower().rstrip(".")
    return next((name for suffix, name in PROVIDERS if lowered.endswith(suffix)), None)


def mx_hosts(answer: DnsAnswer) -> list[MxHost]:
    """The MX hosts by preference (then name); a null MX (RFC 7505) is a host named '.'."""
    hosts = {
        MxHost(int(r.preference), show(r.exchange))  # type: ignore[attr-defined]
        for r in answer.rdatas
    }
    return sorted(hosts, key=lambda mx: (mx.preference, mx.host))


def is_null_mx(hosts: list[MxHost]) -> bool:
    return len(hosts) == 1 and hosts[0].host == "."


@probe("mail.mx", params=ProbeParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET + 2)
def mx(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """The school's own domain receives mail: it has MX records, and every MX host resolves.

    Asks the scan's resolver for the domain's MX records and for the addresses (A, AAAA) of
    each MX host (at most 10).

    Pass: at least one MX record and every MX host has an address. An MX host that is an
    alias (CNAME, forbidden by RFC 2181 section 10.3) passes with a warning.
    Fail: the domain does not exist, has no MX records (mail for the school's addresses is
    then not handled properly, or the staff use other domains), publishes a null MX (RFC 7505:
    the domain accepts no mail), or an MX host does not resolve (mail to it bounces or waits).

    No parameters. Evidence: `mx` (preference, host, addresses, provider when recognised:
    Microsoft 365, Google Workspace).
    """
    lookup = Lookup(ctx)
    domain = target.name
    answer = lookup.query(domain, "MX")
    evidence: dict[str, Any] = {"domain": domain, "mx_records": cut_list(answer.records)}
    if answer.status is DnsStatus.NXDOMAIN:
        return _outcome(FindingStatus.FAIL, msg("dns.nxdomain", domain=domain), evidence)
    hosts = mx_hosts(answer)
    if not hosts:
        return _outcome(FindingStatus.FAIL, msg("dns.mx.none", domain=domain), evidence)
    if is_null_mx(hosts):
        return _outcome(FindingStatus.FAIL, msg("dns.mx.null", domain=domain), evidence)
    rows: list[dict[str, Any]] = []
    unresolvable: list[str] = []
    aliases: list[str] = []
    for entry in hosts[:MAX_HOSTS]:
        try:
            addresses, canonical = lookup.addresses(entry.host)
        except ValueError:
            addresses, canonical = [], entry.host
        row: dict[str, Any] = {
            "preference": entry.preference,
            "host": entry.host,
            "addresses": cut_list(addresses),
            "provider": provider_of(entry.host),
        }
        if canonical.lower() != entry.host.lower():
            row["alias_of"] = canonical
            aliases.append(entry.host)
        rows.append(row)
        if not addresses:
            unresolvable.append(entry.host)
    evidence["mx"] = rows
    if len(hosts) > MAX_HOSTS:
        evidence["mx_not_checked"] = len(hosts) - MAX_HOSTS
    warnings = [msg("dns.mx.alias", n=len(aliases), hosts=", ".join(aliases))] if aliases else []
    if unresolvable:
        dangling = msg(
            "dns.mx.unresolvable", domain=domain, n=len(unresolvable), hosts=", ".join(unresolvable)
        )
        return _outcome(FindingStatus.FAIL, dangling, evidence, warnings)
    listed = ", ".join(f"{h.host} ({h.preference})" for h in hosts[:MAX_HOSTS])
    return _outcome(
        FindingStatus.PASS, msg("dns.mx.pass", domain=domain, hosts=listed), evidence, warnings
    )
