"""Every configuration check judges its samples the same 400 days ahead and 400 days back.

The samples' dates and the day they are judged on move together (the demo's own date move,
cyberstd.lab.timeshift): the same checks pass and fail, on the same items and lines. A control
run with the samples moved and the day kept shows the dates matter, so the test can fail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cyberstd.catalog import Catalog
from cyberstd.kinds import parse_export
from cyberstd.lab.timeshift import shift_text
from cyberstd.parsers.base import Node, source_from_text
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from tests.rules.conftest import SAMPLES, TODAY, evidence_items, sample

# Checks whose verdict rests on a date in the samples; each must be among those moved.
DATED = {
    "entra.stale-accounts",
    "backup.recent-success",
    "backup.restore-tested",
    "endpoint.signatures-fresh",
    "endpoint.checked-in",
}


# Samples whose times the date move does not shift (seconds since 1970): their parts are left
# out here; tests/rules/test_checks_backup_sessions.py judges them on fixed days.
NOT_MOVED = {"synology-active-backup"}


def _rule_checks(catalog: Catalog) -> dict[str, RuleParams]:
    found = {}
    for check_id, check in catalog.checks.items():
        if check.probe != "config.rule":
            continue
        params = RuleParams.model_validate(check.params)
        if params.kinds() and all(k in SAMPLES for k in params.kinds()):
            found[check_id] = params
    return found


def _docs(catalog: Catalog, params: RuleParams, variant: str, days: int) -> dict[str, list[Node]]:
    docs = {}
    for kind in params.kinds():
        if kind in NOT_MOVED:
            continue
        path = sample(kind, variant)
        text = shift_text(path.read_text(encoding="utf-8-sig"), days)
        source = source_from_text(text, path.name)
        docs[kind] = [parse_export(catalog.kinds[kind], source)]
    return docs


def _shape(verdict: Verdict) -> tuple[Any, ...]:
    """What must not change with the day: status, and every item's place and verdict."""
    items = sorted(
        (str(it.get("file")), int(it.get("line") or 0), str(it.get("label", "")), it.get("ok"))
        for it in evidence_items(verdict.evidence)
    )
    return (verdict.status, tuple(items))


@pytest.mark.parametrize("days", [400, -400])
@pytest.mark.parametrize("variant", ["good", "bad"])
def test_every_check_judges_the_same_on_any_day(catalog: Catalog, variant: str, days: int) -> None:
    checks = _rule_checks(catalog)
    assert set(checks) >= DATED
    moved_day = TODAY + dt.timedelta(days=days)
    for check_id, params in checks.items():
        today = evaluate(params, _docs(catalog, params, variant, 0), TODAY)
        later = evaluate(params, _docs(catalog, params, variant, days), moved_day)
        assert _shape(later) == _shape(today), (check_id, variant, days)


def test_the_dates_matter(catalog: Catalog) -> None:
    """Samples moved 400 days back but judged on the same day: the dated checks change."""
    checks = _rule_checks(catalog)
    changed = set()
    for check_id in DATED:
        params = checks[check_id]
        for variant in ("good", "bad"):
            same_day = evaluate(params, _docs(catalog, params, variant, 0), TODAY)
            old = evaluate(params, _docs(catalog, params, variant, -400), TODAY)
            if _shape(old) != _shape(same_day):
                changed.add(check_id)
    assert changed == DATED
