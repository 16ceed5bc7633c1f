"""A check passes only on positive evidence: for every configuration check that passes on a
good sample, the same export with everything the check looks at removed never passes.

What the rule selects (every selector of every alternative, and the `only_if` data) is cut out
of the parsed tree, as if the vendor's export had left that section out (a partial backup, a
VDOM without administrators, a controller without networks, a CSV without rows). The verdict
may then be not applicable, fail or error, with its reason, but never pass. The checks are
judged with what the sample school declares in its school.yaml (its domain, its groups).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cyberstd.catalog import Catalog
from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import RuleParams, evaluate
from cyberstd.rules.select import compile_selector, select
from tests.rules.conftest import SAMPLES, SCHOOL_FACTS, TODAY, check_params, parse_kind, sample
from tests.rules.test_checks_devices import SAMPLES as DEVICE_SAMPLES


def _good(kind: str) -> Path | None:
    if kind in DEVICE_SAMPLES:
        return DEVICE_SAMPLES[kind][0]
    if kind in SAMPLES:
        return sample(kind, "good")
    return None


def _targets(params: RuleParams) -> Iterator[tuple[str, ...]]:
    """What to cut for each selector: what it selects, or, for a setting with a vendor default
    (FortiOS's lockout threshold), the section that holds it: a setting left out of its section
    takes the default, which is evidence; a section left out of the backup is none."""
    for alt in params.alternatives():
        defaulted = "default" in alt.model_fields_set
        for sel in alt.select or []:
            steps = compile_selector(sel)
            yield steps[:-1] if defaulted and len(steps) > 1 else steps


def _cut(tree: Node, doomed: set[int]) -> None:
    """Remove every node in `doomed` from the mapping or list that holds it."""
    value = tree.value
    if isinstance(value, dict):
        for key in [k for k, child in value.items() if id(child) in doomed]:
            del value[key]
        for child in value.values():
            _cut(child, doomed)
    elif isinstance(value, list):
        value[:] = [child for child in value if id(child) not in doomed]
        for child in value:
            _cut(child, doomed)


def _config_checks(catalog: Catalog) -> list[str]:
    return sorted(c for c, d in catalog.checks.items() if d.probe == "config.rule")


def test_every_configuration_check_is_covered(catalog: Catalog) -> None:
    for check_id in _config_checks(catalog):
        kinds = check_params(catalog, check_id).kinds()
        assert any(_good(k) for k in kinds), check_id


def test_nothing_to_judge_is_never_a_pass(catalog: Catalog) -> None:
    judged = 0
    for check_id in _config_checks(catalog):
        params = check_params(catalog, check_id)
        if any(
            "default" in alt.model_fields_set and len(compile_selector(sel)) == 1
            for alt in params.alternatives()
            for sel in alt.select or []
        ):
            continue  # a top-level setting with the program's default (sshd): nothing to cut
        docs = {k: [parse_kind(catalog, k, p)] for k in params.kinds() if (p := _good(k))}
        if evaluate(params, docs, TODAY, SCHOOL_FACTS).status is not FindingStatus.PASS:
            continue  # a good sample that does not pass proves nothing here
        for trees in docs.values():
            for tree in trees:
                doomed = {id(m.node) for steps in _targets(params) for m in select(tree, steps)}
                _cut(tree, doomed)
        verdict = evaluate(params, docs, TODAY, SCHOOL_FACTS)
        assert verdict.status is not FindingStatus.PASS, (check_id, verdict.message)
        judged += 1
    assert judged >= 30
