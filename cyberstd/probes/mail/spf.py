"""SPF of a school's domain (`mail.spf`): one valid record says which servers may send its
mail, walked the way a receiving server evaluates it.

The record's syntax is parsed in `spfrecord`. The MX records themselves are `mail.mx`, with the
other DNS checks in `cyberstd.probes.dns`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.dns.lookup import DnsStatus, Lookup, cut, cut_list
from cyberstd.probes.mail.records import either, english, fail, outcome, summary, unique
from cyberstd.probes.mail.spfrecord import (
    SpfRecord,
    SpfSyntaxError,
    SpfTerm,
    is_spf,
    parse_spf,
)
from cyberstd.registry import ProbeContext, ProbeParams, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome

# Time budget, in multiples of the scan's timeout (see `registry.probe`).
SPF_BUDGET = 8.0

# RFC 7208 section 4.6.4: the limits on DNS look-ups while evaluating one SPF record.
SPF_LOOKUP_LIMIT = 10
SPF_VOID_LIMIT = 2
# Past this many look-ups the walk stops: the verdict is long known, and it bounds the work.
SPF_WALK_CAP = 30
# RFC 7208 section 4.6.4: an mx mechanism may name at most 10 hosts.
SPF_MX_LIMIT = 10

_SPF_LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists"})


@dataclass
class _SpfWalk:
    """The state of one evaluation-like walk through an SPF record and its includes."""

    lookup: Lookup
    lookups: int = 0
    voids: int = 0
    capped: bool = False
    problems: list[Msg] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)
    visited: list[dict[str, str]] = field(default_factory=list)

    def spf_of(self, domain: str, via: str) -> SpfRecord | None:
        """The one SPF record of an included or redirected-to domain; problems when not."""
        answer = self.lookup.query(domain, "TXT")
        records = [t for t in answer.texts() if is_spf(t)]
        if not records:
            if answer.void:
                self.voids += 1
            self.problems.append(msg("mail.spf.include-no-record", via=via, domain=domain))
            return None
        if len(records) > 1:
            self.problems.append(
                msg("mail.spf.include-several", via=via, domain=domain, n=len(records))
            )
            return None
        if len(self.visited) < 50:
            self.visited.append({"domain": domain, "via": via, "record": cut(records[0], 1024)})
        try:
            return parse_spf(records[0])
        except SpfSyntaxError as exc:
            self.problems.append(
                msg("mail.spf.include-invalid", domain=domain, via=via, why=exc.said)
            )
            return None

    def count(self, term: SpfTerm) -> bool:
        """Count one DNS-querying term; False once the walk has gone far enough."""
        self.lookups += 1
        if self.lookups > SPF_WALK_CAP:
            self.capped = True
        return not self.capped

    def query_term(self, term: SpfTerm, domain: str) -> None:
        """Ask what an a, mx or exists term asks, to count void look-ups."""
        if term.has_macro:
            return
        target = term.domain or domain
        if term.name == "mx":
            answer = self.lookup.query(target, "MX")
            if len(answer.rdatas) > SPF_MX_LIMIT:
                self.problems.append(
                    msg(
                        "mail.spf.mx-too-many",
                        target=target,
                        n=len(answer.rdatas),
                        limit=SPF_MX_LIMIT,
                    )
                )
            void = answer.void
        elif term.name == "a":
            void = self.lookup.query(target, "A").void and self.lookup.query(target, "AAAA").void
        else:
            void = self.lookup.query(target, "A").void
        if void:
            self.voids += 1
            self.warnings.append(msg("mail.spf.void", name=term.name, target=target))

    def walk(self, domain: str, record: SpfRecord, chain: tuple[str, ...]) -> SpfTerm | None:
        """Walk `record` of `domain`; return the `all` that ends it (through redirect=)."""
        for term in record.mechanisms:
            if term.name not in _SPF_LOOKUP_TERMS:
                continue
            if not self.count(term):
                return record.all
            if term.name == "ptr":
                self.warnings.append(msg("mail.spf.ptr"))
            elif term.name == "include":
                self.include(term, chain)
            else:
                self.query_term(term, domain)
        if record.all is not None:
            if record.redirect is not None:
                self.warnings.append(msg("mail.spf.redirect-ignored", domain=domain))
            return record.all
        if record.redirect is None or not self.count(record.redirect):
            return None
        target = record.redirect.domain or ""
        if record.redirect.has_macro:
            self.warnings.append(msg("mail.spf.macro-not-followed", term=f"redirect={target}"))
            return None
        if target in chain:
            self.problems.append(_loop("redirect", (*chain, target)))
            return None
        followed = self.spf_of(target, "redirect")
        if followed is None:
            return None
        return self.walk(target, followed, (*chain, target))

    def include(self, term: SpfTerm, chain: tuple[str, ...]) -> None:
        target = term.domain or ""
        if term.has_macro:
            self.warnings.append(msg("mail.spf.macro-not-followed", term=f"include:{target}"))
            return
        if target in chain:
            self.problems.append(_loop("include", (*chain, target)))
            return
        included = self.spf_of(target, "include")
        if included is None:
            return
        ending = self.walk(target, included, (*chain, target))
        if ending is not None and ending.qualifier in ("", "+"):
            self.problems.append(msg("mail.spf.include-plus-all", target=target))


def _loop(kind: str, chain: tuple[str, ...]) -> Msg:
    return msg("mail.spf.loop", kind=kind, chain=" -> ".join(chain))


class SpfParams(ProbeParams):
    allowed_all: list[Literal["-all", "~all"]] = Field(
        default=["-all", "~all"],
        min_length=1,
        description="How the record may end: -all (reject) and/or ~all (soft fail).",
    )
    max_lookups: int = Field(default=SPF_LOOKUP_LIMIT, ge=1, le=SPF_LOOKUP_LIMIT)
    max_void_lookups: int = Field(default=SPF_VOID_LIMIT, ge=0, le=SPF_VOID_LIMIT)


@probe("mail.spf", params=SpfParams, target=TargetKind.DOMAIN, budget=SPF_BUDGET)
def spf(target: Target, params: SpfParams, ctx: ProbeContext) -> ProbeOutcome:
    """The domain says, with one valid SPF record, which servers may send its mail.

    Reads the TXT records of the domain, takes the one starting with `v=spf1`, parses it
    (RFC 7208) and walks it the way a receiving server evaluates it: it follows include: and
    redirect= (with loop detection) and counts the terms that cost a DNS look-up (include, a,
    mx, ptr, exists, redirect), through every nested include. The a, mx and exists terms are
    looked up too, to count void look-ups (names that answer nothing). Terms with macros are
    counted but not followed.

    Pass: exactly one SPF record, valid syntax, at most `max_lookups` DNS-querying terms and
    at most `max_void_lookups` void look-ups, and it ends in one of `allowed_all` (directly or
    through redirect=).
    Fail: no SPF record or more than one; a syntax error (unknown mechanism, bad address,
    bad domain); an include or redirect to a domain without (exactly one valid) SPF record;
    an include or redirect loop; too many look-ups or void look-ups; `+all` or a bare `all`
    (the whole internet may send as the school), also inside an include; `?all`, no `all` at
    all, or an ending not in `allowed_all`.

    Parameters: `allowed_all` (default [-all, ~all]), `max_lookups` (default 10, the RFC's
    limit), `max_void_lookups` (default 2).
    Evidence: `spf` (the record), `txt_count`, `lookups`, `void_lookups`, `ends_with`,
    `includes` (each followed record), `problems`.
    """
    lookup = Lookup(ctx, budget=SPF_BUDGET)
    domain = target.name.rstrip(".").lower()
    answer = lookup.query(domain, "TXT")
    texts = answer.texts()
    records = [t for t in texts if is_spf(t)]
    evidence: dict[str, Any] = {
        "domain": domain,
        "txt_count": len(texts),
        "spf": cut_list(records),
        "allowed_all": list(params.allowed_all),
    }
    if answer.status is DnsStatus.NXDOMAIN:
        return fail(msg("mail.spf.nxdomain", domain=domain), evidence)
    if not records:
        return fail(msg("mail.spf.none", domain=domain), evidence)
    if len(records) > 1:
        return fail(msg("mail.spf.several", domain=domain, n=len(records)), evidence)
    try:
        record = parse_spf(records[0])
    except SpfSyntaxError as exc:
        return fail(msg("mail.spf.invalid", domain=domain, why=exc.said), evidence)
    walk = _SpfWalk(lookup)
    ending = walk.walk(domain, record, (domain,))
    lookups = (
        msg("mail.spf.lookups-capped", n=SPF_WALK_CAP)
        if walk.capped
        else verbatim(str(walk.lookups))
    )
    ends_with = f"{ending.qualifier or '+'}all" if ending is not None else None
    evidence.update(
        lookups=walk.lookups if not walk.capped else f">{SPF_WALK_CAP}",
        max_lookups=params.max_lookups,
        void_lookups=walk.voids,
        ends_with=ends_with,
        includes=walk.visited[:20],
    )
    problems = list(walk.problems)
    if walk.lookups > params.max_lookups:
        problems.insert(
            0,
            msg(
                "mail.spf.too-many-lookups",
                domain=domain,
                lookups=lookups,
                limit=params.max_lookups,
            ),
        )
    if walk.voids > params.max_void_lookups:
        problems.append(msg("mail.spf.too-many-voids", n=walk.voids, limit=params.max_void_lookups))
    if ends_with in ("+all",):
        qualifier = ending.qualifier if ending else ""
        problems.insert(0, msg("mail.spf.plus-all", domain=domain, qualifier=qualifier))
    elif ends_with is None:
        problems.append(msg("mail.spf.no-all", domain=domain))
    elif ends_with not in params.allowed_all:
        problems.append(
            msg(
                "mail.spf.wrong-all",
                domain=domain,
                ends_with=ends_with,
                allowed=either(params.allowed_all),
            )
        )
    warnings = unique(walk.warnings)
    if record.after_all:
        warnings.append(msg("mail.spf.after-all", terms=" ".join(record.after_all)[:200]))
    evidence["problems"] = cut_list(english(problems))
    if problems:
        return fail(summary(problems), evidence, warnings)
    return outcome(
        FindingStatus.PASS,
        msg(
            "mail.spf.pass",
            domain=domain,
            ends_with=ends_with,
            lookups=walk.lookups,
            limit=params.max_lookups,
        ),
        evidence,
        warnings,
    )
