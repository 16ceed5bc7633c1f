"""Rules written as data, judged: select nodes in parsed exports, filter them, and judge
values, counts or shares.

The rule itself (params.py) names the export kind it reads, a selector (see select.py),
optional `where` conditions on each selected item, and either `expect` (every selected value
must meet it) or `count` (how many items may be selected, or what share of a `population`).
`any_of` holds alternatives (each may read another kind): the rule holds when one of them
holds. A part with `undecided` finds what the export cannot decide (an administrator whose
second factor lives on a RADIUS server): where it would fail, the verdict is "not judged" with
its reason, and the rule cannot pass. Every verdict carries, per item, the file, the line, the path and the actual value next
to the expectation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from cyberstd.rules.compare import Condition, ValueProblem, absent, as_date, as_number, never
from cyberstd.rules.facts import Facts, bind_rule, describe_facts
from cyberstd.rules.params import (
    Alternative,
    CountCondition,
    Filter,
    Precondition,
    RuleBody,
    RuleParams,
    Text,
)
from cyberstd.rules.select import Match, compile_selector, select

__all__ = [
    "MAX_ITEMS",
    "Alternative",
    "CountCondition",
    "Precondition",
    "RuleBody",
    "RuleParams",
    "Verdict",
    "evaluate",
    "judge",
]

MAX_ITEMS = 50


@dataclass
class Verdict:
    """The outcome of one rule: a finding status, a message and the evidence behind it."""

    status: FindingStatus
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    message_nl: str = ""  # the same in Dutch (empty: only the English one exists)
    # The school facts it could not be judged without (not_applicable until school.yaml has them).
    undecided: tuple[str, ...] = ()
    # Not judged because the export cannot decide (a part with `undecided` that would fail):
    # unlike a part with nothing to judge, it keeps the rule from passing.
    cannot_decide: bool = False


def _located(exc: ValueProblem, node: Node) -> ValueProblem:
    """The same problem, saying where the value is."""
    where = f"{node.file}:{node.line}" if node.line else node.file
    return ValueProblem(f"{exc} (at {where})")


def _holds(cond: Condition, node: Node, today: dt.date) -> bool:
    try:
        return cond.holds(node, today)
    except ValueProblem as exc:
        raise _located(exc, node) from None


def _reference_day(cond: Condition, item: Node, today: dt.date) -> dt.date:
    """The day a condition's ages are counted from: the date its `relative_to` reaches in
    the item (a device's last check-in), or the run's day when it has none or finds none."""
    if cond.relative_to is None:
        return today
    found = select(item, compile_selector(cond.relative_to))
    if not found or absent(found[0].node.value) or never(found[0].node.value):
        return today
    try:
        return as_date(found[0].node.value)
    except ValueProblem as exc:
        raise _located(exc, found[0].node) from None


def _all_hold(conditions: Mapping[str, Condition], item: Node, today: dt.date) -> bool:
    for key, cond in conditions.items():
        day = _reference_day(cond, item, today)
        found = select(item, compile_selector(key))
        if not found:
            if not cond.holds(None, day):
                return False
        elif not all(_holds(cond, m.node, day) for m in found):
            return False
    return True


def _where_ok(rule: Filter, item: Node, today: dt.date) -> bool:
    if not _all_hold(rule.where, item, today):
        return False
    return not rule.where_any or any(_all_hold(c, item, today) for c in rule.where_any)


def _unmet(rule: RuleBody, docs: Sequence[Node], today: dt.date) -> Precondition | None:
    """The first precondition some export does not meet, or None when the rule applies."""
    for pre in rule.only_if:
        for doc in docs:
            found = select(doc, compile_selector(pre.select))
            if not (
                any(_holds(pre.expect, m.node, today) for m in found)
                if found
                else pre.expect.holds(None, today)
            ):
                return pre
    return None


def _where_value(item: Node, key: str) -> Any:
    found = select(item, compile_selector(key))
    if not found:
        return None
    value = found[0].node.plain()
    text = value if isinstance(value, str) else None
    return text[:200] if text is not None else value


def _label(rule: RuleBody, item: Node) -> str | None:
    if rule.label is None:
        return None
    found = select(item, compile_selector(rule.label))
    if not found or isinstance(found[0].node.value, (dict, list)):
        return None
    v = found[0].node.value
    return None if v is None else str(v)


def _item(m: Match, rule: RuleBody, ok: bool | None, value: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"file": m.node.file, "line": m.node.line, "path": m.path}
    if m.path.endswith(" (default)"):
        out["path"] = m.path.removesuffix(" (default)")
        out["default"] = True
    label = _label(rule, m.node) or m.key
    if label is not None:
        out["label"] = label
    if value:
        out["actual"] = m.node.plain()
    if ok is not None:
        out["ok"] = ok
    return out


def _where(it: dict[str, Any], lang: str = "en") -> str:
    if it.get("default"):
        if lang == "nl":
            return f"niet ingesteld in {it['file']}: de standaardwaarde geldt"
        return f"not set in {it['file']}: the default applies"
    return f"{it['file']}:{it['line']}" if it.get("line") else str(it["file"])


def _text(text: Text | None, lang: str) -> str:
    """A text in the language asked (else English, else any), or ""."""
    if isinstance(text, dict):
        return text.get(lang) or text.get("en") or next(iter(text.values()), "")
    return text or ""


def _what(rule: RuleBody, lang: str) -> str:
    """What a rule judges, in words (its `about` in the language asked, else its selectors)."""
    return _text(rule.about, lang) or " | ".join(rule.select or [])


def _conditions_text(f: Filter, lang: str) -> str:
    """A filter's conditions in words: "OS in Windows, macOS"."""

    def one(conditions: Mapping[str, Condition]) -> str:
        return "; ".join(f"{key} {cond.describe(lang)}" for key, cond in conditions.items())

    parts = [one(f.where)] if f.where else []
    if f.where_any:
        parts.append((" of " if lang == "nl" else " or ").join(f"({one(c)})" for c in f.where_any))
    return "; ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _selected(rule: RuleBody, docs: Sequence[Node]) -> list[Match]:
    """What the selectors reach in every document, before `where`.

    With a `default`, a document where the first selector (the global setting) finds nothing
    contributes the default in its place, marked with `default` in the evidence, but only when
    the section that would hold the setting is there: a backup without that section says
    nothing about the setting, and a default is no evidence then."""
    found: list[Match] = []
    for doc in docs:
        for i, sel in enumerate(rule.select or []):
            steps = compile_selector(sel)
            hits = select(doc, steps)
            defaulted = not hits and i == 0 and "default" in rule.model_fields_set
            if defaulted and (len(steps) == 1 or select(doc, steps[:-1])):
                hits = [Match(Node(rule.default, doc.file), f"{sel} (default)")]
            found.extend(hits)
    return found


def _names(node: Node, separator: str | None) -> set[str]:
    """The names a value holds, compared ignoring case: a list's items, or a text split on
    the separator ("SRV-DC01 | SRV-FS01")."""
    value = node.plain()
    out: set[str] = set()
    for v in value if isinstance(value, list) else [value]:
        if v is None or isinstance(v, (dict, list)):
            continue
        parts = str(v).split(separator) if separator else [str(v)]
        out.update(p.strip().casefold() for p in parts if p.strip())
    return out


def _uncovered(
    rule: RuleBody, found: list[Match], docs: Sequence[Node], today: dt.date
) -> tuple[list[Match], list[tuple[Match, Match]]]:
    """The items kept by `where` that no `covered_by` item makes up for, and the covered
    ones with what covers each. Covering items come from every export of the kind."""
    cover = rule.covered_by
    if cover is None or not found:
        return found, []
    by_name: dict[str, list[Match]] = {}
    for doc in docs:
        for m in select(doc, compile_selector(cover.select)):
            if _where_ok(cover, m.node, today):
                for hit in select(m.node, compile_selector(cover.key)):
                    for name in _names(hit.node, cover.separator):
                        by_name.setdefault(name, []).append(m)
    kept: list[Match] = []
    covered: list[tuple[Match, Match]] = []
    for m in found:
        names = sorted(
            n
            for hit in select(m.node, compile_selector(cover.matches))
            for n in _names(hit.node, None)
        )
        by = next((c for n in names for c in by_name.get(n, []) if c.node is not m.node), None)
        if by is None:
            kept.append(m)
        else:
            covered.append((m, by))
    return kept, covered


def _covered(
    rule: RuleBody, covered: list[tuple[Match, Match]]
) -> tuple[list[dict[str, Any]], str, str]:
    """Evidence of the covered items, and the note that messages end with (en, nl)."""
    if not covered:
        return [], "", ""
    assert rule.covered_by is not None
    evidence = [
        {**_item(m, rule, None, value=False), "by": _item(by, rule, None, value=False)}
        for m, by in covered[:MAX_ITEMS]
    ]

    def note(lang: str) -> str:
        nl = lang == "nl"
        about = _text(rule.covered_by.about if rule.covered_by else None, lang)
        about = about or ("een ander item" if nl else "another item")
        shown = "; ".join(
            f"{it.get('label') or _where(it, lang)} ({'door' if nl else 'by'} "
            f"{it['by'].get('label') or _where(it['by'], lang)})"
            for it in evidence[:5]
        )
        more = " ..." if len(covered) > 5 else ""
        return f"; {len(covered)} {'gedekt door' if nl else 'covered by'} {about}: {shown}{more}"

    return evidence, note("en"), note("nl")


def _judge_count(
    rule: RuleBody,
    found: list[Match],
    total: int | None = None,
    covered: list[tuple[Match, Match]] | None = None,
) -> Verdict:
    """A count of the kept items, or (with `total`, the population's size) a share of it."""
    count = rule.count
    assert count is not None
    n = len(found)
    what, wat = _what(rule, "en"), _what(rule, "nl")
    items = [_item(m, rule, None, value=False) for m in found[:MAX_ITEMS]]
    keys = list(dict.fromkeys([*rule.where, *(k for c in rule.where_any for k in c)]))
    if keys:  # the values that made the item count: what an auditor re-checks
        for it, m in zip(items, found, strict=False):
            it["actual"] = {key: _where_value(m.node, key) for key in keys}
    evidence: dict[str, Any] = {"count": n, "expected": f"count {count.describe()}"}
    evidence["items"] = items

    def name(it: dict[str, Any], m: Match) -> str:
        shown = f" ({_short(_where_value(m.node, rule.show))!r})" if rule.show else ""
        return str(it.get("label") or _where(it)) + shown

    names = ", ".join(name(it, m) for it, m in zip(items[:10], found, strict=False))
    listed = f": {names}" + (" ..." if n > 10 else "") if n else ""
    shown, note, noot = _covered(rule, covered or [])
    if shown:
        evidence["covered"] = shown
    want, wil = count.describe(), count.describe("nl")
    ok = count.holds(n, total or 0)
    status = FindingStatus.PASS if ok else FindingStatus.FAIL
    if total is None:
        if ok:
            en, nl = f"{n} {what} ({want} expected)", f"{n} {wat} (verwacht: {wil})"
        else:
            en, nl = (
                f"{n} {what}, where {want} are expected",
                f"{n} {wat}, waar {wil} verwacht wordt",
            )
        return Verdict(status, f"{en}{listed}{note}", evidence, f"{nl}{listed}{noot}")
    evidence["population"] = total
    about = rule.population.about if rule.population is not None else None
    of_en = f"{what}: {n} of {total}" + (f" {_text(about, 'en')}" if about else "")
    of_nl = f"{wat}: {n} van {total}" + (f" {_text(about, 'nl')}" if about else "")
    if count.relative:
        evidence["percent"] = round(100 * n / total, 2)
        share, aandeel = count.share(n, total), count.share(n, total, "nl")
        if ok:
            en, nl = f"{of_en} ({share}; {want} expected)", f"{of_nl} ({aandeel}; verwacht: {wil})"
        else:
            en = f"{of_en} ({share}), where {want} is expected"
            nl = f"{of_nl} ({aandeel}), waar {wil} verwacht wordt"
    elif ok:
        en, nl = f"{of_en} ({want} expected)", f"{of_nl} (verwacht: {wil})"
    else:
        en, nl = f"{of_en}, where {want} are expected", f"{of_nl}, waar {wil} verwacht wordt"
    return Verdict(status, f"{en}{listed}{note}", evidence, f"{nl}{listed}{noot}")


def _reduce(rule: RuleBody, found: list[Match]) -> list[Match]:
    if rule.reduce is None or not found:
        return found
    present = [m for m in found if not absent(m.node.value) and not never(m.node.value)]
    if not present:
        return found[:1]
    numeric = all(as_number(m.node.value) is not None for m in present)

    def key(m: Match) -> Any:
        if numeric:
            return as_number(m.node.value)
        try:
            return as_date(m.node.value).toordinal()
        except ValueProblem as exc:
            raise _located(exc, m.node) from None

    best = max(present, key=key) if rule.reduce == "max" else min(present, key=key)
    return [best]


def _judge_expect(
    rule: RuleBody, found: list[Match], docs: Sequence[Node], today: dt.date
) -> Verdict:
    cond = rule.expect
    assert cond is not None
    what, wat = _what(rule, "en"), _what(rule, "nl")
    expected, verwacht = cond.describe(), cond.describe("nl")
    if not found:
        file = docs[0].file if docs else "-"
        evidence: dict[str, Any] = {"expected": expected, "items": []}
        text, tekst = f"{what} is not set in {file}", f"{wat} is niet ingesteld in {file}"
        status = {
            "fail": FindingStatus.FAIL,
            "pass": FindingStatus.PASS,
            "not_applicable": FindingStatus.NOT_APPLICABLE,
        }[rule.missing]
        if status is FindingStatus.FAIL:
            text, tekst = f"{text} ({expected} expected)", f"{tekst} (verwacht: {verwacht})"
        return Verdict(status, text, evidence, tekst)
    found = _reduce(rule, found)
    judged = [(m, _holds(cond, m.node, today)) for m in found]
    bad = [m for m, ok in judged if not ok]
    shown = [j for j in judged if not j[1]] + [j for j in judged if j[1]]
    items = [_item(m, rule, ok) for m, ok in shown[:MAX_ITEMS]]
    evidence = {"expected": expected, "items": items, "checked": len(found)}
    if not bad:
        if len(found) == 1:
            it = items[0]
            value = _short(it["actual"])
            return Verdict(
                FindingStatus.PASS,
                f"{what} is {value!r} ({_where(it)})",
                evidence,
                f"{wat} is {value!r} ({_where(it, 'nl')})",
            )
        return Verdict(
            FindingStatus.PASS,
            f"all {len(found)} values of {what} meet: {expected}",
            evidence,
            f"alle {len(found)} waarden van {wat} voldoen: {verwacht}",
        )
    worst = items[: min(len(bad), 5)]

    def listed(lang: str) -> str:
        at = " op " if lang == "nl" else " at "
        return "; ".join(
            f"{str(it['label']) + ' ' if it.get('label') else ''}{_short(it['actual'])!r}{at}{_where(it, lang)}"
            for it in worst
        )

    more = " ..." if len(bad) > 5 else ""
    return Verdict(
        FindingStatus.FAIL,
        f"{len(bad)} of {len(found)} values of {what} fail ({expected} expected): {listed('en')}{more}",
        evidence,
        f"{len(bad)} van {len(found)} waarden van {wat} voldoen niet (verwacht: {verwacht}): {listed('nl')}{more}",
    )


def _nothing_to_judge(rule: RuleBody, docs: Sequence[Node]) -> Verdict:
    """A count that would hold only because the export holds none of the items (a partial
    backup, a VDOM without administrators), or a setting whose section is missing so that not
    even its default can be said to apply: no evidence, so no pass (and no fail)."""
    what, wat = _what(rule, "en"), _what(rule, "nl")
    files = ", ".join(sorted({d.file for d in docs})) or "-"
    return Verdict(
        FindingStatus.NOT_APPLICABLE,
        f"{what}: not judged: {files} holds none of the items this check looks at "
        f"({' | '.join(rule.select or [])}); a pass needs them",
        {"select": rule.select, "selected": 0},
        f"{wat}: niet beoordeeld: {files} bevat geen van de items die deze controle bekijkt "
        f"({' | '.join(rule.select or [])}); een 'in orde' vraagt ze",
    )


def _empty_population(rule: RuleBody, docs: Sequence[Node], selected: int) -> Verdict:
    """Items were selected, but none is in the population: a share of nothing, or a count that
    holds at zero (a device list of iPads only, judged on Windows and macOS devices), is no
    evidence either way."""
    pop = rule.population
    assert pop is not None
    what, wat = _what(rule, "en"), _what(rule, "nl")
    files = ", ".join(sorted({d.file for d in docs})) or "-"
    whom = _text(pop.about, "en") or "items of the population"
    wie = _text(pop.about, "nl") or "items van de populatie"
    en, nl = _conditions_text(pop, "en"), _conditions_text(pop, "nl")
    share = rule.count is not None and rule.count.relative
    why = "a share of none is no evidence" if share else "a pass needs them"
    waarom = "een aandeel van niets is geen bewijs" if share else "een 'in orde' vraagt ze"
    return Verdict(
        FindingStatus.NOT_APPLICABLE,
        f"{what}: not judged: {files} holds no {whom}"
        + (f" ({en})" if en else "")
        + f" among its {selected} items; {why}",
        {"select": rule.select, "selected": selected, "population": 0, "population_where": en},
        f"{wat}: niet beoordeeld: {files} bevat geen {wie}"
        + (f" ({nl})" if nl else "")
        + f" onder zijn {selected} items; {waarom}",
    )


def _judge_counted(
    rule: RuleBody, selected: list[Match], docs: Sequence[Node], today: dt.date
) -> Verdict:
    count, pop = rule.count, rule.population
    assert count is not None
    judged = [m for m in selected if _where_ok(pop, m.node, today)] if pop else selected
    # nothing selected: no evidence for a pass, nor for "the export cannot decide"
    if not judged and (count.relative or count.holds(0) or rule.undecided is not None):
        if selected and pop is not None:
            return _empty_population(rule, docs, len(selected))
        return _nothing_to_judge(rule, docs)
    found = [m for m in judged if _where_ok(rule, m.node, today)]
    found, covered = _uncovered(rule, found, docs, today)
    total = len(judged) if pop is not None or count.relative else None
    return _judge_count(rule, found, total, covered)


def _listed(items: list[dict[str, Any]], n: int) -> str:
    """`: name, name, ...` for the first ten counted items (empty when none)."""
    names = ", ".join(str(it.get("label") or _where(it)) for it in items[:10])
    return f": {names}" + (" ..." if n > 10 else "") if n else ""


def _undecided(rule: RuleBody, v: Verdict) -> Verdict:
    """A failure the export cannot decide, as "not judged" with what to attest instead."""
    en, nl = _text(rule.undecided, "en"), _text(rule.undecided, "nl")
    nl = nl or en
    if rule.count is not None:
        n = v.evidence.get("count", 0)
        listed = _listed(v.evidence.get("items", []), n)
        found = f"{n} {_what(rule, 'en')}{listed}"
        gevonden = f"{n} {_what(rule, 'nl')}{listed}"
    else:
        found, gevonden = v.message, _nl(v)
    return Verdict(
        FindingStatus.NOT_APPLICABLE,
        f"not judged: {found}. {en}",
        {**v.evidence, "undecided": True},
        f"niet beoordeeld: {gevonden}. {nl}",
        cannot_decide=True,
    )


def judge(rule: RuleBody, docs: Sequence[Node], today: dt.date) -> Verdict:
    """Judge one rule body against the parsed exports of its kind; a part with `undecided`
    that would fail is not judged, with its reason."""
    verdict = _judge(rule, docs, today)
    if rule.undecided is not None and verdict.status is FindingStatus.FAIL:
        return _undecided(rule, verdict)
    return verdict


def _judge(rule: RuleBody, docs: Sequence[Node], today: dt.date) -> Verdict:
    what, wat = _what(rule, "en"), _what(rule, "nl")
    try:
        unmet = _unmet(rule, docs, today)
        if unmet is not None:
            en, nl = _text(unmet.about, "en"), _text(unmet.about, "nl")
            return Verdict(
                FindingStatus.NOT_APPLICABLE,
                f"{what}: not judged: {en}",
                {"only_if": unmet.select},
                f"{wat}: niet beoordeeld: {nl or en}",
            )
        selected = _selected(rule, docs)
        if rule.count is not None:
            return _judge_counted(rule, selected, docs, today)
        if not selected and "default" in rule.model_fields_set:
            return _nothing_to_judge(rule, docs)  # not even the section its default needs
        found = [m for m in selected if _where_ok(rule, m.node, today)]
        return _judge_expect(rule, found, docs, today)
    except ValueProblem as exc:
        return Verdict(
            FindingStatus.ERROR, f"{what}: {exc}", {"select": rule.select}, f"{wat}: {exc}"
        )


def _decisive(a: Verdict, b: Verdict) -> list[dict[str, Any]]:
    """The evidence items on which two verdicts differ: kept by one only, or judged apart."""

    def keyed(v: Verdict) -> dict[tuple[Any, Any], dict[str, Any]]:
        return {(it.get("file"), it.get("path")): it for it in v.evidence.get("items", [])}

    ka, kb = keyed(a), keyed(b)
    out = [it for k, it in ka.items() if k not in kb or kb[k].get("ok") != it.get("ok")]
    return out + [it for k, it in kb.items() if k not in ka]


def judge_with_facts(rule: RuleBody, docs: Sequence[Node], today: dt.date, facts: Facts) -> Verdict:
    """Judge a rule body whose conditions may name school facts (see facts.py).

    A fact the school does not declare is judged both ways; when the verdicts differ, the
    finding is not applicable, naming what to declare and the items it decides on."""
    low, missing = bind_rule(rule, facts)
    if not missing:
        return judge(low, docs, today)
    v_low = judge(low, docs, today)
    v_high = judge(bind_rule(rule, facts, missing)[0], docs, today)
    if v_low.status is v_high.status:
        return v_low
    for v in (v_low, v_high):
        if v.status is FindingStatus.ERROR:
            return v
    # Name the facts that decide it on their own (all of them when only together).
    alone = set()
    for fact in missing:
        if judge(bind_rule(rule, facts, {fact})[0], docs, today).status is not v_low.status:
            alone.add(fact)
    missing = alone or missing
    items = _decisive(v_low, v_high)
    names = ", ".join(str(it.get("label") or _where(it)) for it in items[:10])
    names += " ..." if len(items) > 10 else ""
    on, over = (
        (f", which decide on: {names}", f", en die beslissen over: {names}") if names else ("", "")
    )
    return Verdict(
        FindingStatus.NOT_APPLICABLE,
        f"{_what(rule, 'en')}: not judged: school.yaml does not declare "
        f"{describe_facts(missing, 'en')}{on}",
        {"undeclared": sorted(missing), "items": items[:MAX_ITEMS]},
        f"{_what(rule, 'nl')}: niet beoordeeld: school.yaml vermeldt "
        f"{describe_facts(missing, 'nl')} niet{over}",
        undecided=tuple(sorted(missing)),
    )


def _nl(v: Verdict) -> str:
    return v.message_nl or v.message


def evaluate(
    params: RuleParams,
    docs: Mapping[str, Sequence[Node]],
    today: dt.date,
    facts: Facts | None = None,
) -> Verdict:
    """Judge a rule (or its parts) against parsed exports by kind, with what the school
    declares about itself (`facts`; none given: nothing declared).

    `any_of` holds when one part holds; `all_of` when every part that has exports holds. A part
    whose kind has no export is left out; with no part left, the rule is not applicable. A part
    that needs an undeclared fact makes the rule not applicable unless another part decides it."""
    verdicts: list[tuple[Alternative, Verdict]] = []
    for alt in params.alternatives():
        kind = alt.kind or params.kind
        if docs.get(kind):
            verdicts.append((alt, judge_with_facts(alt, docs[kind], today, facts or {})))
    if not verdicts:
        kinds = " or ".join(params.kinds())
        soorten = " of ".join(params.kinds())
        return Verdict(
            FindingStatus.NOT_APPLICABLE,
            f"no export of kind {kinds}",
            {},
            f"geen export van soort {soorten}",
        )
    if len(verdicts) == 1 and params.any_of is None and params.all_of is None:
        alt, v = verdicts[0]
        v.evidence = {"kind": alt.kind, "select": alt.select, **v.evidence}
        return v
    mode = "any_of" if params.any_of is not None else "all_of"
    parts = [
        {
            "kind": a.kind,
            "select": a.select,
            "status": str(v.status),
            "message": v.message,
            **v.evidence,
        }
        for a, v in verdicts
    ]
    evidence: dict[str, Any] = {mode: parts}
    statuses = [v.status for _, v in verdicts]

    def joined(vs: list[Verdict]) -> tuple[str, str]:
        return "; ".join(v.message for v in vs), "; ".join(_nl(v) for v in vs)

    every = [v for _, v in verdicts]
    open_ = [v for v in every if v.cannot_decide]

    def cannot_decide() -> Verdict:
        text, tekst = joined(open_)
        return Verdict(FindingStatus.NOT_APPLICABLE, text, evidence, tekst, cannot_decide=True)

    undecided = [v for v in every if v.undecided]
    facts_needed = tuple(sorted({n for v in undecided for n in v.undecided}))
    if facts_needed:
        evidence["undeclared"] = list(facts_needed)
    if mode == "any_of":
        passed = [v for v in every if v.status is FindingStatus.PASS]
        if passed:
            return Verdict(FindingStatus.PASS, passed[0].message, evidence, _nl(passed[0]))
        if undecided:  # no part holds as declared, but one may once school.yaml says more
            text, tekst = joined(undecided + [v for v in every if not v.undecided])
            return Verdict(FindingStatus.NOT_APPLICABLE, text, evidence, tekst, facts_needed)
        if open_:
            return cannot_decide()
        text, tekst = joined(every)
        if all(s is FindingStatus.NOT_APPLICABLE for s in statuses):
            return Verdict(FindingStatus.NOT_APPLICABLE, text, evidence, tekst)
        if FindingStatus.FAIL not in statuses and FindingStatus.ERROR in statuses:
            return Verdict(FindingStatus.ERROR, text, evidence, tekst)
        return Verdict(
            FindingStatus.FAIL,
            f"none of the alternatives holds: {text}",
            evidence,
            f"geen enkel alternatief voldoet: {tekst}",
        )
    for status in (FindingStatus.FAIL, FindingStatus.ERROR):
        if status in statuses:
            text, tekst = joined([v for v in every if v.status is status])
            return Verdict(status, text, evidence, tekst)
    if undecided:
        text, tekst = joined(undecided)
        return Verdict(FindingStatus.NOT_APPLICABLE, text, evidence, tekst, facts_needed)
    if open_:
        return cannot_decide()
    judged = [v for v in every if v.status is FindingStatus.PASS]
    if not judged:
        return Verdict(FindingStatus.NOT_APPLICABLE, every[0].message, evidence, _nl(every[0]))
    text, tekst = joined(judged)
    return Verdict(FindingStatus.PASS, text, evidence, tekst)
