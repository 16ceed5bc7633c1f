"""School facts in rules: operators on paths and domains, references to what school.yaml
declares, and the verdict of a rule that depends on a fact the school left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from cyberstd.cli import main
from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from cyberstd.rules.compare import Condition
from cyberstd.rules.engine import RuleParams, evaluate
from cyberstd.rules.facts import FACTS, school_facts
from cyberstd.schema import SchoolFile
from tests.conftest import REPO
from tests.rules.conftest import TODAY, parse_json

ABSENT: Any = object()
GROUP_A = "0b6d1f3a-5c7e-4a9b-8d2f-6e4c3b2a1f09"
GROUP_B = "9e2c4a6b-8d0f-4e1a-b3c5-7d9f1e3a5c7b"


def holds(cond: dict[str, Any], value: Any) -> bool:
    node = None if value is ABSENT else Node(value, "x.json", 1)
    return Condition.model_validate(cond).holds(node, TODAY)


def items(*values: Any) -> list[Node]:
    return [Node(v, "x.json", 1) for v in values]


# --- under / not_under: organisational unit paths -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ("/Leerlingen", True),
        ("/Leerlingen/Secundair/3A", True),
        ("/leerlingen/1a", True),  # case does not matter unless case_sensitive
        ("/Leerlingen-oud", False),  # a sibling, not a child
        ("/Personeel/Leerlingen", False),  # the name deeper down is another unit
        ("/", False),
        (ABSENT, False),
    ],
)
def test_under(value: Any, result: bool) -> None:
    assert holds({"under": ["/Leerlingen", "/Klassen/"]}, value) is result
    assert holds({"not_under": ["/Leerlingen", "/Klassen/"]}, value) is (
        not result if value is not ABSENT else True
    )


def test_under_the_top_unit_holds_everything_and_case_can_matter() -> None:
    assert holds({"under": ["/"]}, "/Personeel")
    assert not holds({"under": ["/Leerlingen"], "case_sensitive": True}, "/leerlingen/1A")


# --- in_domain / not_in_domain: mail addresses and host names -----------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ("jan@sintjozef.be", True),
        ("Jan@SintJozef.BE", True),
        ("lotte@leerling.sintjozef.be", True),  # a subdomain is the school's too
        ("sintjozef.be", True),  # a host or domain name itself
        ("leerling.sintjozef.be.", True),
        ("jan@sintjozef.onmicrosoft.com", False),
        ("jan@notsintjozef.be", False),  # the name must end at a dot
        ("sintjozef.be@evil.test", False),  # the domain is what follows the last @
        ("", False),
        (ABSENT, False),
    ],
)
def test_in_domain(value: Any, result: bool) -> None:
    assert holds({"in_domain": ["sintjozef.be"]}, value) is result
    if value is not ABSENT:
        assert holds({"not_in_domain": ["sintjozef.be"]}, value) is not result


def test_domain_operators_on_lists() -> None:
    both = items("a@sintjozef.be", "b@leerling.sintjozef.be")
    mixed = items("a@sintjozef.be", "b@gmail.test")
    assert holds({"in_domain": ["sintjozef.be"]}, both)
    assert not holds({"in_domain": ["sintjozef.be"]}, mixed)  # every item must be
    assert not holds({"not_in_domain": ["sintjozef.be"]}, mixed)  # no item may be
    assert holds({"not_in_domain": ["sintjozef.be"]}, items("b@gmail.test"))
    assert holds({"not_in_domain": ["sintjozef.be"]}, ABSENT)  # negative: absent meets it


def test_operators_describe_themselves_in_both_languages() -> None:
    cond = Condition.model_validate({"not_in_domain": ["a.be", "b.be"]})
    assert cond.describe() == "not in domain a.be, b.be"
    assert cond.describe("nl") == "niet op het domein a.be of b.be"
    assert Condition.model_validate({"under": ["/L"]}).describe("nl") == "onder /L"


# --- fact references -----------------------------------------------------------------------------


def test_a_fact_reference_must_name_a_known_fact() -> None:
    with pytest.raises(ValidationError, match=r"unknown school fact 'identity\.teachers'"):
        Condition.model_validate({"in": {"school": "identity.teachers"}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        Condition.model_validate({"in": {"school": "domains", "colour": "red"}})


def test_the_catalog_refuses_an_unknown_fact(mini_root: Path) -> None:
    checks = mini_root / "checks" / "facts.yaml"
    checks.write_text(
        "checks:\n"
        "  - id: mini.facts\n"
        "    title: {nl: Feiten, en: Facts}\n"
        "    probe: config.rule\n"
        "    params:\n"
        "      kind: json\n"
        "      select: value[*]\n"
        "      where: {id: {in: {school: identity.leerkrachten}}}\n"
        "      count: {at_most: 0}\n"
        "    severity: low\n"
        "    remediation: {nl: Doe iets., en: Do something.}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--root", str(mini_root), "validate"])
    assert result.exit_code == 2
    assert "facts.yaml:" in result.output and "error[invalid-params]" in result.output
    assert "unknown school fact 'identity.leerkrachten'" in result.output


GROUPS = (
    '{"value": [\n'
    f'  {{"displayName": "P1", "includeGroups": ["{GROUP_A}"]}},\n'
    '  {"displayName": "P2", "includeGroups": []}\n'
    "]}"
)


def groups_rule(**count: int) -> RuleParams:
    return RuleParams.model_validate(
        {
            "kind": "k",
            "about": "policies for the staff",
            "select": "value[*]",
            "where": {
                "includeGroups": {"present": True, "contains": {"school": "identity.staff_groups"}}
            },
            "count": count or {"at_least": 1},
            "label": "displayName",
        }
    )


def docs(text: str = GROUPS) -> dict[str, list[Node]]:
    return {"k": [parse_json(text, "policies.json")]}


def test_a_declared_fact_is_judged() -> None:
    v = evaluate(groups_rule(), docs(), TODAY, {"identity.staff_groups": [GROUP_A]})
    assert v.status is FindingStatus.PASS
    assert v.message == "1 policies for the staff (at least 1 expected): P1"
    other = evaluate(groups_rule(), docs(), TODAY, {"identity.staff_groups": [GROUP_B]})
    assert other.status is FindingStatus.FAIL


def test_an_undeclared_fact_that_decides_is_not_judged() -> None:
    v = evaluate(groups_rule(), docs(), TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.undecided == ("identity.staff_groups",)
    assert v.message == (
        "policies for the staff: not judged: school.yaml does not declare the Entra ID groups "
        "that hold the staff (identity.staff_groups), which decide on: P1"
    )
    assert v.message_nl == (
        "policies for the staff: niet beoordeeld: school.yaml vermeldt de Entra ID-groepen met "
        "het personeel (identity.staff_groups) niet, en die beslissen over: P1"
    )
    assert v.evidence["undeclared"] == ["identity.staff_groups"]
    assert [it["label"] for it in v.evidence["items"]] == ["P1"]
    assert v.evidence["items"][0]["line"] == 2


def test_an_undeclared_fact_that_cannot_decide_gives_the_verdict() -> None:
    # No policy names a group: whatever the staff's groups are, none counts.
    text = '{"value": [{"displayName": "P2", "includeGroups": []}]}'
    v = evaluate(groups_rule(), docs(text), TODAY)
    assert v.status is FindingStatus.FAIL
    # At most 5 policies for groups: holds whatever the groups are.
    v = evaluate(groups_rule(at_most=5), docs(), TODAY)
    assert v.status is FindingStatus.PASS


def test_a_default_stands_in_for_an_undeclared_fact() -> None:
    rule = RuleParams.model_validate(
        {
            "kind": "k",
            "select": "users[*]",
            "where": {
                "orgUnitPath": {
                    "not_under": {"school": "identity.pupil_org_units", "default": ["/Lln"]}
                }
            },
            "count": {"at_most": 0},
            "label": "primaryEmail",
        }
    )
    text = '{"users": [{"primaryEmail": "a@x.be", "orgUnitPath": "/Lln/1A"}]}'
    assert evaluate(rule, docs(text), TODAY).status is FindingStatus.PASS
    declared = {"identity.pupil_org_units": ["/Klassen"]}
    v = evaluate(rule, docs(text), TODAY, declared)
    assert v.status is FindingStatus.FAIL and v.message.endswith(": a@x.be")


def combined(mode: str, *parts: dict[str, Any]) -> RuleParams:
    return RuleParams.model_validate({"kind": "k", mode: list(parts)})


FAILS = {"select": "value[*]", "where": {"displayName": {"equals": "P9"}}, "count": {"at_least": 1}}
PASSES = {
    "select": "value[*]",
    "where": {"displayName": {"equals": "P2"}},
    "count": {"at_least": 1},
}
UNSURE = groups_rule().model_dump(exclude={"kind", "any_of", "all_of"}, exclude_unset=True)


def test_any_of_a_pass_beats_an_undeclared_fact_which_beats_a_fail() -> None:
    assert evaluate(combined("any_of", UNSURE, PASSES), docs(), TODAY).status is (
        FindingStatus.PASS
    )
    v = evaluate(combined("any_of", FAILS, UNSURE), docs(), TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.undecided == ("identity.staff_groups",)
    assert v.evidence["undeclared"] == ["identity.staff_groups"]
    assert v.message.startswith("policies for the staff: not judged")  # the reason comes first


def test_all_of_a_fail_beats_an_undeclared_fact() -> None:
    assert evaluate(combined("all_of", UNSURE, FAILS), docs(), TODAY).status is (FindingStatus.FAIL)
    v = evaluate(combined("all_of", UNSURE, PASSES), docs(), TODAY)
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert v.undecided == ("identity.staff_groups",)


def test_only_the_facts_that_decide_are_named() -> None:
    rule = RuleParams.model_validate(
        {
            "kind": "k",
            "about": "policies",
            "select": "value[*]",
            "where": {
                "includeGroups": {"present": True, "contains": {"school": "identity.staff_groups"}},
                "excludeGroups": {
                    "any": [{"present": False}, {"in": {"school": "identity.pupil_groups"}}]
                },
            },
            "count": {"at_least": 1},
        }
    )
    v = evaluate(rule, docs(), TODAY)  # P1 excludes no group: the pupils' groups do not matter
    assert v.undecided == ("identity.staff_groups",)
    assert "identity.pupil_groups" not in v.message


# --- what school.yaml declares -------------------------------------------------------------------


def school(**identity: Any) -> SchoolFile:
    return SchoolFile.model_validate(
        {"school": {"id": "s", "name": "S"}, "domains": ["School.BE"], "identity": identity}
    )


def test_school_facts() -> None:
    assert school_facts(None) == dict.fromkeys(FACTS)
    facts = school_facts(school(staff_groups=[GROUP_A.upper()], pupil_org_units=["/Leerlingen/"]))
    assert facts == {
        "domains": ["school.be"],
        "identity.staff_groups": [GROUP_A],
        "identity.pupil_groups": None,
        "identity.pupil_domains": None,
        "identity.pupil_org_units": ["/Leerlingen"],
        "identity.service_accounts": None,
    }
    bare = SchoolFile.model_validate({"school": {"id": "s", "name": "S"}})
    assert school_facts(bare)["domains"] is None


@pytest.mark.parametrize(
    ("identity", "said"),
    [
        ({"staff_groups": ["Personeel"]}, "is not a group's object id"),
        ({"pupil_groups": [GROUP_A + "0"]}, "is not a group's object id"),
        ({"staff_groups": []}, "at least 1 item"),
        ({"pupil_org_units": ["Leerlingen"]}, "starting with /"),
        ({"pupil_org_units": ["/"]}, "holds every account"),
        ({"pupil_domains": ["leerling sintjozef"]}, "not a valid host name"),
        ({"staff_groups": [GROUP_A], "pupil_groups": [GROUP_A.upper()]}, "in both"),
        ({"teachers": [GROUP_A]}, "Extra inputs"),
        # The staff's own domain (or a domain above it) would make every account a pupil's.
        ({"pupil_domains": ["school.be"]}, "is \\(or holds\\) the school's own domain"),
        ({"pupil_domains": ["be"]}, "the school's own domain"),
        # Terminal control codes and a right-to-left override are no part of a unit's name.
        ({"pupil_org_units": ["/Leerlingen\u009b31m"]}, "not an organisational unit path"),
        ({"pupil_org_units": ["/Leer\u202elingen"]}, "not an organisational unit path"),
    ],
)
def test_bad_identity_declarations(identity: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        school(**identity)


def test_validate_places_a_bad_identity_at_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school.yaml").write_text(
        "school: {id: s, name: S}\n"
        "domains: [sintjozef.be]\n"
        "identity:\n"
        f"  staff_groups: [{GROUP_A}]\n"
        "  pupil_groups: [Leerlingen]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(folder), "--as-of", "2026-11-29"]
    )
    assert result.exit_code == 2, result.output
    assert "school.yaml:5:" in result.output
    assert "'Leerlingen' is not a group's object id" in result.output
    (folder / "school.yaml").write_text(
        "school: {id: s, name: S}\n"
        "domains: [sintjozef.be]\n"
        "identity:\n"
        f"  staff_groups: [{GROUP_A}]\n"
        f"  pupil_groups: [{GROUP_B}]\n"
        "  pupil_domains: [leerling.sintjozef.be]\n"
        "  pupil_org_units: [/Leerlingen]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["--root", str(REPO), "validate", str(folder), "--as-of", "2026-11-29"]
    )
    assert result.exit_code == 0, result.output
