"""Probes of the response headers of the home page: web.hsts, web.security-headers and
web.server-disclosure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.tls import trusting_context
from cyberstd.probes.web.common import SECONDS_PER_DAY, inert, quoted
from cyberstd.probes.web.fetching import HttpAnswer, Visit, fetch, header_evidence, home_page
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# --- web.hsts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HstsPolicy:
    max_age: int
    include_subdomains: bool
    preload: bool


_DIGITS = re.compile(r"[0-9]+")


class InvalidHsts(ValueError):
    """A Strict-Transport-Security value that browsers ignore; `said` says why."""

    def __init__(self, said: Msg) -> None:
        super().__init__(said.render("en"))
        self.said = said


def parse_hsts(value: str) -> HstsPolicy:
    """Parse a Strict-Transport-Security value as RFC 6797 section 6.1 defines it.

    Raises InvalidHsts (a ValueError) with the reason when a browser would ignore the header.
    """
    directives: dict[str, str | None] = {}
    for part in value.split(";"):
        name, sep, raw = part.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if name in directives:
            raise InvalidHsts(msg("web.hsts.repeated-directive", name=inert(repr(name), 250)))
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        directives[name] = raw if sep else None
    if "max-age" not in directives:
        raise InvalidHsts(msg("web.hsts.no-max-age"))
    max_age = directives["max-age"]
    if max_age is None or not _DIGITS.fullmatch(max_age):
        raise InvalidHsts(msg("web.hsts.bad-max-age", value=inert(repr(max_age), 250)))
    return HstsPolicy(
        max_age=int(max_age),
        include_subdomains="includesubdomains" in directives,
        preload="preload" in directives,
    )


class HstsParams(ProbeParams):
    min_max_age_days: int = Field(
        default=180, ge=0, description="The shortest acceptable HSTS max-age, in days."
    )


def _days(seconds: int) -> Msg:
    days = seconds / SECONDS_PER_DAY
    if days >= 1:
        return msg("web.duration.days", n=int(f"{days:.0f}"))
    return msg("web.duration.seconds", n=seconds)


@probe("web.hsts", params=HstsParams, role="website")
def hsts(target: Target, params: HstsParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website tells browsers to use only HTTPS from now on (HTTP Strict Transport Security).

    Requests https://<host>/ (the HTTPS port, default 443) without following redirects and
    reads the Strict-Transport-Security header of that answer; when a server sends several,
    browsers use the first one only, and so does this check.

    Pass: the header is present, valid, and its max-age is at least `min_max_age_days`.
    Fail: the header is missing, cannot be parsed (no or a non-numeric max-age, a repeated
    directive), has max-age=0 (which tells browsers to forget the policy), or is shorter than
    required; the message quotes the value found.
    Browsers ignore HSTS from a site whose certificate they cannot verify, so the certificate
    is verified (with the scan's CA bundle or the system trust store); when that fails the
    probe reports a connectivity error and tls.cert-valid explains the certificate problem.

    Parameters: `min_max_age_days` (default 180, at least 0).
    Evidence: `url`, `status`, `hsts` (the raw header), `max_age`, `include_subdomains`,
    `preload`, and `hsts_all` when there are several headers.
    """
    answer = fetch(target, ctx, "https", trusting_context(ctx.ca_bundle, ctx.clock.now))
    headers = answer.get_all("Strict-Transport-Security")
    evidence: dict[str, Any] = {
        "url": answer.url,
        "status": answer.status,
        "hsts": inert(headers[0]) if headers else None,
        "min_max_age_days": params.min_max_age_days,
    }
    if len(headers) > 1:
        evidence["hsts_all"] = [inert(h) for h in headers]

    def fail(message: Msg) -> ProbeOutcome:
        return ProbeOutcome.said(FindingStatus.FAIL, message, evidence)

    if not headers:
        return fail(msg("web.hsts.missing", url=answer.url))
    try:
        policy = parse_hsts(headers[0])
    except InvalidHsts as exc:
        return fail(msg("web.hsts.invalid", value=quoted(headers[0]), reason=exc.said))
    evidence.update(
        max_age=policy.max_age,
        include_subdomains=policy.include_subdomains,
        preload=policy.preload,
    )
    required = params.min_max_age_days * SECONDS_PER_DAY
    if policy.max_age == 0:
        return fail(msg("web.hsts.zero", url=answer.url))
    if policy.max_age < required:
        return fail(
            msg(
                "web.hsts.too-short",
                url=answer.url,
                max_age=policy.max_age,
                duration=_days(policy.max_age),
                n=params.min_max_age_days,
            )
        )
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg(
            "web.hsts.ok",
            url=answer.url,
            max_age=policy.max_age,
            duration=_days(policy.max_age),
        ),
        evidence,
    )


def _judged_on(home: Visit) -> list[Msg]:
    """A warning when the page judged is a redirect that was not followed."""
    if home.not_followed is None or not home.ends_in_redirect:
        return []
    return [msg("web.judged-on-redirect", url=home.final.url, page=home.not_followed.said)]


# --- web.security-headers ----------------------------------------------------------------------


class SecurityHeader(StrEnum):
    """A protection that `web.security-headers` can require."""

    X_CONTENT_TYPE_OPTIONS = "x-content-type-options"
    FRAME_PROTECTION = "frame-protection"
    REFERRER_POLICY = "referrer-policy"


# Every policy token the Referrer Policy specification defines.
REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
# Policies that never send a page's full address to another site.
SAFE_REFERRER_POLICIES = (
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
)
# frame-ancestors sources that let any site frame the page.
_ANY_FRAMER = frozenset({"*", "http:", "https:", "http://*", "https://*"})


class SecurityHeadersParams(ProbeParams):
    required: tuple[SecurityHeader, ...] = Field(
        default=tuple(SecurityHeader),
        min_length=1,
        description="The protections the home page must have: "
        + ", ".join(h.value for h in SecurityHeader)
        + ".",
    )
    safe_referrer_policies: tuple[str, ...] = Field(
        default=SAFE_REFERRER_POLICIES,
        min_length=1,
        description="Referrer-Policy values that count as safe.",
    )

    @field_validator("safe_referrer_policies")
    @classmethod
    def _known_policies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        policies = tuple(v.strip().lower() for v in value)
        unknown = sorted(set(policies) - REFERRER_POLICIES)
        if unknown:
            raise ValueError(
                f"unknown referrer policies {unknown}; known: {sorted(REFERRER_POLICIES)}"
            )
        return policies


def csp_directives(policy: str) -> dict[str, list[str]]:
    """The directives of one serialised Content-Security-Policy: name -> source list.

    As CSP 3 parses it: names are case-insensitive and the first of a repeated directive wins.
    """
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def _policies(answer: HttpAnswer, name: str) -> list[str]:
    # Several headers, or one header with comma-separated policies: each policy applies.
    return [p for value in answer.get_all(name) for p in value.split(",") if p.strip()]


@dataclass(frozen=True)
class _Verdict:
    ok: bool
    found: str | None
    missing: Msg  # how the message names what is missing


def _nosniff(answer: HttpAnswer) -> _Verdict:
    value = answer.combined("X-Content-Type-Options")
    # Browsers look at the first value only (Fetch standard, "determine nosniff").
    ok = value is not None and value.split(",")[0].strip().lower() == "nosniff"
    return _Verdict(ok, value, verbatim("X-Content-Type-Options: nosniff"))


def _frame_protection(answer: HttpAnswer) -> _Verdict:
    ancestors = [
        csp_directives(p)["frame-ancestors"]
        for p in _policies(answer, "Content-Security-Policy")
        if "frame-ancestors" in csp_directives(p)
    ]
    missing = msg("web.security-headers.frame-protection")
    if ancestors:
        # With frame-ancestors present browsers ignore X-Frame-Options; every policy applies.
        # An empty source list allows no framing at all, like 'none'.
        ok = any(not _ANY_FRAMER & {s.lower() for s in sources} for sources in ancestors)
        shown = "; ".join("frame-ancestors " + " ".join(s) for s in ancestors)
        return _Verdict(ok, shown, missing)
    value = answer.combined("X-Frame-Options")
    tokens = {t.strip().lower() for t in (value or "").split(",")} - {""}
    # Conflicting values make browsers ignore the header (HTML standard).
    ok = len(tokens) == 1 and tokens <= {"deny", "sameorigin"}
    return _Verdict(ok, None if value is None else f"X-Frame-Options: {value}", missing)


def _referrer(answer: HttpAnswer, safe: Sequence[str]) -> _Verdict:
    value = answer.combined("Referrer-Policy")
    tokens = [t.strip().lower() for t in (value or "").split(",")]
    # The last token that browsers know is the policy; unknown ones are skipped.
    known = [t for t in tokens if t in REFERRER_POLICIES]
    ok = bool(known) and known[-1] in safe
    return _Verdict(ok, value, msg("web.security-headers.safe-referrer"))


def _csp_summary(answer: HttpAnswer) -> dict[str, Any]:
    enforced = answer.combined("Content-Security-Policy")
    report_only = answer.combined("Content-Security-Policy-Report-Only")
    summary: dict[str, Any] = {
        "present": enforced is not None,
        "policy": None if enforced is None else inert(enforced),
        "report_only": None if report_only is None else inert(report_only),
    }
    if enforced is not None:
        parsed = [csp_directives(p) for p in _policies(answer, "Content-Security-Policy")]
        names = sorted({name for directives in parsed for name in directives})
        summary["directives"] = [inert(n, 100) for n in names[:50]]
        # Information only: a script source list without 'unsafe-inline' blocks injected scripts.
        summary["restricts_scripts"] = any(
            (sources := d.get("script-src", d.get("default-src"))) is not None
            and "'unsafe-inline'" not in sources
            for d in parsed
        )
    return summary


SECURITY_HEADER_NAMES = (
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
)


@probe("web.security-headers", params=SecurityHeadersParams, role="website")
def security_headers(
    target: Target, params: SecurityHeadersParams, ctx: ProbeContext
) -> ProbeOutcome:
    """The home page tells browsers to apply the basic protections of a website.

    Requests https://<host>/ (the HTTPS port, default 443) and follows at most one redirect on
    the same host name; the certificate is verified as a browser would (tls.cert-valid
    explains a failure). Looks at the headers of the final answer:
    - `x-content-type-options`: X-Content-Type-Options: nosniff, so that browsers do not
      guess a file's type (a picture or upload run as a script);
    - `frame-protection`: X-Frame-Options DENY or SAMEORIGIN, or a Content-Security-Policy
      with frame-ancestors that does not allow every site, so that another site cannot show
      the page in a frame and trick visitors into clicking (clickjacking);
    - `referrer-policy`: a Referrer-Policy from `safe_referrer_policies`, so that addresses of
      pages (which can hold names or tokens) do not leak to other sites.
    Content-Security-Policy is reported as information only (in evidence `csp`): a good one
    needs work per site, and its absence never fails the check.

    Pass: every protection in `required` is present.
    Fail: the message lists each required protection that is missing or too weak, and the
    value found. A redirect to another host is not followed; the check then judges the
    redirect answer and says so in a warning. A <meta> tag in the HTML does not count.

    Parameters: `required` (default all three), `safe_referrer_policies` (default
    no-referrer, same-origin, strict-origin, strict-origin-when-cross-origin).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `headers` (the five
    security headers as sent), `checks` (per protection: ok and the value found),
    `missing`, and `csp`.
    """
    home = home_page(target, ctx)
    answer = home.final
    verdicts = {
        SecurityHeader.X_CONTENT_TYPE_OPTIONS: _nosniff(answer),
        SecurityHeader.FRAME_PROTECTION: _frame_protection(answer),
        SecurityHeader.REFERRER_POLICY: _referrer(answer, params.safe_referrer_policies),
    }
    missing = [h for h in params.required if not verdicts[h].ok]
    evidence = home.evidence()
    evidence.update(
        headers=header_evidence(answer, SECURITY_HEADER_NAMES),
        checks={
            h.value: {
                "ok": v.ok,
                "required": h in params.required,
                "found": None if v.found is None else inert(v.found),
            }
            for h, v in verdicts.items()
        },
        missing=[h.value for h in missing],
        csp=_csp_summary(answer),
    )
    warnings = _judged_on(home)
    if missing:
        parts = []
        for h in missing:
            found = verdicts[h].found
            what = verdicts[h].missing
            parts.append(
                msg("web.security-headers.absent", what=what)
                if found is None
                else msg("web.security-headers.weak", what=what, found=quoted(found, 120))
            )
        return ProbeOutcome.said(
            FindingStatus.FAIL,
            msg("web.security-headers.lacks", url=answer.url, parts=parts),
            evidence,
            warnings=warnings,
        )
    names = ", ".join(h.value for h in params.required)
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.security-headers.ok", url=answer.url, names=names),
        evidence,
        warnings=warnings,
    )


# --- web.server-disclosure ---------------------------------------------------------------------

# A version number: a product token followed by "/" or a space and digits ("Apache/2.4.41",
# "PHP/7.4.3", "WordPress 6.4", "Apache/2"), or a dotted number on its own ("4.0.30319").
# Opaque codes such as "ECS (dab/4BCE)" are no version: the digits must end the token.
VERSION_PATTERN = re.compile(
    r"[A-Za-z][\w.+-]*(?:/|\s)v?\d+(?:\.\d+)*(?![\w])|(?<![\w.])\d+(?:\.\d+)+(?![\w])"
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class ServerDisclosureParams(ProbeParams):
    headers: tuple[str, ...] = Field(
        default=(
            "Server",
            "X-Powered-By",
            "X-AspNet-Version",
            "X-AspNetMvc-Version",
            "X-Generator",
        ),
        min_length=1,
        description="The response headers in which a version number is a finding.",
    )

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not _TOKEN.fullmatch(v)]
        if bad:
            raise ValueError(f"not header names: {bad}")
        return value


def disclosed_version(value: str) -> str | None:
    """The first version number in a header value, or None when it names no version."""
    match = VERSION_PATTERN.search(value)
    return match.group() if match else None


@probe("web.server-disclosure", params=ServerDisclosureParams, role="website")
def server_disclosure(
    target: Target, params: ServerDisclosureParams, ctx: ProbeContext
) -> ProbeOutcome:
    """The website does not tell visitors which software versions it runs.

    Requests https://<host>/ (the HTTPS port, default 443), follows at most one redirect on
    the same host name, and reads the headers in `headers` of every answer. A version number
    (`Apache/2.4.41 (Ubuntu)`, `PHP/7.4.3`, `Microsoft-IIS/10.0`, `WordPress 6.4`, an
    X-AspNet-Version such as `4.0.30319`) tells an attacker which known weaknesses to try
    first; a bare product name (`Apache`, `nginx`, `Microsoft-IIS`) is fine.

    Pass: no listed header carries a version number (or none of them is sent).
    Fail: at least one does; the message quotes each header and value.
    A certificate that cannot be verified is a connectivity error (see tls.cert-valid).

    Parameters: `headers` (default Server, X-Powered-By, X-AspNet-Version,
    X-AspNetMvc-Version, X-Generator).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `headers` (the listed
    headers of each answer, by URL) and `disclosed` (header, value, version, url).
    """
    home = home_page(target, ctx)
    seen: dict[str, dict[str, Any]] = {}
    disclosed: list[dict[str, str]] = []
    for answer in home.answers:
        seen[answer.url] = header_evidence(answer, params.headers)
        for name in params.headers:
            for value in answer.get_all(name):
                version = disclosed_version(value)
                if version is not None:
                    disclosed.append(
                        {
                            "header": name,
                            "value": inert(value, 300),
                            "version": inert(version, 100),
                            "url": answer.url,
                        }
                    )
    evidence = home.evidence()
    evidence.update(headers=seen, disclosed=disclosed)
    if disclosed:
        unique = dict.fromkeys(f"{d['header']}: {d['value']}" for d in disclosed)
        return ProbeOutcome.said(
            FindingStatus.FAIL,
            msg("web.server-disclosure.found", url=home.first.url, found="; ".join(unique)),
            evidence,
        )
    named = [
        f"{name}: {inert(value, 100)}"
        for name in params.headers
        for value in dict.fromkeys(v for a in home.answers for v in a.get_all(name))
    ]
    detail: Msg | str
    if named:
        detail = "; ".join(named)
    elif len(params.headers) == 1:
        detail = msg("web.server-disclosure.no-header", name=params.headers[0])
    else:
        first, second = params.headers[:2]
        detail = msg("web.server-disclosure.no-headers", first=first, second=second)
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.server-disclosure.ok", url=home.first.url, detail=detail),
        evidence,
    )
