"""The HTML report's view model: every value the template shows, already made inert."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step of the growth path, with its place in the SVG."""

    level: int
    x: int
    y: int
    width: int
    height: int
    reached: bool
    target: bool


@dataclass(frozen=True)
class Segment:
    """One status's part of a level's bar in the chart."""

    status: str
    count: int
    x: int
    width: int
    label: str


@dataclass(frozen=True)
class Bar:
    """One level's stacked bar in the chart."""

    level: int
    label: str
    y: int
    total: int
    total_x: int
    segments: list[Segment]


@dataclass(frozen=True)
class StatusCount:
    """A control status with its words and how many controls have it (legend and filters)."""

    status: str
    text: str
    count: int


@dataclass(frozen=True)
class LevelCount:
    """A level with its heading and how many of its controls are in place."""

    level: int
    text: str
    total: int
    met: int


@dataclass(frozen=True)
class CauseLine:
    """One reason why checks could not run, with the checks it stopped, for the top."""

    reason: str
    message: str
    count: int
    checks: list[str]
    more: int


# A cause at the top names this many of the checks it stopped; the findings list has them all.


@dataclass(frozen=True)
class Where:
    """A configuration line behind a finding's verdict."""

    file: str
    line: int | None
    label: str
    actual: str


@dataclass(frozen=True)
class FindingView:
    """One finding, every text made inert."""

    status: str
    status_text: str
    check: str
    title: str
    target: str
    severity: str
    severity_text: str
    message: str
    warning: str
    error_reason: str
    error_detail: str
    waived_by: str
    where: list[Where]
    more_where: int
    evidence: list[tuple[str, str]]
    more_keys: int
    full_json: str
    json_cut: int


@dataclass(frozen=True)
class AttestationView:
    """An attestation as the report shows it."""

    answer: str
    explanation: str
    attested_by: str
    date: str
    review_by: str
    expired: bool
    evidence: list[tuple[str, str]]


@dataclass(frozen=True)
class WaiverView:
    """A waiver as the report shows it."""

    reason: str
    approved_by: str
    expires: str
    expired: bool
    scope: str
    applied: bool
    effect: str
    line: str  # all of it in one sentence, as the other reports say it


@dataclass(frozen=True)
class AdviceView:
    """A failed check that is advice only."""

    check: str
    target: str
    controls: str
    message: str
    remedy: str


@dataclass(frozen=True)
class ControlView:
    """One control with everything the report says about it."""

    id: str
    level: int
    type: str
    title: str
    status: str
    status_text: str
    underlying: str
    why: str
    next: list[tuple[str, str]]  # (kind, text): text, code or a command (screen only)
    is_gap: bool
    severity: str
    severity_text: str
    findings: list[FindingView]
    attestation: AttestationView | None
    waiver: WaiverView | None
    na_reason: str


@dataclass(frozen=True)
class FixView:
    """One technical gap of the "fix first" list."""

    rank: int
    severity: str
    severity_text: str
    controls: list[str]
    about: str
    check: str
    places: list[str]
    more_places: int
    message: str
    remedy: str


@dataclass(frozen=True)
class AttestView:
    """One control waiting for an attestation."""

    control: str
    title: str
    level_text: str
    command: str


@dataclass(frozen=True)
class BlockerView:
    """One control that stands between the school and the next level."""

    control: str
    title: str
    kind: str
