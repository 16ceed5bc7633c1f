"""STARTTLS on every MX of a school's domain (`mail.starttls`): the judgement over all MX
addresses. The SMTP session itself (banner, EHLO, QUIT) is `probe_smtp` in
`cyberstd.net.starttls`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import Field

from cyberstd.errors import ConnectivityError, ProbeError, ProbeTimeout, ProtocolError, ScopeError
from cyberstd.messages import Msg, msg, verbatim
from cyberstd.net.starttls import probe_smtp
from cyberstd.probes.dns.lookup import Lookup, cut, cut_list
from cyberstd.probes.dns.mx import MxHost, is_null_mx, mx_hosts
from cyberstd.probes.mail.records import RECORD_BUDGET, clipped, fail, outcome
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# Time budget, in multiples of the scan's timeout (see `registry.probe`).
STARTTLS_BUDGET = 8.0

# All MX addresses are probed at once, so the probe takes as long as the slowest; the cap
# keeps that one round and spares the mail provider a crowd of connections.
MAX_SMTP_ADDRESSES = 8
# Addresses probed per MX host: enough to see a server farm's behaviour, not all of it.
MAX_ADDRESSES_PER_HOST = 4


class StartTlsParams(ProbeParams):
    port: int = Field(
        default=25, ge=1, le=65535, description="The SMTP port of the MX hosts (25; tests)."
    )


@dataclass
class _SmtpCheck:
    host: str
    address: str
    status: str = "not probed"
    banner: str | None = None
    capabilities: tuple[str, ...] = ()
    error: ProbeError | None = None
    port: int | None = None  # when school.yaml declares another SMTP port than the check's

    def evidence(self) -> dict[str, Any]:
        row: dict[str, Any] = {"host": self.host, "address": self.address, "status": self.status}
        if self.port is not None:
            row["port"] = self.port
        if self.banner is not None:
            row["banner"] = cut(self.banner, 1024)
            row["capabilities"] = cut_list(self.capabilities)
        if self.error is not None:
            row["error"] = cut(str(self.error), 500)
        return row


def _smtp_port(ctx: ProbeContext, host: str, default: int) -> int:
    """The SMTP port of an MX host: the one school.yaml declares for it (`ports: {smtp: N}`),
    as the TLS checks use it, else the check's port (25)."""
    school = ctx.school
    if school is not None:
        for declared in school.hosts:
            if declared.name == host.rstrip(".").lower() and "smtp" in declared.ports:
                return declared.ports["smtp"]
    return default


def _probe_one(check: _SmtpCheck, port: int, ctx: ProbeContext) -> None:
    ctx.limiter.acquire(check.address)
    try:
        info = probe_smtp(check.address, port, timeout=ctx.timeout)
    except ProbeError as exc:
        check.status, check.error = "error", exc
        return
    check.banner, check.capabilities = info.banner, info.capabilities
    check.status = "offered" if info.starttls_offered else "not offered"


def _mx_addresses(lookup: Lookup, host: MxHost) -> list[str]:
    addresses, _ = lookup.addresses(host.host)
    ipv4 = [a for a in addresses if ":" not in a]
    # IPv4 where there is one: a vantage point without IPv6 would otherwise fail every host.
    return (ipv4 or addresses)[:MAX_ADDRESSES_PER_HOST]


@probe("mail.starttls", params=StartTlsParams, target=TargetKind.DOMAIN, budget=STARTTLS_BUDGET)
def starttls(target: Target, params: StartTlsParams, ctx: ProbeContext) -> ProbeOutcome:
    """Every mail server of the domain offers STARTTLS, so mail to the school can travel encrypted.

    Resolves the MX hosts (at most 10) and their addresses with the scan's resolver (IPv4
    addresses when a host has them, else IPv6; at most 4 per host). Each address must pass
    the scope guard: one outside the authorised scope is not connected to and is listed as
    "not probed". The others (at most 8) are probed at the same time: banner, EHLO, and
    whether the EHLO answer lists STARTTLS; then QUIT (STARTTLS itself and the certificate
    are the TLS checks' work).

    Pass: every probed address offers STARTTLS (addresses not probed are listed in a
    warning).
    Fail: an address does not offer STARTTLS (mail to it travels in plain text).
    Not applicable: the domain has no MX (mail.mx reports that), or no MX address is in scope.
    An address that cannot be judged (refused, timeout, garbage) makes the probe report an
    error, unless another address already fails.

    Parameters: `port` (default 25).
    Evidence: `mx` (one entry per address: host, address, status offered / not offered /
    error / not probed, banner, capabilities, error).
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    answer = lookup.query(domain, "MX")
    hosts = mx_hosts(answer)
    evidence: dict[str, Any] = {"domain": domain, "port": params.port}
    if not hosts or is_null_mx(hosts):
        evidence["mx_records"] = cut_list(answer.records)
        return outcome(
            FindingStatus.NOT_APPLICABLE, msg("mail.starttls.no-mx", domain=domain), evidence
        )
    checks: list[_SmtpCheck] = []
    unresolvable: list[str] = []
    for host in hosts[:10]:
        try:
            addresses = _mx_addresses(lookup, host)
        except ValueError:
            addresses = []
        if not addresses:
            unresolvable.append(host.host)
        for address in addresses:
            check = _SmtpCheck(host.host, address)
            try:
                ctx.guard(host.host, address)
            except ScopeError as exc:
                check.status = "not probed: outside scope"
                evidence.setdefault("scope", []).append(cut(str(exc), 300))
            checks.append(check)
    to_probe = [c for c in checks if c.status == "not probed"]
    for check in to_probe[MAX_SMTP_ADDRESSES:]:
        check.status = "not probed: over the limit"
    to_probe = to_probe[:MAX_SMTP_ADDRESSES]
    if to_probe:
        with ThreadPoolExecutor(max_workers=len(to_probe)) as pool:
            ports = [_smtp_port(ctx, c.host, params.port) for c in to_probe]
            futures = [
                pool.submit(_probe_one, c, n, ctx) for c, n in zip(to_probe, ports, strict=True)
            ]
            for future in futures:
                future.result()
            for c, n in zip(to_probe, ports, strict=True):
                if n != params.port:
                    c.port = n
    evidence["mx"] = [c.evidence() for c in checks]
    if unresolvable:
        evidence["unresolvable"] = unresolvable
    skipped = [f"{c.host} ({c.address})" for c in checks if c.status.endswith("outside scope")]
    warnings: list[Msg] = []
    if skipped:
        warnings.append(msg("mail.starttls.outside-scope", servers=", ".join(skipped)))
    over = [f"{c.host} ({c.address})" for c in checks if c.status.endswith("over the limit")]
    if over:
        warnings.append(
            msg("mail.starttls.over-limit", limit=MAX_SMTP_ADDRESSES, servers=", ".join(over))
        )
    if unresolvable:
        warnings.append(
            msg("mail.starttls.no-address", hosts=", ".join(unresolvable), n=len(unresolvable))
        )
    missing = [c for c in checks if c.status == "not offered"]
    if missing:
        listed = ", ".join(f"{c.host} ({c.address})" for c in missing)
        said = msg("mail.starttls.missing", domain=domain, servers=listed, n=len(missing))
        return fail(said, evidence, warnings)
    errors = [c for c in checks if c.status == "error"]
    if errors:
        _cannot_judge(domain, errors)
    offered = [c for c in checks if c.status == "offered"]
    if not offered:
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            msg("mail.starttls.none-in-scope", domain=domain)
            if skipped
            else msg("mail.starttls.none-resolves", domain=domain),
            evidence,
            warnings,
        )
    listed = ", ".join(sorted({c.host for c in offered}))
    return outcome(
        FindingStatus.PASS,
        msg("mail.starttls.pass", domain=domain, hosts=listed),
        evidence,
        warnings,
    )


def _cannot_judge(domain: str, errors: list[_SmtpCheck]) -> NoReturn:
    """Raise the error of the first address that could not be judged, naming them all."""
    parts = [
        msg(
            "mail.starttls.error-at",
            host=c.host,
            address=c.address,
            error=c.error.said if c.error is not None and c.error.said else verbatim(str(c.error)),
        )
        for c in errors
    ]
    detail = clipped(msg("mail.joined", items=parts), 600)
    message = msg("mail.starttls.cannot-judge", domain=domain, detail=detail)
    first = errors[0].error
    if isinstance(first, ProbeTimeout):
        raise ProbeTimeout(message)
    if isinstance(first, ConnectivityError):
        raise ConnectivityError(message)
    raise ProtocolError(message)
