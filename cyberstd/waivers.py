"""What each waiver does in a run: it accepts a known gap, or it takes no effect, and then the
reason is said (in validate before any scan, and in results.json and every report after it).

A waiver accepts a risk the school knows about: a failed check, or a control that is
non-compliant or partial. It cannot make an unjudged control acceptable, so on a control that
is not assessed or could not be judged it takes no effect, and says so, instead of vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cyberstd.errors import Problem
from cyberstd.i18n import t
from cyberstd.messages import Msg, local, msg
from cyberstd.profiles import ResolvedProfile
from cyberstd.results import (
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    WaiverRecord,
)
from cyberstd.schema import WaiverDef
from cyberstd.school import SchoolFolder, waiver_scope

ACCEPTS = (ControlStatus.NON_COMPLIANT, ControlStatus.PARTIAL)


@dataclass(frozen=True)
class Effect:
    applied: bool
    nl: str = ""
    en: str = ""

    def note(self) -> dict[str, str] | None:
        return None if self.applied else {"nl": self.nl, "en": self.en}

    @property
    def said(self) -> Msg:
        return local(self.nl, self.en)


def _expired(waiver: WaiverDef) -> Effect:
    return Effect(
        False,
        f"verlopen op {waiver.expires}; ze telt niet meer",
        f"expired on {waiver.expires}; it no longer counts",
    )


def _outside_profile(control: str, profile: str | None) -> Effect:
    which_nl = f"profiel {profile}" if profile else "dit profiel"
    which_en = f"profile {profile}" if profile else "this profile"
    return Effect(
        False,
        f"maatregel {control} hoort niet bij {which_nl}",
        f"control {control} is not part of {which_en}",
    )


def before_scan(
    waiver: WaiverDef, folder: SchoolFolder, profile: ResolvedProfile, today: date
) -> Effect | None:
    """Why the waiver cannot take effect whatever the scan finds, or None."""
    if waiver.expires < today:
        return _expired(waiver)
    if waiver.control is not None:
        control = waiver.control
        if control not in {c.id for c in profile.controls}:
            return _outside_profile(control, profile.id)
        attested = folder.attestations.get(control)
        if (
            control in profile.not_applicable
            or any(na.control == control for na in folder.school.not_applicable)
            or (attested is not None and attested.answer == "not_applicable")
        ):
            return Effect(
                False,
                f"maatregel {control} is niet van toepassing: er is geen risico te aanvaarden",
                f"control {control} is not applicable: there is no risk to accept",
            )
    elif waiver.check is not None and waiver.check not in profile.checks:
        return Effect(
            False,
            f"controle {waiver.check} loopt niet in profiel {profile.id}",
            f"check {waiver.check} does not run in profile {profile.id}",
        )
    return None


def notices(
    folder: SchoolFolder,
    profile: ResolvedProfile,
    today: date,
    silent: dict[str, tuple[str, str]] | None = None,
) -> list[Problem]:
    """validate's notices: every waiver that cannot take effect, at its place in waivers.yaml.
    `silent`: checks that will give no verdict (as plan finds them), with the reason (nl, en)."""
    out = []
    for waiver in folder.waivers:
        effect = before_scan(waiver, folder, profile, today)
        if effect is None and waiver.check is not None and waiver.check in (silent or {}):
            nl, en = (silent or {})[waiver.check]
            effect = Effect(
                False,
                f"controle {waiver.check} zal geen oordeel geven: {nl}",
                f"check {waiver.check} will give no verdict: {en}",
            )
        place = folder.waiver_places.get(waiver.scope)
        if effect is None or place is None:
            continue
        said = msg("input.waiver.no_effect", scope=waiver_scope(waiver), why=effect.said)
        out.append(Problem.of(place.path, place.line, place.col, "waiver-no-effect", said))
    return out


def control_effect(waiver: WaiverDef, underlying: ControlStatus, today: date) -> Effect:
    """A control's waiver, given the status the control has without it."""
    if waiver.expires < today:
        return _expired(waiver)
    if underlying in ACCEPTS:
        return Effect(True)
    if underlying is ControlStatus.NOT_ASSESSED:
        return Effect(
            False,
            "de maatregel is niet beoordeeld: een uitzondering aanvaardt een gekend tekort, "
            "beoordeel de maatregel dus eerst (scan of verklaring)",
            "the control is not assessed: a waiver accepts a known gap, so judge the control "
            "first (scan or attestation)",
        )
    if underlying is ControlStatus.ERROR:
        return Effect(
            False,
            "de maatregel kon niet beoordeeld worden; een uitzondering dekt geen fout",
            "the control could not be judged; a waiver does not cover an error",
        )
    if underlying is ControlStatus.NOT_APPLICABLE:
        return Effect(
            False,
            "de maatregel is niet van toepassing: er is geen risico te aanvaarden",
            "the control is not applicable: there is no risk to accept",
        )
    return Effect(
        False, "niet nodig: de maatregel is in orde", "not needed: the control is compliant"
    )


def check_effect(waiver: WaiverDef, findings: list[Finding], today: date) -> Effect:
    """A check's waiver, given that check's findings in the run."""
    if waiver.expires < today:
        return _expired(waiver)
    if any(f.status is FindingStatus.FAIL for f in findings):
        return Effect(True)
    if not findings:
        return Effect(
            False, f"controle {waiver.check} liep niet", f"check {waiver.check} did not run"
        )
    seen = sorted({str(f.status) for f in findings})
    nl = ", ".join(t(f"finding.{s}", "nl") for s in seen)
    en = ", ".join(t(f"finding.{s}", "en") for s in seen)
    return Effect(
        False,
        f"controle {waiver.check} faalde niet ({nl})",
        f"check {waiver.check} did not fail ({en})",
    )


def record(waiver: WaiverDef, effect: Effect, today: date) -> WaiverRecord:
    return WaiverRecord(
        reason=waiver.reason,
        approved_by=waiver.approved_by,
        expires=waiver.expires,
        expired=waiver.expires < today,
        scope=waiver.scope,
        applied=effect.applied,
        note=effect.note(),
    )


def records(
    folder: SchoolFolder, controls: list[ControlResult], findings: list[Finding], today: date
) -> list[WaiverRecord]:
    """Every waiver of the folder, in the order of waivers.yaml, with what it did."""
    by_control = {c.id: c for c in controls}
    out = []
    for waiver in folder.waivers:
        if waiver.control is not None:
            control = by_control.get(waiver.control)
            if control is not None and control.waiver is not None:
                out.append(control.waiver)
                continue
            effect = _outside_profile(waiver.control, None)
            if waiver.expires < today:
                effect = _expired(waiver)
        else:
            mine = [f for f in findings if f.check == waiver.check]
            effect = check_effect(waiver, mine, today)
        out.append(record(waiver, effect, today))
    return out
