"""Whether a control's checks cover what it asks, or the attestation is still needed.

A control's mapping says when the attestation is required: always, never, when no check gave a
verdict (`if_no_checks`) or when no configuration check did (`if_no_config`). A control with
`parts` (O7: MFA, a password policy, lockout) is covered by checks only when every part is:
a part is covered when one of its `covered_by` checks gave a verdict. What stays uncovered is
named in the result, so the report can say what the attestation must answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cyberstd.results import Finding
from cyberstd.schema import AttestationRequired, EvidencePart, MappingEntry


@dataclass(frozen=True)
class Coverage:
    attestation_needed: bool
    uncovered: tuple[EvidencePart, ...] = ()


def coverage(
    entry: MappingEntry,
    effective: Sequence[Finding],
    is_config: Callable[[Finding], bool],
) -> Coverage:
    """`effective` are the control's findings with a verdict (pass, fail or error)."""
    config = {f.check for f in effective if is_config(f)}
    return covered_by_checks(entry, {f.check for f in effective}, config.__contains__)


def covered_by_checks(
    entry: MappingEntry, judged: set[str], is_config: Callable[[str], bool]
) -> Coverage:
    """The same judgement from the ids of the checks that gave (or, in a plan, will give) a
    verdict for the control."""
    rule = entry.attestation.required
    if rule is AttestationRequired.ALWAYS:
        return Coverage(True)
    if rule is AttestationRequired.NEVER:
        return Coverage(False)
    counted = (
        judged if rule is AttestationRequired.IF_NO_CHECKS else {c for c in judged if is_config(c)}
    )
    if not entry.parts:
        return Coverage(not counted)
    uncovered = tuple(p for p in entry.parts if not counted & set(p.covered_by))
    return Coverage(bool(uncovered), uncovered)
