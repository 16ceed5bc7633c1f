"""What a rule says, as data: the parameters of the `config.rule` probe, validated on load.

A rule names the export kind it reads, a selector (see select.py), optional `where`
conditions on each selected item, and either `expect` (every selected value must meet it) or
`count` (how many items may be selected, in numbers or as a share of a `population`).
`any_of` and `all_of` hold parts (each may read another kind). engine.py judges them.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cyberstd.registry import ProbeParams
from cyberstd.rules.compare import Condition, Scalar
from cyberstd.rules.select import SelectorError, compile_selector

Text = str | dict[str, str]  # one text, or {nl: ..., en: ...}


def number(value: float, lang: str = "en") -> str:
    """A number as people write it: no trailing zeros, a decimal comma in Dutch."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "nl" else text


def percent(value: float, lang: str = "en") -> str:
    """A percentage: `2.5%` in English, `2,5 %` in Dutch."""
    return f"{number(value, lang)} %" if lang == "nl" else f"{number(value)}%"


class CountCondition(BaseModel):
    """How many items may be selected: in numbers, or as a percentage of the population."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    equals: int | None = Field(default=None, ge=0)
    at_least_percent: float | None = Field(default=None, ge=0, le=100)
    at_most_percent: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if all(getattr(self, f) is None for f in type(self).model_fields):
            raise ValueError(
                "give at least one of: at_least, at_most, equals, at_least_percent, at_most_percent"
            )
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"at_least ({self.at_least}) is above at_most ({self.at_most})")
        low, high = self.at_least_percent, self.at_most_percent
        if low is not None and high is not None and low > high:
            raise ValueError(f"at_least_percent ({low}) is above at_most_percent ({high})")
        return self

    @property
    def relative(self) -> bool:
        """Whether the condition gives a percentage (and so needs a denominator)."""
        return self.at_least_percent is not None or self.at_most_percent is not None

    def bounds(self) -> list[float]:
        """The percentages it gives."""
        return [b for b in (self.at_least_percent, self.at_most_percent) if b is not None]

    def holds(self, n: int, total: int = 0) -> bool:
        """Whether n items (of `total` in the population) meet the condition. Shares are
        compared exactly (5 of 100 is at most 5 %), never through rounded floats."""
        if not (
            (self.at_least is None or n >= self.at_least)
            and (self.at_most is None or n <= self.at_most)
            and (self.equals is None or n == self.equals)
        ):
            return False
        if not self.relative:
            return True
        assert total > 0, "a percentage of an empty population is not judged"
        share = Fraction(100 * n, total)
        low, high = self.at_least_percent, self.at_most_percent
        return (low is None or share >= Fraction(str(low))) and (
            high is None or share <= Fraction(str(high))
        )

    def share(self, n: int, total: int, lang: str = "en") -> str:
        """n of total as a percentage, with as many decimals as it takes not to look equal to
        a bound it is not equal to (5.04 % is not shown as 5 % under "at most 5 %")."""
        exact = Fraction(100 * n, total)
        bounds = [Fraction(str(b)) for b in self.bounds()]
        decimals = 1
        while decimals < 6 and exact not in bounds:
            if Fraction(str(round(float(exact), decimals))) not in bounds:
                break
            decimals += 1
        return percent(round(float(exact), decimals), lang)

    def describe(self, lang: str = "en") -> str:
        nl = lang == "nl"
        parts = []
        if self.equals is not None:
            parts.append(f"{'precies' if nl else 'exactly'} {self.equals}")
        if self.at_least is not None:
            parts.append(f"{'minstens' if nl else 'at least'} {self.at_least}")
        if self.at_most is not None:
            parts.append(f"{'hoogstens' if nl else 'at most'} {self.at_most}")
        if self.at_least_percent is not None:
            parts.append(
                f"{'minstens' if nl else 'at least'} {percent(self.at_least_percent, lang)}"
            )
        if self.at_most_percent is not None:
            parts.append(
                f"{'hoogstens' if nl else 'at most'} {percent(self.at_most_percent, lang)}"
            )
        return (" en " if nl else " and ").join(parts)


def _selector(text: str) -> str:
    try:
        compile_selector(text)
    except SelectorError as exc:
        raise ValueError(str(exc)) from None
    return text


def _conditions(v: dict[str, Condition]) -> dict[str, Condition]:
    for key in v:
        _selector(key)
    return v


def _condition_sets(v: list[dict[str, Condition]]) -> list[dict[str, Condition]]:
    for conditions in v:
        if not conditions:
            raise ValueError("each set of where_any needs at least one condition")
        _conditions(conditions)
    return v


class Precondition(ProbeParams):
    """When a rule can be judged at all: a value in the export that must meet a condition
    (absent counts as absent); otherwise the finding is not applicable, with `about` as why."""

    select: str
    expect: Condition
    about: Text

    @field_validator("select")
    @classmethod
    def _selector(cls, v: str) -> str:
        return _selector(v)

    @model_validator(mode="after")
    def _plain(self) -> Self:
        if self.expect.relative_to is not None:
            raise ValueError("'relative_to' works in where conditions, which judge an item")
        return self


class Filter(ProbeParams):
    """Conditions on each selected item: all of `where`, and one set of `where_any`."""

    where: dict[str, Condition] = Field(default_factory=dict)
    where_any: list[dict[str, Condition]] = Field(default_factory=list)

    @field_validator("where")
    @classmethod
    def _where(cls, v: dict[str, Condition]) -> dict[str, Condition]:
        return _conditions(v)

    @field_validator("where_any")
    @classmethod
    def _where_any(cls, v: list[dict[str, Condition]]) -> list[dict[str, Condition]]:
        return _condition_sets(v)


class Population(Filter):
    """The items a share is taken of (the denominator): those selected that meet its
    conditions, such as the Windows and macOS devices of a device list. `about` names them."""

    about: Text | None = None


class Cover(Filter):
    """Items that make up for an offender: an item kept by `where` is not counted when an
    item that `select` reaches and that meets these conditions names it, that is, when a
    value of `key` (split on `separator`, if given) equals the offender's `matches`, ignoring
    case. A backup job without an off-site copy of its own is covered by a copy job that
    copies it off-site. `about` says what covers, for messages."""

    select: str
    key: str
    matches: str
    separator: str | None = Field(default=None, min_length=1)
    about: Text | None = None

    @field_validator("select", "key", "matches")
    @classmethod
    def _selectors(cls, v: str) -> str:
        return _selector(v)


class RuleBody(Filter):
    """What one rule selects and expects (shared by a rule and each of its alternatives).

    `where`: conditions an item must all meet; `where_any`: sets of conditions of which an
    item must meet one set (an OR across fields, e.g. "operator AND, or MFA as the only grant");
    `only_if`: preconditions on the export (data the rule needs), one or a list; `population` and
    `covered_by` (with `count`): what a share is taken of, and what makes up for an item."""

    select: list[str] | None = None
    only_if: list[Precondition] = Field(default_factory=list)
    population: Population | None = None
    covered_by: Cover | None = None
    expect: Condition | None = None
    count: CountCondition | None = None
    reduce: Literal["max", "min"] | None = None
    default: Scalar = None
    missing: Literal["fail", "pass", "not_applicable"] = "fail"
    label: str | None = None
    # (count) a value shown beside each counted item's name in messages: the unknown word.
    show: str | None = None
    about: Text | None = None
    # Why a failure of this part is no verdict (the export cannot show what decides it, such as
    # a second factor kept on a RADIUS server) and what to attest instead.
    undecided: Text | None = None

    @field_validator("select", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("only_if", mode="before")
    @classmethod
    def _preconditions(cls, v: Any) -> Any:
        return [] if v is None else [v] if isinstance(v, dict) else v

    @field_validator("select")
    @classmethod
    def _selectors(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one selector")
            for s in v:
                _selector(s)
        return v

    @field_validator("label", "show")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        return _selector(v) if v is not None else v

    def _check_body(self) -> None:
        if self.select is None:
            raise ValueError("give 'select'")
        if self.show is not None and self.count is None:
            raise ValueError("'show' goes with 'count'")
        if (self.expect is None) == (self.count is None):
            raise ValueError("give exactly one of 'expect' or 'count'")
        if self.reduce is not None and self.expect is None:
            raise ValueError("'reduce' goes with 'expect'")
        for name in ("population", "covered_by"):
            if getattr(self, name) is not None and self.count is None:
                raise ValueError(f"'{name}' goes with 'count'")
        if self.expect is not None and self.expect.relative_to is not None:
            raise ValueError("'relative_to' works in where conditions, which judge an item")


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
