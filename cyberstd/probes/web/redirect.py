"""web.https-redirect: plain-HTTP visitors are sent straight to HTTPS on the same host name."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.web.common import inert, quoted, same_host
from cyberstd.probes.web.fetching import HTTPS_REDIRECTS, PERMANENT_REDIRECTS, fetch
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome


@probe("web.https-redirect", params=ProbeParams, role="website")
def https_redirect(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """Plain-HTTP visitors are sent straight to HTTPS on the same host name.

    Requests http://<host>/ (the HTTP port, default 80) and looks at the first answer only;
    redirects are not followed.

    Pass: a 301, 302, 307 or 308 redirect whose Location is an https:// URL on the same host
    name (any port or path); a temporary redirect (302/307) passes with a warning, because
    browsers remember only permanent ones (301/308).
    Fail: the site answers over plain HTTP (e.g. 200), redirects to another http:// URL, to
    another host name, with another status, or without a Location header.
    When nothing listens on the HTTP port the probe reports a connectivity error.

    No parameters. Evidence: `url`, `status`, `location` and the resolved `redirect_to`.
    """
    answer = fetch(target, ctx, "http")
    location = answer.first("Location")
    evidence: dict[str, Any] = {
        "url": answer.url,
        "status": answer.status,
        "location": None if location is None else inert(location),
    }

    def fail(message: Msg) -> ProbeOutcome:
        return ProbeOutcome.said(FindingStatus.FAIL, message, evidence)

    url, status = answer.url, answer.status
    if status not in HTTPS_REDIRECTS:
        if 300 <= status < 400:
            return fail(msg("web.https-redirect.wrong-status", url=url, status=status))
        return fail(
            msg(
                "web.https-redirect.plain-http",
                url=url,
                status=status,
                reason=inert(answer.reason, 100),
            )
        )
    if not location:
        return fail(msg("web.https-redirect.no-location", url=url, status=status))
    try:
        redirect_to = urljoin(url, location.strip())
        parts = urlsplit(redirect_to)
    except ValueError:
        return fail(
            msg("web.https-redirect.unreadable-location", url=url, location=quoted(location))
        )
    evidence["redirect_to"] = inert(redirect_to)
    if parts.scheme.lower() != "https":
        return fail(msg("web.https-redirect.not-https", url=url, to=inert(redirect_to, 300)))
    if not same_host(parts.hostname or "", target.name):
        other = (
            verbatim(inert(parts.hostname, 200))
            if parts.hostname
            else msg("web.https-redirect.no-host")
        )
        return fail(msg("web.https-redirect.other-host", url=url, host=other, name=target.name))
    warnings = []
    if status not in PERMANENT_REDIRECTS:
        warnings.append(msg("web.https-redirect.temporary", status=status))
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.https-redirect.ok", url=url, status=status, to=inert(redirect_to, 300)),
        evidence,
        warnings=warnings,
    )
