"""Compare two results.json of one school: what got worse, what got better, what stayed open.

Every control lands in exactly one bucket (`Change`); when several describe it, the first in
`PRECEDENCE` wins. Renders as plain text, Markdown or JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cyberstd.errors import UsageError
from cyberstd.i18n import percent, signed, t
from cyberstd.report.escape import inert
from cyberstd.report.escape import markdown as inline
from cyberstd.report.escape import markdown_code as code
from cyberstd.results import (
    MET,
    Answer,
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    Results,
)

DIFF_VERSION = "1"


class Change(StrEnum):
    """What happened to one control between the two runs."""

    NEW_GAP = "new_gap"
    NEW_FAILURES = "new_failures"
    RESOLVED = "resolved"
    STILL_FAILING = "still_failing"
    NEWLY_WAIVED = "newly_waived"
    WAIVER_EXPIRED = "waiver_expired"
    ATTESTATION_EXPIRED = "attestation_expired"
    CONTROL_ADDED = "control_added"
    CONTROL_REMOVED = "control_removed"
    OTHER_CHANGE = "other_change"
    UNCHANGED = "unchanged"


# When several buckets describe a control, the first of these wins.
PRECEDENCE = (
    Change.CONTROL_ADDED,
    Change.CONTROL_REMOVED,
    Change.WAIVER_EXPIRED,
    Change.ATTESTATION_EXPIRED,
    Change.NEW_GAP,
    Change.NEW_FAILURES,
    Change.NEWLY_WAIVED,
    Change.RESOLVED,
    Change.STILL_FAILING,
    Change.OTHER_CHANGE,
    Change.UNCHANGED,
)
# The order reports show the buckets in: regressions first.
DISPLAY_ORDER = (
    Change.NEW_GAP,
    Change.NEW_FAILURES,
    Change.WAIVER_EXPIRED,
    Change.ATTESTATION_EXPIRED,
    Change.OTHER_CHANGE,
    Change.STILL_FAILING,
    Change.NEWLY_WAIVED,
    Change.RESOLVED,
    Change.CONTROL_ADDED,
    Change.CONTROL_REMOVED,
    Change.UNCHANGED,
)
REGRESSIONS = frozenset(
    {Change.NEW_GAP, Change.NEW_FAILURES, Change.WAIVER_EXPIRED, Change.ATTESTATION_EXPIRED}
)
# Answers of an attestation that decide a control's status by themselves (a gap or n/a): when
# such an attestation expires, the status changes because of the expiry, not a fix.
DECIDING_ANSWERS = frozenset({Answer.NOT_IMPLEMENTED, Answer.PARTIALLY, Answer.NOT_APPLICABLE})

# How far a status is from "in place"; a control got worse when this number went up.
BADNESS = {
    ControlStatus.COMPLIANT: 0,
    ControlStatus.WAIVED: 0,
    ControlStatus.NOT_APPLICABLE: 0,
    ControlStatus.PARTIAL: 1,
    ControlStatus.NOT_ASSESSED: 2,
    ControlStatus.ERROR: 2,
    ControlStatus.NON_COMPLIANT: 3,
}


def _t(key: str, lang: str, **values: Any) -> str:
    return t(f"diff.{key}", lang, **values)


# --- comparison ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingChange:
    """A finding of a control whose status differs between the runs (None: not in that run)."""

    id: str
    check: str
    target: str
    old: FindingStatus | None
    new: FindingStatus | None

    @property
    def newly_failing(self) -> bool:
        """It fails now and did not before (it passed, could not run, or was not there)."""
        return self.new is FindingStatus.FAIL and self.old is not FindingStatus.FAIL


@dataclass(frozen=True)
class ControlChange:
    """One control: its bucket, both statuses and the findings behind it that changed."""

    id: str
    level: int
    title: dict[str, str]
    change: Change
    old: ControlStatus | None
    new: ControlStatus | None
    findings: tuple[FindingChange, ...] = ()

    @property
    def worse(self) -> bool:
        """Whether the status moved further from "in place" (see BADNESS)."""
        if self.old is None or self.new is None:
            return False
        return BADNESS[self.new] > BADNESS[self.old]

    @property
    def regression(self) -> bool:
        return self.change in REGRESSIONS or self.worse


@dataclass(frozen=True)
class Note:
    code: str
    values: dict[str, str]

    def text(self, lang: str) -> str:
        return _t(f"note.{self.code}", lang, **self.values)


@dataclass(frozen=True)
class Diff:
    """The comparison of an old and a new run."""

    old: Results
    new: Results
    controls: tuple[ControlChange, ...]
    notes: tuple[Note, ...]

    @property
    def regressions(self) -> list[ControlChange]:
        return [c for c in self.controls if c.regression]

    @property
    def regression(self) -> bool:
        return bool(self.regressions)

    def counts(self) -> dict[Change, int]:
        return {ch: sum(1 for c in self.controls if c.change is ch) for ch in DISPLAY_ORDER}

    def of(self, change: Change) -> list[ControlChange]:
        return [c for c in self.controls if c.change is change]


def classify(
    old: ControlResult | None,
    new: ControlResult | None,
    findings: tuple[FindingChange, ...] = (),
) -> Change:
    """The bucket of one control; the first rule of PRECEDENCE that holds wins.

    `findings` are the control's findings whose status changed (see `compare`)."""
    if old is None:
        return Change.CONTROL_ADDED
    if new is None:
        return Change.CONTROL_REMOVED
    gap_now = new.status not in MET
    if gap_now and _waiver_expired(old, new):
        return Change.WAIVER_EXPIRED
    if _attestation_expired(old, new) and (gap_now or _expiry_changed_status(old, new)):
        return Change.ATTESTATION_EXPIRED
    if gap_now and old.status in MET:
        return Change.NEW_GAP
    if gap_now and any(f.newly_failing for f in findings):
        return Change.NEW_FAILURES
    if new.status is ControlStatus.WAIVED and old.status is not ControlStatus.WAIVED:
        return Change.NEWLY_WAIVED
    if not gap_now and (old.status not in MET or _waiver_no_longer_needed(old, new)):
        return Change.RESOLVED
    if gap_now and old.status is new.status:
        return Change.STILL_FAILING
    if old.status is not new.status:
        return Change.OTHER_CHANGE
    return Change.UNCHANGED


def _waiver_no_longer_needed(old: ControlResult, new: ControlResult) -> bool:
    """Waived before, compliant (or not applicable) now: fixed, the waiver is not needed."""
    return old.status is ControlStatus.WAIVED and new.status in (
        ControlStatus.COMPLIANT,
        ControlStatus.NOT_APPLICABLE,
    )


def _waiver_expired(old: ControlResult, new: ControlResult) -> bool:
    """The waiver is expired now and was not before, or the control lost its waiver."""
    was_expired = old.waiver is not None and old.waiver.expired
    if new.waiver is not None and new.waiver.expired and not was_expired:
        return True
    return new.waiver is None and old.status is ControlStatus.WAIVED


def _attestation_expired(old: ControlResult, new: ControlResult) -> bool:
    """The attestation is expired now and was valid before."""
    return (
        new.attestation is not None
        and new.attestation.expired
        and old.attestation is not None
        and not old.attestation.expired
    )


def _expiry_changed_status(old: ControlResult, new: ControlResult) -> bool:
    """The status changed to a met one because an attestation that decided it no longer counts.

    Its answer (not implemented, partially, not applicable) set the old status by itself; once
    it expired, the control is judged on its checks alone. A waiver that came in since
    explains a `waived` status better, so that one is left to the later rules."""
    assert old.attestation is not None
    return (
        old.status is not new.status
        and new.status is not ControlStatus.WAIVED
        and old.attestation.answer in DECIDING_ANSWERS
    )


def _finding_changes(
    ids: list[str], old: dict[str, Finding], new: dict[str, Finding]
) -> tuple[FindingChange, ...]:
    out = []
    for fid in ids:
        before, after = old.get(fid), new.get(fid)
        old_status = before.status if before is not None else None
        new_status = after.status if after is not None else None
        if old_status == new_status:
            continue
        f = after or before
        assert f is not None
        out.append(FindingChange(fid, f.check, f.target, old_status, new_status))
    return tuple(out)


def compare(old: Results, new: Results, *, force: bool = False) -> Diff:
    """Compare two runs; refuse runs of different schools unless `force`."""
    if old.school.id != new.school.id and not force:
        raise UsageError(
            f"OLD is a run of school {old.school.id!r} and NEW of {new.school.id!r}; "
            "give --force to compare them anyway"
        )
    old_controls = {c.id: c for c in old.controls}
    new_controls = {c.id: c for c in new.controls}
    old_findings = {f.id: f for f in old.findings}
    new_findings = {f.id: f for f in new.findings}
    order = list(new_controls) + [i for i in old_controls if i not in new_controls]
    changes = []
    for cid in order:
        before, after = old_controls.get(cid), new_controls.get(cid)
        shown = after or before
        assert shown is not None
        ids = list(
            dict.fromkeys(
                (after.finding_ids if after else []) + (before.finding_ids if before else [])
            )
        )
        found = _finding_changes(ids, old_findings, new_findings)
        changes.append(
            ControlChange(
                id=cid,
                level=shown.level,
                title=shown.title,
                change=classify(before, after, found),
                old=before.status if before else None,
                new=after.status if after else None,
                findings=found,
            )
        )
    return Diff(old, new, tuple(changes), tuple(_notes(old, new)))


def _notes(old: Results, new: Results) -> list[Note]:
    notes = []
    if old.school.id != new.school.id:
        notes.append(Note("other_school", {"old": old.school.id, "new": new.school.id}))
    a, b = old.run.framework, new.run.framework
    if (a.id, a.version) != (b.id, b.version):
        notes.append(
            Note("framework_changed", {"old": f"{a.id} {a.version}", "new": f"{b.id} {b.version}"})
        )
    if old.run.profile != new.run.profile:
        notes.append(Note("profile_changed", {"old": old.run.profile, "new": new.run.profile}))
    if old.run.finished > new.run.finished:
        notes.append(Note("order", {}))
    return notes


# --- loading ---------------------------------------------------------------------------------


def load_results(path: Path, display: str) -> Results:
    """Read a results.json, refusing (InputError) what is not one or has another schema."""
    from cyberstd.report.json import load

    return load(path, display)


# --- rendering -------------------------------------------------------------------------------


def _status(status: ControlStatus | None, lang: str) -> str:
    return t(f"status.{status}", lang) if status is not None else _t("absent", lang)


def _transition(c: ControlChange, lang: str) -> str:
    """`old → new`, or the one status when it did not change."""
    if c.old is c.new:
        return _status(c.new, lang)
    return f"{_status(c.old, lang)} → {_status(c.new, lang)}"


def _fstatus(status: FindingStatus | None, lang: str) -> str:
    return t(f"finding.{status}", lang) if status is not None else _t("absent", lang)


def _shown(d: Diff, change: Change) -> list[ControlChange]:
    """The controls a text report lists under a bucket (unchanged ones only with finding changes)."""
    items = d.of(change)
    if change is Change.UNCHANGED:
        items = [c for c in items if c.findings]
    return items


def _run_line(r: Results, lang: str) -> str:
    s = r.summary
    reached = str(s.level_reached) if s.level_reached else t("report.level_none", lang)
    return (
        f"{r.run.finished:%Y-%m-%d %H:%M} UTC  {r.run.framework.id} {r.run.framework.version}"
        f" / {r.run.profile}  {_t('level', lang)} {reached} / {s.target_level}"
        f"  {_t('score', lang)} {percent(s.score, lang)}"
    )


def _verdict(d: Diff, lang: str) -> str:
    n = len(d.regressions)
    return _t("result.bad", lang, n=n) if n else _t("result.good", lang)


def render_text(d: Diff, lang: str = "nl") -> str:
    """Plain text for a terminal or a CI log."""
    school = inert(d.new.school.name)
    lines = [f"{_t('title', lang)}: {school}"]
    lines.append(f"  {_t('old', lang):6} {inert(_run_line(d.old, lang))}")
    lines.append(f"  {_t('new', lang):6} {inert(_run_line(d.new, lang))}")
    delta = d.new.summary.score - d.old.summary.score
    lines.append(
        f"  {_t('score', lang)}: {percent(d.old.summary.score, lang)} → "
        f"{percent(d.new.summary.score, lang)} ({signed(delta, lang)})"
    )
    lines += [f"  ! {inert(n.text(lang))}" for n in d.notes]
    for change in DISPLAY_ORDER:
        items = _shown(d, change)
        if not items:
            continue
        lines += ["", f"{_t(f'change.{change}', lang)} ({len(items)})"]
        for c in items:
            mark = f"  [{_t('worse', lang)}]" if c.worse and change not in REGRESSIONS else ""
            lines.append(
                f"  {inert(c.id, 100):8} {_t('level_short', lang, level=c.level):9} "
                f"{_transition(c, lang)}{mark}  "
                f"{inert(c.title.get(lang, ''), 100)}"
            )
            lines += [
                f"           {inert(f.id)}: {_fstatus(f.old, lang)} → {_fstatus(f.new, lang)}"
                for f in c.findings
            ]
    lines += ["", _t("unchanged", lang, n=d.counts()[Change.UNCHANGED]), _verdict(d, lang)]
    return "\n".join(lines) + "\n"


def render_markdown(d: Diff, lang: str = "nl") -> str:
    """A Markdown comparison: both runs side by side, then the controls per bucket."""
    o, n = d.old, d.new

    def level(r: Results) -> str:
        s = r.summary
        reached = str(s.level_reached) if s.level_reached else t("report.level_none", lang)
        return f"{reached} / {s.target_level}"

    rows = [
        (
            _t("run", lang),
            inline(o.run.id),
            inline(n.run.id),
        ),  # no code span: a | in it would end the cell
        (
            _t("date", lang),
            f"{o.run.finished:%Y-%m-%d %H:%M} UTC",
            f"{n.run.finished:%Y-%m-%d %H:%M} UTC",
        ),
        (
            _t("framework", lang),
            inline(f"{o.run.framework.id} {o.run.framework.version}"),
            inline(f"{n.run.framework.id} {n.run.framework.version}"),
        ),
        (_t("profile", lang), inline(o.run.profile), inline(n.run.profile)),
        (_t("level", lang), level(o), level(n)),
        (_t("score", lang), percent(o.summary.score, lang), percent(n.summary.score, lang)),
    ]
    rows += [
        (
            t(f"status.{st}", lang),
            str(o.summary.counts.get(st, 0)),
            str(n.summary.counts.get(st, 0)),
        )
        for st in ControlStatus
        if o.summary.counts.get(st, 0) or n.summary.counts.get(st, 0)
    ]
    lines = [
        f"# {_t('title', lang)}: {inline(n.school.name)}",
        "",
        f"| | {_t('old', lang)} | {_t('new', lang)} |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines.append("")
    lines += [f"> {inline(note.text(lang))}\n" for note in d.notes]
    lines += [f"**{_verdict(d, lang)}** {_t('unchanged', lang, n=d.counts()[Change.UNCHANGED])}."]
    for change in DISPLAY_ORDER:
        items = _shown(d, change)
        if not items:
            continue
        lines += ["", f"## {_t(f'change.{change}', lang)} ({len(items)})", ""]
        for c in items:
            mark = f" ({_t('worse', lang)})" if c.worse and change not in REGRESSIONS else ""
            lines.append(
                f"- **{inline(c.id)}** ({t('report.level', lang, level=c.level)}) "
                f"{inline(c.title.get(lang, ''))}: {_transition(c, lang)}{mark}"
            )
            lines += [
                f"  - {code(f.check)} @ {inline(f.target)}: "
                f"{_fstatus(f.old, lang)} → {_fstatus(f.new, lang)}"
                for f in c.findings
            ]
    return "\n".join(lines) + "\n"


def _run_json(r: Results) -> dict[str, Any]:
    s = r.summary
    return {
        "run_id": r.run.id,
        "finished": r.run.finished.isoformat().replace("+00:00", "Z"),
        "school": {"id": r.school.id, "name": r.school.name},
        "framework": {"id": r.run.framework.id, "version": r.run.framework.version},
        "profile": r.run.profile,
        "target_level": s.target_level,
        "level_reached": s.level_reached,
        "score": s.score,
        "counts": {str(k): v for k, v in s.counts.items()},
    }


def to_json(d: Diff) -> dict[str, Any]:
    """The comparison as plain data with stable keys (documented in docs/diff-and-redaction.md)."""
    return {
        "diff_version": DIFF_VERSION,
        "old": _run_json(d.old),
        "new": _run_json(d.new),
        "regression": d.regression,
        "notes": [{"code": n.code, "message": n.text("en")} for n in d.notes],
        "counts": {str(k): v for k, v in d.counts().items()},
        "controls": [
            {
                "id": c.id,
                "level": c.level,
                "title": c.title,
                "change": str(c.change),
                "old_status": str(c.old) if c.old else None,
                "new_status": str(c.new) if c.new else None,
                "worse": c.worse,
                "regression": c.regression,
                "findings": [
                    {
                        "id": f.id,
                        "check": f.check,
                        "target": f.target,
                        "old_status": str(f.old) if f.old else None,
                        "new_status": str(f.new) if f.new else None,
                    }
                    for f in c.findings
                ],
            }
            for c in d.controls
        ],
    }


def render_json(d: Diff, lang: str = "en") -> str:
    return json.dumps(to_json(d), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": render_text, "md": render_markdown, "json": render_json}


def render(d: Diff, fmt: str, lang: str) -> str:
    """The comparison in `fmt` (text, md or json)."""
    return RENDERERS[fmt](d, lang)
