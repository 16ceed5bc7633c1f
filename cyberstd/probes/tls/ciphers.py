"""TLS probe of the cipher suites (tls.weak-ciphers) and the weak suites it offers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from cyberstd.messages import msg
from cyberstd.net.endpoints import Endpoint, where
from cyberstd.net.hello import Attempt, Offer, no_tls_answer, offer_client_hello, offer_handshake
from cyberstd.net.tcp import concurrently
from cyberstd.net.tls import cipher_context, permissive_context
from cyberstd.probes.tls.endpoints import (
    TLS_ROLES,
    EndpointVerdict,
    judge_endpoints,
    subject,
    unanswered,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

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
    warning = unanswered(name, attempts)
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
