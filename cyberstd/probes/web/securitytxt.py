"""web.security-txt: the website publishes a valid security.txt (RFC 9116)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pydantic import Field

from cyberstd.errors import ProbeError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.web.common import KB, SECONDS_PER_DAY, inert, quoted
from cyberstd.probes.web.fetching import page_url, visit
from cyberstd.registry import ProbeContext, ProbeParams, Target, probe
from cyberstd.results import FindingStatus, ProbeOutcome

SECURITY_TXT_PATH = "/.well-known/security.txt"
MAX_SECURITY_TXT = 64 * KB
_FIELD_NAME = re.compile(r"[A-Za-z0-9-]+")
_CONTACT_SCHEMES = ("mailto:", "https://", "tel:")
MAX_FIELD_VALUES = 20


@dataclass(frozen=True)
class SecurityTxt:
    """The fields of a security.txt file (RFC 9116), by lower-case name, in order."""

    fields: dict[str, list[str]]
    signed: bool
    invalid_lines: int


def parse_security_txt(text: str) -> SecurityTxt:
    """Parse security.txt as RFC 9116 section 2.4 defines it: `Name: value` lines, comments
    starting with "#"; an OpenPGP cleartext signature around it is taken off (not verified).
    """
    lines = text.lstrip("\ufeff").splitlines()
    signed = bool(lines) and lines[0].strip() == "-----BEGIN PGP SIGNED MESSAGE-----"
    if signed:
        body_start = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
        end = next(
            (i for i, line in enumerate(lines) if line.strip() == "-----BEGIN PGP SIGNATURE-----"),
            len(lines),
        )
        lines = [
            line[2:] if line.startswith("- ") else line for line in lines[body_start + 1 : end]
        ]
    fields: dict[str, list[str]] = {}
    invalid = 0
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition(":")
        if not sep or not _FIELD_NAME.fullmatch(name.strip()):
            invalid += 1
            continue
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return SecurityTxt(fields=fields, signed=signed, invalid_lines=invalid)


def parse_expires(value: str) -> dt.datetime:
    """An RFC 3339 date-time with its offset; ValueError when it is not one."""
    moment = dt.datetime.fromisoformat(value.strip().upper())
    if moment.tzinfo is None or "T" not in value.strip().upper():
        raise ValueError("not an RFC 3339 date and time with a time zone")
    return moment


class SecurityTxtParams(ProbeParams):
    warn_days: int = Field(
        default=30, ge=0, description="Warn when Expires is fewer than this many days away."
    )


@probe("web.security-txt", params=SecurityTxtParams, role="website")
def security_txt(target: Target, params: SecurityTxtParams, ctx: ProbeContext) -> ProbeOutcome:
    """The website tells security researchers how to report a vulnerability (security.txt).

    Requests https://<host>/.well-known/security.txt (the HTTPS port, default 443), follows
    at most one redirect on the same host name, reads at most 64 KB, and parses it as
    RFC 9116 defines (an OpenPGP signature around it is allowed; it is not verified).

    Pass: the file answers 200 with at least one Contact field holding a URI (mailto:,
    https:// or tel:) and exactly one Expires field with an RFC 3339 date in the future.
    It warns when Expires is less than `warn_days` away, more than a year away (RFC 9116
    advises less), or the content type is not text/plain.
    Fail: the file is missing (404 or any answer but 200), has no Contact or Expires field,
    a Contact that is not a URI, several or an unreadable Expires, or has expired.
    A redirect to another host is not followed (it may lie outside the authorised scope):
    the check then cannot judge and reports an error.

    Parameters: `warn_days` (default 30).
    Evidence: `url`, `status` (and `redirected_to`, `final_status`), `content_type`,
    `fields` (every field and its values), `signed`, `invalid_lines`, `expires`, `days_left`.
    """
    found = visit(
        target, ctx, page_url(target, "https", SECURITY_TXT_PATH), body_limit=MAX_SECURITY_TXT
    )
    answer = found.final
    if found.not_followed is not None and found.ends_in_redirect:
        raise ProbeError(
            msg("web.security-txt.redirects", url=found.first.url, to=found.not_followed.said)
        )
    evidence = found.evidence()
    evidence["content_type"] = inert(answer.first("Content-Type") or "", 200) or None

    def fail(message: Msg) -> ProbeOutcome:
        return ProbeOutcome.said(FindingStatus.FAIL, message, evidence)

    url = answer.url
    if answer.status != 200:
        return fail(
            msg(
                "web.security-txt.status",
                url=url,
                status=answer.status,
                reason=inert(answer.reason, 100),
            )
        )
    parsed = parse_security_txt(answer.text())
    evidence.update(
        fields={
            inert(name, 100): [inert(v, 300) for v in values[:MAX_FIELD_VALUES]]
            for name, values in list(parsed.fields.items())[:50]
        },
        signed=parsed.signed,
        invalid_lines=parsed.invalid_lines,
    )
    warnings: list[Msg] = []
    if answer.body_truncated:
        warnings.append(msg("web.security-txt.truncated", kb=MAX_SECURITY_TXT // KB))
    content_type = verbatim(inert(answer.content_type, 100))
    if not parsed.fields:
        if not answer.content_type:
            content_type = msg("web.security-txt.none")
        return fail(msg("web.security-txt.no-fields", url=url, content_type=content_type))
    if answer.content_type != "text/plain":
        if not answer.content_type:
            content_type = msg("web.security-txt.no-content-type")
        warnings.append(msg("web.security-txt.not-plain-text", content_type=content_type))
    contacts = parsed.fields.get("contact", [])
    if not contacts:
        return fail(msg("web.security-txt.no-contact", url=url))
    bad = [c for c in contacts if not c.lower().startswith(_CONTACT_SCHEMES)]
    if bad:
        return fail(msg("web.security-txt.bad-contact", url=url, value=quoted(bad[0], 120)))
    expires_all = parsed.fields.get("expires", [])
    if not expires_all:
        return fail(msg("web.security-txt.no-expires", url=url))
    if len(expires_all) > 1:
        return fail(msg("web.security-txt.several-expires", url=url, n=len(expires_all)))
    try:
        expires = parse_expires(expires_all[0])
    except ValueError:
        return fail(msg("web.security-txt.bad-expires", url=url, value=quoted(expires_all[0], 80)))
    now = ctx.clock.now
    days_left = (expires - now).total_seconds() / SECONDS_PER_DAY
    evidence.update(expires=expires.isoformat(), days_left=int(days_left // 1))
    date = expires.date().isoformat()
    if expires <= now:
        return fail(msg("web.security-txt.expired", url=url, date=date))
    if days_left < params.warn_days:
        warnings.append(msg("web.security-txt.expires-soon", n=int(days_left), date=date))
    elif days_left > 366:
        warnings.append(msg("web.security-txt.expires-far"))
    return ProbeOutcome.said(
        FindingStatus.PASS,
        msg("web.security-txt.ok", url=url, n=len(contacts), date=date),
        evidence,
        warnings=warnings,
    )
