"""TLS probes of the protocol versions: the best one negotiated (tls.min-version) and every
version accepted (tls.protocols)."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field

from cyberstd.messages import msg
from cyberstd.net.endpoints import Endpoint, NoStartTls, where
from cyberstd.net.hello import (
    Attempt,
    Method,
    Offer,
    no_tls_answer,
    offer_client_hello,
    offer_handshake,
)
from cyberstd.net.tcp import concurrently
from cyberstd.net.tls import (
    VERSION_ORDER,
    handshake,
    local_version,
    permissive_context,
    version_context,
)
from cyberstd.probes.tls.ciphers import OLD_SERVER_SUITES, suites_not_in_local_openssl
from cyberstd.probes.tls.endpoints import (
    TLS_ROLES,
    EndpointVerdict,
    judge_endpoints,
    subject,
    unanswered,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

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
    warning = unanswered(name, attempts)
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
