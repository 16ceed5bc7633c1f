"""The configuration probe: one rule (written as data in checks/) over the school's exports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cyberstd.errors import ExportError, ProbeError
from cyberstd.listing import alternatives
from cyberstd.messages import Msg, msg
from cyberstd.parsers.base import Node
from cyberstd.registry import ProbeContext, Target, TargetKind, probe
from cyberstd.results import FindingStatus, ProbeOutcome
from cyberstd.rules.engine import RuleParams, evaluate
from cyberstd.rules.facts import school_facts
from cyberstd.schema import ProbeKind


def no_export(kinds: Sequence[str]) -> Msg:
    """Why a rule gives no verdict without an export of its kinds."""
    return msg("config.no-export", kinds=alternatives(kinds))


@probe(
    "config.rule",
    params=RuleParams,
    kind=ProbeKind.CONFIG,
    target=TargetKind.SCHOOL,
    budget=10.0,
)
def config_rule(target: Target, params: RuleParams, ctx: ProbeContext) -> ProbeOutcome:
    """A rule over the configuration exports that school.yaml lists under `exports:`.

    The rule reads every export of its kind (`kind`), selects values with `select`
    (a path such as `permitrootlogin` or `value[*].members`), keeps items that meet `where`,
    and judges them with `expect` (every value must meet it) or `count` (how many items may
    be selected, or what percentage of a `population` such as the Windows and macOS devices;
    `covered_by` leaves out items another item makes up for, such as a job with a copy job);
    `any_of` lists alternatives, possibly over other kinds. A part marked `undecided` finds
    what the export cannot show (a second factor kept on a RADIUS server): where it would fail,
    the finding is not judged, saying what to attest. An empty population, like an
    empty selection, gives no pass: the finding is not applicable, saying why. With no export of
    the kind, the finding is not applicable; whether the control then needs an attestation
    is up to its mapping (`attestation.required`). What only the school knows (its domains,
    which groups hold the staff) comes from school.yaml; a rule that depends on something
    school.yaml does not declare is not applicable, saying what to declare.
    An export that cannot be parsed makes the finding an error that names the file and line.

    Evidence: `files` (path, kind, sha256), `expected`, and `items` (file, line, path,
    actual value, ok) or `count` (with `population`, `percent` and `covered` where they
    apply). Secrets are redacted when the export is parsed.
    """
    store = ctx.exports
    if store is None:
        raise ProbeError(msg("config.no-store"))
    docs: dict[str, list[Node]] = {}
    files: list[dict[str, Any]] = []
    problems: list[str] = []
    for kind in params.kinds():
        for export in store.of_kind(kind):
            parsed = store.parsed(export)
            files.append({"path": export.display, "kind": kind, "sha256": parsed.sha256})
            if parsed.error is not None:
                problems.append(str(parsed.error))
            elif parsed.tree is not None:
                docs.setdefault(kind, []).append(parsed.tree)
    if problems:
        raise ExportError(msg("config.unreadable", problems="; ".join(problems)))
    verdict = evaluate(params, docs, ctx.today, school_facts(ctx.school))
    if verdict.status is FindingStatus.NOT_APPLICABLE and not files:
        said = no_export(params.kinds())
        return ProbeOutcome.said(verdict.status, said, {"files": files, **verdict.evidence})
    return ProbeOutcome(
        status=verdict.status,
        message=verdict.message,
        messages={"nl": verdict.message_nl} if verdict.message_nl else {},
        evidence={"files": files, **verdict.evidence},
    )
