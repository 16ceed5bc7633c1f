"""Rules written as data: select nodes in parsed exports, filter them, and judge values or counts.

A rule names the export kind it reads, a selector (see select.py), optional `where`
conditions on each selected item, and either `expect` (every selected value must meet it) or
`count` (how many items may be selected). `any_of` holds alternatives (each may read another
kind): the rule holds when one of them holds. A part with `undecided` finds what the export
cannot decide (an administrator whose second factor lives on a RADIUS server): where it would
fail, the verdict is "not judged" with its reason, and the rule cannot pass. Every verdict
carries, per item, the file, the line, the path and the actual value next to the expectation.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cyberstd.parsers.base import Node
from cyberstd.registry import ProbeParams
from cyberstd.results import FindingStatus
from cyberstd.rules.compare import (
    Condition,
    Scalar,
    ValueProblem,
    absent,
    as_date,
    as_number,
    never,
)
from cyberstd.rules.select import Match, SelectorError, compile_selector, select

MAX_ITEMS = 50


class CountCondition(BaseModel):
    """How many items may be selected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    equals: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if self.at_least is None and self.at_most is None and self.equals is None:
            raise ValueError("give at least one of: at_least, at_most, equals")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"at_least ({self.at_least}) is above at_most ({self.at_most})")
        return self

    def holds(self, n: int) -> bool:
        return (
            (self.at_least is None or n >= self.at_least)
            and (self.at_most is None or n <= self.at_most)
            and (self.equals is None or n == self.equals)
        )

    def describe(self, lang: str = "en") -> str:
        nl = lang == "nl"
        parts = []
        if self.equals is not None:
            parts.append(f"{'precies' if nl else 'exactly'} {self.equals}")
        if self.at_least is not None:
            parts.append(f"{'minstens' if nl else 'at least'} {self.at_least}")
        if self.at_most is not None:
            parts.append(f"{'hoogstens' if nl else 'at most'} {self.at_most}")
        return (" en " if nl else " and ").join(parts)


def _selector(text: str) -> str:
    try:
        compile_selector(text)
    except SelectorError as exc:
        raise ValueError(str(exc)) from None
    return text


class Precondition(ProbeParams):
    """When a rule can be judged at all: a value in the export that must meet a condition
    (absent counts as absent); otherwise the finding is not applicable, with `about` as why."""

    select: str
    expect: Condition
    about: str | dict[str, str]

    @field_validator("select")
    @classmethod
    def _selector(cls, v: str) -> str:
        return _selector(v)


class RuleBody(ProbeParams):
    """What one rule selects and expects (shared by a rule and each of its alternatives).

    `where`: conditions an item must all meet; `where_any`: sets of conditions of which an
    item must meet one set (an OR across fields, e.g. "operator AND, or MFA as the only grant");
    `only_if`: a precondition on the export (data the rule needs); `undecided`: why a failure
    of this part is no verdict (the export cannot show what decides it) and what to attest."""

    select: list[str] | None = None
    where: dict[str, Condition] = Field(default_factory=dict)
    where_any: list[dict[str, Condition]] = Field(default_factory=list)
    only_if: Precondition | None = None
    expect: Condition | None = None
    count: CountCondition | None = None
    reduce: Literal["max", "min"] | None = None
    default: Scalar = None
    missing: Literal["fail", "pass", "not_applicable"] = "fail"
    label: str | None = None
    about: str | dict[str, str] | None = None  # text, or {nl: ..., en: ...}
    undecided: str | dict[str, str] | None = None

    @field_validator("select", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("select")
    @classmethod
    def _selectors(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one selector")
            for s in v:
                _selector(s)
        return v

    @field_validator("where")
    @classmethod
    def _where(cls, v: dict[str, Condition]) -> dict[str, Condition]:
        for key in v:
            _selector(key)
        return v

    @field_validator("where_any")
    @classmethod
    def _where_any(cls, v: list[dict[str, Condition]]) -> list[dict[str, Condition]]:
        for conditions in v:
            if not conditions:
                raise ValueError("each set of where_any needs at least one condition")
            for key in conditions:
                _selector(key)
        return v

    @field_validator("label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        return _selector(v) if v is not None else v

    def _check_body(self) -> None:
        if self.select is None:
            raise ValueError("give 'select'")
        if (self.expect is None) == (self.count is None):
            raise ValueError("give exactly one of 'expect' or 'count'")
        if self.reduce is not None and self.expect is None:
            raise ValueError("'reduce' goes with 'expect'")


class Alternative(RuleBody):
    """One alternative of `any_of`; `kind` defaults to the rule's kind."""

    kind: str | None = None

    @model_validator(mode="after")
    def _body(self) -> Self:
        self._check_body()
        return self


class RuleParams(RuleBody):
    """The parameters of the `config.rule` probe: one rule over the exports of one kind."""

    kind: str
    any_of: list[Alternative] | None = None
    all_of: list[Alternative] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        combined = self.any_of if self.any_of is not None else self.all_of
        if self.any_of is not None and self.all_of is not None:
            raise ValueError("give 'any_of' or 'all_of', not both")
        if combined is not None:
            if self.select is not None or self.expect is not None or self.count is not None:
                raise ValueError(
                    "give either 'any_of'/'all_of' or 'select' with 'expect'/'count', not both"
                )
            if not combined:
                raise ValueError("'any_of' and 'all_of' need at least one part")
        else:
            self._check_body()
        return self

    def alternatives(self) -> list[Alternative]:
        """The parts of the rule (one when it has no any_of/all_of), each with its kind."""
        return self._alternatives

    def kinds(self) -> list[str]:
        """Every kind the rule reads, its own first."""
        return self._kinds

    @functools.cached_property
    def _alternatives(self) -> list[Alternative]:
        combined = self.any_of if self.any_of is not None else self.all_of
        if combined is not None:
            return [a if a.kind else a.model_copy(update={"kind": self.kind}) for a in combined]
        body = self.model_dump(
            exclude={"kind", "any_of", "all_of"}, by_alias=True, exclude_unset=True
        )
        return [Alternative.model_validate({**body, "kind": self.kind})]

    @functools.cached_property
    def _kinds(self) -> list[str]:
        return list(dict.fromkeys(a.kind or self.kind for a in self._alternatives))


@dataclass
class Verdict:
    """The outcome of one rule: a finding status, a message and the evidence behind it."""

    status: FindingStatus
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    message_nl: str = ""  # the same in Dutch (empty: only the English one exists)
    # Not judged because the export cannot decide (a part with `undecided` that would fail):
    # unlike a part with nothing to judge, it keeps the rule from passing.
    undecided: bool = False


def _located(exc: ValueProblem, node: Node) -> ValueProblem:
    """The same problem, saying where the value is."""
    where = f"{node.file}:{node.line}" if node.line else node.file
    return ValueProblem(f"{exc} (at {where})")


def _holds(cond: Condition, node: Node, today: dt.date) -> bool:
    try:
        return cond.holds(node, today)
    except ValueProblem as exc:
        raise _located(exc, node) from None


def _all_hold(conditions: Mapping[str, Condition], item: Node, today: dt.date) -> bool:
    for key, cond in conditions.items():
        found = select(item, compile_selector(key))
        if not found:
            if not cond.holds(None, today):
                return False
        elif not all(_holds(cond, m.node, today) for m in found):
            return False
    return True


def _where_ok(rule: RuleBody, item: Node, today: dt.date) -> bool:
    if not _all_hold(rule.where, item, today):
        return False
    return not rule.where_any or any(_all_hold(c, item, today) for c in rule.where_any)


def _applies(rule: RuleBody, docs: Sequence[Node], today: dt.date) -> bool:
    pre = rule.only_if
    if pre is None:
        return True
    for doc in docs:
        found = select(doc, compile_selector(pre.select))
        if not (
            any(_holds(pre.expect, m.node, today) for m in found)
            if found
            else pre.expect.holds(None, today)
        ):
            return False
    return True


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


def _what(rule: RuleBody, lang: str) -> str:
    """What a rule judges, in words (its `about` in the language asked, else its selectors)."""
    about = rule.about
    if isinstance(about, dict):
        return about.get(lang) or about.get("en") or next(iter(about.values()), "")
    return about or " | ".join(rule.select or [])


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


def _matches(rule: RuleBody, docs: Sequence[Node], today: dt.date) -> list[Match]:
    """What the selectors reach in every document, kept when `where` holds."""
    return [m for m in _selected(rule, docs) if _where_ok(rule, m.node, today)]


def _listed(items: list[dict[str, Any]], n: int) -> str:
    """`: name, name, ...` for the first ten counted items (empty when none)."""
    names = ", ".join(it.get("label") or _where(it) for it in items[:10])
    return f": {names}" + (" ..." if n > 10 else "") if n else ""


def _judge_count(rule: RuleBody, found: list[Match]) -> Verdict:
    assert rule.count is not None
    n = len(found)
    what, wat = _what(rule, "en"), _what(rule, "nl")
    items = [_item(m, rule, None, value=False) for m in found[:MAX_ITEMS]]
    for it, m in zip(items, found, strict=False):
        if rule.where:  # the values that made the item count: what an auditor re-checks
            it["actual"] = {key: _where_value(m.node, key) for key in rule.where}
    evidence = {"count": n, "expected": f"count {rule.count.describe()}", "items": items}
    listed = _listed(items, n)
    want, wil = rule.count.describe(), rule.count.describe("nl")
    if rule.count.holds(n):
        return Verdict(
            FindingStatus.PASS,
            f"{n} {what} ({want} expected){listed}",
            evidence,
            f"{n} {wat} (verwacht: {wil}){listed}",
        )
    return Verdict(
        FindingStatus.FAIL,
        f"{n} {what}, where {want} are expected{listed}",
        evidence,
        f"{n} {wat}, waar {wil} verwacht wordt{listed}",
    )


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


def _undecided(rule: RuleBody, v: Verdict) -> Verdict:
    """A failure the export cannot decide, as "not judged" with what to attest instead."""
    why = rule.undecided
    en, nl = (why.get("en", ""), why.get("nl", "")) if isinstance(why, dict) else (why, why)
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
        undecided=True,
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
        if not _applies(rule, docs, today):
            assert rule.only_if is not None
            why = rule.only_if.about
            en, nl = (why.get("en", ""), why.get("nl", "")) if isinstance(why, dict) else (why, why)
            return Verdict(
                FindingStatus.NOT_APPLICABLE,
                f"{what}: not judged: {en}",
                {"only_if": rule.only_if.select},
                f"{wat}: niet beoordeeld: {nl or en}",
            )
        selected = _selected(rule, docs)
        found = [m for m in selected if _where_ok(rule, m.node, today)]
        if rule.count is not None:
            # nothing selected: no evidence for a pass, nor for "the export cannot decide"
            if not selected and (rule.count.holds(0) or rule.undecided is not None):
                return _nothing_to_judge(rule, docs)
            return _judge_count(rule, found)
        if not selected and "default" in rule.model_fields_set:
            return _nothing_to_judge(rule, docs)  # not even the section its default needs
        return _judge_expect(rule, found, docs, today)
    except ValueProblem as exc:
        return Verdict(
            FindingStatus.ERROR, f"{what}: {exc}", {"select": rule.select}, f"{wat}: {exc}"
        )


def _nl(v: Verdict) -> str:
    return v.message_nl or v.message


def evaluate(params: RuleParams, docs: Mapping[str, Sequence[Node]], today: dt.date) -> Verdict:
    """Judge a rule (or its parts) against parsed exports by kind.

    `any_of` holds when one part holds; `all_of` when every part that has exports holds. A part
    whose kind has no export is left out; with no part left, the rule is not applicable. A part
    the export cannot decide (`undecided`) makes the rule not judged, unless a part fails or
    errs (all_of) or one holds (any_of)."""
    verdicts: list[tuple[Alternative, Verdict]] = []
    for alt in params.alternatives():
        kind = alt.kind or params.kind
        if docs.get(kind):
            verdicts.append((alt, judge(alt, docs[kind], today)))
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
    open_ = [v for v in every if v.undecided]

    def undecided() -> Verdict:
        text, tekst = joined(open_)
        return Verdict(FindingStatus.NOT_APPLICABLE, text, evidence, tekst, undecided=True)

    if mode == "any_of":
        passed = [v for v in every if v.status is FindingStatus.PASS]
        if passed:
            return Verdict(FindingStatus.PASS, passed[0].message, evidence, _nl(passed[0]))
        if open_:
            return undecided()
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
    if open_:
        return undecided()
    judged = [v for v in every if v.status is FindingStatus.PASS]
    if not judged:
        return Verdict(FindingStatus.NOT_APPLICABLE, every[0].message, evidence, _nl(every[0]))
    text, tekst = joined(judged)
    return Verdict(FindingStatus.PASS, text, evidence, tekst)
