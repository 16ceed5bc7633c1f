"""What each probe would touch, found without sending anything: `plan` shows it.

Every preview reuses the function its probe runs to pick targets (the ports of
`ports.exposed-services`, the ranges of a segmentation rule, the zones of the device sweep), so
that the plan and the scan cannot drift apart.
"""

from __future__ import annotations

from cyberstd.messages import Msg, msg
from cyberstd.probes.config import no_export
from cyberstd.probes.ports import (
    ExposedParams,
    OutdatedParams,
    UndeclaredParams,
    risky_ports,
    version_ports,
)
from cyberstd.probes.segmentation import (
    ForbiddenParams,
    NotProbed,
    UnknownDevicesParams,
    rule_targets,
    sweep_targets,
)
from cyberstd.registry import Preview, ProbeContext, Reach, Said, Target, preview_of
from cyberstd.rules.engine import RuleParams


def _refused(not_probed: list[NotProbed]) -> tuple[tuple[str, Said], ...]:
    return tuple((n.target, msg("plan.outside-scope", why=n.why)) for n in not_probed)


def _said(said: Msg) -> tuple[str, str]:
    """Why a check gives no verdict, as a preview holds it: (English, Dutch)."""
    return said.render("en"), said.render("nl")


@preview_of("config.rule")
def config_preview(target: Target, params: RuleParams, ctx: ProbeContext) -> Preview:
    kinds = params.kinds()
    files = [f for kind in kinds for f in (ctx.exports.of_kind(kind) if ctx.exports else [])]
    if not files:
        return Preview(not_judged=_said(no_export(kinds)))
    return Preview(reaches=tuple(Reach(f.display, note=f.kind) for f in files))


@preview_of("ports.exposed-services")
def exposed_preview(target: Target, params: ExposedParams, ctx: ProbeContext) -> Preview:
    return Preview(reaches=(Reach(target.address, tuple(sorted(risky_ports(target, params)))),))


@preview_of("ports.undeclared")
def undeclared_preview(target: Target, params: UndeclaredParams, ctx: ProbeContext) -> Preview:
    if params.ports:
        return Preview(reaches=(Reach(target.address, tuple(sorted(set(params.ports)))),))
    return Preview(reaches=(Reach(target.address, note=f"top {params.top_ports}"),))


@preview_of("software.outdated")
def outdated_preview(target: Target, params: OutdatedParams, ctx: ProbeContext) -> Preview:
    return Preview(reaches=(Reach(target.address, version_ports(target, params)),))


@preview_of("segmentation.forbidden-reachable")
def segmentation_preview(target: Target, params: ForbiddenParams, ctx: ProbeContext) -> Preview:
    school = ctx.school
    vantage = school.network.vantage_zone if school is not None else None
    if school is None or vantage is None:
        return Preview(not_judged=_said(msg("segmentation.no-vantage")))
    reaches: list[Reach] = []
    refused: list[NotProbed] = []
    skipped: list[Msg] = []
    notes: list[Msg] = []
    for rule in params.rules:
        record, targets, not_probed, why_not, left_out = rule_targets(
            rule, school, vantage, ctx, params.max_sweep_addresses
        )
        refused.extend(not_probed)
        ports = tuple(record["ports"])
        note = f"{rule.from_zone} -> {rule.to_zone}"
        reaches.extend(Reach(str(t), ports, note) for t in targets)
        notes.extend(left_out)
        if why_not is not None:
            skipped.append(msg("segmentation.rule-not-judged", rule=note, why=why_not))
    if not reaches:
        why = skipped or msg("segmentation.preview.no-rules")
        none = msg("segmentation.preview.no-rule-applies", vantage=vantage, why=why)
        return Preview(refused=_refused(refused), not_judged=_said(none))
    return Preview(reaches=tuple(reaches), refused=_refused(refused), notes=(*notes, *skipped))


@preview_of("inventory.unknown-devices")
def sweep_preview(target: Target, params: UnknownDevicesParams, ctx: ProbeContext) -> Preview:
    sweep = sweep_targets(ctx.school, params, ctx) if ctx.school is not None else None
    if sweep is None:
        return Preview(not_judged=_said(msg("inventory.no-zones")))
    ports = tuple(sorted(set(params.ports)))
    reaches = tuple(Reach(str(n), ports) for n in sweep.networks)
    notes = [*sweep.notes, *sweep.excluded]  # too large to sweep; guests' and BYOD zones
    if not reaches:
        why = notes or msg("inventory.preview.out-of-scope")
        nothing = msg("inventory.preview.nothing", why=why)
        return Preview(refused=_refused(sweep.not_probed), not_judged=_said(nothing))
    return Preview(reaches=reaches, refused=_refused(sweep.not_probed), notes=tuple(notes))
