"""The rule engine: selecting, filtering, judging values and counts, combining rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import MAX_ITEMS, Alternative, RuleParams, evaluate, judge
from tests.rules.conftest import TODAY, parse_csv, parse_json

WLANS = """\
{
  "meta": {"rc": "ok"},
  "data": [
    {
      "name": "Personeel",
      "security": "wpaeap",
      "vlan": 20,
      "is_guest": false
    },
    {
      "name": "Gasten",
      "security": "open",
      "vlan": 90,
      "is_guest": true
    },
    {
      "name": "Printers",
      "security": "wpapsk",
      "vlan": 1,
      "is_guest": false
    }
  ]
}
"""

BACKUPS = (
    "Job name;Last success;Last restore test;Size GB\n"
    "SRV-DC01;28/11/2026 23:00;14/03/2026;120\n"
    "SRV-FS01;21/11/2026 23:00;;2048\n"
    "Microsoft 365;;02/09/2026 14:00;75,5\n"
)


def rule(**data: Any) -> RuleParams:
    return RuleParams.model_validate({"kind": "k", **data})


def wlans() -> dict[str, list[Node]]:
    return {"k": [parse_json(WLANS, "wlanconf.json")]}


def backups() -> dict[str, list[Node]]:
    return {"k": [parse_csv(BACKUPS, "backup.csv")]}


# --- expect -------------------------------------------------------------------------------------


def test_expect_one_value_passes_with_location() -> None:
    v = evaluate(rule(select="meta.rc", expect={"equals": "OK"}), wlans(), TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == "meta.rc is 'ok' (wlanconf.json:2)"
    assert v.evidence == {
        "kind": "k",
        "select": ["meta.rc"],
        "expected": "equals OK",
        "items": [
            {"file": "wlanconf.json", "line": 2, "path": "meta.rc", "actual": "ok", "ok": True}
        ],
        "checked": 1,
    }


def test_expect_one_value_fails_naming_value_and_location() -> None:
    v = evaluate(
        rule(select="data[0].security", expect={"equals": "wpa3"}, about="staff SSID security"),
        wlans(),
        TODAY,
    )
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "1 of 1 values of staff SSID security fail (equals wpa3 expected): 'wpaeap' at wlanconf.json:6"
    )
    assert v.evidence["items"] == [
        {
            "file": "wlanconf.json",
            "line": 6,
            "path": "data[0].security",
            "actual": "wpaeap",
            "ok": False,
        }
    ]


def test_expect_many_values_all_pass() -> None:
    v = evaluate(rule(select="data[*].vlan", expect={"at_least": 1}), wlans(), TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == "all 3 values of data[*].vlan meet: at least 1"
    assert v.evidence["checked"] == 3
    assert [it["ok"] for it in v.evidence["items"]] == [True, True, True]


def test_expect_many_values_lists_failures_first() -> None:
    v = evaluate(rule(select="data[*].vlan", expect={"at_least": 2}), wlans(), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "1 of 3 values of data[*].vlan fail (at least 2 expected): '1' at wlanconf.json:19"
    )
    items = v.evidence["items"]
    assert [(it["path"], it["actual"], it["ok"]) for it in items] == [
        ("data[2].vlan", 1, False),
        ("data[0].vlan", 20, True),
        ("data[1].vlan", 90, True),
    ]
    assert all(set(it) == {"file", "line", "path", "actual", "ok"} for it in items)


def test_expect_failure_message_shows_labels_and_cuts_after_five() -> None:
    rows = "\n".join(f"H{i:02},{i}" for i in range(1, 8))
    docs = {"k": [parse_csv(f"hostname,vlan\n{rows}\n", "hosts.csv")]}
    v = evaluate(
        rule(
            select="rows[*]",
            where={"vlan": {"at_least": 1}},
            expect={"present": False},
            label="hostname",
        ),
        docs,
        TODAY,
    )
    assert v.status is FindingStatus.FAIL
    assert v.message.startswith("7 of 7 values of rows[*] fail (present false expected): H01 ")
    assert "at hosts.csv:2" in v.message and "H05 " in v.message and "H06" not in v.message
    assert v.message.endswith(" ...")
    assert [it["label"] for it in v.evidence["items"]][:2] == ["H01", "H02"]


def test_expect_with_several_selectors_judges_every_hit() -> None:
    tree = parse_json(
        '{"permitrootlogin": "no", "match": [{"settings": {"permitrootlogin": "yes"}}]}'
    )
    v = evaluate(
        rule(select=["permitrootlogin", "match.settings.permitrootlogin"], expect={"equals": "no"}),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.FAIL
    assert [it["path"] for it in v.evidence["items"]] == [
        "match[0].settings.permitrootlogin",
        "permitrootlogin",
    ]


def test_long_values_are_shortened_in_the_message() -> None:
    tree = parse_json('{"banner": "' + "x" * 100 + '"}', "cfg.json")
    v = evaluate(rule(select="banner", expect={"equals": "y"}), {"k": [tree]}, TODAY)
    assert "'" + "x" * 57 + "...'" in v.message
    assert v.evidence["items"][0]["actual"] == "x" * 100


# --- default and missing ------------------------------------------------------------------------


def test_default_applies_when_first_selector_finds_nothing() -> None:
    tree = parse_json('{"System Access": {"PasswordComplexity": 1}}', "dc01.json")
    params = rule(
        select='"System Access".MinimumPasswordLength', default=0, expect={"at_least": 12}
    )
    v = evaluate(params, {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message.endswith("'0' at not set in dc01.json: the default applies")
    assert v.evidence["items"] == [
        {
            "file": "dc01.json",
            "line": None,
            "path": '"System Access".MinimumPasswordLength',
            "default": True,
            "actual": 0,
            "ok": False,
        }
    ]
    passing = rule(select='"System Access".PasswordComplexity', default=0, expect={"equals": 1})
    assert evaluate(passing, {"k": [tree]}, TODAY).status is FindingStatus.PASS


def test_default_that_meets_the_expectation_passes() -> None:
    tree = parse_json("{}", "sshd.json")
    v = evaluate(
        rule(
            select="permitrootlogin",
            default="prohibit-password",
            expect={"in": ["no", "prohibit-password"]},
        ),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.PASS
    assert (
        v.message
        == "permitrootlogin is 'prohibit-password' (not set in sshd.json: the default applies)"
    )


def test_default_is_only_for_the_first_selector() -> None:
    params = rule(select=["global", "match.global"], default="yes", expect={"equals": "no"})
    set_globally = parse_json('{"global": "no"}', "a.json")
    v = evaluate(params, {"k": [set_globally]}, TODAY)
    assert v.status is FindingStatus.PASS
    assert [it.get("default") for it in v.evidence["items"]] == [None]
    only_in_match = parse_json('{"match": [{"global": "no"}]}', "b.json")
    v = evaluate(params, {"k": [only_in_match]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [(it["path"], it.get("default", False)) for it in v.evidence["items"]] == [
        ("global", True),
        ("match[0].global", False),
    ]


def test_default_per_document() -> None:
    params = rule(select="x", default=5, expect={"at_least": 3})
    docs = {"k": [parse_json('{"x": 1}', "a.json"), parse_json("{}", "b.json")]}
    v = evaluate(params, docs, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [(it["file"], it["actual"], it["ok"]) for it in v.evidence["items"]] == [
        ("a.json", 1, False),
        ("b.json", 5, True),
    ]


@pytest.mark.parametrize(
    ("missing", "status"),
    [
        ("fail", FindingStatus.FAIL),
        ("pass", FindingStatus.PASS),
        ("not_applicable", FindingStatus.NOT_APPLICABLE),
    ],
)
def test_missing_decides_when_nothing_is_selected(missing: str, status: FindingStatus) -> None:
    v = evaluate(
        rule(select="meta.lockout", expect={"at_least": 15}, missing=missing), wlans(), TODAY
    )
    assert v.status is status
    assert v.evidence["items"] == [] and v.evidence["expected"] == "at least 15"
    if status is FindingStatus.FAIL:
        assert v.message == "meta.lockout is not set in wlanconf.json (at least 15 expected)"
    else:
        assert v.message == "meta.lockout is not set in wlanconf.json"


def test_missing_is_fail_by_default() -> None:
    assert evaluate(rule(select="nope", expect={"present": False}), wlans(), TODAY).status is (
        FindingStatus.FAIL
    )


def test_where_that_removes_every_item_counts_as_missing() -> None:
    v = evaluate(
        rule(
            select="data[*]",
            where={"security": {"equals": "wep"}},
            expect={"present": True},
            missing="pass",
        ),
        wlans(),
        TODAY,
    )
    assert v.status is FindingStatus.PASS


# --- reduce -------------------------------------------------------------------------------------


def test_reduce_max_and_min_on_dates() -> None:
    latest = evaluate(
        rule(select="rows[*].Last restore test", reduce="max", expect={"within_days": 365}),
        backups(),
        TODAY,
    )
    assert latest.status is FindingStatus.PASS
    assert latest.message == "rows[*].Last restore test is '02/09/2026 14:00' (backup.csv:4)"
    assert latest.evidence["checked"] == 1
    oldest = evaluate(
        rule(select="rows[*].Last restore test", reduce="min", expect={"within_days": 180}),
        backups(),
        TODAY,
    )
    assert oldest.status is FindingStatus.FAIL
    assert oldest.evidence["items"][0]["actual"] == "14/03/2026"


def test_reduce_on_numbers_reads_decimal_commas() -> None:
    biggest = evaluate(
        rule(select="rows.Size GB", reduce="max", expect={"at_most": 1000}), backups(), TODAY
    )
    assert biggest.status is FindingStatus.FAIL
    assert biggest.evidence["items"][0]["actual"] == "2048"
    smallest = evaluate(
        rule(select="rows.Size GB", reduce="min", expect={"equals": 75.5}), backups(), TODAY
    )
    assert smallest.status is FindingStatus.PASS


def test_reduce_when_every_value_is_absent_judges_the_absence() -> None:
    tree = parse_csv("Job name,Last restore test\nA,\nB,\n", "b.csv")
    v = evaluate(
        rule(select="rows[*].Last restore test", reduce="max", expect={"within_days": 365}),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.FAIL
    assert v.evidence["items"] == [
        {
            "file": "b.csv",
            "line": 2,
            "path": "rows[0].Last restore test",
            "actual": None,
            "ok": False,
        }
    ]


def test_reduce_over_a_cell_that_is_not_a_date_gives_an_error_verdict() -> None:
    tree = parse_csv("Job name;Last restore test\nA;14/03/2026\nB;n.v.t.\n", "backup.csv")
    v = evaluate(
        rule(select="rows[*].Last restore test", reduce="max", expect={"within_days": 365}),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.ERROR
    assert "backup.csv:3" in v.message


# --- count --------------------------------------------------------------------------------------


def test_count_with_where_and_label_names_the_items() -> None:
    params = rule(
        select="data[*]",
        where={"is_guest": {"not_equals": True}, "security": {"not_equals": "wpaeap"}},
        count={"at_most": 0},
        label="name",
        about="non-guest SSIDs without 802.1X",
    )
    v = evaluate(params, wlans(), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == "1 non-guest SSIDs without 802.1X, where at most 0 are expected: Printers"
    assert v.evidence == {
        "kind": "k",
        "select": ["data[*]"],
        "count": 1,
        "expected": "count at most 0",
        "items": [
            {
                "file": "wlanconf.json",
                "line": 16,
                "path": "data[2]",
                "label": "Printers",
                # the values that made it count, for the auditor
                "actual": {"is_guest": False, "security": "wpapsk"},
            }
        ],
    }


def test_count_passing_lists_what_it_counted() -> None:
    v = evaluate(
        rule(
            select="data[*]",
            where={"is_guest": {"equals": False}},
            count={"at_least": 2, "at_most": 4},
            label="name",
        ),
        wlans(),
        TODAY,
    )
    assert v.status is FindingStatus.PASS
    assert v.message == "2 data[*] (at least 2 and at most 4 expected): Personeel, Printers"


def test_show_names_the_value_beside_each_counted_item() -> None:
    params = rule(
        select="data[*]",
        where={"security": {"not_in": ["wpaeap"]}},
        count={"at_most": 0},
        label="name",
        show="security",
        about={"nl": "netwerken zonder 802.1X", "en": "networks without 802.1X"},
    )
    v = evaluate(params, wlans(), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message.endswith("are expected: Gasten ('open'), Printers ('wpapsk')")
    assert v.message_nl.endswith("verwacht wordt: Gasten ('open'), Printers ('wpapsk')")
    # the evidence is as without `show`: the value is already in `actual`
    assert [it["actual"] for it in v.evidence["items"]] == [
        {"security": "open"},
        {"security": "wpapsk"},
    ]


def test_count_zero_passes_without_list() -> None:
    v = evaluate(
        rule(select="data[*]", where={"security": {"in": ["wep"]}}, count={"equals": 0}),
        wlans(),
        TODAY,
    )
    assert v.status is FindingStatus.PASS
    assert v.message == "0 data[*] (exactly 0 expected)"
    assert v.evidence["items"] == []


def test_count_without_label_names_file_and_line() -> None:
    v = evaluate(rule(select="data[*]", count={"at_most": 1}), wlans(), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "3 data[*], where at most 1 are expected: wlanconf.json:4, wlanconf.json:10, wlanconf.json:16"
    )


def test_count_too_few() -> None:
    v = evaluate(
        rule(select="data[security=wpaeap]", count={"at_least": 2}, label="name"), wlans(), TODAY
    )
    assert v.status is FindingStatus.FAIL
    assert v.message == "1 data[security=wpaeap], where at least 2 are expected: Personeel"


def test_count_lists_ten_in_message_and_fifty_in_evidence() -> None:
    rows = "\n".join(f"LPT-{i:03},False" for i in range(60))
    tree = parse_csv(f"Device name,Encrypted\n{rows}\n", "devices.csv")
    v = evaluate(
        rule(
            select="rows[*]",
            where={"Encrypted": {"not_equals": True}},
            count={"at_most": 0},
            label="Device name",
        ),
        {"k": [tree]},
        TODAY,
    )
    assert v.evidence["count"] == 60
    assert len(v.evidence["items"]) == MAX_ITEMS
    assert v.message.endswith("LPT-008, LPT-009 ...")
    assert "LPT-010" not in v.message


def test_where_on_a_missing_key_judges_absence() -> None:
    tree = parse_json('{"users": [{"mail": "a@x.be", "mfa": true}, {"mail": "b@x.be"}]}', "u.json")
    v = evaluate(
        rule(
            select="users[*]",
            where={"mfa": {"not_equals": True}},
            count={"at_most": 0},
            label="mail",
        ),
        {"k": [tree]},
        TODAY,
    )
    assert v.message.endswith(": b@x.be")


def test_where_on_several_values_needs_all_of_them() -> None:
    tree = parse_json(
        '{"roles": [{"n": "a", "members": [{"upn": "x@school.be"}, {"upn": "y@gmail.com"}]},'
        ' {"n": "b", "members": [{"upn": "z@school.be"}]}]}',
        "r.json",
    )
    v = evaluate(
        rule(
            select="roles[*]",
            where={"members[*].upn": {"matches": "@school\\.be$"}},
            count={"equals": 1},
            label="n",
        ),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.PASS
    assert v.message.endswith(": b")


def test_label_that_is_not_a_scalar_is_left_out() -> None:
    tree = parse_json('{"items": [{"name": {"first": "a"}}, {"name": null}]}', "l.json")
    v = evaluate(rule(select="items[*]", count={"at_most": 0}, label="name"), {"k": [tree]}, TODAY)
    assert all("label" not in it for it in v.evidence["items"])


def test_counts_add_up_over_several_documents() -> None:
    docs = {"k": [parse_json(WLANS, "site-a.json"), parse_json(WLANS, "site-b.json")]}
    v = evaluate(
        rule(select="data[is_guest=true]", count={"at_most": 1}, label="name"), docs, TODAY
    )
    assert v.status is FindingStatus.FAIL
    assert [(it["file"], it["label"]) for it in v.evidence["items"]] == [
        ("site-a.json", "Gasten"),
        ("site-b.json", "Gasten"),
    ]


# --- shares of a population ---------------------------------------------------------------------


def devices(*rows: tuple[str, str, str]) -> dict[str, list[Node]]:
    """A device list (Device name, OS, Encrypted) as one CSV export."""
    lines = "".join(f"{name},{os},{encrypted}\n" for name, os, encrypted in rows)
    return {"k": [parse_csv(f"Device name,OS,Encrypted\n{lines}", "devices.csv")]}


def fleet(windows: int, unencrypted: tuple[int, ...] = (), ipads: int = 3) -> dict[str, list[Node]]:
    """`windows` Windows and macOS devices (those numbered in `unencrypted` not encrypted) and
    some iPads that are never encrypted: the iPads are outside the population."""
    rows = [
        (f"LPT-{i:03}", "macOS" if i % 5 == 0 else "Windows", str(i not in unencrypted))
        for i in range(1, windows + 1)
    ]
    rows += [(f"IPAD-{i:02}", "iOS/iPadOS", "False") for i in range(1, ipads + 1)]
    return devices(*rows)


def encryption_rule(**count: float) -> RuleParams:
    return rule(
        select="rows[*]",
        population={
            "about": {"nl": "Windows- en macOS-toestellen", "en": "Windows and macOS devices"},
            "where": {"OS": {"in": ["Windows", "macOS"]}},
        },
        where={"Encrypted": {"not_equals": True}},
        count=count or {"at_most_percent": 5},
        label="Device name",
        about={
            "nl": "toestellen met een onversleutelde schijf",
            "en": "devices whose disk is not encrypted",
        },
    )


def test_share_on_the_bound_passes_naming_the_offenders() -> None:
    v = evaluate(encryption_rule(), fleet(20, unencrypted=(7,)), TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == (
        "devices whose disk is not encrypted: 1 of 20 Windows and macOS devices "
        "(5%; at most 5% expected): LPT-007"
    )
    assert v.message_nl == (
        "toestellen met een onversleutelde schijf: 1 van 20 Windows- en macOS-toestellen "
        "(5 %; verwacht: hoogstens 5 %): LPT-007"
    )
    assert v.evidence == {
        "kind": "k",
        "select": ["rows[*]"],
        "count": 1,
        "expected": "count at most 5%",
        "items": [
            {
                "file": "devices.csv",
                "line": 8,
                "path": "rows[6]",
                "label": "LPT-007",
                "actual": {"Encrypted": "False"},
            }
        ],
        "population": 20,
        "percent": 5.0,
    }


def test_share_above_the_bound_fails_naming_the_offenders() -> None:
    v = evaluate(encryption_rule(), fleet(20, unencrypted=(3, 7)), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "devices whose disk is not encrypted: 2 of 20 Windows and macOS devices (10%), "
        "where at most 5% is expected: LPT-003, LPT-007"
    )
    assert v.message_nl == (
        "toestellen met een onversleutelde schijf: 2 van 20 Windows- en macOS-toestellen "
        "(10 %), waar hoogstens 5 % verwacht wordt: LPT-003, LPT-007"
    )
    assert [(it["line"], it["label"]) for it in v.evidence["items"]] == [
        (4, "LPT-003"),
        (8, "LPT-007"),
    ]
    assert v.evidence["population"] == 20 and v.evidence["percent"] == 10.0


def test_share_is_written_with_a_decimal_point_or_comma() -> None:
    v = evaluate(encryption_rule(), fleet(120, unencrypted=(3, 50, 99)), TODAY)
    assert v.status is FindingStatus.PASS
    assert "3 of 120 Windows and macOS devices (2.5%; at most 5% expected)" in v.message
    assert "3 van 120 Windows- en macOS-toestellen (2,5 %; verwacht: hoogstens 5 %)" in v.message_nl
    assert v.evidence["percent"] == 2.5


def test_share_just_above_the_bound_is_not_shown_as_the_bound() -> None:
    # 6 of 119 is 5.04 %: rounded to one decimal it would read "5%", which is allowed.
    v = evaluate(encryption_rule(), fleet(119, unencrypted=(1, 2, 3, 4, 5, 6)), TODAY)
    assert v.status is FindingStatus.FAIL
    assert "(5.04%), where at most 5% is expected" in v.message
    assert "(5,04 %), waar hoogstens 5 % verwacht wordt" in v.message_nl
    # 59 of 1180 is exactly 5 %: allowed, and shown as it is.
    exact = evaluate(encryption_rule(), fleet(1180, unencrypted=tuple(range(1, 60))), TODAY)
    assert exact.status is FindingStatus.PASS
    assert "(5%; at most 5% expected)" in exact.message


def test_at_least_percent() -> None:
    params = rule(
        select="rows[*]",
        population={"where": {"OS": {"in": ["Windows", "macOS"]}}},
        where={"Encrypted": {"equals": True}},
        count={"at_least_percent": 95},
        label="Device name",
        about="encrypted devices",
    )
    passed = evaluate(params, fleet(20, unencrypted=(7,), ipads=0), TODAY)
    assert passed.status is FindingStatus.PASS
    assert passed.message.startswith("encrypted devices: 19 of 20 (95%; at least 95% expected): ")
    failed = evaluate(params, fleet(20, unencrypted=(3, 7), ipads=0), TODAY)
    assert failed.status is FindingStatus.FAIL
    assert failed.message.startswith("encrypted devices: 18 of 20 (90%), where at least 95% is")
    assert failed.message_nl.startswith("encrypted devices: 18 van 20 (90 %), waar minstens 95 %")


def test_share_without_population_is_of_everything_selected() -> None:
    params = rule(
        select="rows[*]",
        where={"Encrypted": {"not_equals": True}},
        count={"at_most_percent": 25},
        label="Device name",
    )
    v = evaluate(params, fleet(1, ipads=2), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == ("rows[*]: 2 of 3 (66.7%), where at most 25% is expected: IPAD-01, IPAD-02")
    assert v.evidence["population"] == 3


def test_empty_population_is_not_judged_with_the_reason() -> None:
    v = evaluate(encryption_rule(), fleet(0, ipads=3), TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.message == (
        "devices whose disk is not encrypted: not judged: devices.csv holds no Windows and macOS "
        "devices (OS in Windows, macOS) among its 3 items; a share of none is no evidence"
    )
    assert v.message_nl == (
        "toestellen met een onversleutelde schijf: niet beoordeeld: devices.csv bevat geen "
        "Windows- en macOS-toestellen (OS Windows of macOS) onder zijn 3 items; een aandeel "
        "van niets is geen bewijs"
    )
    assert v.evidence["population"] == 0 and v.evidence["selected"] == 3


def test_population_column_missing_is_not_judged() -> None:
    tree = parse_csv("Device name,Encrypted\nLPT-001,False\nLPT-002,True\n", "devices.csv")
    v = evaluate(encryption_rule(), {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert "holds no Windows and macOS devices" in v.message


def test_share_of_nothing_selected_is_not_judged() -> None:
    tree = parse_csv("Device name,OS,Encrypted\n", "devices.csv")
    v = evaluate(encryption_rule(), {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert "holds none of the items this check looks at (rows[*])" in v.message


def test_population_with_a_plain_count() -> None:
    # "No unencrypted device" over an export of iPads alone is no evidence either.
    none = evaluate(encryption_rule(at_most=0), fleet(0, ipads=2), TODAY)
    assert none.status is FindingStatus.NOT_APPLICABLE
    assert none.message.endswith("among its 2 items; a pass needs them")
    assert none.message_nl.endswith("onder zijn 2 items; een 'in orde' vraagt ze")
    v = evaluate(encryption_rule(at_most=0), fleet(4, unencrypted=(2,)), TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "devices whose disk is not encrypted: 1 of 4 Windows and macOS devices, "
        "where at most 0 are expected: LPT-002"
    )
    assert "percent" not in v.evidence and v.evidence["population"] == 4
    # A count that needs items is a fail, not a pass, when the population is empty.
    at_least = evaluate(encryption_rule(at_least=1), fleet(0, ipads=2), TODAY)
    assert at_least.status is FindingStatus.FAIL


def test_counted_items_show_their_where_any_values() -> None:
    tree = parse_csv(
        "Device name,OS,Malware protection,Real-time protection\n"
        "PC-01,Windows,Enabled,Enabled\n"
        "PC-02,Windows,Enabled,Disabled\n"
        "PC-03,Windows,,Enabled\n",
        "defender.csv",
    )
    params = rule(
        select="rows[*]",
        where_any=[
            {"Malware protection": {"not_equals": True}},
            {"Real-time protection": {"not_equals": True}},
        ],
        count={"at_most_percent": 5},
        label="Device name",
    )
    v = evaluate(params, {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [it["actual"] for it in v.evidence["items"]] == [
        {"Malware protection": "Enabled", "Real-time protection": "Disabled"},
        {"Malware protection": None, "Real-time protection": "Enabled"},
    ]


# --- relative_to: ages counted from another date of the item ------------------------------------


SIGNATURES = (
    "Device name;Last check-in;Signature last updated\n"
    "PC-A;28/11/2026 08:00;27/11/2026 22:00\n"  # a day before its check-in
    "PC-B;10/11/2026 16:00;08/11/2026 03:00\n"  # off since: 2 days before its check-in
    "PC-C;28/11/2026 08:00;15/11/2026 03:00\n"  # online, 13 days old at its check-in
    "PC-D;;15/11/2026 03:00\n"  # no check-in: counted from the run's day
)


def test_relative_to_counts_ages_from_the_items_own_date() -> None:
    params = rule(
        select="rows[*]",
        where={"Signature last updated": {"older_than_days": 7, "relative_to": "Last check-in"}},
        count={"at_most": 0},
        label="Device name",
    )
    v = evaluate(params, {"k": [parse_csv(SIGNATURES, "s.csv")]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [it["label"] for it in v.evidence["items"]] == ["PC-C", "PC-D"]
    cond = params.where["Signature last updated"]
    assert cond.describe() == "older than days 7 (relative to Last check-in)"
    assert cond.describe("nl") == "meer dan 7 dagen oud (ten opzichte van Last check-in)"


def test_relative_to_a_date_that_is_not_a_date_is_an_error_with_its_place() -> None:
    tree = parse_csv(SIGNATURES.replace("10/11/2026 16:00", "gisteren"), "s.csv")
    params = rule(
        select="rows[*]",
        where={"Signature last updated": {"older_than_days": 7, "relative_to": "Last check-in"}},
        count={"at_most": 0},
    )
    v = evaluate(params, {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.ERROR
    assert "'gisteren' is not a date (at s.csv:3)" in v.message


# --- covered_by: an item that makes up for another ----------------------------------------------


JOBS = (
    "Job name;Type;Last success;Offsite copy;Immutable;Copy of\n"
    "SRV-DC01;Image;28/11/2026 23:00;No;No;\n"
    "SRV-FS01;File share;28/11/2026 23:30;No;No;\n"
    "Wisa;Database;28/11/2026 20:00;No;No;\n"
    "Smartschool;File share;28/11/2026 21:00;Yes;No;\n"
    "Kopie naar C2;Hyper Backup;27/11/2026 02:00;Yes;No;srv-dc01 | SRV-FS01\n"
    "Oude kopie;Backup Copy;01/09/2026 02:00;Yes;No;Wisa\n"
)


def copies_rule(**changes: Any) -> RuleParams:
    data: dict[str, Any] = {
        "select": "rows[*]",
        "population": {
            "about": "backup jobs",
            "where": {"Type": {"not_matches": "(?i)copy"}, "Copy of": {"present": False}},
        },
        "where": {"Offsite copy": {"not_equals": True}, "Immutable": {"not_equals": True}},
        "covered_by": {
            "about": {
                "nl": "een recente kopietaak buiten de school",
                "en": "a recent off-site copy job",
            },
            "select": "rows[*]",
            "key": "Copy of",
            "matches": "Job name",
            "separator": "|",
            "where": {"Last success": {"within_days": 7}},
            "where_any": [{"Offsite copy": {"equals": True}}, {"Immutable": {"equals": True}}],
        },
        "count": {"at_most": 0},
        "label": "Job name",
        "about": "backup jobs without an off-site or immutable copy",
    }
    return rule(**{**data, **changes})


def test_an_item_covered_by_another_is_not_counted() -> None:
    v = evaluate(copies_rule(), {"k": [parse_csv(JOBS, "jobs.csv")]}, TODAY)
    assert v.status is FindingStatus.FAIL  # Wisa's only copy last succeeded in September
    assert v.message == (
        "backup jobs without an off-site or immutable copy: 1 of 4 backup jobs, where at most 0 "
        "are expected: Wisa; 2 covered by a recent off-site copy job: SRV-DC01 (by Kopie naar "
        "C2); SRV-FS01 (by Kopie naar C2)"
    )
    assert v.message_nl.endswith(
        "; 2 gedekt door een recente kopietaak buiten de school: SRV-DC01 (door Kopie naar C2); "
        "SRV-FS01 (door Kopie naar C2)"
    )
    assert [it["label"] for it in v.evidence["items"]] == ["Wisa"]
    assert v.evidence["covered"][0] == {
        "file": "jobs.csv",
        "line": 2,
        "path": "rows[0]",
        "label": "SRV-DC01",
        "by": {"file": "jobs.csv", "line": 6, "path": "rows[4]", "label": "Kopie naar C2"},
    }
    assert v.evidence["population"] == 4


def test_a_cover_that_does_not_meet_its_conditions_covers_nothing() -> None:
    later = TODAY + dt.timedelta(days=7)  # the C2 copy is now 8 days old
    v = evaluate(copies_rule(), {"k": [parse_csv(JOBS, "jobs.csv")]}, later)
    assert [it["label"] for it in v.evidence["items"]] == ["SRV-DC01", "SRV-FS01", "Wisa"]
    assert "covered" not in v.evidence


def test_a_cover_may_sit_in_another_export_of_the_kind() -> None:
    primary, _, copies = JOBS.partition("Kopie naar C2")
    header = JOBS.splitlines()[0]
    docs = {
        "k": [
            parse_csv(primary.rsplit("\n", 1)[0] + "\n", "veeam.csv"),
            parse_csv(f"{header}\nKopie naar C2{copies}", "synology.csv"),
        ]
    }
    v = evaluate(copies_rule(), docs, TODAY)
    assert [it["label"] for it in v.evidence["items"]] == ["Wisa"]
    assert {it["by"]["file"] for it in v.evidence["covered"]} == {"synology.csv"}


def test_an_item_does_not_cover_itself() -> None:
    tree = parse_csv(
        "Job name;Last success;Offsite copy;Immutable;Copy of\nNAS;28/11/2026;No;No;NAS\n",
        "jobs.csv",
    )
    cover = {"select": "rows[*]", "key": "Copy of", "matches": "Job name"}
    params = copies_rule(
        population=None, covered_by={**cover, "where": {"Last success": {"within_days": 7}}}
    )
    v = evaluate(params, {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [it["label"] for it in v.evidence["items"]] == ["NAS"]


# --- errors -------------------------------------------------------------------------------------


def test_bad_date_gives_an_error_verdict() -> None:
    tree = parse_csv(
        "Job name;Last success\nSRV-DC01;28/11/2026 23:00\nNAS;gisteren\n", "backup.csv"
    )
    v = evaluate(
        rule(
            select="rows[*]",
            where={"Last success": {"older_than_days": 2}},
            count={"at_most": 0},
            about="backup jobs without a recent success",
        ),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.ERROR
    assert v.message == (
        "backup jobs without a recent success: 'gisteren' is not a date (at backup.csv:3)"
    )
    assert v.evidence == {"kind": "k", "select": ["rows[*]"]}


def test_bad_date_in_expect_gives_an_error_verdict() -> None:
    tree = parse_csv("hostname,last_seen\nSRV,onbekend\n", "inventory.csv")
    v = evaluate(rule(select="rows[*].last_seen", expect={"within_days": 90}), {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.ERROR
    assert "'onbekend' is not a date" in v.message


def test_bad_date_error_names_file_and_line() -> None:
    tree = parse_csv(
        "Job name;Last success\nSRV-DC01;28/11/2026 23:00\nNAS;gisteren\n", "backup.csv"
    )
    v = evaluate(
        rule(
            select="rows[*]", where={"Last success": {"older_than_days": 2}}, count={"at_most": 0}
        ),
        {"k": [tree]},
        TODAY,
    )
    assert v.status is FindingStatus.ERROR
    assert "backup.csv:3" in v.message


def test_version_that_cannot_be_compared_gives_an_error_verdict() -> None:
    tree = parse_json('{"header": {"version": "unknown"}}', "fw.json")
    v = evaluate(rule(select="header.version", expect={"at_least": "7.4.0"}), {"k": [tree]}, TODAY)
    assert v.status is FindingStatus.ERROR
    assert v.message == "header.version: 'unknown' cannot be compared with '7.4.0' (at fw.json:1)"


# --- any_of / all_of ----------------------------------------------------------------------------

SD_OFF = '{\n  "isEnabled": false\n}'
SD_ON = '{\n  "isEnabled": true\n}'
CA = """\
{
  "value": [
    {"displayName": "MFA iedereen", "state": "enabled", "grant": ["mfa"]},
    {"displayName": "Oud", "state": "disabled", "grant": ["mfa"]}
  ]
}
"""


def mfa_rule() -> RuleParams:
    return RuleParams.model_validate(
        {
            "kind": "ca",
            "any_of": [
                {
                    "kind": "sd",
                    "about": "security defaults",
                    "select": "isEnabled",
                    "expect": {"equals": True},
                },
                {
                    "about": "MFA policies",
                    "select": "value[*]",
                    "where": {"state": {"equals": "enabled"}, "grant": {"contains": "mfa"}},
                    "count": {"at_least": 1},
                    "label": "displayName",
                },
            ],
        }
    )


def test_any_of_passes_on_another_kind() -> None:
    docs = {"sd": [parse_json(SD_OFF, "sd.json")], "ca": [parse_json(CA, "ca.json")]}
    v = evaluate(mfa_rule(), docs, TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == "1 MFA policies (at least 1 expected): MFA iedereen"
    parts = v.evidence["any_of"]
    assert [(p["kind"], p["status"]) for p in parts] == [("sd", "fail"), ("ca", "pass")]
    assert parts[0]["items"] == [
        {"file": "sd.json", "line": 2, "path": "isEnabled", "actual": False, "ok": False}
    ]
    assert parts[1]["select"] == ["value[*]"] and parts[1]["count"] == 1


def test_any_of_first_passing_part_gives_the_message() -> None:
    docs = {"sd": [parse_json(SD_ON, "sd.json")], "ca": [parse_json(CA, "ca.json")]}
    v = evaluate(mfa_rule(), docs, TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == "security defaults is 'true' (sd.json:2)"


def test_any_of_fails_when_no_part_holds() -> None:
    ca = parse_json(CA.replace('"enabled"', '"enabledForReportingButNotEnforced"'), "ca.json")
    v = evaluate(mfa_rule(), {"sd": [parse_json(SD_OFF, "sd.json")], "ca": [ca]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "none of the alternatives holds: 1 of 1 values of security defaults fail (equals true"
        " expected): 'false' at sd.json:2; 0 MFA policies, where at least 1 are expected"
    )


def test_any_of_leaves_out_kinds_without_export() -> None:
    v = evaluate(mfa_rule(), {"sd": [parse_json(SD_OFF, "sd.json")]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [p["kind"] for p in v.evidence["any_of"]] == ["sd"]
    v = evaluate(mfa_rule(), {"ca": [parse_json(CA, "ca.json")]}, TODAY)
    assert v.status is FindingStatus.PASS


def test_no_export_of_any_kind_is_not_applicable() -> None:
    v = evaluate(mfa_rule(), {"other": [parse_json(SD_ON)]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.message == "no export of kind sd or ca"
    assert v.evidence == {}
    assert evaluate(mfa_rule(), {"sd": []}, TODAY).status is FindingStatus.NOT_APPLICABLE


def test_any_of_error_without_failure_is_an_error() -> None:
    params = RuleParams.model_validate(
        {
            "kind": "b",
            "any_of": [
                {"select": "rows[*].Last success", "expect": {"within_days": 2}},
                {
                    "select": "rows[*].Last success",
                    "expect": {"present": True},
                    "missing": "not_applicable",
                    "where": {"x": {"present": True}},
                },
            ],
        }
    )
    tree = parse_csv("Job name,Last success\nA,gisteren\n", "b.csv")
    v = evaluate(params, {"b": [tree]}, TODAY)
    assert v.status is FindingStatus.ERROR
    assert "'gisteren' is not a date" in v.message


def lockout_rule() -> RuleParams:
    return RuleParams.model_validate(
        {
            "kind": "sec",
            "all_of": [
                {
                    "about": "LockoutBadCount",
                    "select": "LockoutBadCount",
                    "default": 0,
                    "expect": {"at_least": 1, "at_most": 10},
                },
                {
                    "about": "LockoutDuration",
                    "select": "LockoutDuration",
                    "missing": "not_applicable",
                    "expect": {"any": [{"at_least": 15}, {"equals": -1}]},
                },
            ],
        }
    )


def test_all_of_passes_when_every_part_holds() -> None:
    tree = parse_json('{"LockoutBadCount": 5, "LockoutDuration": -1}', "dc.json")
    v = evaluate(lockout_rule(), {"sec": [tree]}, TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == "LockoutBadCount is '5' (dc.json:1); LockoutDuration is '-1' (dc.json:1)"
    assert [p["status"] for p in v.evidence["all_of"]] == ["pass", "pass"]


def test_all_of_fails_with_the_failing_parts_only() -> None:
    tree = parse_json('{"LockoutBadCount": 5, "LockoutDuration": 10}', "dc.json")
    v = evaluate(lockout_rule(), {"sec": [tree]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == (
        "1 of 1 values of LockoutDuration fail (any of (at least 15) or (equals -1) expected):"
        " '10' at dc.json:1"
    )


def test_all_of_skips_a_not_applicable_part() -> None:
    tree = parse_json('{"LockoutBadCount": 3}', "dc.json")
    v = evaluate(lockout_rule(), {"sec": [tree]}, TODAY)
    assert v.status is FindingStatus.PASS
    assert v.message == "LockoutBadCount is '3' (dc.json:1)"
    assert [p["status"] for p in v.evidence["all_of"]] == ["pass", "not_applicable"]


def test_all_of_with_only_not_applicable_parts() -> None:
    params = RuleParams.model_validate(
        {
            "kind": "k",
            "all_of": [{"select": "a", "missing": "not_applicable", "expect": {"present": True}}],
        }
    )
    v = evaluate(params, {"k": [parse_json("{}", "e.json")]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.message == "a is not set in e.json"


def test_all_of_error_when_nothing_fails() -> None:
    params = RuleParams.model_validate(
        {
            "kind": "k",
            "all_of": [
                {"select": "d", "expect": {"within_days": 5}},
                {"select": "n", "expect": {"at_least": 1}},
            ],
        }
    )
    v = evaluate(params, {"k": [parse_json('{"d": "morgen", "n": 3}', "e.json")]}, TODAY)
    assert v.status is FindingStatus.ERROR
    v = evaluate(params, {"k": [parse_json('{"d": "morgen", "n": 0}', "e.json")]}, TODAY)
    assert v.status is FindingStatus.FAIL


def test_all_of_parts_of_other_kinds() -> None:
    params = RuleParams.model_validate(
        {
            "kind": "a",
            "all_of": [
                {"select": "x", "expect": {"equals": 1}},
                {"kind": "b", "select": "y", "expect": {"equals": 2}},
            ],
        }
    )
    assert params.kinds() == ["a", "b"]
    v = evaluate(params, {"a": [parse_json('{"x": 1}')], "b": [parse_json('{"y": 3}')]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert [p["kind"] for p in v.evidence["all_of"]] == ["a", "b"]


# --- undecided: what the export cannot decide --------------------------------------------------

ADMINS = """\
{"admins": [
  {"name": "beheer", "remote": false, "mfa": true},
  {"name": "radius-ict", "remote": true, "mfa": false},
  {"name": "lokaal", "remote": false, "mfa": %s}
]}
"""
REMOTE_WHY = {
    "nl": "of de RADIUS-server een tweede factor vraagt, staat niet in de export; laat het bevestigen",
    "en": "whether the RADIUS server asks for a second factor is not in the export; attest it",
}


def admins_rule(mode: str = "all_of") -> RuleParams:
    return RuleParams.model_validate(
        {
            "kind": "k",
            mode: [
                {
                    "about": {
                        "nl": "lokale beheerders zonder MFA",
                        "en": "local admins without MFA",
                    },
                    "select": "admins[*]",
                    "where": {"remote": {"equals": False}, "mfa": {"not_equals": True}},
                    "count": {"at_most": 0},
                    "label": "name",
                },
                {
                    "about": {"nl": "RADIUS-beheerders", "en": "RADIUS admins"},
                    "select": "admins[*]",
                    "where": {"remote": {"equals": True}, "mfa": {"not_equals": True}},
                    "count": {"at_most": 0},
                    "label": "name",
                    "undecided": REMOTE_WHY,
                },
            ],
        }
    )


def test_undecided_part_makes_the_rule_not_judged_with_its_reason() -> None:
    v = evaluate(admins_rule(), {"k": [parse_json(ADMINS % "true", "a.json")]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE and v.cannot_decide
    assert v.message == f"not judged: 1 RADIUS admins: radius-ict. {REMOTE_WHY['en']}"
    assert v.message_nl == f"niet beoordeeld: 1 RADIUS-beheerders: radius-ict. {REMOTE_WHY['nl']}"
    local, remote = v.evidence["all_of"]
    assert local["status"] == "pass" and remote["status"] == "not_applicable"
    assert remote["undecided"] is True and remote["items"][0]["label"] == "radius-ict"


def test_a_failing_part_outweighs_an_undecided_one() -> None:
    v = evaluate(admins_rule(), {"k": [parse_json(ADMINS % "false", "a.json")]}, TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == "1 local admins without MFA, where at most 0 are expected: lokaal"


def test_undecided_part_that_holds_lets_the_rule_pass() -> None:
    text = '{"admins": [{"name": "beheer", "remote": false, "mfa": true}]}'
    v = evaluate(admins_rule(), {"k": [parse_json(text, "a.json")]}, TODAY)
    assert v.status is FindingStatus.PASS and not v.cannot_decide


def test_undecided_in_any_of_only_when_no_part_holds() -> None:
    docs = {"k": [parse_json(ADMINS % "false", "a.json")]}
    v = evaluate(admins_rule("any_of"), docs, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE and v.cannot_decide
    assert v.message.startswith("not judged: 1 RADIUS admins: radius-ict.")


def test_undecided_part_with_nothing_selected_has_nothing_to_judge() -> None:
    params = rule(
        select="admins[*]",
        where={"remote": {"equals": False}},
        count={"at_least": 1},
        undecided="ask",
    )
    v = evaluate(params, {"k": [parse_json('{"admins": []}', "a.json")]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE and not v.cannot_decide
    assert "holds none of the items" in v.message
    text = '{"admins": [{"remote": true}]}'
    v = evaluate(params, {"k": [parse_json(text, "a.json")]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE and v.cannot_decide
    assert v.message == "not judged: 0 admins[*]. ask"


def test_undecided_on_a_plain_expect_rule() -> None:
    params = rule(
        select="mode",
        expect={"equals": "keys"},
        undecided={"nl": "vraag het na", "en": "ask"},
    )
    v = evaluate(params, {"k": [parse_json('{"mode": "pam"}', "s.json")]}, TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE and v.cannot_decide
    assert (
        v.message
        == "not judged: 1 of 1 values of mode fail (equals keys expected): 'pam' at s.json:1. ask"
    )
    assert v.message_nl.startswith("niet beoordeeld: 1 van 1 waarden van mode voldoen niet")
    v = evaluate(params, {"k": [parse_json('{"mode": "keys"}', "s.json")]}, TODAY)
    assert v.status is FindingStatus.PASS


# --- the model ----------------------------------------------------------------------------------


def test_alternatives_of_a_plain_rule_keep_every_setting() -> None:
    params = rule(
        select="rows[*]",
        where={"OS": {"in": ["Windows"]}},
        count={"at_most": 0},
        label="Device name",
        about="devices",
    )
    (alt,) = params.alternatives()
    assert isinstance(alt, Alternative)
    assert alt.kind == "k" and alt.select == ["rows[*]"] and alt.label == "Device name"
    assert alt.where["OS"].in_ == ["Windows"]
    assert params.kinds() == ["k"]


def test_alternatives_inherit_the_rule_kind() -> None:
    params = mfa_rule()
    assert [a.kind for a in params.alternatives()] == ["sd", "ca"]
    assert params.kinds() == ["sd", "ca"]


def test_judge_with_no_documents() -> None:
    v = judge(Alternative.model_validate({"select": "x", "expect": {"present": True}}), [], TODAY)
    assert v.status is FindingStatus.FAIL
    assert v.message == "x is not set in - (present true expected)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"select": "a", "expect": {"equals": 1}, "count": {"at_most": 0}},
            "exactly one of 'expect' or 'count'",
        ),
        ({"select": "a"}, "exactly one of 'expect' or 'count'"),
        ({"expect": {"equals": 1}}, "give 'select'"),
        ({"select": [], "expect": {"equals": 1}}, "give at least one selector"),
        ({"select": "a", "expect": {"matches": "(unclosed"}}, "invalid regular expression"),
        (
            {"select": "a", "where": {"b": {"not_matches": "[z-a]"}}, "count": {"at_most": 0}},
            "invalid regular expression",
        ),
        ({"select": "value[", "expect": {"equals": 1}}, "cannot read the selector"),
        (
            {"select": "a", "where": {"b.": {"present": True}}, "count": {"at_most": 0}},
            "ends with a dot",
        ),
        ({"select": "a", "label": "x[y]", "count": {"at_most": 0}}, r"cannot read \[y\]"),
        ({"select": "a", "count": {"at_most": 0}, "reduce": "max"}, "'reduce' goes with 'expect'"),
        ({"select": "a", "expect": {"equals": 1}, "show": "b"}, "'show' goes with 'count'"),
        ({"select": "a", "count": {"at_most": 0}, "show": "b["}, "cannot read"),
        ({"select": "a", "expect": {"equals": 1}, "reduce": "avg"}, "'max' or 'min'"),
        (
            {"select": "a", "expect": {"equals": 1}, "missing": "skip"},
            "'fail', 'pass' or 'not_applicable'",
        ),
        ({"select": "a", "count": {}}, "give at least one of: at_least, at_most, equals"),
        (
            {"select": "a", "count": {"at_least": 5, "at_most": 2}},
            r"at_least \(5\) is above at_most \(2\)",
        ),
        ({"select": "a", "count": {"at_most": -1}}, "greater than or equal to 0"),
        ({"select": "a", "count": {"at_most_percent": 101}}, "less than or equal to 100"),
        (
            {"select": "a", "count": {"at_least_percent": 95, "at_most_percent": 5}},
            r"at_least_percent \(95.0\) is above at_most_percent \(5.0\)",
        ),
        (
            {
                "select": "a",
                "expect": {"equals": 1},
                "population": {"where": {"b": {"present": True}}},
            },
            "'population' goes with 'count'",
        ),
        (
            {
                "select": "a",
                "expect": {"equals": 1},
                "covered_by": {"select": "a", "key": "b", "matches": "c"},
            },
            "'covered_by' goes with 'count'",
        ),
        (
            {"select": "a", "count": {"at_most": 0}, "covered_by": {"select": "a", "key": "b"}},
            "matches",
        ),
        (
            {
                "select": "a",
                "count": {"at_most": 0},
                "population": {"where": {"b]": {"present": True}}},
            },
            "cannot read",
        ),
        (
            {
                "select": "a",
                "count": {"at_most": 0},
                "where": {"b": {"equals": 1, "relative_to": "c"}},
            },
            "'relative_to' goes with 'within_days' or 'older_than_days'",
        ),
        (
            {"select": "a", "expect": {"within_days": 7, "relative_to": "c"}},
            "'relative_to' works in where conditions",
        ),
        (
            {
                "select": "a",
                "expect": {"equals": 1},
                "only_if": {
                    "select": "b",
                    "expect": {"within_days": 1, "relative_to": "c"},
                    "about": "x",
                },
            },
            "'relative_to' works in where conditions",
        ),
        (
            {
                "select": "a",
                "count": {"at_most": 0},
                "where": {"b": {"any": [{"within_days": 7, "relative_to": "c"}]}},
            },
            "not inside 'any'",
        ),
        ({"select": "a", "expect": {}}, "give at least one of"),
        (
            {"select": "a", "expect": {"equals": 1}, "severity": "high"},
            "Extra inputs are not permitted",
        ),
        (
            {"select": "a", "any_of": [{"select": "b", "expect": {"equals": 1}}]},
            "give either 'any_of'/'all_of' or 'select'",
        ),
        (
            {"count": {"at_most": 0}, "any_of": [{"select": "b", "expect": {"equals": 1}}]},
            "give either 'any_of'/'all_of' or 'select'",
        ),
        ({"any_of": []}, "need at least one part"),
        (
            {
                "any_of": [{"select": "a", "expect": {"equals": 1}}],
                "all_of": [{"select": "a", "expect": {"equals": 1}}],
            },
            "give 'any_of' or 'all_of', not both",
        ),
        ({"any_of": [{"select": "a"}]}, "exactly one of 'expect' or 'count'"),
        ({"any_of": [{"expect": {"equals": 1}}]}, "give 'select'"),
        ({"all_of": [{"select": "a..b", "expect": {"equals": 1}}]}, "cannot read the selector"),
        (
            {"any_of": [{"select": "a", "expect": {"equals": 1}, "any_of": []}]},
            "Extra inputs are not permitted",
        ),
    ],
)
def test_invalid_rules(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleParams.model_validate({"kind": "k", **data})


def test_kind_is_required() -> None:
    with pytest.raises(ValidationError, match="kind"):
        RuleParams.model_validate({"select": "a", "expect": {"equals": 1}})


def test_select_accepts_a_string_or_a_list() -> None:
    assert rule(select="a", expect={"equals": 1}).select == ["a"]
    assert rule(select=["a", "b"], expect={"equals": 1}).select == ["a", "b"]
