"""How the TLS probes judge every TLS endpoint of a host and combine the verdicts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.endpoints import Endpoint, tls_endpoints
from cyberstd.net.hello import Attempt, Offer
from cyberstd.net.tcp import run_all
from cyberstd.registry import Target
from cyberstd.results import FindingStatus, ProbeOutcome

TLS_ROLES = ("website", "mail", "vpn")


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


def unanswered(name: Msg, attempts: dict[str, Attempt]) -> Msg | None:
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
