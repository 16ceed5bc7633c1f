"""dns.soa-ns: the domain is a DNS zone of its own, with working name servers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cyberstd.messages import Msg, msg
from cyberstd.probes.dns.lookup import (
    DNS_BUDGET,
    MAX_HOSTS,
    DnsStatus,
    Lookup,
    cut_list,
    outcome,
    show,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# --- dns.soa-ns --------------------------------------------------------------------------------


class SoaNsParams(ProbeParams):
    min_ns: int = Field(
        default=1,
        ge=1,
        le=MAX_HOSTS,
        description="The fewest resolvable name servers that pass; fewer than two warns.",
    )


@probe("dns.soa-ns", params=SoaNsParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET + 2)
def soa_ns(target: Target, params: SoaNsParams, ctx: ProbeContext) -> ProbeOutcome:
    """The domain is a DNS zone of its own, with an SOA record and working name servers.

    Asks the scan's resolver for the domain's SOA and NS records, then for the addresses (A,
    AAAA) of each name server (at most 10). A name server counts as working when its name
    resolves; the name servers themselves are not queried, since they usually lie outside
    the scope the school authorised.

    Pass: an SOA record at the domain and at least `min_ns` name servers that resolve; with
    only one the check passes with a warning (RFC 1034 and most registries, DNS Belgium
    included, ask for at least two on separate networks).
    Fail: the domain does not exist, has no SOA of its own (it is part of another zone), has
    no NS records, or fewer than `min_ns` of them resolve.

    Parameters: `min_ns` (default 1; set 2 to make a single name server a failure).
    Evidence: `soa`, `ns`, `ns_addresses` (name -> addresses) and `ns_unresolvable`.
    """
    lookup = Lookup(ctx)
    domain = target.name
    soa = lookup.query(domain, "SOA")
    evidence: dict[str, Any] = {"domain": domain, "soa": cut_list(soa.records)}
    if soa.status is DnsStatus.NXDOMAIN:
        return outcome(FindingStatus.FAIL, msg("dns.nxdomain", domain=domain), evidence)
    if soa.void:
        return outcome(FindingStatus.FAIL, msg("dns.soa-ns.no-soa", domain=domain), evidence)
    ns = lookup.query(domain, "NS")
    hosts = sorted({show(rdata.target) for rdata in ns.rdatas})  # type: ignore[attr-defined]
    evidence["ns"] = cut_list(hosts)
    if not hosts:
        return outcome(FindingStatus.FAIL, msg("dns.soa-ns.no-ns", domain=domain), evidence)
    resolved: dict[str, list[str]] = {}
    unresolvable: list[str] = []
    for host in hosts[:MAX_HOSTS]:
        try:
            addresses, _ = lookup.addresses(host)
        except ValueError:
            addresses = []
        if addresses:
            resolved[host] = cut_list(addresses)
        else:
            unresolvable.append(host)
    evidence.update(ns_addresses=resolved, ns_unresolvable=unresolvable, min_ns=params.min_ns)
    warnings: list[Msg] = []
    if unresolvable:
        warnings.append(
            msg("dns.soa-ns.unresolvable", n=len(unresolvable), hosts=", ".join(unresolvable))
        )
    if len(resolved) < params.min_ns:
        too_few = msg("dns.soa-ns.too-few", domain=domain, n=len(resolved), minimum=params.min_ns)
        return outcome(FindingStatus.FAIL, too_few, evidence, warnings)
    if len(resolved) < 2:
        warnings.insert(0, msg("dns.soa-ns.single"))
    return outcome(
        FindingStatus.PASS,
        msg("dns.soa-ns.pass", domain=domain, n=len(resolved), hosts=", ".join(resolved)),
        evidence,
        warnings,
    )
