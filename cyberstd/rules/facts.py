"""What the school says about itself, for rules that cannot tell it from an export alone.

A conditional access policy names groups by object id; whether a group holds the staff or the
pupils is something only the school knows. A rule refers to such a fact by name, in place of a
list of values: `contains: {school: identity.staff_groups}`, `not_in_domain: {school:
domains}`. The facts come from school.yaml (`domains`, and the `identity` section).

A fact the school does not declare is not guessed. The rule is judged twice, once as if every
condition on the fact held and once as if none did: when both give the same verdict the fact
does not matter; otherwise the verdict is "not judged", naming what school.yaml should declare
and the items it would decide on. A fact reference may carry a `default`, used when the school
declares nothing (the usual names of the pupils' organisational units).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

if TYPE_CHECKING:
    from cyberstd.schema import SchoolFile

# Every fact a rule may name: what it is, in Dutch and English.
FACTS: dict[str, tuple[str, str]] = {
    "domains": (
        "de domeinen van de school (domains)",
        "the school's domains (domains)",
    ),
    "identity.staff_groups": (
        "de Entra ID-groepen met het personeel (identity.staff_groups)",
        "the Entra ID groups that hold the staff (identity.staff_groups)",
    ),
    "identity.pupil_groups": (
        "de Entra ID-groepen met enkel leerlingen (identity.pupil_groups)",
        "the Entra ID groups that hold only pupils (identity.pupil_groups)",
    ),
    "identity.pupil_domains": (
        "de domeinen van de accounts van de leerlingen (identity.pupil_domains)",
        "the domains of the pupils' accounts (identity.pupil_domains)",
    ),
    "identity.pupil_org_units": (
        "de organisatie-eenheden van de leerlingen in Google Workspace (identity.pupil_org_units)",
        "the pupils' organisational units in Google Workspace (identity.pupil_org_units)",
    ),
    "identity.service_accounts": (
        "de serviceaccounts in Active Directory waarvan het wachtwoord nooit verloopt (identity.service_accounts)",
        "the Active Directory service accounts whose password never expires (identity.service_accounts)",
    ),
}

# What the school declares, by fact: a list, or None when school.yaml says nothing.
Facts = Mapping[str, list[str] | None]


class FactRef(BaseModel):
    """A list the school declares in school.yaml, named in a rule: `{school: domains}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    school: str
    default: list[str] | None = None

    @field_validator("school")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in FACTS:
            raise ValueError(f"unknown school fact {v!r}; known: {', '.join(FACTS)}")
        return v

    def __str__(self) -> str:
        return f"school.yaml {self.school}"


@dataclass(frozen=True)
class Assumed:
    """An undeclared fact in a rule being judged: the condition on it is taken to hold (or not)."""

    holds: bool
    fact: str

    def __str__(self) -> str:
        return f"school.yaml {self.fact} (not declared)"


def school_facts(school: SchoolFile | None) -> dict[str, list[str] | None]:
    """The facts school.yaml declares (None for each it leaves out, and for all without one)."""
    if school is None:
        return dict.fromkeys(FACTS)
    identity = school.identity
    return {
        "domains": list(school.domains) or None,
        "identity.staff_groups": identity.staff_groups,
        "identity.pupil_groups": identity.pupil_groups,
        "identity.pupil_domains": identity.pupil_domains,
        "identity.pupil_org_units": identity.pupil_org_units,
        "identity.service_accounts": identity.service_accounts,
    }


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


def bind_condition(cond: Any, facts: Facts, assume: Collection[str]) -> tuple[Any, set[str]]:
    """A condition with every fact reference replaced by the school's list (or the reference's
    default); an undeclared fact becomes `Assumed`, holding when the fact is in `assume`.
    Returns it with the facts it found missing."""
    update: dict[str, Any] = {}
    missing: set[str] = set()
    for op in cond.given:
        if op == "any":
            bound = [bind_condition(c, facts, assume) for c in cond.any]
            if any(b is not c for (b, _), c in zip(bound, cond.any, strict=True)):
                update["any"] = [b for b, _ in bound]
                for _, gone in bound:
                    missing |= gone
            continue
        ref = getattr(cond, _attr(op))
        if not isinstance(ref, FactRef):
            continue
        values = facts.get(ref.school)
        if values is None:
            values = ref.default
        if values is None:
            update[_attr(op)] = Assumed(ref.school in assume, ref.school)
            missing.add(ref.school)
        else:
            update[_attr(op)] = list(values)
    return (cond.model_copy(update=update) if update else cond), missing


def _bind_map(
    conditions: Mapping[str, Any], facts: Facts, assume: Collection[str]
) -> tuple[dict[str, Any], set[str]]:
    out: dict[str, Any] = {}
    missing: set[str] = set()
    for key, cond in conditions.items():
        out[key], gone = bind_condition(cond, facts, assume)
        missing |= gone
    return out, missing


def _bind_filter(
    rule: Any, facts: Facts, assume: Collection[str]
) -> tuple[dict[str, Any], set[str]]:
    update: dict[str, Any] = {}
    update["where"], missing = _bind_map(rule.where, facts, assume)
    where_any = []
    for conditions in rule.where_any:
        bound, gone = _bind_map(conditions, facts, assume)
        where_any.append(bound)
        missing |= gone
    update["where_any"] = where_any
    return update, missing


def bind_rule(rule: Any, facts: Facts, assume: Collection[str] = ()) -> tuple[Any, set[str]]:
    """A rule body (a rule's part) with its fact references bound (see `bind_condition`), in
    its conditions and in its population's."""
    update, missing = _bind_filter(rule, facts, assume)
    if getattr(rule, "population", None) is not None:
        pop, gone = _bind_filter(rule.population, facts, assume)
        update["population"] = rule.population.model_copy(update=pop)
        missing |= gone
    if rule.expect is not None:
        update["expect"], gone = bind_condition(rule.expect, facts, assume)
        missing |= gone
    if rule.only_if:
        checks = []
        for pre in rule.only_if:
            expect, gone = bind_condition(pre.expect, facts, assume)
            checks.append(pre.model_copy(update={"expect": expect}))
            missing |= gone
        update["only_if"] = checks
    return rule.model_copy(update=update), missing


def describe_facts(names: set[str] | tuple[str, ...], lang: str) -> str:
    """The facts named, in words."""
    i = 0 if lang == "nl" else 1
    return "; ".join(FACTS[n][i] for n in sorted(names))
