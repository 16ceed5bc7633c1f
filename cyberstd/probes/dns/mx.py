"""mail.mx: the school's domain receives mail; the MX hosts other mail probes start from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cyberstd.messages import msg
from cyberstd.probes.dns.lookup import (
    DNS_BUDGET,
    MAX_HOSTS,
    DnsAnswer,
    DnsStatus,
    Lookup,
    cut_list,
    outcome,
    show,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

PROVIDERS = (
    (".mail.protection.outlook.com", "Microsoft 365"),
    (".google.com", "Google Workspace"),
    (".googlemail.com", "Google Workspace"),
)


# --- mail.mx -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MxHost:
    preference: int
    host: str


def provider_of(host: str) -> str | None:
    """The mail provider an MX host name belongs to, when it is a well-known one."""
    lowered = "." + host.lower().rstrip(".")
    return next((name for suffix, name in PROVIDERS if lowered.endswith(suffix)), None)


def mx_hosts(answer: DnsAnswer) -> list[MxHost]:
    """The MX hosts by preference (then name); a null MX (RFC 7505) is a host named '.'."""
    hosts = {
        MxHost(int(r.preference), show(r.exchange))  # type: ignore[attr-defined]
        for r in answer.rdatas
    }
    return sorted(hosts, key=lambda mx: (mx.preference, mx.host))


def is_null_mx(hosts: list[MxHost]) -> bool:
    return len(hosts) == 1 and hosts[0].host == "."


@probe("mail.mx", params=ProbeParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET + 2)
def mx(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """The school's own domain receives mail: it has MX records, and every MX host resolves.

    Asks the scan's resolver for the domain's MX records and for the addresses (A, AAAA) of
    each MX host (at most 10).

    Pass: at least one MX record and every MX host has an address. An MX host that is an
    alias (CNAME, forbidden by RFC 2181 section 10.3) passes with a warning.
    Fail: the domain does not exist, has no MX records (mail for the school's addresses is
    then not handled properly, or the staff use other domains), publishes a null MX (RFC 7505:
    the domain accepts no mail), or an MX host does not resolve (mail to it bounces or waits).

    No parameters. Evidence: `mx` (preference, host, addresses, provider when recognised:
    Microsoft 365, Google Workspace).
    """
    lookup = Lookup(ctx)
    domain = target.name
    answer = lookup.query(domain, "MX")
    evidence: dict[str, Any] = {"domain": domain, "mx_records": cut_list(answer.records)}
    if answer.status is DnsStatus.NXDOMAIN:
        return outcome(FindingStatus.FAIL, msg("dns.nxdomain", domain=domain), evidence)
    hosts = mx_hosts(answer)
    if not hosts:
        return outcome(FindingStatus.FAIL, msg("dns.mx.none", domain=domain), evidence)
    if is_null_mx(hosts):
        return outcome(FindingStatus.FAIL, msg("dns.mx.null", domain=domain), evidence)
    rows: list[dict[str, Any]] = []
    unresolvable: list[str] = []
    aliases: list[str] = []
    for entry in hosts[:MAX_HOSTS]:
        try:
            addresses, canonical = lookup.addresses(entry.host)
        except ValueError:
            addresses, canonical = [], entry.host
        row: dict[str, Any] = {
            "preference": entry.preference,
            "host": entry.host,
            "addresses": cut_list(addresses),
            "provider": provider_of(entry.host),
        }
        if canonical.lower() != entry.host.lower():
            row["alias_of"] = canonical
            aliases.append(entry.host)
        rows.append(row)
        if not addresses:
            unresolvable.append(entry.host)
    evidence["mx"] = rows
    if len(hosts) > MAX_HOSTS:
        evidence["mx_not_checked"] = len(hosts) - MAX_HOSTS
    warnings = [msg("dns.mx.alias", n=len(aliases), hosts=", ".join(aliases))] if aliases else []
    if unresolvable:
        dangling = msg(
            "dns.mx.unresolvable", domain=domain, n=len(unresolvable), hosts=", ".join(unresolvable)
        )
        return outcome(FindingStatus.FAIL, dangling, evidence, warnings)
    listed = ", ".join(f"{h.host} ({h.preference})" for h in hosts[:MAX_HOSTS])
    return outcome(
        FindingStatus.PASS, msg("dns.mx.pass", domain=domain, hosts=listed), evidence, warnings
    )
