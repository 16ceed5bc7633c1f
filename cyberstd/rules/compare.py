"""Expectations on one value: equals, in, at least, matches, contains, present, within days, ...

Exports hold text ("8", "Yes", "7.2.5", "20/11/2026 08:12"), so values are compared the way
a person reads them: numbers as numbers, versions part by part, dates as dates, yes/no words
as booleans, and text without regard to case, accents and runs of spaces ("Zeer  Gevoelig" is
"zeer gevoelig", "publiék" is "publiek") unless `case_sensitive` is set. An absent value (no
such key, an empty cell, null) fails every positive expectation, satisfies every negative one
(`not_equals`, `not_in`, ...), and counts as infinitely old for `older_than_days` (a backup
that never succeeded, a device that never checked in); so do the words exports write for a
date that never happened ("Never", "nooit", "n/a", "-").
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cyberstd.parsers.base import Node
from cyberstd.rules.facts import Assumed, FactRef
from cyberstd.rules.select import SelectorError, compile_selector

Scalar = str | int | float | bool | None
_TRUE = {"true", "yes", "on", "1", "enable", "enabled", "ja", "aan"}
_FALSE = {"false", "no", "off", "0", "disable", "disabled", "nee", "uit"}
OPERATORS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "at_least",
    "at_most",
    "below",
    "above",
    "matches",
    "not_matches",
    "contains",
    "not_contains",
    "present",
    "within_days",
    "older_than_days",
    "under",
    "not_under",
    "in_domain",
    "not_in_domain",
    "items_at_most",
)


class ValueProblem(ValueError):
    """A value that the expectation cannot judge (a date that is not a date)."""


class Condition(BaseModel):
    """One or more expectations on a value; all that are given must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    equals: Scalar = None
    not_equals: Scalar = None
    in_: list[Scalar] | FactRef | None = Field(default=None, alias="in")
    not_in: list[Scalar] | FactRef | None = None
    at_least: int | float | str | None = None
    at_most: int | float | str | None = None
    below: int | float | str | None = None
    above: int | float | str | None = None
    matches: str | None = None
    not_matches: str | None = None
    contains: Scalar | list[Scalar] | FactRef = None
    not_contains: Scalar | list[Scalar] | FactRef = None
    present: bool | None = None
    within_days: int | None = Field(default=None, ge=0)
    older_than_days: int | None = Field(default=None, ge=0)
    under: list[str] | FactRef | None = None
    not_under: list[str] | FactRef | None = None
    in_domain: list[str] | FactRef | None = None
    not_in_domain: list[str] | FactRef | None = None
    # A list of at most this many items (none: absent or empty; a single value counts as one).
    items_at_most: int | None = Field(default=None, ge=0)
    any: list[Condition] | None = Field(default=None, min_length=1)
    case_sensitive: bool = False
    # A selector, relative to the item a `where` judges, whose date takes the place of the
    # run's day for within_days and older_than_days: "signatures more than 7 days older than
    # the device's last check-in". The engine resolves it; an absent date leaves the run's day.
    relative_to: str | None = None

    @field_validator("matches", "not_matches")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v

    @field_validator("relative_to")
    @classmethod
    def _relative_selector(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                compile_selector(v)
            except SelectorError as exc:
                raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.given:
            raise ValueError(f"give at least one of: {', '.join(OPERATORS)}, any")
        if (
            self.relative_to is not None
            and self.within_days is None
            and self.older_than_days is None
        ):
            raise ValueError("'relative_to' goes with 'within_days' or 'older_than_days'")
        if any(c.relative_to is not None for c in self.any or []):
            raise ValueError("'relative_to' applies to a whole condition, not inside 'any'")
        return self

    @functools.cached_property
    def given(self) -> list[str]:
        """The operators this condition sets, in a fixed order (computed once)."""
        names = {"in" if n == "in_" else n for n in self.model_fields_set} - {"case_sensitive"}
        return [op for op in (*OPERATORS, "any") if op in names]

    def describe(self, lang: str = "en") -> str:
        """The expectation in words (English or Dutch), for messages and evidence."""
        parts = []
        for op in self.given:
            if op == "any":
                word = " of " if lang == "nl" else " or "
                alts = word.join(f"({c.describe(lang)})" for c in self.any or [])
                parts.append(f"{'één van' if lang == 'nl' else 'any of'} {alts}")
            elif lang == "nl":
                either = op in ("in", "not_in", "under", "not_under", "in_domain", "not_in_domain")
                value = _show(self._get(op), " of " if either else ", ")
                parts.append(_NL[op].format(value))
            else:
                parts.append(f"{op.replace('_', ' ')} {_show(self._get(op))}")
            if self.relative_to is not None and op in ("within_days", "older_than_days"):
                word = "ten opzichte van" if lang == "nl" else "relative to"
                parts[-1] += f" ({word} {self.relative_to})"
        return "; ".join(parts)

    def _get(self, op: str) -> Any:
        return getattr(self, "in_" if op == "in" else op)

    def holds(self, node: Node | None, today: dt.date) -> bool:
        """Whether every given expectation holds for this node (None: absent)."""
        value = None if node is None else node.value
        if self.any is not None and not any(c.holds(node, today) for c in self.any):
            return False
        return all(
            _check(op, self._get(op), value, self, today) for op in self.given if op != "any"
        )


_NL = {
    "equals": "gelijk aan {}",
    "not_equals": "niet gelijk aan {}",
    "in": "{}",
    "not_in": "niet {}",
    "at_least": "minstens {}",
    "at_most": "hoogstens {}",
    "below": "lager dan {}",
    "above": "hoger dan {}",
    "matches": "past bij {}",
    "not_matches": "past niet bij {}",
    "contains": "bevat {}",
    "not_contains": "bevat niet {}",
    "present": "aanwezig: {}",
    "within_days": "hoogstens {} dagen oud",
    "items_at_most": "hoogstens {} elementen",
    "older_than_days": "meer dan {} dagen oud",
    "under": "onder {}",
    "not_under": "niet onder {}",
    "in_domain": "op het domein {}",
    "not_in_domain": "niet op het domein {}",
}


def _show(v: Any, sep: str = ", ") -> str:
    if isinstance(v, list):
        return sep.join(_show(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return "null" if v is None else str(v)


def absent(value: Any) -> bool:
    """No value: a missing key, null, an empty cell, an empty list or mapping.

    An empty string counts as a value (an XML flag such as `<any/>` is present and empty)."""
    return value is None or value == [] or value == {}


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().casefold()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return None


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            return None
    return None


def fold(text: str) -> str:
    """Text as it is compared when case does not count: without case, accents and runs of
    white space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _same(expected: Scalar, actual: Any, cs: bool) -> bool:
    if expected is None:
        return absent(actual)
    if absent(actual):
        return False
    if isinstance(expected, bool):
        return as_bool(actual) is expected
    if isinstance(expected, (int, float)):
        return as_number(actual) == float(expected)
    a = str(actual).strip()
    return a == expected if cs else fold(a) == fold(expected)


_EPOCH = dt.datetime(1970, 1, 1)
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y",
    # Year first with slashes (Synology's DSM logs): never ambiguous.
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
)


# .NET's JSON date, as Windows PowerShell 5.1's ConvertTo-Json writes one: "\/Date(ms)\/",
# milliseconds since 1970 in UTC, with an offset that does not change the instant.
_DOTNET_DATE = re.compile(r"/Date\((-?\d{1,15})([+-]\d{4})?\)/")


def as_datetime(value: Any, formats: Sequence[str] = ()) -> dt.datetime:
    """A moment from ISO 8601 (with or without time and zone), a day-first European date, a
    year-first `YYYY/MM/DD` or .NET's JSON `/Date(ms)/`; `formats` (strptime patterns) are
    tried first.

    US month-first dates are read only with AM/PM (as US-English portals write them)."""
    text = str(value).strip()
    dotnet = _DOTNET_DATE.fullmatch(text)
    if dotnet:
        try:
            return _EPOCH + dt.timedelta(milliseconds=int(dotnet.group(1)))
        except OverflowError:
            raise ValueProblem(f"{text!r} is not a date") from None
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    iso = re.sub(r"\.\d+", "", text.replace("Z", "+00:00"))
    try:
        return dt.datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueProblem(f"{text!r} is not a date")


def as_date(value: Any) -> dt.date:
    """The day of `as_datetime`."""
    return as_datetime(value).date()


# What exports write for a date that never happened ("Last success: Never").
_NEVER = {"", "never", "nooit", "jamais", "nie", "none", "n/a", "-", "--"}


def never(value: Any) -> bool:
    """Whether a value is a word for a date that never happened."""
    return isinstance(value, str) and value.strip().casefold() in _NEVER


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


_VERSION = re.compile(r"\d+(\.\d+)+")


def _order(actual: Any, bound: int | float | str) -> int:
    """-1, 0 or 1: actual below, equal to or above the bound.

    A bound written as quoted text with dots ("7.10", "10.0.26100") is a version, compared
    part by part; a bound written as a number (12, 0.5) is a number."""
    if isinstance(bound, str) and _VERSION.fullmatch(bound.strip()):
        a_ver, b_ver = _version(str(actual)), _version(bound)
        if not a_ver:
            raise ValueProblem(f"{actual!r} cannot be compared with {bound!r}")
        return (a_ver > b_ver) - (a_ver < b_ver)
    a_num, b_num = as_number(actual), as_number(bound)
    if a_num is not None and b_num is not None:
        return (a_num > b_num) - (a_num < b_num)
    if isinstance(bound, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", bound.strip()):
        a_date, b_date = as_date(actual), as_date(bound)
        return (a_date > b_date) - (a_date < b_date)
    a_ver, b_ver = _version(str(actual)), _version(str(bound))
    if not a_ver or not b_ver:
        raise ValueProblem(f"{actual!r} cannot be compared with {bound!r}")
    return (a_ver > b_ver) - (a_ver < b_ver)


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [n.value if isinstance(n, Node) else n for n in value]
    return [value]


def _contains(value: Any, wanted: Scalar | list[Scalar], cs: bool) -> bool:
    """Every needle is an item of the value; a single value counts as a list of one (a
    FortiGate setting with one value, a CSV cell), so `contains: all` never matches
    "Sporthall". For substrings, use `matches`."""
    needles = wanted if isinstance(wanted, list) else [wanted]
    items = _items(value)
    return all(any(_same(n, item, cs) for item in items) for n in needles)


# How many days after the run's day a date may lie and still count as recent.
FUTURE_SLACK_DAYS = 1


def _under(value: Any, paths: list[str], cs: bool) -> bool:
    """A path at or below one of the paths (`/Leerlingen` holds `/Leerlingen/1A`, not
    `/Leerlingen-oud`)."""
    text = str(value).strip()
    text = text if cs else text.casefold()
    for path in paths:
        base = path.strip().rstrip("/")
        base = base if cs else base.casefold()
        if not base or text == base or text.startswith(base + "/"):
            return True
    return False


def _domain_of(value: Any) -> str:
    """The domain of a mail address or user name (after the last @), or a host name itself."""
    return str(value).strip().rpartition("@")[2].rstrip(".").casefold()


def _in_domain(value: Any, domains: list[str]) -> bool:
    """A mail address, user name or host name on one of the domains or below one."""
    name = _domain_of(value)
    for domain in domains:
        d = domain.strip().rstrip(".").casefold()
        if d and (name == d or name.endswith("." + d)):
            return True
    return False


def _check(op: str, expected: Any, value: Any, cond: Condition, today: dt.date) -> bool:
    if isinstance(expected, Assumed):  # an undeclared school fact: judged both ways
        return expected.holds
    if isinstance(expected, FactRef):
        raise AssertionError(f"{expected} was not bound before judging")
    cs = cond.case_sensitive
    if op == "present":
        return absent(value) is not expected
    if op == "items_at_most":
        return (0 if absent(value) else len(_items(value))) <= int(expected)
    if op == "older_than_days":
        if absent(value) or never(value):
            return True
        # A date after the run's day is no evidence of freshness (a day/month swap, a wrong
        # clock): it counts as old, as within_days refuses it. One day allows for time zones.
        age = (today - as_date(value)).days
        return age > expected or age < -FUTURE_SLACK_DAYS
    if op in ("equals", "not_equals") and expected is None:
        return absent(value) is (op == "equals")
    if absent(value):
        return op.startswith("not_")
    if isinstance(value, dict):  # a mapping is compared through its plain form
        value = {k: n.plain() for k, n in value.items()}
    if op == "equals":
        return _same(expected, value, cs)
    if op == "not_equals":
        return not _same(expected, value, cs)
    if op == "in":
        return all(any(_same(e, v, cs) for e in expected) for v in _items(value))
    if op == "not_in":
        return not any(_same(e, v, cs) for e in expected for v in _items(value))
    if op == "at_least":
        return all(_order(v, expected) >= 0 for v in _items(value))
    if op == "at_most":
        return all(_order(v, expected) <= 0 for v in _items(value))
    if op == "below":
        return all(_order(v, expected) < 0 for v in _items(value))
    if op == "above":
        return all(_order(v, expected) > 0 for v in _items(value))
    if op in ("matches", "not_matches"):
        flags = 0 if cs else re.IGNORECASE
        hit = any(re.search(expected, str(v), flags) for v in _items(value))
        return hit if op == "matches" else not hit
    if op == "contains":
        return _contains(value, expected, cs)
    if op == "not_contains":
        needles = expected if isinstance(expected, list) else [expected]
        return not any(_contains(value, n, cs) for n in needles)
    if op == "under":
        return all(_under(v, expected, cs) for v in _items(value))
    if op == "not_under":
        return not any(_under(v, expected, cs) for v in _items(value))
    if op == "in_domain":
        return all(_in_domain(v, expected) for v in _items(value))
    if op == "not_in_domain":
        return not any(_in_domain(v, expected) for v in _items(value))
    if op == "within_days":
        # A date more than a day after the run's day is no evidence of freshness (an export
        # judged --as-of a day before it was made); one day allows for time zones.
        return not never(value) and -FUTURE_SLACK_DAYS <= (today - as_date(value)).days <= int(
            expected
        )
    raise AssertionError(op)
