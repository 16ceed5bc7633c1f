"""TLS probes of the certificates: trusted and valid (tls.cert-valid), not expiring
(tls.cert-expiry), a strong key and signatures (tls.cert-key)."""

from __future__ import annotations

import ssl
from typing import Any

from cryptography import x509
from pydantic import Field

from cyberstd.messages import Msg, msg
from cyberstd.net.certs import (
    describe_certificate,
    explain_verification,
    key_description,
    signature_hash,
)
from cyberstd.net.endpoints import Endpoint
from cyberstd.net.tls import TlsSession, handshake, parse_der, permissive_context, verifying_context
from cyberstd.probes.tls.endpoints import TLS_ROLES, EndpointVerdict, judge_endpoints, subject
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome


def _trust_source(ctx: ProbeContext) -> str:
    return ctx.name_of(ctx.ca_bundle) if ctx.ca_bundle else "system default trust store"


# --- tls.cert-valid ----------------------------------------------------------------------------


def _judge_trust(target: Target, endpoint: Endpoint, ctx: ProbeContext) -> EndpointVerdict:
    name = subject(target, endpoint)
    try:
        session = handshake(target, endpoint, ctx, verifying_context(ctx.ca_bundle, ctx.clock.now))
    except ssl.SSLCertVerificationError as err:
        session = handshake(target, endpoint, ctx, permissive_context())
        cert = session.leaf()
        problem, reason = explain_verification(err, cert, target.name)
        return EndpointVerdict(
            FindingStatus.FAIL,
            msg("tls.cert-valid.fail", name=name, reason=reason),
            {
                "verified": False,
                "problem": problem,
                "verify_code": err.verify_code,
                "verify_message": err.verify_message,
                "trust_store": _trust_source(ctx),
                **session.evidence(),
                **describe_certificate(cert),
            },
        )
    cert = session.leaf()
    return EndpointVerdict(
        FindingStatus.PASS,
        msg("tls.cert-valid.pass", name=name, date=f"{cert.not_valid_after_utc:%Y-%m-%d}"),
        {
            "verified": True,
            "trust_store": _trust_source(ctx),
            **session.evidence(),
            **describe_certificate(cert),
        },
    )


@probe("tls.cert-valid", params=ProbeParams, role=TLS_ROLES, budget=4.0)
def cert_valid(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """Every TLS endpoint's certificate is trusted, within its validity dates and issued for
    the host's name.

    The TLS endpoints of a host follow from its roles and declared ports: website and vpn
    hosts their HTTPS port (default 443); mail hosts each of smtp (25) and submission (587)
    through STARTTLS, smtps (465) and imaps (993) that school.yaml lists in `ports`, and smtp
    on 25 when it lists none. Each endpoint gets a TLS handshake, sending the host name as
    SNI, and its certificate is verified as a browser or mail server would: the chain must
    lead to a trusted CA (the scan's CA bundle when one is configured, else the system trust
    store), today must lie between notBefore and notAfter, and the host name must be one of
    the certificate's names.

    Pass: every endpoint's certificate verifies. Fail: one does not; the message gives the
    endpoint and the precise reason (expired, not yet valid, self-signed, untrusted issuer or
    missing intermediate, host name mismatch) and the evidence describes the certificate
    (subject, issuer, names, validity, serial, SHA-256 fingerprint, key type and size,
    signature hash), fetched by a second handshake without verification. Evidence
    `endpoints` lists every endpoint's verdict. Protocol versions are judged by
    tls.protocols and tls.min-version, keys and signatures by tls.cert-key.

    No parameters.
    """
    return judge_endpoints(target, lambda endpoint: _judge_trust(target, endpoint, ctx))


# --- tls.cert-expiry ---------------------------------------------------------------------------


class CertExpiryParams(ProbeParams):
    warn_days: int = Field(
        default=30, ge=0, description="Warn when fewer days than this remain before expiry."
    )


def _judge_expiry(
    target: Target, endpoint: Endpoint, params: CertExpiryParams, ctx: ProbeContext
) -> EndpointVerdict:
    name = subject(target, endpoint)
    cert = handshake(target, endpoint, ctx, permissive_context()).leaf()
    not_after = cert.not_valid_after_utc
    left = not_after - ctx.clock.now
    days_left = int(left.total_seconds() // 86400)
    evidence = {**describe_certificate(cert), "days_left": days_left, "warn_days": params.warn_days}
    date = f"{not_after:%Y-%m-%d}"
    if left.total_seconds() <= 0:
        return EndpointVerdict(
            FindingStatus.FAIL,
            msg("tls.cert-expiry.expired", name=name, date=date, n=-days_left),
            evidence,
        )
    warning = None
    if days_left < params.warn_days:
        warning = msg("tls.cert-expiry.soon", name=name, date=date, n=days_left)
    return EndpointVerdict(
        FindingStatus.PASS,
        msg("tls.cert-expiry.pass", name=name, date=date, n=days_left),
        evidence,
        warning,
    )


@probe("tls.cert-expiry", params=CertExpiryParams, role=TLS_ROLES)
def cert_expiry(target: Target, params: CertExpiryParams, ctx: ProbeContext) -> ProbeOutcome:
    """No TLS endpoint's certificate has expired, with a warning well before one does.

    Fetches the certificate of every TLS endpoint of the host (HTTPS of websites and VPN
    portals; SMTP and submission through STARTTLS, SMTPS and IMAPS of mail servers; see
    tls.cert-valid for which) without verifying it, and counts the whole days left until
    its notAfter date.

    Pass: none has expired; the finding carries a warning when fewer than `warn_days` days
    remain on one, so that renewal can be planned (or automatic renewal checked). Fail: one
    has expired. Trust and host name are judged by tls.cert-valid.

    Parameters: `warn_days` (default 30, at least 0).
    Evidence: `not_after`, `days_left` (negative once expired) and the certificate's
    identity, for the first failing endpoint (else the first) and under `endpoints` for each.
    """
    return judge_endpoints(target, lambda endpoint: _judge_expiry(target, endpoint, params, ctx))


# --- tls.cert-key ------------------------------------------------------------------------------

WEAK_SIGNATURE_HASHES = frozenset({"md2", "md4", "md5", "sha1"})


class CertKeyParams(ProbeParams):
    min_rsa_bits: int = Field(
        default=2048, ge=1024, le=16384, description="Smallest acceptable RSA (and DSA) key."
    )
    min_ec_bits: int = Field(
        default=256, ge=160, le=521, description="Smallest acceptable elliptic-curve key."
    )


def _key_problem(cert: x509.Certificate, params: CertKeyParams) -> Msg | None:
    key = key_description(cert)
    kind, size = key["key_type"], key["key_size"]
    minimum = {"RSA": params.min_rsa_bits, "DSA": params.min_rsa_bits, "EC": params.min_ec_bits}
    if kind in minimum and size < minimum[kind]:
        return msg("tls.cert-key.small-key", kind=kind, bits=size, minimum=minimum[kind])
    return None


def _chain(session: TlsSession) -> tuple[list[x509.Certificate], bool]:
    """The certificates the server sent (leaf first) and whether that is the whole chain."""
    if not session.chain_der:
        return [session.leaf()], False
    return [parse_der(der, session.where) for der in session.chain_der], True


def _signature_problems(chain: list[x509.Certificate]) -> list[Msg]:
    problems = []
    for position, cert in enumerate(chain):
        digest = signature_hash(cert)
        if digest not in WEAK_SIGNATURE_HASHES:
            continue
        if position and cert.issuer == cert.subject:
            continue  # a root's own signature is never checked: it is trusted as it is
        shown = str(digest).upper()
        problems.append(
            msg("tls.cert-key.weak-signature", hash=shown)
            if position == 0
            else msg("tls.cert-key.weak-chain-signature", position=position, hash=shown)
        )
    return problems


def _short_description(cert: x509.Certificate) -> dict[str, Any]:
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        **key_description(cert),
        "signature_hash": signature_hash(cert),
    }


def _judge_cert_key(
    target: Target, endpoint: Endpoint, params: CertKeyParams, ctx: ProbeContext
) -> EndpointVerdict:
    name = subject(target, endpoint)
    session = handshake(target, endpoint, ctx, permissive_context())
    chain, whole = _chain(session)
    leaf = chain[0]
    key_problem = _key_problem(leaf, params)
    problems = ([key_problem] if key_problem else []) + _signature_problems(chain)
    evidence = {
        **describe_certificate(leaf),
        "chain": [_short_description(cert) for cert in chain],
        "chain_judged": whole,
        "min_rsa_bits": params.min_rsa_bits,
        "min_ec_bits": params.min_ec_bits,
    }
    if not whole:
        evidence["note"] = "only the leaf certificate could be read here, not the chain"
    if problems:
        return EndpointVerdict(
            FindingStatus.FAIL, msg("tls.cert-key.fail", name=name, problems=problems), evidence
        )
    key = key_description(leaf)
    return EndpointVerdict(
        FindingStatus.PASS,
        msg(
            "tls.cert-key.pass",
            name=name,
            bits=key["key_size"],
            kind=key["key_type"],
            n=len(chain),
        ),
        evidence,
    )


@probe("tls.cert-key", params=CertKeyParams, role=TLS_ROLES)
def cert_key(target: Target, params: CertKeyParams, ctx: ProbeContext) -> ProbeOutcome:
    """Every TLS endpoint's certificate has a strong key and no SHA-1 or MD5 signature.

    Makes a handshake with every TLS endpoint of the host (see tls.cert-valid for which),
    without verifying, and reads the certificates the server sends: the leaf and the chain.

    Pass: the leaf's key is RSA (or DSA) of at least `min_rsa_bits`, EC of at least
    `min_ec_bits`, or Ed25519/Ed448, and neither the leaf nor any chain certificate the
    server sends is signed with SHA-1 or MD5 (a self-signed root's own signature does not
    count: nobody checks it). Fail: otherwise; the message names each problem.

    Parameters: `min_rsa_bits` (default 2048), `min_ec_bits` (default 256).
    Evidence: the leaf's description (key type and size, signature hash, ...), `chain` (each
    certificate sent: subject, issuer, key, signature hash), `chain_judged` (false when this
    Python can read only the leaf: then only the leaf was judged); per endpoint under
    `endpoints`.
    """
    return judge_endpoints(target, lambda endpoint: _judge_cert_key(target, endpoint, params, ctx))
