"""dns.dnssec: the domain is signed and its parent links to its key; the signature check."""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from typing import Any

import dns.dnssec
import dns.exception
import dns.name
import dns.node
import dns.rdata
import dns.rdataset
from dns.dnssecalgs import get_algorithm_cls_from_dnskey
from dns.dnssecalgs.rsa import PublicRSA
from pydantic import Field

from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.dns.lookup import (
    DNS_BUDGET,
    MAX_EVIDENCE_ITEMS,
    DnsAnswer,
    DnsStatus,
    Lookup,
    cut_list,
    domain_name,
    outcome,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# DNSSEC algorithms and DS digests that RFC 8624 no longer recommends (MD5, DSA, SHA-1).
_WEAK_ALGORITHMS = frozenset({1, 3, 5, 6, 7})
_WEAK_DIGESTS = frozenset({1})


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
        return outcome(FindingStatus.FAIL, message, evidence, warnings)

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
    return outcome(FindingStatus.PASS, passed, evidence, warnings)
