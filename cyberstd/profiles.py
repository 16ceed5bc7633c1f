"""Resolves a profile (with its `extends` chain) into the controls and checks of one scan."""

from __future__ import annotations

from dataclasses import dataclass, field

from cyberstd.catalog import Catalog, Framework
from cyberstd.probes import probe_spec
from cyberstd.registry import ProbeParams
from cyberstd.results import Finding, FindingStatus
from cyberstd.schema import CheckDef, ControlDef, LocalText, ProfileDef

# A remediation may show a record name of the domain it is about: `{domain}` stands for the
# finding's target (the domain) and, where there is none, for an example.
DOMAIN_PLACEHOLDER = "{domain}"
EXAMPLE_DOMAIN = {"nl": "uwschool.be", "en": "yourschool.be"}


def remediation_for(text: LocalText, domain: str | None) -> dict[str, str]:
    """A check's remediation in both languages with `{domain}` filled in."""
    return {
        lang: text.get(lang).replace(DOMAIN_PLACEHOLDER, domain or EXAMPLE_DOMAIN[lang])
        for lang in ("nl", "en")
    }


@dataclass(frozen=True)
class PlannedCheck:
    check: CheckDef
    params: ProbeParams
    controls: tuple[str, ...]
    included_reason: LocalText | None = None
    advises: tuple[str, ...] = ()

    def finding(
        self, finding_id: str, check_id: str, target: str, status: FindingStatus, message: str
    ) -> Finding:
        """A finding of this check on a target: its titles, remediation, controls and severity."""
        check = self.check
        return Finding(
            id=finding_id,
            check=check_id,
            title={"nl": check.title.nl, "en": check.title.en},
            remediation=remediation_for(
                check.remediation, target if target not in ("", "-") else None
            ),
            controls=list(self.controls),
            advises=list(self.advises),
            target=target,
            status=status,
            severity=check.severity,
            message=message,
        )


@dataclass
class ResolvedProfile:
    id: str
    framework: Framework
    target_level: int
    controls: list[ControlDef]
    not_applicable: dict[str, LocalText] = field(default_factory=dict)
    checks: dict[str, PlannedCheck] = field(default_factory=dict)
    excluded_checks: dict[str, LocalText] = field(default_factory=dict)


def _chain(catalog: Catalog, profile: ProfileDef) -> list[ProfileDef]:
    chain = [profile]
    while chain[0].extends is not None:
        chain.insert(0, catalog.profile(chain[0].extends))
    return chain


def resolve(catalog: Catalog, profile_id: str) -> ResolvedProfile:
    """The profile's scope: controls up to the target level plus inclusions, checks to run, params.

    The catalog must have been validated (unknown ids make `cyberstd validate` fail first).
    """
    chain = _chain(catalog, catalog.profile(profile_id))
    fw = catalog.framework(chain[-1].framework)
    target = next(
        (p.target_level for p in reversed(chain) if p.target_level is not None), max(fw.levels)
    )
    kinds = next((p.check_kinds for p in reversed(chain) if p.check_kinds is not None), None)
    na: dict[str, LocalText] = {}
    extra_controls: dict[str, LocalText] = {}
    check_choice: dict[str, tuple[bool, LocalText]] = {}
    params: dict[str, dict[str, object]] = {}
    for p in chain:
        for sel in p.exclude:
            if sel.control is not None:
                na[sel.control] = sel.reason
                extra_controls.pop(sel.control, None)
            if sel.check is not None:
                check_choice[sel.check] = (False, sel.reason)
        for sel in p.include:
            if sel.control is not None:
                extra_controls[sel.control] = sel.reason
                na.pop(sel.control, None)
            if sel.check is not None:
                check_choice[sel.check] = (True, sel.reason)
        for item in p.not_applicable:
            na[item.control] = item.reason
        for check_id, values in p.params.items():
            params.setdefault(check_id, {}).update(values)
    controls = [c for c in fw.controls.values() if c.level <= target or c.id in extra_controls]
    in_scope = {c.id for c in controls}
    promoted = {(p.check, p.control) for q in chain for p in q.require}
    mapped: dict[str, list[str]] = {}
    advised: dict[str, list[str]] = {}
    for control in controls:
        if control.id in na:
            continue
        for check_id in fw.mappings[control.id].checks:
            mapped.setdefault(check_id, []).append(control.id)
        for check_id in fw.mappings[control.id].recommended:
            required = {(check_id, None), (check_id, control.id)} & promoted
            (mapped if required else advised).setdefault(check_id, []).append(control.id)
    resolved = ResolvedProfile(profile_id, fw, target, controls, na)
    wanted = dict.fromkeys([*mapped, *advised])
    wanted.update({cid: None for cid, (on, _) in check_choice.items() if on})
    for check_id in wanted:
        check = catalog.checks[check_id]
        choice = check_choice.get(check_id)
        if choice is not None and not choice[0]:
            resolved.excluded_checks[check_id] = choice[1]
            continue
        kind = catalog.probe_kinds.get(check.probe)
        if kinds is not None and kind is not None and kind not in kinds and choice is None:
            continue  # known from the catalog: no need to import the probe's module
        spec = probe_spec(check.probe)
        assert spec is not None, f"probe {check.probe} (checked when the catalog loaded)"
        if kinds is not None and spec.kind not in kinds and choice is None:
            continue
        values = {**check.params, **params.get(check_id, {})}
        resolved.checks[check_id] = PlannedCheck(
            check=check,
            params=spec.params.model_validate(values),
            controls=tuple(c for c in mapped.get(check_id, []) if c in in_scope),
            included_reason=choice[1] if choice else None,
            advises=tuple(c for c in advised.get(check_id, []) if c in in_scope),
        )
    return resolved
