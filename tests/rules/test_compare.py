"""Expectations on one value, read the way a person reads an export cell."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd.parsers.base import Node
from cyberstd.rules.compare import (
    OPERATORS,
    Condition,
    ValueProblem,
    absent,
    as_bool,
    as_date,
    as_number,
)
from tests.rules.conftest import TODAY, parse_json

ABSENT: Any = object()


def holds(cond: dict[str, Any], value: Any, today: dt.date = TODAY) -> bool:
    """Whether the condition holds for a value (ABSENT: no node at all)."""
    node = None if value is ABSENT else Node(value, "x.json", 1)
    return Condition.model_validate(cond).holds(node, today)


def list_node(*values: Any) -> Node:
    return Node([Node(v, "x.json", 1) for v in values], "x.json", 1)


# --- equals / not_equals / in / not_in ----------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "result"),
    [
        ("enabled", "Enabled", True),
        ("enabled", " enabled ", True),
        ("enabled", "enabledForReportingButNotEnforced", False),
        ("no", "No", True),
        (True, True, True),
        (True, "Yes", True),
        (True, "ja", True),
        (True, "Enabled", True),
        (True, "AAN", True),
        (True, "1", True),
        (True, 1, True),
        (True, "False", False),
        (True, "maybe", False),
        (False, "uit", True),
        (False, "Nee", True),
        (False, "disable", True),
        (False, 0, True),
        (8, "8", True),
        (8, " 8 ", True),
        (8, 8.0, True),
        (1.5, "1,5", True),
        (8, "eight", False),
        (-1, "-1", True),
    ],
)
def test_equals(expected: Any, actual: Any, result: bool) -> None:
    assert holds({"equals": expected}, actual) is result
    assert holds({"not_equals": expected}, actual) is (not result)


def test_equals_case_sensitive() -> None:
    assert holds({"equals": "Enabled", "case_sensitive": True}, "Enabled")
    assert not holds({"equals": "Enabled", "case_sensitive": True}, "enabled")


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("zeer gevoelig", "Zeer Gevoelig"),
        ("zeer gevoelig", "zéér gevoelig"),  # Dutch stress accents
        ("zeer gevoelig", " ZEER   gevoelig "),
        ("publiek", "Publiék"),
        ("highly confidential", "Highly\tConfidential"),
    ],
)
def test_text_compares_without_case_accents_or_runs_of_spaces(expected: str, actual: str) -> None:
    assert holds({"equals": expected}, actual)
    assert holds({"in": ["intern", expected]}, actual)
    assert not holds({"not_in": ["intern", expected]}, actual)
    # ... but not when case counts, nor for another word
    assert not holds({"equals": expected, "case_sensitive": True}, actual)
    assert not holds({"equals": "gevoelig"}, actual)


def test_in_and_not_in_on_scalars_and_lists() -> None:
    assert holds({"in": ["open", "wep"]}, "WEP")
    assert not holds({"in": ["open", "wep"]}, "wpaeap")
    assert holds({"not_in": ["open", "wep"]}, "wpapsk")
    assert not holds({"not_in": ["open", "wep"]}, "open")
    # A list meets `in` when every item is allowed, `not_in` when no item is forbidden.
    assert holds({"in": ["mfa", "compliantDevice"]}, [Node("mfa", "x", 1)])
    assert not holds({"in": ["mfa"]}, [Node("mfa", "x", 1), Node("block", "x", 1)])
    assert holds({"not_in": ["block"]}, [Node("mfa", "x", 1)])
    assert not holds({"not_in": ["block"]}, [Node("mfa", "x", 1), Node("block", "x", 1)])


def test_items_at_most_counts_a_list_and_none_for_absent() -> None:
    two = [Node("a", "x", 1), Node("b", "x", 2)]
    assert holds({"items_at_most": 2}, two)
    assert not holds({"items_at_most": 1}, two)
    assert holds({"items_at_most": 0}, [])
    assert holds({"items_at_most": 0}, None)
    assert holds({"items_at_most": 1}, "one")
    assert not holds({"items_at_most": 0}, "one")


def test_in_with_mixed_types() -> None:
    assert holds({"in": [15, -1]}, "-1")
    assert holds({"in": [True]}, "yes")
    assert not holds({"in": ["80", "443"]}, "8443")


# --- ordering: at_least / at_most / below / above -----------------------------------------------


@pytest.mark.parametrize(
    ("op", "bound", "actual", "result"),
    [
        ("at_least", 12, "14", True),
        ("at_least", 12, "12", True),
        ("at_least", 12, " 8 ", False),
        ("at_most", 10, 10, True),
        ("at_most", 10, "11", False),
        ("below", 15, 14.5, True),
        ("below", 15, 15, False),
        ("above", 0, "1", True),
        ("above", 0, "0", False),
        ("at_least", "7.2.10", "7.2.9", False),
        ("at_least", "7.2.9", "7.2.10", True),
        ("above", "7.2.9", "7.2.10", True),
        ("below", "7.4.0", "7.2.10", True),
        ("at_least", "7.4.0", "v7.4.5,build2702 (GA.M)", True),
        ("below", "10.0.26100", "10.0.22631.4460", True),
        ("below", "10.0.26100", "10.0.19045.5131", True),
        ("below", "10.0.26100", "10.0.26100.2314", False),
        ("below", "10.0.26100", "10.0.26200.7171", False),
        ("below", "15.0", "14.7.1", True),
        ("below", "15.0", "15.1.1", False),
        ("below", "15.0", "15.0", False),
        ("at_least", "2026-01-01", "2026-11-27T07:58:11.000Z", True),
        ("below", "2026-01-01", "31/12/2025", True),
        ("above", "2026-01-01", "2025-12-31 23:59:59", False),
    ],
)
def test_ordering(op: str, bound: Any, actual: Any, result: bool) -> None:
    assert holds({op: bound}, actual) is result


def test_ordering_on_a_list_needs_every_item() -> None:
    assert holds({"at_least": 2}, [Node("3", "x", 1), Node(2, "x", 1)])
    assert not holds({"at_least": 2}, [Node("3", "x", 1), Node(1, "x", 1)])


def test_ordering_on_text_without_numbers_is_a_value_problem() -> None:
    with pytest.raises(ValueProblem, match=r"'unknown' cannot be compared with '7\.4\.0'"):
        holds({"at_least": "7.4.0"}, "unknown")


def test_ordering_absent_fails() -> None:
    for op in ("at_least", "at_most", "below", "above"):
        assert not holds({op: 1}, ABSENT)
        assert not holds({op: 1}, None)


# --- matches / contains -------------------------------------------------------------------------


def test_matches_and_not_matches() -> None:
    assert holds({"matches": "^(http|https|ssh)$"}, "HTTPS")
    assert not holds({"matches": "^(http|https|ssh)$", "case_sensitive": True}, "HTTPS")
    assert holds({"not_matches": "(?i)^/(leerlingen|students)(/|$)"}, "/Personeel/ICT")
    assert not holds({"not_matches": "(?i)^/(leerlingen|students)(/|$)"}, "/Leerlingen/3A")
    # On a list, `matches` holds when one item matches.
    assert holds({"matches": "^ssh$"}, [Node("ping", "x", 1), Node("ssh", "x", 1)])
    assert holds({"matches": r"^\d+$"}, 443)


def test_contains_on_text_and_lists() -> None:
    # A single text value is a list of one: contains means "is", never a substring.
    assert not holds({"contains": "MFA"}, "CA001 - mfa voor iedereen")
    assert holds({"contains": "MFA"}, "mfa")
    assert not holds({"contains": "all"}, "Sporthall")
    assert not holds({"contains": "MFA", "case_sensitive": True}, "mfa")
    controls = [Node("mfa", "x", 1), Node("compliantDevice", "x", 1)]
    assert holds({"contains": "MFA"}, controls)
    assert holds({"contains": ["mfa", "compliantdevice"]}, controls)
    assert not holds({"contains": ["mfa", "block"]}, controls)
    assert holds({"not_contains": "block"}, controls)
    # not_contains with a list: none of the needles may be there.
    assert not holds({"not_contains": ["block", "mfa"]}, controls)
    assert not holds({"contains": "All"}, [])
    assert holds({"not_contains": "All"}, [])


def test_contains_on_parsed_list() -> None:
    tree = parse_json('{"clientAppTypes": ["exchangeActiveSync", "other"]}')
    node = tree.get("clientAppTypes")
    cond = Condition.model_validate({"contains": ["exchangeActiveSync", "other"]})
    assert cond.holds(node, TODAY)
    assert not Condition.model_validate({"contains": ["browser"]}).holds(node, TODAY)


# --- present and absent values ------------------------------------------------------------------


@pytest.mark.parametrize("value", [ABSENT, None, [], {}])
def test_absent_fails_positive_and_meets_negative_expectations(value: Any) -> None:
    for cond in (
        {"equals": "x"},
        {"in": ["x"]},
        {"matches": "."},
        {"contains": "x"},
        {"at_least": 1},
        {"within_days": 30},
        {"present": True},
    ):
        assert not holds(cond, value), cond
    for cond in (
        {"not_equals": "x"},
        {"not_in": ["x"]},
        {"not_matches": "."},
        {"not_contains": "x"},
        {"present": False},
        {"older_than_days": 30},
    ):
        assert holds(cond, value), cond


def test_empty_string_is_present() -> None:
    assert holds({"present": True}, "")
    assert not holds({"present": False}, "")
    assert absent(None) and absent([]) and absent({}) and not absent("") and not absent(0)


def test_mapping_values_compare_as_plain_data() -> None:
    tree = parse_json('{"grant": {"builtInControls": ["mfa"]}}')
    assert Condition.model_validate({"present": True}).holds(tree.get("grant"), TODAY)
    assert Condition.model_validate({"contains": "mfa"}).holds(
        tree.get("grant").get("builtInControls"),  # type: ignore[union-attr]
        TODAY,
    )


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-27", dt.date(2026, 11, 27)),
        ("2026-11-27T07:58:11Z", dt.date(2026, 11, 27)),
        ("2026-11-27T07:58:11.000Z", dt.date(2026, 11, 27)),
        ("2026-11-27T07:58:11.5731824Z", dt.date(2026, 11, 27)),
        ("2026-11-27T23:30:00+01:00", dt.date(2026, 11, 27)),
        ("2026-11-27 08:12:33", dt.date(2026, 11, 27)),
        ("2026-11-27 08:12:33.0000000", dt.date(2026, 11, 27)),
        ("2026-11-27 08:12", dt.date(2026, 11, 27)),
        ("27/11/2026", dt.date(2026, 11, 27)),
        ("27/11/2026 08:12", dt.date(2026, 11, 27)),
        ("03/11/2026 08:12:33", dt.date(2026, 11, 3)),
        ("27-11-2026", dt.date(2026, 11, 27)),
        ("27.11.2026", dt.date(2026, 11, 27)),
        ("11/27/2026 8:12:33 AM", dt.date(2026, 11, 27)),
        ("1970-01-01T00:00:00.000Z", dt.date(1970, 1, 1)),
        (" 2026-11-27 ", dt.date(2026, 11, 27)),
    ],
)
def test_as_date(text: str, day: dt.date) -> None:
    assert as_date(text) == day


@pytest.mark.parametrize("text", ["yesterday", "n.v.t.", "13/13/2026", "2026-02-30", "", "Never"])
def test_unparseable_date_is_a_value_problem(text: str) -> None:
    with pytest.raises(ValueProblem, match="is not a date"):
        as_date(text)


def test_within_days_and_older_than_days_boundaries() -> None:
    assert holds({"within_days": 2}, "2026-11-27T23:59:00Z")
    assert not holds({"within_days": 2}, "26/11/2026 08:00")
    assert holds({"older_than_days": 2}, "26/11/2026 08:00")
    assert not holds({"older_than_days": 2}, "27/11/2026")
    assert holds({"within_days": 0}, "2026-11-29")
    # A date weeks after the run's day is no evidence of freshness (a day/month swap, a wrong
    # clock, an export judged as of a day before it was made): within_days refuses it and
    # older_than_days counts it, so a check never passes on it; the next day still counts as
    # fresh (time zones).
    assert not holds({"within_days": 7}, "2026-12-24")
    assert holds({"older_than_days": 7}, "2026-12-24")
    assert not holds({"older_than_days": 7}, "2026-11-30T06:00:00Z")
    assert holds({"within_days": 7}, "2026-11-30T06:00:00Z")
    assert not holds({"within_days": 7}, "2026-12-01")


def test_never_signed_in_google_date_is_old() -> None:
    assert holds({"older_than_days": 90}, "1970-01-01T00:00:00.000Z")
    assert not holds({"within_days": 90}, "1970-01-01T00:00:00.000Z")


def test_absent_date_is_infinitely_old_but_never_recent() -> None:
    assert holds({"older_than_days": 2}, ABSENT)
    assert holds({"older_than_days": 2}, None)
    assert holds({"older_than_days": 2}, "")
    assert not holds({"within_days": 365}, "")
    assert not holds({"within_days": 365}, ABSENT)


def test_date_expectations_on_bad_text_raise() -> None:
    with pytest.raises(ValueProblem):
        holds({"older_than_days": 2}, "n.v.t.")
    with pytest.raises(ValueProblem):
        holds({"within_days": 2}, "gisteren")


# --- combinations -------------------------------------------------------------------------------


def test_all_given_operators_must_hold() -> None:
    assert holds({"at_least": 1, "at_most": 10}, "5")
    assert not holds({"at_least": 1, "at_most": 10}, "0")
    assert not holds({"at_least": 1, "at_most": 10}, "11")


def test_any_holds_when_one_alternative_holds() -> None:
    cond = {"any": [{"at_least": 15}, {"equals": -1}]}
    assert holds(cond, "-1")
    assert holds(cond, 30)
    assert not holds(cond, "10")
    assert not holds(cond, ABSENT)
    either = {"any": [{"present": False}, {"in": ["80", "443"]}]}
    assert holds(either, ABSENT)
    assert holds(either, "443")
    assert not holds(either, "22")
    # `any` combines with other operators: both must hold.
    assert not holds({"any": [{"equals": "a"}], "not_equals": "a"}, "a")


def test_describe_lists_operators_in_order() -> None:
    cond = Condition.model_validate({"at_most": 10, "at_least": 1})
    assert cond.describe() == "at least 1; at most 10"
    assert Condition.model_validate({"in": ["no", True, None]}).describe() == "in no, true, null"
    assert (
        Condition.model_validate({"any": [{"at_least": 15}, {"equals": -1}]}).describe()
        == "any of (at least 15) or (equals -1)"
    )


def test_bool_and_number_readers() -> None:
    assert as_bool("Ja") is True and as_bool("uit") is False and as_bool("misschien") is None
    assert as_bool(2) is True and as_bool(None) is None
    assert as_number("1,5") == 1.5 and as_number(" 12 ") == 12.0
    assert as_number(True) is None and as_number("7.2.10") is None and as_number(None) is None


# --- validation ---------------------------------------------------------------------------------


def test_operators_tuple_matches_model_fields() -> None:
    modifiers = {"case_sensitive", "any", "relative_to"}
    fields = {"in" if n == "in_" else n for n in Condition.model_fields} - modifiers
    assert set(OPERATORS) == fields


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "give at least one of"),
        ({"case_sensitive": True}, "give at least one of"),
        ({"matches": "("}, "invalid regular expression"),
        ({"not_matches": "[a-"}, "invalid regular expression"),
        ({"within_days": -1}, "greater than or equal to 0"),
        ({"older_than_days": -5}, "greater than or equal to 0"),
        ({"equal": "x"}, "Extra inputs are not permitted"),
        ({"any": []}, "at least 1 item"),
        ({"any": [{}]}, "give at least one of"),
    ],
)
def test_invalid_conditions(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate(data)


def test_in_is_read_by_its_alias() -> None:
    cond = Condition.model_validate({"in": ["a"]})
    assert cond.in_ == ["a"]
    assert cond.describe() == "in a"


def test_never_is_infinitely_old_not_an_error() -> None:
    for word in ("Never", "nooit", "N/A", "-", ""):
        assert holds({"older_than_days": 2}, word)
        assert not holds({"within_days": 365}, word)
