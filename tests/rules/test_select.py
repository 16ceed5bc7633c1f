"""Selectors: keys, quoted keys, wildcards, indexes and filters over located trees."""

from __future__ import annotations

import pytest

from cyberstd.parsers.base import Node
from cyberstd.rules.select import Match, SelectorError, compile_selector, select
from tests.rules.conftest import parse_csv, parse_json

DOC = """\
{
  "value": [
    {
      "displayName": "CA001 - MFA voor alle gebruikers",
      "state": "enabled",
      "members": [{"upn": "jan@school.be"}, {"upn": "an@school.be"}]
    },
    {
      "displayName": "CA002 - Verouderde verificatie blokkeren",
      "state": "Disabled",
      "members": [],
      "grant.controls": "block"
    }
  ],
  "system interface": {"wan1": {"role": "wan"}, "lan": {"role": "lan"}},
  "isEnabled": true
}
"""


@pytest.fixture
def doc() -> Node:
    return parse_json(DOC, "ca.json")


def run(doc: Node, selector: str) -> list[tuple[str, object, int | None]]:
    return [(m.path, m.node.plain(), m.node.line) for m in select(doc, compile_selector(selector))]


def test_bare_key_gives_value_path_and_line(doc: Node) -> None:
    assert run(doc, "isEnabled") == [("isEnabled", True, 16)]


def test_missing_key_selects_nothing(doc: Node) -> None:
    assert run(doc, "isDisabled") == []
    assert run(doc, "value[*].nothing.deeper") == []


def test_star_bracket_maps_over_list_items(doc: Node) -> None:
    assert run(doc, "value[*].state") == [
        ("value[0].state", "enabled", 5),
        ("value[1].state", "Disabled", 10),
    ]


def test_key_over_a_list_applies_to_each_item(doc: Node) -> None:
    assert run(doc, "value.state") == run(doc, "value[*].state")
    assert run(doc, "value.members.upn") == [
        ("value[0].members[0].upn", "jan@school.be", 6),
        ("value[0].members[1].upn", "an@school.be", 6),
    ]


def test_star_segment_over_mapping_and_list(doc: Node) -> None:
    assert run(doc, '"system interface".*.role') == [
        ("system interface.wan1.role", "wan", 15),
        ("system interface.lan.role", "lan", 15),
    ]
    assert [p for p, _, _ in run(doc, "value.*")] == ["value[0]", "value[1]"]
    # `*` on a scalar keeps the scalar itself.
    assert run(doc, "isEnabled.*") == [("isEnabled", True, 16)]


def test_quoted_key_with_space_and_dot(doc: Node) -> None:
    assert run(doc, 'value[*]."grant.controls"') == [("value[1].grant.controls", "block", 12)]
    assert run(doc, r'"system \"interface\""') == []


def test_index_positive_negative_and_out_of_range(doc: Node) -> None:
    assert run(doc, "value[0].state") == [("value[0].state", "enabled", 5)]
    assert run(doc, "value[-1].state") == [("value[-1].state", "Disabled", 10)]
    assert run(doc, "value[2]") == []
    assert run(doc, "value[-3]") == []


def test_filter_equals_is_case_insensitive(doc: Node) -> None:
    assert run(doc, "value[state=ENABLED].displayName") == [
        ("value[0].displayName", "CA001 - MFA voor alle gebruikers", 4)
    ]
    assert run(doc, 'value[ state = "enabled" ].state') == [("value[0].state", "enabled", 5)]


def test_filter_not_equals_keeps_items_without_the_field(doc: Node) -> None:
    assert [p for p, _, _ in run(doc, "value[state!=enabled]")] == ["value[1]"]
    # A filter's key is one literal key, not a path: the dot belongs to the key.
    assert [p for p, _, _ in run(doc, "value[grant.controls!=block]")] == ["value[0]"]
    assert [p for p, _, _ in run(doc, 'value["grant.controls"=block]')] == ["value[1]"]


def test_filter_on_a_boolean_matches_its_word(doc: Node) -> None:
    tree = parse_json(
        '{"data": [{"name": "a", "is_guest": true}, {"name": "b", "is_guest": false}]}'
    )
    assert [m.node.plain() for m in select(tree, compile_selector("data[is_guest=true].name"))] == [
        "a"
    ]


def test_filter_on_a_mapping_tests_the_mapping_itself(doc: Node) -> None:
    assert run(doc, '"system interface".wan1[role=wan].role') == [
        ("system interface.wan1.role", "wan", 15)
    ]
    assert run(doc, '"system interface".wan1[role=lan]') == []


def test_keys_match_exactly_else_case_insensitively() -> None:
    tree = parse_json('{"Name": "exact-upper", "NAME": "other", "Last": 1}')
    assert [m.node.plain() for m in select(tree, compile_selector("NAME"))] == ["other"]
    assert [m.node.plain() for m in select(tree, compile_selector("Name"))] == ["exact-upper"]
    assert [m.node.plain() for m in select(tree, compile_selector("last"))] == [1]


def test_csv_column_with_spaces_as_bare_key() -> None:
    tree = parse_csv(
        '"Device name","Last check-in"\n"LPT-01","2026-11-27 08:12:33"\n"LPT-02",""\n',
        "intune-devices.csv",
    )
    found = select(tree, compile_selector("rows[*].Last check-in"))
    assert [(m.path, m.node.plain(), m.node.line) for m in found] == [
        ("rows[0].Last check-in", "2026-11-27 08:12:33", 2),
        ("rows[1].Last check-in", None, 3),
    ]
    assert all(m.node.file == "intune-devices.csv" for m in found)


def test_select_keeps_document_order_and_base_path(doc: Node) -> None:
    found = select(doc, compile_selector("value[*].displayName"), base="ca")
    assert isinstance(found[0], Match)
    assert [m.path for m in found] == ["ca.value[0].displayName", "ca.value[1].displayName"]


def test_star_bracket_on_a_single_mapping_is_a_list_of_one(doc: Node) -> None:
    # An XML element that appears once is a mapping, not a list: `[*]` still reaches it.
    assert run(doc, '"system interface".wan1[*].role') == [
        ("system interface.wan1.role", "wan", 15)
    ]
    # Where `*` walks the values of a mapping, `[*]` keeps the mapping itself.
    assert [p for p, _, _ in run(doc, '"system interface".*')] == [
        "system interface.wan1",
        "system interface.lan",
    ]
    assert [p for p, _, _ in run(doc, '"system interface"[*]')] == ["system interface"]


def test_compile_is_stable() -> None:
    text = 'a."b c"[*][2][k=v][x!="y z"].*'
    assert compile_selector(text) == compile_selector(text)
    assert len(compile_selector(text)) == 7


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("", "empty selector"),
        ("   ", "empty selector"),
        ("value.", "ends with a dot"),
        ("value..state", "character 7"),
        (".value", "character 1"),
        ("value[", "character 1"),
        ("value]", "character 1"),
        ('"unclosed', "character 1"),
        ("value[state]", "cannot read [state]"),
        ("value[=x]", "cannot read [=x]"),
        ("value[1.5]", "cannot read [1.5]"),
    ],
)
def test_bad_selectors_raise(selector: str, message: str) -> None:
    with pytest.raises(SelectorError, match=message.replace("[", r"\[").replace(".", r"\.")):
        compile_selector(selector)


def test_selector_error_is_a_value_error() -> None:
    assert issubclass(SelectorError, ValueError)
