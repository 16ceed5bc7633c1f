"""Plan, execute and evaluate a scan; the single place that catches probe exceptions."""

from __future__ import annotations

import shutil
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from cyberstd import __version__
from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import ProbeError, ScopeError
from cyberstd.evidence import coverage
from cyberstd.explain import why
from cyberstd.kinds import ExportKind
from cyberstd.listing import alternatives
from cyberstd.messages import Msg, both, msg, verbatim
from cyberstd.net.ratelimit import RateLimiter
from cyberstd.net.resolver import Resolver
from cyberstd.probes import probes
from cyberstd.profiles import PlannedCheck, ResolvedProfile, resolve
from cyberstd.registry import ProbeContext, Target, TargetKind
from cyberstd.results import (
    MET,
    AttestationRecord,
    ControlResult,
    ControlStatus,
    ErrorReason,
    Finding,
    FindingStatus,
    FrameworkRef,
    ProbeOutcome,
    Results,
    Run,
    SchoolRef,
    Severity,
    Summary,
    Tool,
    UncoveredPart,
    assessed_score,
    roll_up,
)
from cyberstd.schema import (
    HostDef,
    ProbeKind,
    WaiverDef,
)
from cyberstd.school import SchoolFolder, authorize, authorize_range
from cyberstd.waivers import Effect, check_effect, control_effect
from cyberstd.waivers import record as waiver_record
from cyberstd.waivers import records as waiver_records

DEFAULT_PROFILE = "grip-basis-6"
EFFECTIVE = frozenset({FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.ERROR})


@dataclass(frozen=True)
class PlanItem:
    """One check against one target (or against none, when the school has no such target)."""

    check_id: str
    planned: PlannedCheck
    target: Target | None
    # why there is no target (the school declares no domain, no host with the role)
    no_target: Msg | None = None

    @property
    def finding_id(self) -> str:
        return f"{self.check_id}@{self.target.name}" if self.target else self.check_id

    @property
    def not_applicable(self) -> str | None:
        return self.no_target.render("en") if self.no_target is not None else None

    @property
    def not_applicable_nl(self) -> str | None:
        return self.no_target.render("nl") if self.no_target is not None else None


@dataclass
class Plan:
    profile: ResolvedProfile
    folder: SchoolFolder
    items: list[PlanItem]


def profile_for(folder: SchoolFolder, requested: str | None) -> str:
    return requested or folder.school.profile or DEFAULT_PROFILE


def _target(host: HostDef) -> Target:
    return Target(
        name=host.name,
        address=str(host.address) if host.address is not None else "",
        roles=tuple(str(r) for r in host.roles),
        ports=dict(host.ports),
        allowed_ports=tuple(host.allowed_ports) if host.allowed_ports is not None else None,
        zone=host.zone,
    )


def _targets(folder: SchoolFolder, planned: PlannedCheck) -> tuple[list[Target], Msg | None]:
    """The targets of one check, or none and the reason why."""
    spec = probes()[planned.check.probe]
    school = folder.school
    if spec.target is TargetKind.DOMAIN:
        found = [Target(name=d, kind=TargetKind.DOMAIN) for d in school.domains]
        return found, msg("runner.no-domain")
    if spec.target is TargetKind.SCHOOL:
        return [Target(name=school.school.id, kind=TargetKind.SCHOOL)], None
    roles = (str(planned.check.role),) if planned.check.role else spec.roles
    hosts = [h for h in school.hosts if not roles or any(r in h.roles for r in roles)]
    return [_target(h) for h in hosts], msg("runner.no-host-role", roles=alternatives(roles))


def make_plan(catalog: Catalog, folder: SchoolFolder, profile_id: str | None = None) -> Plan:
    """What would be probed, against which targets. Sends nothing."""
    profile = resolve(catalog, profile_for(folder, profile_id))
    items: list[PlanItem] = []
    for check_id, planned in profile.checks.items():
        targets, why_none = _targets(folder, planned)
        if not targets:
            items.append(PlanItem(check_id, planned, None, why_none))
            continue
        items.extend(PlanItem(check_id, planned, t) for t in targets)
    return Plan(profile, folder, items)


def _resolve_address(target: Target, ctx: ProbeContext) -> Target:
    if target.address or target.kind is not TargetKind.HOST:
        return target
    try:
        return replace(target, address=ctx.resolver.addresses(target.name)[0])
    except ProbeError as exc:
        why = exc.said if exc.said is not None else verbatim(str(exc))
        raise ScopeError(msg("runner.unresolved", name=target.name, why=why)) from None


def _hard_timeout(ctx: ProbeContext, budget: float) -> float:
    # A probe may make several connections, each bounded by ctx.timeout; this bounds the whole probe.
    return ctx.timeout * budget + 2


# The programs a probe may run, how to install them, and where to look for them.
TOOL_INSTALL = {"nmap": "sudo apt-get install nmap"}


def _tool_found(tool: str) -> bool:
    if tool == "nmap":
        from cyberstd.net.nmap import find_nmap

        return find_nmap() is not None
    return shutil.which(tool) is not None


def missing_tools(plan: Plan) -> frozenset[str]:
    """The programs the plan's probes need that are not installed: checked once, before any
    probe runs, so that none of them is started only to fail."""
    needed = {
        spec.tool
        for item in plan.items
        if item.target is not None and (spec := probes()[item.planned.check.probe]).tool is not None
    }
    return frozenset(tool for tool in needed if not _tool_found(tool))


def _error(base: Finding, reason: ErrorReason, said: Msg, **update: object) -> Finding:
    """`base` as an error, its message in every language."""
    return base.model_copy(
        update={
            "status": FindingStatus.ERROR,
            "error_reason": reason,
            "message": said.render("en"),
            "messages": {"nl": said.render("nl")},
            **update,
        }
    )


def _tool_missing(base: Finding, tool: str) -> Finding:
    install = TOOL_INSTALL.get(tool)
    how = verbatim(install) if install else msg("runner.install", tool=tool)
    # said of one check and of the group of checks it stops alike
    return _error(base, ErrorReason.TOOL_MISSING, msg("runner.tool-missing", tool=tool, how=how))


def run_item(
    item: PlanItem,
    ctx: ProbeContext,
    folder: SchoolFolder,
    missing: frozenset[str] = frozenset(),
) -> Finding:
    """Run one plan item and turn whatever happens into a finding; a probe whose program is
    in `missing` (see missing_tools) is not started."""
    check = item.planned.check
    base = item.planned.finding(
        item.finding_id,
        item.check_id,
        item.target.name if item.target else "-",
        FindingStatus.NOT_APPLICABLE,
        item.not_applicable or "",
    )
    if item.target is None:
        if item.no_target is not None:
            base.messages = both(item.no_target)
        return base
    tool = probes()[check.probe].tool
    if tool is not None and tool in missing:
        return _tool_missing(base, tool)
    started = time.monotonic()
    try:
        target = _resolve_address(item.target, ctx)
        if target.kind is TargetKind.HOST:
            authorize(folder.school, target.name, target.address, ctx.today)
    except ScopeError as exc:
        english, others = exc.texts()
        return base.model_copy(
            update={
                "status": FindingStatus.ERROR,
                "error_reason": ErrorReason.SCOPE,
                "message": english,
                "messages": others,
            }
        )
    spec = probes()[check.probe]
    limit = _hard_timeout(ctx, spec.budget)
    box: dict[str, object] = {}

    def call() -> None:
        try:
            box["outcome"] = spec.func(target, item.planned.params, ctx)
        except BaseException as exc:
            box["error"] = exc
            box["trace"] = traceback.format_exc()

    worker = threading.Thread(target=call, name=f"probe {item.finding_id}", daemon=True)
    worker.start()
    worker.join(limit)
    elapsed = int((time.monotonic() - started) * 1000)
    evidence = {"address": target.address} if target.address else {}
    base = base.model_copy(update={"duration_ms": elapsed, "evidence": evidence})
    if worker.is_alive():
        return _error(base, ErrorReason.TIMEOUT, msg("runner.timeout", seconds=f"{limit:.0f}"))
    error = box.get("error")
    if isinstance(error, ProbeError):
        english, others = error.texts()
        return base.model_copy(
            update={
                "status": FindingStatus.ERROR,
                "error_reason": ErrorReason(error.reason),
                "message": english,
                "messages": others,
            }
        )
    if isinstance(error, BaseException):
        crashed = msg("runner.crashed", kind=type(error).__name__, error=str(error))
        return _error(base, ErrorReason.BUG, crashed, error_detail=str(box.get("trace", "")))
    outcome = box["outcome"]
    if not isinstance(outcome, ProbeOutcome):
        returned = msg("runner.returned", kind=type(outcome).__name__)
        return _error(base, ErrorReason.BUG, returned)
    return base.model_copy(
        update={
            "status": outcome.status,
            "message": outcome.message,
            "messages": dict(outcome.messages),
            "evidence": {**base.evidence, **outcome.evidence},
            "warning": outcome.warning,
            "warning_messages": dict(outcome.warning_messages),
        }
    )


def execute(
    plan: Plan,
    ctx: ProbeContext,
    *,
    workers: int = 8,
    on_finding: Callable[[Finding], None] | None = None,
    on_start: Callable[[PlanItem], None] | None = None,
) -> list[Finding]:
    """Run every plan item on a bounded pool; the order of the result follows the plan.
    `on_start` hears of an item as it begins, `on_finding` of its finding (one at a time)."""
    missing = missing_tools(plan)
    results: list[Finding | None] = [None] * len(plan.items)
    lock = threading.Lock()

    def one(index: int) -> None:
        item = plan.items[index]
        if on_start is not None:
            with lock:
                on_start(item)
        finding = run_item(item, ctx, plan.folder, missing)
        results[index] = finding
        if on_finding is not None:
            with lock:
                on_finding(finding)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cyberstd") as pool:
        list(pool.map(one, range(len(plan.items))))
    return [f for f in results if f is not None]


def _active(waiver: WaiverDef, today: date) -> bool:
    return waiver.expires >= today


def evaluate(
    plan: Plan,
    findings: list[Finding],
    *,
    clock: Clock,
    catalog_inputs: dict[str, str] | None = None,
) -> Results:
    """Findings + attestations + waivers -> one status per control, the level reached and a
    score, as of the run's clock."""
    day = clock.today
    folder, profile = plan.folder, plan.profile
    check_waivers = {w.check: w for w in folder.waivers if w.check is not None}
    control_waivers = {w.control: w for w in folder.waivers if w.control is not None}
    school_na = {na.control: na.reason for na in folder.school.not_applicable}
    marked: list[Finding] = []
    for f in findings:
        w = check_waivers.get(f.check)
        if w is not None and _active(w, day) and f.status is FindingStatus.FAIL:
            f = f.model_copy(update={"waived_by": w.approved_by})
        marked.append(f)
    by_control: dict[str, list[Finding]] = {}
    advice: dict[str, list[str]] = {}
    for f in marked:
        for c in f.controls:
            by_control.setdefault(c, []).append(f)
        for c in f.advises:
            advice.setdefault(c, []).append(f.id)
    controls: list[ControlResult] = []
    for control in profile.controls:
        fs = by_control.get(control.id, [])
        att = folder.attestations.get(control.id)
        att_rec = None
        if att is not None:
            att_rec = AttestationRecord(
                answer=att.answer,
                explanation=att.explanation,
                attested_by=att.attested_by,
                date=att.date,
                review_by=att.review_by,
                expired=att.review_by < day,
                evidence=[{"path": e.path, "sha256": e.sha256} for e in att.evidence],
                void=folder.void[control.id].message if control.id in folder.void else None,
            )
        valid_att = (
            att if att_rec is not None and not att_rec.expired and att_rec.void is None else None
        )
        answer = valid_att.answer if valid_att is not None else None
        na_reason: dict[str, str] | None = None
        if control.id in profile.not_applicable:
            text = profile.not_applicable[control.id]
            na_reason = {"nl": text.nl, "en": text.en}
        elif control.id in school_na:
            na_reason = dict.fromkeys(("nl", "en"), school_na[control.id])
        elif valid_att is not None and answer == "not_applicable":
            na_reason = dict.fromkeys(("nl", "en"), valid_att.explanation)
        effective = [f for f in fs if f.status in EFFECTIVE]
        cover = coverage(
            profile.framework.mappings[control.id], effective, lambda f: _is_config(profile, f)
        )
        need_att = cover.attestation_needed
        missing = (need_att and valid_att is None) or (not effective and valid_att is None)

        underlying = roll_up(
            not_applicable=na_reason is not None,
            findings=[f.status for f in fs],
            answer=answer,
            evidence_missing=missing,
        )
        status, kept_underlying = underlying, None
        waiver = control_waivers.get(control.id)
        effect: Effect | None = (
            control_effect(waiver, underlying, day) if waiver is not None else None
        )
        if effect is not None and effect.applied:
            status, kept_underlying = ControlStatus.WAIVED, underlying
        elif underlying is ControlStatus.NON_COMPLIANT and any(f.waived_by for f in fs):
            unwaived = roll_up(
                not_applicable=False,
                findings=[FindingStatus.PASS if f.waived_by else f.status for f in fs],
                answer=answer,
                evidence_missing=missing,
            )
            if unwaived is not ControlStatus.NON_COMPLIANT:
                status = ControlStatus.WAIVED if unwaived is ControlStatus.COMPLIANT else unwaived
                kept_underlying = underlying
                waiver = next(check_waivers[f.check] for f in fs if f.waived_by)
                effect = check_effect(waiver, [f for f in fs if f.check == waiver.check], day)
        if waiver is None:
            waiver = next((check_waivers[f.check] for f in fs if f.check in check_waivers), None)
            if waiver is not None:
                effect = check_effect(waiver, [f for f in fs if f.check == waiver.check], day)
        result = ControlResult(
            id=control.id,
            level=control.level,
            type=control.type,
            title={"nl": control.title.nl, "en": control.title.en},
            status=status,
            underlying_status=kept_underlying,
            reason="",
            finding_ids=[f.id for f in fs],
            advice_ids=advice.get(control.id, []),
            attestation=att_rec,
            waiver=waiver_record(waiver, effect, day)
            if waiver is not None and effect is not None
            else None,
            not_applicable_reason=na_reason,
            uncovered_parts=[
                UncoveredPart(id=p.id, title={"nl": p.title.nl, "en": p.title.en})
                for p in cover.uncovered
            ],
        )
        controls.append(result.model_copy(update={"reason": why(result, fs, "en")}))
    finished = clock.finished()
    return Results(
        tool=Tool(version=__version__),
        run=Run(
            id=f"{clock.started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
            started=clock.started,
            finished=finished,
            as_of=clock.today if clock.as_of else None,
            profile=profile.id,
            framework=FrameworkRef(
                id=profile.framework.meta.id, version=profile.framework.meta.version
            ),
            inputs={**(catalog_inputs or {}), **folder.inputs},
        ),
        school=SchoolRef(
            id=folder.school.school.id,
            name=folder.school.school.name,
            folder=folder.dir.resolve().name,
        ),
        summary=_summary(profile, controls, marked),
        controls=controls,
        findings=marked,
        waivers=waiver_records(folder, controls, marked, day),
    )


def _is_config(profile: ResolvedProfile, finding: Finding) -> bool:
    planned = profile.checks.get(finding.check)
    spec = probes().get(planned.check.probe) if planned is not None else None
    return spec is not None and spec.kind is ProbeKind.CONFIG


def _summary(
    profile: ResolvedProfile, controls: list[ControlResult], findings: list[Finding]
) -> Summary:
    reached = 0
    for level in sorted(profile.framework.levels):
        if level > profile.target_level:
            break
        if all(c.status in MET for c in controls if c.level == level):
            reached = level
        else:
            break
    counts = Counter(c.status for c in controls)
    score = assessed_score(controls)
    return Summary(
        target_level=profile.target_level,
        level_reached=reached,
        score=score,
        counts={s: counts.get(s, 0) for s in ControlStatus},
        finding_counts={s: sum(1 for f in findings if f.status is s) for s in FindingStatus},
    )


def context_for(
    folder: SchoolFolder,
    *,
    ca_bundle: Path | None = None,
    timeout: float | None = None,
    max_rate: float | None = None,
    resolver: Resolver | None = None,
    clock: Clock,
    kinds: dict[str, ExportKind] | None = None,
    run_scope: str | None = None,
    per_target_rate: float | None = None,
    across_rate: float | None = None,
) -> ProbeContext:
    """The probe context from school.yaml's network settings, with command-line overrides.
    In a group run (`run_scope`, its id) the scans of the run share DNS answers
    (net/resolver.py) and the connection limits per target address and across the run
    (net/ratelimit.py)."""
    net = folder.school.network
    school = folder.school
    seconds = timeout or net.timeout
    bundle = ca_bundle or (folder.resolve(net.ca_bundle) if net.ca_bundle else None)
    if resolver is None:
        resolver = (
            Resolver(str(net.resolver.address), net.resolver.port, seconds, run_scope)
            if net.resolver is not None
            else Resolver(timeout=seconds, cache_scope=run_scope)
        )
    day = clock.today
    return ProbeContext(
        timeout=seconds,
        ca_bundle=bundle,
        resolver=resolver,
        guard=lambda name, address: authorize(school, name, address, day),
        guard_range=lambda cidr: authorize_range(school, cidr, day),
        limiter=RateLimiter(
            max_rate or net.max_rate,
            scope=run_scope,
            per_target=per_target_rate,
            across=across_rate,
        ),
        school=school,
        school_dir=folder.dir,
        exports=folder.export_store(kinds or {}),
        clock=clock,
    )


def severity_rank(finding: Finding) -> int:
    return Severity(finding.severity).rank
