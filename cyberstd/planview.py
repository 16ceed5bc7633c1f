"""What a scan would do, as data: the hosts and whether scope lets them be probed, the ranges it
would sweep, the ports it would try, the exports it would read, and every check that would give
no verdict, with the reason. Built without sending anything; `plan` prints it, in Dutch or
English (`render`), or as JSON with every sentence in both (`to_json`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from cyberstd.errors import ProbeError, ScopeError
from cyberstd.evidence import covered_by_checks
from cyberstd.i18n import t
from cyberstd.messages import LANGS, Msg
from cyberstd.probes import preview_for, probes
from cyberstd.registry import Preview, ProbeContext, Reach, Said, TargetKind
from cyberstd.runner import Plan, PlanItem, missing_tools
from cyberstd.schema import ProbeKind
from cyberstd.school import authorize


@dataclass(frozen=True)
class HostView:
    name: str
    address: str  # "" when it is resolved at scan time
    roles: tuple[str, ...]
    zone: str | None
    refused: Said | None  # why scope refuses it, or None


@dataclass(frozen=True)
class ItemView:
    check: str
    target: str
    reaches: tuple[Reach, ...]


@dataclass(frozen=True)
class NotJudged:
    check: str
    target: str
    en: str
    nl: str


@dataclass(frozen=True)
class Uncovered:
    """A part of a control that no check of this plan will cover: the attestation answers it."""

    control: str
    part: str
    nl: str
    en: str


@dataclass
class PlanView:
    profile: str
    framework: str
    target_level: int
    controls: int
    hosts: list[HostView] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    items: list[ItemView] = field(default_factory=list)
    ranges: list[tuple[str, Reach]] = field(default_factory=list)
    refused: list[tuple[str, str, Said]] = field(default_factory=list)  # check, target, why
    not_judged: list[NotJudged] = field(default_factory=list)
    notes: list[tuple[str, Said]] = field(default_factory=list)
    excluded: list[tuple[str, str, str]] = field(default_factory=list)
    missing_tools: list[str] = field(default_factory=list)
    attestations_needed: int = 0
    attestations_recorded: int = 0
    uncovered: list[Uncovered] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The plan as data; every sentence in Dutch and English ({"nl": ..., "en": ...})."""

        def reach(r: Reach) -> dict[str, Any]:
            # a note is a word the same in every language ("top 1000", an export kind), or a
            # sentence from the catalog
            note = _both(r.note) if isinstance(r.note, Msg) else r.note
            return {"what": r.what, "ports": list(r.ports), "note": note}

        return {
            "profile": self.profile,
            "framework": self.framework,
            "target_level": self.target_level,
            "controls": self.controls,
            "hosts": [
                {
                    "name": h.name,
                    "address": h.address or None,
                    "roles": list(h.roles),
                    "zone": h.zone,
                    "refused": _both(h.refused) if h.refused is not None else None,
                }
                for h in self.hosts
            ],
            "domains": self.domains,
            "ranges": [{"check": c, **reach(r)} for c, r in self.ranges],
            "checks": [
                {"check": i.check, "target": i.target, "reaches": [reach(r) for r in i.reaches]}
                for i in self.items
            ],
            "refused": [
                {"check": c, "target": target, "reason": _both(r)} for c, target, r in self.refused
            ],
            "not_judged": [
                {"check": n.check, "target": n.target, "reason": {"nl": n.nl, "en": n.en}}
                for n in self.not_judged
            ],
            "notes": [{"check": c, "note": _both(n)} for c, n in self.notes],
            "excluded": [
                {"check": c, "reason": {"nl": nl, "en": en}} for c, en, nl in self.excluded
            ],
            "missing_tools": self.missing_tools,
            "attestations": {
                "needed": self.attestations_needed,
                "recorded": self.attestations_recorded,
                "uncovered_parts": [
                    {"control": u.control, "part": u.part, "title": {"nl": u.nl, "en": u.en}}
                    for u in self.uncovered
                ],
            },
        }


def _say(text: Said, lang: str) -> str:
    """A preview's text in `lang`: a catalog message in that language, plain text as it is."""
    return text.render(lang) if isinstance(text, Msg) else text


def _both(text: Said) -> dict[str, str]:
    return {lang: _say(text, lang) for lang in LANGS}


def _is_range(text: str) -> bool:
    try:
        return "/" in text and bool(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return False


def _preview(item: PlanItem, ctx: ProbeContext) -> Preview:
    assert item.target is not None
    func = preview_for(item.planned.check.probe)
    if func is None:
        return Preview(reaches=(Reach(item.target.address or item.target.name),))
    try:
        return func(item.target, item.planned.params, ctx)
    except (ProbeError, ScopeError) as exc:
        en, others = exc.texts()
        return Preview(not_judged=(en, others.get("nl", en)))


def describe(plan: Plan, ctx: ProbeContext) -> PlanView:
    """The plan as the scan would carry it out on ctx's day, with ctx's scope guards."""
    prof, school = plan.profile, plan.folder.school
    view = PlanView(
        profile=prof.id,
        framework=prof.framework.meta.id,
        target_level=prof.target_level,
        controls=len(prof.controls),
        domains=list(school.domains),
        missing_tools=sorted(missing_tools(plan)),
    )
    refused_hosts: dict[str, Said] = {}
    for host in school.hosts:
        why: Said | None = None
        if host.address is not None:
            try:
                authorize(school, host.name, str(host.address), ctx.today)
            except ScopeError as exc:
                why = exc.said if exc.said is not None else str(exc)
                refused_hosts[host.name] = why
        view.hosts.append(
            HostView(
                host.name,
                str(host.address) if host.address is not None else "",
                tuple(str(r) for r in host.roles),
                host.zone,
                why,
            )
        )
    for item in plan.items:
        if item.target is None:
            reason = item.not_applicable or ""
            view.not_judged.append(
                NotJudged(item.check_id, "-", reason, item.not_applicable_nl or reason)
            )
            continue
        name = item.target.name
        if item.target.kind is TargetKind.HOST and name in refused_hosts:
            view.refused.append((item.check_id, name, refused_hosts[name]))
            continue
        preview = _preview(item, ctx)
        view.refused.extend((item.check_id, t, r) for t, r in preview.refused)
        view.notes.extend((item.check_id, n) for n in preview.notes)
        if preview.not_judged is not None:
            en, nl = preview.not_judged
            view.not_judged.append(NotJudged(item.check_id, name, en, nl))
            continue
        view.items.append(ItemView(item.check_id, name, preview.reaches))
        if probes()[item.planned.check.probe].target is TargetKind.SCHOOL:
            view.ranges.extend((item.check_id, r) for r in preview.reaches if _is_range(r.what))
    view.excluded = [(c, r.en, r.nl) for c, r in prof.excluded_checks.items()]
    judged = {i.check for i in view.items}
    needed: list[str] = []
    for c in prof.controls:
        if c.id in prof.not_applicable:
            continue
        mine = {k for k, p in prof.checks.items() if c.id in p.controls and k in judged}
        cover = covered_by_checks(
            prof.framework.mappings[c.id],
            mine,
            lambda k: probes()[prof.checks[k].check.probe].kind is ProbeKind.CONFIG,
        )
        if cover.attestation_needed:
            needed.append(c.id)
        view.uncovered.extend(
            Uncovered(c.id, p.id, p.title.nl, p.title.en) for p in cover.uncovered
        )
    view.attestations_needed = len(needed)
    view.attestations_recorded = sum(
        1
        for c in needed
        if c in plan.folder.attestations
        and plan.folder.attestations[c].review_by >= ctx.today
        and c not in plan.folder.void
    )
    return view


def _ports(ports: tuple[int, ...]) -> str:
    return ",".join(str(p) for p in ports)


def _reach(r: Reach, lang: str) -> str:
    text = r.what
    if r.ports:
        text += " " + t("plan.ports", lang, n=len(r.ports), ports=_ports(r.ports))
    if r.note:
        text += f" ({_say(r.note, lang)})"
    return text


def render(view: PlanView, lang: str) -> list[str]:
    """The plan as lines of text in `lang` (nl or en)."""
    nl = lang == "nl"
    out = [
        t(
            "plan.profile",
            lang,
            profile=view.profile,
            framework=view.framework,
            level=view.target_level,
            n=view.controls,
        ),
        t("plan.hosts", lang),
    ]
    for h in view.hosts:
        state = (
            t("plan.host.refused", lang, why=_say(h.refused, lang))
            if h.refused is not None
            else t("plan.host.in-scope", lang)
        )
        host = t(
            "plan.host",
            lang,
            name=h.name,
            where=h.address or t("plan.host.resolved-at-scan", lang),
            roles=",".join(h.roles) or "-",
            zone=h.zone or "-",
            state=state,
        )
        out.append(f"  {host}")
    if view.domains:
        out.append(t("plan.domains", lang, domains=", ".join(view.domains)))
    if view.ranges:
        out.append(t("plan.ranges", lang))
        for check, r in view.ranges:
            out.append(f"  {_reach(r, lang)}  [{check}]")
    out.append(t("plan.checks", lang, n=len(view.items)))
    for item in view.items:
        if item.reaches and all(_is_range(r.what) for r in item.reaches):
            reaches = ", ".join(dict.fromkeys(r.what for r in item.reaches))
        else:
            reaches = "; ".join(_reach(r, lang) for r in item.reaches)
        out.append(f"  {item.check:32}  {item.target}: {reaches}")
    if view.refused:
        out.append(t("plan.refused", lang))
        for check, target, reason in view.refused:
            out.append(f"  {check:32}  {target}: {_say(reason, lang)}")
    if view.not_judged:
        out.append(t("plan.not-judged", lang, n=len(view.not_judged)))
        for n in view.not_judged:
            out.append(f"  {n.check:32}  {n.nl if nl else n.en}")
    for check, note in view.notes:
        out.append("  " + t("plan.note", lang, check=check, note=_say(note, lang)))
    for check, en, nl_text in view.excluded:
        out.append(f"  {check:32} " + t("plan.excluded", lang, why=nl_text if nl else en))
    if view.uncovered:
        out.append(t("plan.uncovered", lang))
        for u in view.uncovered:
            out.append(f"  {u.control:6} {u.nl if nl else u.en}")
    out.append(
        t(
            "plan.attestations",
            lang,
            n=view.attestations_needed,
            recorded=view.attestations_recorded,
        )
    )
    return out
