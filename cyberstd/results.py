"""Result models (runtime and JSON alike), status enums and the control roll-up rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cyberstd.messages import Msg, joined

SCHEMA_VERSION = "1.0"


class FindingStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not_applicable"


class ControlStatus(StrEnum):
    COMPLIANT = "compliant"
    PARTIAL = "partial"
    NON_COMPLIANT = "non_compliant"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    NOT_ASSESSED = "not_assessed"
    ERROR = "error"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Answer(StrEnum):
    IMPLEMENTED = "implemented"
    PARTIALLY = "partially"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_APPLICABLE = "not_applicable"


class ErrorReason(StrEnum):
    CONNECTIVITY = "connectivity"
    TIMEOUT = "timeout"
    PROTOCOL = "protocol"
    PROBE = "probe"
    BUG = "bug"
    TOOL_MISSING = "tool_missing"
    SCOPE = "scope"
    INPUT = "input"


# Statuses that count as "in place" for the level reached.
MET = frozenset({ControlStatus.COMPLIANT, ControlStatus.WAIVED, ControlStatus.NOT_APPLICABLE})
# Statuses that are gaps, worst first, for --fail-on and ordering.
GAP_ORDER = [
    ControlStatus.NON_COMPLIANT,
    ControlStatus.ERROR,
    ControlStatus.PARTIAL,
    ControlStatus.NOT_ASSESSED,
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ProbeOutcome(_Model):
    """What a probe returns: a verdict on one target, with the evidence it saw.

    `message` is English; `messages` may add other languages ({"nl": ...}), and so may
    `warning_messages` for `warning`. Build one with `said` from catalog messages."""

    status: FindingStatus
    message: str
    messages: dict[str, str] = Field(default_factory=dict)
    evidence: dict[str, Any] = Field(default_factory=dict)
    warning: str | None = None
    warning_messages: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def said(
        cls,
        status: FindingStatus,
        message: Msg,
        evidence: dict[str, Any] | None = None,
        warnings: Sequence[Msg] = (),
    ) -> ProbeOutcome:
        """An outcome whose message and warnings come from the message catalog, in nl and en."""
        return cls(
            status=status,
            message=message.render("en"),
            messages={"nl": message.render("nl")},
            evidence=evidence or {},
            warning=joined(warnings, "en") if warnings else None,
            warning_messages={"nl": joined(warnings, "nl")} if warnings else {},
        )


class Finding(_Model):
    id: str
    check: str
    title: dict[str, str] = Field(default_factory=dict)
    controls: list[str]
    # Controls for which this check is advice only: a failure never enters their status.
    advises: list[str] = Field(default_factory=list)
    target: str
    status: FindingStatus
    severity: Severity
    message: str
    messages: dict[str, str] = Field(default_factory=dict)
    evidence: dict[str, Any] = Field(default_factory=dict)
    warning: str | None = None
    warning_messages: dict[str, str] = Field(default_factory=dict)
    error_reason: ErrorReason | None = None
    error_detail: str | None = None
    # Who approved the check's waiver that accepts this failure (its reason and expiry are in
    # `Results.waivers`, scope "check ID"). Older results.json files hold the English
    # "NAME (until DATE): REASON" here; they load, and reports show that text as it is.
    waived_by: str | None = None
    remediation: dict[str, str] = Field(default_factory=dict)
    duration_ms: Count = 0

    def text(self, lang: str) -> str:
        """The message in a language when the probe gave one, else the English message."""
        return self.messages.get(lang) or self.message

    def warning_text(self, lang: str) -> str | None:
        """The warning in a language when the probe gave one, else the English warning."""
        if self.warning is None:
            return None
        return self.warning_messages.get(lang) or self.warning


class AttestationRecord(_Model):
    answer: Answer
    explanation: str
    attested_by: str
    date: dt.date
    review_by: dt.date
    expired: bool
    evidence: list[dict[str, str]] = Field(default_factory=list)
    # Why the attestation does not count although it is there (an evidence file changed).
    void: str | None = None


class WaiverRecord(_Model):
    reason: str
    approved_by: str
    expires: dt.date
    expired: bool
    scope: str
    # False when the waiver accepts nothing in this run; `note` (nl, en) then says why.
    applied: bool = True
    note: dict[str, str] | None = None


def _both_languages(value: dict[str, str]) -> dict[str, str]:
    """A catalog text as results.json holds it: in Dutch and in English."""
    missing = [lang for lang in ("nl", "en") if lang not in value]
    if missing:
        raise ValueError(f"the title lacks its text in {' and '.join(missing)}")
    return value


Level = Annotated[int, Field(ge=0, le=99)]
Count = Annotated[int, Field(ge=0, le=10**9)]


class UncoveredPart(_Model):
    """A part of the control that no check covered in this run: the attestation must answer
    it."""

    id: str
    title: Annotated[dict[str, str], AfterValidator(_both_languages)]


class ControlResult(_Model):
    id: str
    level: Level
    type: str
    title: Annotated[dict[str, str], AfterValidator(_both_languages)]
    status: ControlStatus
    underlying_status: ControlStatus | None = None
    reason: str
    finding_ids: list[str] = Field(default_factory=list)
    # Findings of checks that are advice for this control (shown, never rolled up).
    advice_ids: list[str] = Field(default_factory=list)
    attestation: AttestationRecord | None = None
    waiver: WaiverRecord | None = None
    not_applicable_reason: dict[str, str] | None = None
    uncovered_parts: list[UncoveredPart] = Field(default_factory=list)


class FrameworkRef(_Model):
    id: str
    version: str


class Tool(_Model):
    name: str = "cyberstd"
    version: str


class Run(_Model):
    id: str
    started: dt.datetime
    finished: dt.datetime
    profile: str
    framework: FrameworkRef
    inputs: dict[str, str]
    # The day given with --as-of: exports, attestations, waivers and certificates were judged
    # as of that day, not the day the run started.
    as_of: dt.date | None = None


class SchoolRef(_Model):
    id: str
    name: str
    folder: str | None = None


class Summary(_Model):
    target_level: Level
    level_reached: Level
    # The share of the assessed controls in place, in percent (see assessed_score).
    score: float = Field(ge=0, le=100, allow_inf_nan=False)
    counts: dict[ControlStatus, Count]
    finding_counts: dict[FindingStatus, Count]


class Results(_Model):
    schema_version: str = SCHEMA_VERSION
    tool: Tool
    run: Run
    school: SchoolRef
    summary: Summary
    controls: list[ControlResult]
    findings: list[Finding]
    # Every waiver of waivers.yaml and what it did in this run (applied, or why not).
    waivers: list[WaiverRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """One control and one finding per id, and no control naming a finding that is not
        there (a hand-edited or forged file)."""
        for what, ids in (("control", [c.id for c in self.controls]),
                          ("finding", [f.id for f in self.findings])):  # fmt: skip
            seen: set[str] = set()
            for one in ids:
                if one in seen:
                    raise ValueError(f"{what} {one!r} appears twice")
                seen.add(one)
        findings = {f.id for f in self.findings}
        for c in self.controls:
            for fid in [*c.finding_ids, *c.advice_ids]:
                if fid not in findings:
                    raise ValueError(f"control {c.id!r} names finding {fid!r}, which is not there")
        return self


def assessed_score(controls: list[ControlResult]) -> float:
    """The share of the assessed controls that is in place, in percent (partial counts half):
    a control not assessed yet, or not applicable, does not count; 0 when none was assessed."""
    judged = [
        c
        for c in controls
        if c.status not in (ControlStatus.NOT_APPLICABLE, ControlStatus.NOT_ASSESSED)
    ]
    points = sum(
        1.0 if c.status in MET else 0.5 if c.status is ControlStatus.PARTIAL else 0.0
        for c in judged
    )
    return round(100.0 * points / len(judged), 1) if judged else 0.0


def roll_up(
    *,
    not_applicable: bool,
    findings: list[FindingStatus],
    answer: Answer | None,
    evidence_missing: bool,
) -> ControlStatus:
    """One status per control, in the order the design fixes (first rule that holds wins)."""
    if not_applicable:
        return ControlStatus.NOT_APPLICABLE
    if FindingStatus.FAIL in findings or answer is Answer.NOT_IMPLEMENTED:
        return ControlStatus.NON_COMPLIANT
    if FindingStatus.ERROR in findings:
        return ControlStatus.ERROR
    if answer is Answer.PARTIALLY:
        return ControlStatus.PARTIAL
    if evidence_missing:
        return ControlStatus.NOT_ASSESSED
    return ControlStatus.COMPLIANT
