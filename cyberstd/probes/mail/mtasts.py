"""MTA-STS and TLS-RPT of a school's domain: sending servers insist on TLS with a valid
certificate for its MX (`mail.mta-sts`), and report to the school when TLS fails
(`mail.tls-rpt`)."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeError, ScopeError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.tcp import open_tcp
from cyberstd.net.tls import tls_handshake, trusting_context
from cyberstd.probes.dns.lookup import Lookup, cut, cut_list
from cyberstd.probes.dns.mx import mx_hosts
from cyberstd.probes.mail.records import (
    RECORD_BUDGET,
    RecordError,
    either,
    english,
    fail,
    outcome,
    report_uris,
    summary,
    tag_list,
    versioned,
)
from cyberstd.probes.web.fetching import HttpAnswer, http_get
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# Time budget, in multiples of the scan's timeout (see `registry.probe`).
MTA_STS_BUDGET = 6.0

# RFC 8461 section 3.3: a policy file is at most 64 KB.
MTA_STS_MAX_POLICY = 64 * 1024
# RFC 8461 section 3.2: max_age is at most 31557600 seconds (a year).
MTA_STS_MAX_AGE = 31557600
SECONDS_PER_DAY = 86400

# --- mail.mta-sts ------------------------------------------------------------------------------


class MtaStsParams(ProbeParams):
    allowed_modes: list[Literal["enforce", "testing"]] = Field(
        default=["enforce"], min_length=1, description="The policy modes that pass."
    )
    min_max_age_days: int = Field(default=7, ge=0, le=365)
    policy_port: int = Field(
        default=443, ge=1, le=65535, description="HTTPS port of the policy host (443; tests)."
    )


@dataclass(frozen=True)
class MtaStsPolicy:
    version: str | None
    mode: str | None
    max_age: str | None
    mx: tuple[str, ...]
    problems: tuple[Msg, ...]


def parse_mta_sts_policy(text: str) -> MtaStsPolicy:
    """Parse an MTA-STS policy file (RFC 8461 section 3.2), collecting its problems."""
    fields: dict[str, str] = {}
    mx: list[str] = []
    problems: list[Msg] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            problems.append(msg("mail.mta-sts.policy.bad-line", line=cut(line, 80)))
        elif key == "mx":
            mx.append(value.lower().rstrip("."))
        elif key in fields:
            problems.append(msg("mail.mta-sts.policy.twice", key=key))
        else:
            fields[key] = value
    version, mode, max_age = fields.get("version"), fields.get("mode"), fields.get("max_age")
    if version != "STSv1":
        problems.append(
            msg("mail.mta-sts.policy.version", value=version)
            if version
            else msg("mail.mta-sts.policy.no-version")
        )
    if mode not in ("enforce", "testing", "none"):
        problems.append(
            msg("mail.mta-sts.policy.mode", value=mode)
            if mode
            else msg("mail.mta-sts.policy.no-mode")
        )
    if max_age is None or not max_age.isdigit() or int(max_age) > MTA_STS_MAX_AGE:
        problems.append(
            msg("mail.mta-sts.policy.max-age", value=max_age)
            if max_age
            else msg("mail.mta-sts.policy.no-max-age")
        )
    if mode in ("enforce", "testing") and not mx:
        problems.append(msg("mail.mta-sts.policy.no-mx"))
    return MtaStsPolicy(version, mode, max_age, tuple(mx), tuple(problems))


def mx_matches(host: str, pattern: str) -> bool:
    """RFC 8461 section 4.1: exact match, or `*.` matching exactly one leftmost label."""
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


def _certificate_problem(host: str, address: str, port: int, ctx: ProbeContext) -> Msg | None:
    """Why the certificate of the policy host fails verification (as the TLS library says it),
    or None when it does not."""
    ctx.limiter.acquire(address)
    where = f"{host} ({address} port {port})"
    try:
        with open_tcp(address, port, ctx.timeout) as sock:
            tls_handshake(sock, trusting_context(ctx.ca_bundle, ctx.clock.now), host, where).close()
    except ssl.SSLCertVerificationError as exc:
        if not exc.verify_message:
            return msg("mail.mta-sts.verification-failed")
        return verbatim(exc.verify_message.rstrip("."))
    except ProbeError:
        return None
    return None


def _fetch_policy(host: str, address: str, port: int, ctx: ProbeContext) -> HttpAnswer | Msg:
    """The answer to GET https://<host>/.well-known/mta-sts.txt from `address`, or why the
    host's certificate is not valid (senders then ignore the policy)."""
    authority = host if port == 443 else f"{host}:{port}"
    try:
        return http_get(
            f"https://{authority}/.well-known/mta-sts.txt",
            address,
            ctx,
            body_limit=MTA_STS_MAX_POLICY,
        )
    except ConnectivityError:
        # http_get reports a certificate it cannot verify as a connectivity error; for
        # MTA-STS that is the verdict itself, so find out whether it was the certificate.
        problem = _certificate_problem(host, address, port, ctx)
        if problem is None:
            raise
        return problem


@probe("mail.mta-sts", params=MtaStsParams, target=TargetKind.DOMAIN, budget=MTA_STS_BUDGET)
def mta_sts(target: Target, params: MtaStsParams, ctx: ProbeContext) -> ProbeOutcome:
    """MTA-STS makes sending servers insist on TLS with a valid certificate for the school's MX.

    Reads the TXT record at `_mta-sts.<domain>` (v=STSv1 and an id), resolves
    `mta-sts.<domain>` with the scan's resolver, and, when that address is in scope, fetches
    https://mta-sts.<domain>/.well-known/mta-sts.txt from it (SNI and Host are the name, the
    certificate must be valid for it: senders ignore a policy they cannot fetch securely;
    redirects are not followed, as RFC 8461 requires). The MX records are compared with the
    policy's mx lines.

    Pass: one valid STSv1 record, the policy served with status 200, version STSv1, a mode in
    `allowed_modes`, mx lines that cover every MX host, and max_age of at least
    `min_max_age_days` days.
    Fail: no record (or several, or without id), the policy host does not resolve, the
    policy cannot be fetched securely (certificate problem, not 200, redirect, over 64 KB),
    or the policy is invalid, in another mode (testing, none), misses an MX host, or has too
    short a max_age.
    Not applicable: the policy host's address lies outside the authorised scope (nothing is
    fetched).

    Parameters: `allowed_modes` (default [enforce]), `min_max_age_days` (default 7),
    `policy_port` (default 443; other values are for tests).
    Evidence: `record`, `policy_host`, `policy_address`, `policy` (the file, cut), `mode`,
    `max_age`, `policy_mx`, `mx`, `uncovered_mx`, `problems`.
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    records = versioned(lookup.query(f"_mta-sts.{domain}", "TXT"), "STSv1")
    evidence: dict[str, Any] = {"domain": domain, "record": cut_list(records)}
    if not records:
        return fail(msg("mail.mta-sts.none", domain=domain), evidence)
    if len(records) > 1:
        return fail(msg("mail.mta-sts.several", domain=domain, n=len(records)), evidence)
    try:
        policy_id = tag_list(records[0]).get("id", "")
    except RecordError as exc:
        return fail(msg("mail.mta-sts.invalid", domain=domain, why=exc.said), evidence)
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", policy_id):
        return fail(msg("mail.mta-sts.bad-id", domain=domain), evidence)
    host = f"mta-sts.{domain}"
    addresses, _ = lookup.addresses(host)
    evidence["policy_host"] = host
    if not addresses:
        return fail(msg("mail.mta-sts.no-host", host=host), evidence)
    address = addresses[0]
    evidence["policy_address"] = address
    try:
        ctx.guard(host, address)
    except ScopeError as exc:
        evidence["not_probed"] = f"outside scope: {exc}"
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            msg("mail.mta-sts.outside-scope", host=host, address=address),
            evidence,
        )
    answer = _fetch_policy(host, address, params.policy_port, ctx)
    if isinstance(answer, Msg):
        evidence["certificate_problem"] = answer.render("en")
        return fail(msg("mail.mta-sts.bad-certificate", host=host, problem=answer), evidence)
    content_type = answer.first("Content-Type")
    evidence.update(http_status=answer.status, content_type=content_type)
    if answer.status != 200:
        location = answer.first("Location")
        evidence["location"] = cut(location, 300) if location else None
        return fail(msg("mail.mta-sts.http-status", url=answer.url, status=answer.status), evidence)
    if answer.body_truncated:
        return fail(msg("mail.mta-sts.too-large", domain=domain), evidence)
    text = answer.body.decode("utf-8", "replace")
    policy = parse_mta_sts_policy(text)
    mx_answer = lookup.query(domain, "MX")
    hosts = [h.host for h in mx_hosts(mx_answer) if h.host != "."]
    uncovered = [h for h in hosts if not any(mx_matches(h, p) for p in policy.mx)]
    evidence.update(
        policy=cut(text, 1024),
        mode=policy.mode,
        max_age=policy.max_age,
        policy_mx=cut_list(policy.mx),
        mx=cut_list(hosts),
        uncovered_mx=uncovered,
    )
    problems = list(policy.problems)
    if policy.mode in ("enforce", "testing", "none") and policy.mode not in params.allowed_modes:
        allowed = either(params.allowed_modes)
        problems.insert(
            0, msg("mail.mta-sts.mode", domain=domain, mode=policy.mode, allowed=allowed)
        )
    if uncovered:
        problems.append(msg("mail.mta-sts.uncovered", hosts=", ".join(uncovered), n=len(uncovered)))
    if (
        policy.max_age is not None
        and policy.max_age.isdigit()
        and int(policy.max_age) < params.min_max_age_days * SECONDS_PER_DAY
    ):
        problems.append(
            msg(
                "mail.mta-sts.short-max-age",
                max_age=policy.max_age,
                n=params.min_max_age_days,
            )
        )
    warnings = []
    if content_type is not None and not content_type.lower().startswith("text/plain"):
        warnings.append(msg("mail.mta-sts.content-type", content_type=content_type))
    evidence["problems"] = cut_list(english(problems))
    if problems:
        return fail(summary(problems), evidence, warnings)
    return outcome(
        FindingStatus.PASS,
        msg(
            "mail.mta-sts.pass",
            domain=domain,
            mode=policy.mode,
            max_age=policy.max_age,
            n=len(hosts),
        ),
        evidence,
        warnings,
    )


# --- mail.tls-rpt ------------------------------------------------------------------------------


@probe("mail.tls-rpt", params=ProbeParams, target=TargetKind.DOMAIN, budget=RECORD_BUDGET)
def tls_rpt(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """TLS-RPT: sending servers report to the school when TLS to its mail servers fails.

    Reads the TXT record at `_smtp._tls.<domain>` (RFC 8460).

    Pass: exactly one record starting with v=TLSRPTv1, with a rua= of mailto: or https: URIs.
    Fail: no record, several, or no valid rua.

    No parameters. Evidence: `record`, `rua`.
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    records = versioned(lookup.query(f"_smtp._tls.{domain}", "TXT"), "TLSRPTv1")
    evidence: dict[str, Any] = {"domain": domain, "record": cut_list(records)}
    if not records:
        return fail(msg("mail.tls-rpt.none", domain=domain), evidence)
    if len(records) > 1:
        return fail(msg("mail.tls-rpt.several", domain=domain, n=len(records)), evidence)
    try:
        tags = tag_list(records[0])
    except RecordError as exc:
        return fail(msg("mail.tls-rpt.invalid", domain=domain, why=exc.said), evidence)
    rua, bad = report_uris(tags.get("rua", ""))
    evidence["rua"] = cut_list(rua)
    if bad or not rua:
        return fail(msg("mail.tls-rpt.no-rua", domain=domain), evidence)
    return outcome(
        FindingStatus.PASS,
        msg("mail.tls-rpt.pass", domain=domain, rua=", ".join(rua)[:200]),
        evidence,
    )
