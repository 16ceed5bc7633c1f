"""dns.caa: CAA records say which certificate authorities may issue for the domain."""

from __future__ import annotations

from typing import Any

import dns.rdata

from cyberstd.messages import msg
from cyberstd.probes.dns.lookup import DNS_BUDGET, Lookup, cut_list, domain_name, outcome, show
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# --- dns.caa -----------------------------------------------------------------------------------


def _caa_value(rdata: dns.rdata.Rdata) -> tuple[int, str, str]:
    return (
        int(rdata.flags),  # type: ignore[attr-defined]
        rdata.tag.decode("ascii", "backslashreplace").lower(),  # type: ignore[attr-defined]
        rdata.value.decode("utf-8", "backslashreplace"),  # type: ignore[attr-defined]
    )


_KNOWN_CAA_TAGS = frozenset({"issue", "issuewild", "iodef", "issuemail", "issuevmc"})


@probe("dns.caa", params=ProbeParams, target=TargetKind.DOMAIN, budget=DNS_BUDGET)
def caa(target: Target, params: ProbeParams, ctx: ProbeContext) -> ProbeOutcome:
    """CAA records say which certificate authorities may issue certificates for the domain.

    Looks for CAA records at the domain and, when it has none, at its parent domains (not
    the top-level domain), as certificate authorities do (RFC 8659 section 3).

    Pass: the relevant CAA set has at least one `issue` or `issuewild` property (an empty
    value, `;`, means no authority may issue: that passes too). An unknown property marked
    critical passes with a warning, because authorities must then refuse to issue.
    Fail: no CAA records, or only properties that restrict nothing (e.g. only `iodef`).

    No parameters. Evidence: `found_at`, `caa` (the records), `issuers`, `wildcard_issuers`,
    `iodef`.
    """
    lookup = Lookup(ctx)
    domain = target.name
    name = domain_name(domain)
    evidence: dict[str, Any] = {"domain": domain}
    answer = lookup.query(name, "CAA")
    while answer.void and len(name.labels) > 3:
        name = name.parent()
        answer = lookup.query(name, "CAA")
    if answer.void:
        evidence["caa"] = []
        return outcome(FindingStatus.FAIL, msg("dns.caa.none", domain=domain), evidence)
    values = [_caa_value(r) for r in answer.rdatas]
    issuers = [v.split(";", 1)[0].strip() for _, tag, v in values if tag == "issue"]
    wild = [v.split(";", 1)[0].strip() for _, tag, v in values if tag == "issuewild"]
    evidence.update(
        found_at=show(name),
        caa=cut_list(answer.records),
        issuers=cut_list(issuers),
        wildcard_issuers=cut_list(wild),
        iodef=cut_list(v for _, tag, v in values if tag == "iodef"),
    )
    critical = sorted(
        {tag for flags, tag, _ in values if flags & 128 and tag not in _KNOWN_CAA_TAGS}
    )
    warnings = (
        [msg("dns.caa.critical", n=len(critical), tags=", ".join(critical))] if critical else []
    )
    where = "" if show(name) == domain else msg("dns.caa.inherited", parent=show(name))
    if not issuers and not wild:
        no_issue = msg("dns.caa.no-issue", domain=domain, where=where)
        return outcome(FindingStatus.FAIL, no_issue, evidence, warnings)
    allowed = [i for i in issuers + wild if i]
    allows = (
        msg("dns.caa.allow", domain=domain, where=where, issuers=", ".join(sorted(set(allowed))))
        if allowed
        else msg("dns.caa.allow-none", domain=domain, where=where)
    )
    return outcome(FindingStatus.PASS, allows, evidence, warnings)
