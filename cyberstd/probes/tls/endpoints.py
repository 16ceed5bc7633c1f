"""TLS probes of every TLS endpoint of a host: versions, cipher suites, certificate and key."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from cryptography import x509
from pydantic import Field, field_validator

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.tlsconn import LEGACY_CIPHERS as LEGACY_CIPHERS
from cyberstd.tlsconn import VERSION_ORDER as VERSION_ORDER
from cyberstd.tlsconn import (
    Attempt,
    Endpoint,
    Method,
    NoStartTls,
    Offer,
    TlsSession,
    cipher_context,
    concurrently,
    describe_certificate,
    explain_verification,
    handshake,
    key_description,
    local_version,
    no_tls_answer,
    offer_client_hello,
    offer_handshake,
    parse_der,
    run_all,
    signature_hash,
    tls_endpoints,
    version_context,
    where,
)
from cyberstd.tlsconn import CertProblem as CertProblem
from cyberstd.tlsconn import open_tcp as open_tcp
from cyberstd.tlsconn import permissive_context as permissive_context
from cyberstd.tlsconn import subject_alt_names as subject_alt_names
from cyberstd.tlsconn import tls_handshake as tls_handshake
from cyberstd.tlsconn import trusting_context as trusting_context
from cyberstd.tlsconn import verifying_context as verifying_context

TLS_ROLES = ("website", "mail", "vpn")


def _trust_source(ctx: ProbeContext) -> str:
    return str(ctx.ca_bundle) if ctx.ca_bundle else "system default trust store"


# --- judging every endpoint of a host ----------------------------------------------------------


@dataclass(frozen=True)
class EndpointVerdict:
    """One probe's verdict on one endpoint of a host."""

    status: FindingStatus
    message: Msg
    evidence: dict[str, Any]
    warning: Msg | None = None


def subject(target: Target, endpoint: Endpoint) -> Msg:
    """How a verdict names an endpoint: the host name for HTTPS, with the service otherwise."""
    if endpoint.service == "https" and endpoint.starttls is None:
        return verbatim(target.name)
    return msg("tls.subject", host=target.name, endpoint=endpoint.said())


def _said(error: ProbeError) -> Msg:
    return error.said if error.said is not None else verbatim(str(error))


def _record(endpoint: Endpoint, result: EndpointVerdict | ProbeError) -> dict[str, Any]:
    if isinstance(result, ProbeError):
        return {
            **endpoint.evidence(),
            "status": FindingStatus.ERROR,
            "error_reason": result.reason,
            "message": str(result),
        }
    return {
        **endpoint.evidence(),
        "status": result.status,
        "message": str(result.message),
        **result.evidence,
    }


def _endpoint_error(
    endpoints: list[Endpoint], errors: list[tuple[Endpoint, ProbeError]], judged: int
) -> ProbeError:
    """The error to raise when no endpoint failed but some could not be judged."""
    endpoint, first = errors[0]
    if len(endpoints) == 1:
        return first
    parts = [msg("tls.endpoints.error", endpoint=endpoint.said(), error=_said(first))]
    if len(errors) > 1:
        parts.append(msg("tls.endpoints.others-not-judged-either", n=len(errors) - 1))
    if judged:
        parts.append(msg("tls.endpoints.passed", n=judged))
    kind = next(
        (k for k in (ProbeTimeout, ConnectivityError, ProtocolError) if isinstance(first, k)),
        ProbeError,
    )
    error = kind(msg("tls.parts", parts=parts))
    error.__cause__ = first
    return error


def judge_endpoints(target: Target, judge: Callable[[Endpoint], EndpointVerdict]) -> ProbeOutcome:
    """Judge every TLS endpoint of the host (concurrently) and combine the verdicts.

    Fail when any endpoint fails (endpoints that could not be judged are counted in the
    message); else raise the error of the first endpoint that could not be judged; else pass.
    The evidence holds the first failing (else the first) endpoint's evidence at the top and
    every endpoint's verdict and evidence under `endpoints`.
    """
    endpoints = tls_endpoints(target)
    results = run_all([functools.partial(judge, endpoint) for endpoint in endpoints])
    pairs = list(zip(endpoints, results, strict=True))
    judged = [(e, r) for e, r in pairs if isinstance(r, EndpointVerdict)]
    errors = [(e, r) for e, r in pairs if isinstance(r, ProbeError)]
    failed = [(e, v) for e, v in judged if v.status is FindingStatus.FAIL]
    if errors and not failed:
        raise _endpoint_error(endpoints, errors, len(judged))
    shown = failed or judged
    parts = [v.message for _, v in shown]
    if errors:
        parts.append(msg("tls.endpoints.others-not-judged", n=len(errors)))
    head_endpoint, head = shown[0]
    return ProbeOutcome.said(
        FindingStatus.FAIL if failed else FindingStatus.PASS,
        msg("tls.parts", parts=parts),
        {
            **head_endpoint.evidence(),
            **head.evidence,
            "endpoints": [_record(e, r) for e, r in pairs],
        },
        warnings=[v.warning for _, v in judged if v.warning],
    )


def _unanswered(name: Msg, attempts: dict[str, Attempt]) -> Msg | None:
    silent = [what for what, a in attempts.items() if a.offer is Offer.NO_ANSWER]
    if not silent:
        return None
    first = attempts[silent[0]]
    error = first.error
    detail = verbatim(first.detail)
    # the error in every language, unless the evidence had to cut it short
    if error is not None and error.said is not None and str(error) == first.detail:
        detail = error.said
    return msg("tls.unanswered", name=name, offers=", ".join(silent), detail=detail)


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


# --- tls.min-version ---------------------------------------------------------------------------


class MinVersionParams(ProbeParams):
    minimum: Literal["TLSv1.2", "TLSv1.3"] = Field(
        default="TLSv1.2", description="The lowest acceptable negotiated protocol version."
    )


def version_rank(version: str) -> int:
    """Position of a protocol version name in VERSION_ORDER; -1 for an unknown name."""
    return VERSION_ORDER.index(version) if version in VERSION_ORDER else -1


def _judge_best_version(
    target: Target, endpoint: Endpoint, params: MinVersionParams, ctx: ProbeContext
) -> EndpointVerdict:
    name = subject(target, endpoint)
    session = handshake(target, endpoint, ctx, permissive_context())
    evidence = {**session.evidence(), "minimum": params.minimum}
    if version_rank(session.version) < version_rank(params.minimum):
        version = session.version or msg("tls.unknown-version")
        return EndpointVerdict(
            FindingStatus.FAIL,
            msg("tls.min-version.fail", name=name, version=version, minimum=params.minimum),
            evidence,
        )
    return EndpointVerdict(
        FindingStatus.PASS,
        msg(
            "tls.min-version.pass",
            name=name,
            version=session.version,
            cipher=session.cipher,
            minimum=params.minimum,
        ),
        evidence,
    )


@probe("tls.min-version", params=MinVersionParams, role=TLS_ROLES)
def min_version(target: Target, params: MinVersionParams, ctx: ProbeContext) -> ProbeOutcome:
    """Every TLS endpoint negotiates a current TLS version (TLS 1.2 or later by default).

    Offers every version the local OpenSSL has, from TLS 1.0 up to TLS 1.3 (and every cipher,
    at OpenSSL security level 0), to each TLS endpoint of the host (see tls.cert-valid for
    which) without verifying the certificate, and records the version and cipher the server
    picks: the best it supports.

    Pass: every endpoint negotiates at least `minimum`. Fail: one negotiates an older version
    (TLS 1.0 and 1.1 are deprecated by RFC 8996; browsers refuse them). Which old versions a
    modern server still accepts as well is judged by tls.protocols.

    Parameters: `minimum`, "TLSv1.2" (default) or "TLSv1.3".
    Evidence: `tls_version`, `cipher`, `cipher_bits`, `minimum` (and `endpoints`).
    """
    return judge_endpoints(
        target, lambda endpoint: _judge_best_version(target, endpoint, params, ctx)
    )


# --- tls.protocols -----------------------------------------------------------------------------

PROTOCOL_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
CURRENT_VERSIONS = frozenset({"TLSv1.2", "TLSv1.3"})
OldVersion = Literal["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"]


class ProtocolsParams(ProbeParams):
    forbidden: list[OldVersion] = Field(
        default_factory=lambda: list[OldVersion](["TLSv1", "TLSv1.1"]),
        description="Versions that must not be accepted (SSLv3 never may).",
    )


def offer_version(target: Target, endpoint: Endpoint, ctx: ProbeContext, version: str) -> Attempt:
    """Offer one protocol version alone: a handshake when the local OpenSSL can offer it,
    else a ClientHello (SSLv3 with OpenSSL 3)."""
    local = local_version(version)
    if local is None:
        if version == "TLSv1.3":
            return Attempt(Offer.NOT_TESTABLE, Method.HANDSHAKE, "the local OpenSSL lacks TLS 1.3")
        return offer_client_hello(target, endpoint, ctx, version, OLD_SERVER_SUITES)
    attempt = offer_handshake(target, endpoint, ctx, version_context(local))
    extra = suites_not_in_local_openssl()
    if attempt.offer is not Offer.REFUSED or version == "TLSv1.3" or not extra:
        return attempt
    # An old server may speak this version only with suites that the local OpenSSL lacks
    # (RC4, 3DES): ask once more with exactly those before calling the version refused.
    retry = offer_client_hello(target, endpoint, ctx, version, extra)
    return retry if retry.offer is Offer.ACCEPTED else attempt


def _judge_protocols(
    target: Target, endpoint: Endpoint, params: ProtocolsParams, ctx: ProbeContext
) -> EndpointVerdict:
    name = subject(target, endpoint)
    results = concurrently(
        [functools.partial(offer_version, target, endpoint, ctx, v) for v in PROTOCOL_VERSIONS]
    )
    attempts = dict(zip(PROTOCOL_VERSIONS, results, strict=True))
    forbidden = sorted({"SSLv3", *params.forbidden}, key=version_rank)
    error = no_tls_answer(list(attempts.values()), where(target, endpoint))
    if isinstance(error, NoStartTls):
        return EndpointVerdict(
            FindingStatus.FAIL,
            msg("tls.protocols.no-starttls", name=name),
            {"offered": [], "forbidden": forbidden, "starttls": False, "detail": str(error)},
        )
    if error is not None:
        raise error
    offered = [v for v, a in attempts.items() if a.offer is Offer.ACCEPTED]
    evidence = {
        "offered": offered,
        "forbidden": forbidden,
        "versions": {v: a.evidence() for v, a in attempts.items()},
    }
    bad = ", ".join(v for v in offered if v in forbidden)
    current = bool(CURRENT_VERSIONS.intersection(offered))
    warning = _unanswered(name, attempts)
    if bad or not current:
        if current:
            problem = msg("tls.protocols.accepts", name=name, versions=bad)
        elif bad:
            problem = msg("tls.protocols.accepts-no-current", name=name, versions=bad)
        else:
            problem = msg("tls.protocols.no-current", name=name)
        return EndpointVerdict(FindingStatus.FAIL, problem, evidence, warning)
    return EndpointVerdict(
        FindingStatus.PASS,
        msg(
            "tls.protocols.pass",
            name=name,
            offered=", ".join(offered),
            forbidden=", ".join(forbidden),
        ),
        evidence,
        warning,
    )


@probe("tls.protocols", params=ProtocolsParams, role=TLS_ROLES, budget=4.0)
def protocols(target: Target, params: ProtocolsParams, ctx: ProbeContext) -> ProbeOutcome:
    """No TLS endpoint accepts SSLv3, TLS 1.0 or TLS 1.1; each offers TLS 1.2 or 1.3.

    Offers each protocol version alone to every TLS endpoint of the host (see tls.cert-valid
    for which endpoints): SSLv3, TLS 1.0, 1.1, 1.2 and 1.3. A version the local OpenSSL
    can speak is offered in a full handshake (every cipher, security level 0); one it cannot
    (SSLv3 with OpenSSL 3) in a hand-built ClientHello, and the server's ServerHello says
    whether it takes it. A version refused in the handshake is offered once more with the
    legacy suites the local OpenSSL lacks (RC4, 3DES), so that an old server that speaks only
    those is not missed.

    Pass: no endpoint accepts a version in `forbidden` (or SSLv3, always forbidden) and each
    offers TLS 1.2 or 1.3. Fail: one does (TLS 1.0 and 1.1 are deprecated by RFC 8996, SSLv3
    by RFC 7568), or offers neither current version, or a mail endpoint does not offer
    STARTTLS at all. A version the server did not answer (timeout) is not judged and named in
    a warning.

    Parameters: `forbidden`, a list of "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"
    (default ["TLSv1", "TLSv1.1"]).
    Evidence: `offered` (versions accepted), `forbidden`, and per version under `versions`
    the result (accepted, refused, no answer), the method (handshake or client_hello) and
    what the server answered (negotiated suite or alert); per endpoint under `endpoints`.
    """
    return judge_endpoints(target, lambda endpoint: _judge_protocols(target, endpoint, params, ctx))


# --- tls.weak-ciphers --------------------------------------------------------------------------


class WeakClass(StrEnum):
    """Classes of cipher suites that protect too little: each is offered alone."""

    NULL = "NULL"  # no encryption at all
    EXPORT = "EXPORT"  # 40- and 56-bit export-grade keys (FREAK, Logjam)
    ANONYMOUS = "anonymous"  # no server authentication: anyone in between reads along
    RC4 = "RC4"  # a broken stream cipher (RFC 7465)
    DES = "3DES"  # 3DES (64-bit blocks: Sweet32) and single DES


@dataclass(frozen=True)
class SuiteClass:
    """How to offer a class: an OpenSSL cipher string, and the IANA suites for a ClientHello."""

    openssl: str
    suites: dict[int, str]


WEAK_SUITES: dict[WeakClass, SuiteClass] = {
    WeakClass.NULL: SuiteClass(
        "NULL:eNULL:@SECLEVEL=0",
        {
            0x0001: "TLS_RSA_WITH_NULL_MD5",
            0x0002: "TLS_RSA_WITH_NULL_SHA",
            0x003B: "TLS_RSA_WITH_NULL_SHA256",
            0xC001: "TLS_ECDH_ECDSA_WITH_NULL_SHA",
            0xC006: "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
            0xC00B: "TLS_ECDH_RSA_WITH_NULL_SHA",
            0xC010: "TLS_ECDHE_RSA_WITH_NULL_SHA",
            0xC015: "TLS_ECDH_anon_WITH_NULL_SHA",
        },
    ),
    WeakClass.EXPORT: SuiteClass(
        "EXPORT:@SECLEVEL=0",
        {
            0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
            0x0006: "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
            0x0008: "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
            0x000B: "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA",
            0x000E: "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA",
            0x0011: "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
            0x0014: "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
            0x0017: "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
            0x0019: "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
            0x0060: "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5",
            0x0061: "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5",
            0x0062: "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA",
            0x0063: "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA",
            0x0064: "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA",
            0x0065: "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA",
        },
    ),
    WeakClass.ANONYMOUS: SuiteClass(
        "aNULL:@SECLEVEL=0",
        {
            0x0018: "TLS_DH_anon_WITH_RC4_128_MD5",
            0x001A: "TLS_DH_anon_WITH_DES_CBC_SHA",
            0x001B: "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
            0x0034: "TLS_DH_anon_WITH_AES_128_CBC_SHA",
            0x003A: "TLS_DH_anon_WITH_AES_256_CBC_SHA",
            0x0046: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
            0x006C: "TLS_DH_anon_WITH_AES_128_CBC_SHA256",
            0x006D: "TLS_DH_anon_WITH_AES_256_CBC_SHA256",
            0x0089: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
            0x00A6: "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
            0x00A7: "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
            0xC015: "TLS_ECDH_anon_WITH_NULL_SHA",
            0xC016: "TLS_ECDH_anon_WITH_RC4_128_SHA",
            0xC017: "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
            0xC018: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
            0xC019: "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
        },
    ),
    WeakClass.RC4: SuiteClass(
        "RC4:@SECLEVEL=0",
        {
            0x0004: "TLS_RSA_WITH_RC4_128_MD5",
            0x0005: "TLS_RSA_WITH_RC4_128_SHA",
            0x0018: "TLS_DH_anon_WITH_RC4_128_MD5",
            0xC002: "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
            0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
            0xC00C: "TLS_ECDH_RSA_WITH_RC4_128_SHA",
            0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
            0xC016: "TLS_ECDH_anon_WITH_RC4_128_SHA",
        },
    ),
    WeakClass.DES: SuiteClass(
        "3DES:DES:@SECLEVEL=0",
        {
            0x0009: "TLS_RSA_WITH_DES_CBC_SHA",
            0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            0x000C: "TLS_DH_DSS_WITH_DES_CBC_SHA",
            0x000D: "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA",
            0x000F: "TLS_DH_RSA_WITH_DES_CBC_SHA",
            0x0010: "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA",
            0x0012: "TLS_DHE_DSS_WITH_DES_CBC_SHA",
            0x0013: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
            0x0015: "TLS_DHE_RSA_WITH_DES_CBC_SHA",
            0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
            0x001A: "TLS_DH_anon_WITH_DES_CBC_SHA",
            0x001B: "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
            0xC003: "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
            0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
            0xC00D: "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
            0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
            0xC017: "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
        },
    ),
}

# What servers of the SSLv3 era speak, for a version the local OpenSSL cannot offer at all.
OLD_SERVER_SUITES: dict[int, str] = {
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0x0041: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0084: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0096: "TLS_RSA_WITH_SEED_CBC_SHA",
    0x0007: "TLS_RSA_WITH_IDEA_CBC_SHA",
    **WEAK_SUITES[WeakClass.RC4].suites,
    **WEAK_SUITES[WeakClass.DES].suites,
    **WEAK_SUITES[WeakClass.EXPORT].suites,
}


@functools.cache
def suites_not_in_local_openssl() -> dict[int, str]:
    """The weak suites of the classes that the local OpenSSL cannot offer at all."""
    missing: dict[int, str] = {}
    for suite_class in WEAK_SUITES.values():
        if cipher_context(suite_class.openssl) is None:
            missing.update(suite_class.suites)
    return missing


class WeakCiphersParams(ProbeParams):
    forbidden: list[WeakClass] = Field(
        default_factory=lambda: list(WeakClass),
        description="Classes of cipher suites that must not be accepted.",
    )

    @field_validator("forbidden", mode="before")
    @classmethod
    def _bare_null(cls, value: Any) -> Any:
        # YAML reads an unquoted NULL as null: the class name is what the user meant.
        if isinstance(value, list):
            return [WeakClass.NULL if item is None else item for item in value]
        return value


def offer_weak(target: Target, endpoint: Endpoint, ctx: ProbeContext, weak: WeakClass) -> Attempt:
    """Offer one class of weak suites alone, up to TLS 1.2: in a handshake when the local
    OpenSSL has them, else in a ClientHello."""
    suite_class = WEAK_SUITES[weak]
    ssl_ctx = cipher_context(suite_class.openssl)
    if ssl_ctx is not None:
        return offer_handshake(target, endpoint, ctx, ssl_ctx)
    return offer_client_hello(target, endpoint, ctx, "TLSv1.2", suite_class.suites, or_older=True)


def _judge_weak_ciphers(
    target: Target, endpoint: Endpoint, params: WeakCiphersParams, ctx: ProbeContext
) -> EndpointVerdict:
    name = subject(target, endpoint)
    # A handshake with everything the local OpenSSL offers first shows that this is a TLS
    # server at all: then a hang-up on a weak offer is its way of refusing it.
    tasks: list[Callable[[], Attempt]] = [
        functools.partial(offer_handshake, target, endpoint, ctx, permissive_context())
    ]
    tasks += [functools.partial(offer_weak, target, endpoint, ctx, c) for c in params.forbidden]
    baseline, *results = concurrently(tasks)
    error = no_tls_answer([baseline, *results], where(target, endpoint))
    if error is not None:
        raise error
    attempts = {str(c): a for c, a in zip(params.forbidden, results, strict=True)}
    accepted = [
        {"class": c, "suite": a.suite, "version": a.version}
        for c, a in attempts.items()
        if a.offer is Offer.ACCEPTED
    ]
    evidence = {
        "accepted": accepted,
        "classes": {c: a.evidence() for c, a in attempts.items()},
        "baseline": baseline.evidence(),
    }
    warning = _unanswered(name, attempts)
    if accepted:
        found = ", ".join(f"{a['class']} ({a['suite']})" for a in accepted)
        weak = msg("tls.weak-ciphers.fail", name=name, suites=found)
        return EndpointVerdict(FindingStatus.FAIL, weak, evidence, warning)
    return EndpointVerdict(
        FindingStatus.PASS,
        msg("tls.weak-ciphers.pass", name=name, classes=", ".join(attempts)),
        evidence,
        warning,
    )


@probe("tls.weak-ciphers", params=WeakCiphersParams, role=TLS_ROLES, budget=4.0)
def weak_ciphers(target: Target, params: WeakCiphersParams, ctx: ProbeContext) -> ProbeOutcome:
    """No TLS endpoint accepts NULL, EXPORT, anonymous, RC4 or 3DES/DES cipher suites.

    Offers each class of weak suites alone, with TLS 1.0 up to 1.2 (TLS 1.3 has none), to
    every TLS endpoint of the host (see tls.cert-valid for which). A class the local OpenSSL
    still has (NULL and anonymous with OpenSSL 3) is offered in a full handshake; a class it
    lacks (EXPORT, RC4, 3DES/DES) in a hand-built ClientHello listing that class's IANA
    suites, and the server's ServerHello says whether it takes one. One more handshake with
    ordinary suites shows that the endpoint speaks TLS at all.

    Pass: no endpoint accepts a suite of a class in `forbidden`. Fail: one does; the message
    names the class and the suite the server picked. A class the server did not answer
    (timeout) is not judged and named in a warning.

    Parameters: `forbidden`, a list of "NULL", "EXPORT", "anonymous", "RC4", "3DES"
    (default: all five).
    Evidence: `accepted` (class, suite, version), per class under `classes` the result,
    the method and what the server answered, `baseline` (the ordinary handshake); per
    endpoint under `endpoints`. The server picks one suite per class: others of the same
    class may be accepted too.
    """
    return judge_endpoints(
        target, lambda endpoint: _judge_weak_ciphers(target, endpoint, params, ctx)
    )


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
