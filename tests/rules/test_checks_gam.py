"""Google Workspace users from GAM (`gam print users allfields`, CSV), judged by the same
google.* checks as the Directory API's JSON: the same accounts named, no pass on a file that
holds nothing to judge, and a school that lists both exports meets both."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cyberstd.catalog import Catalog
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import detect, normalise
from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from tests.rules.conftest import (
    SCHOOL_FACTS,
    assert_named,
    line_of,
    parse_csv,
    parse_kind,
    run_check,
    sample,
)

GOOGLE_CHECKS = (
    "google.2sv-staff",
    "google.2sv-admins",
    "google.admin-count",
    "google.break-glass",
    "google.stale-accounts",
    "google.mail-own-domain",
)
HEADER = (
    "primaryEmail,archived,creationTime,isAdmin,isDelegatedAdmin,isEnforcedIn2Sv,"
    "isEnrolledIn2Sv,lastLoginTime,orgUnitPath,suspended"
)


def _gam(catalog: Catalog, text: str) -> dict[str, list[Node]]:
    return {"gam-users": [normalise(catalog.kinds["gam-users"], parse_csv(text, "gam-users.csv"))]}


@pytest.mark.parametrize("variant", ["good", "bad"])
def test_detect_recognises_the_gam_samples(catalog: Catalog, variant: str, tmp_path: Path) -> None:
    path = sample("gam-users", variant)
    assert detect(path, catalog.kinds) == ["gam-users"]
    anonymous = tmp_path / "export.csv"  # by its header alone
    shutil.copy(path, anonymous)
    assert detect(anonymous, catalog.kinds) == ["gam-users"]


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("check_id", GOOGLE_CHECKS)
def test_gam_and_the_directory_api_get_the_same_verdict(
    catalog: Catalog, check_id: str, variant: str
) -> None:
    """The GAM samples hold the same users as the JSON samples, as GAM writes them."""
    gam = run_check(catalog, check_id, variant, kinds=["gam-users"], facts=SCHOOL_FACTS)
    api = run_check(catalog, check_id, variant, kinds=["google-users"], facts=SCHOOL_FACTS)
    assert gam.status is api.status, (gam.message, api.message)
    assert gam.message.split(":")[0] == api.message.split(":")[0]


@pytest.mark.parametrize(
    ("check_id", "emails"),
    [
        (
            "google.2sv-staff",
            (
                "ict.stagiair@sintjozef.be",
                "secretariaat@sintjozef.be",
                "an.peeters@sintjozef.be",
                "stagiair.2025@sintjozef.be",
            ),
        ),
        ("google.2sv-admins", ("ict.stagiair@sintjozef.be", "secretariaat@sintjozef.be")),
        (
            # `Never` signed in (the intern), a leaver not suspended, last year's pupil
            "google.stale-accounts",
            (
                "piet.claes@sintjozef.be",
                "stagiair.2025@sintjozef.be",
                "jonas.desmet@leerling.sintjozef.be",
            ),
        ),
    ],
)
def test_the_weak_gam_export_fails_naming_accounts_and_rows(
    catalog: Catalog, check_id: str, emails: tuple[str, ...]
) -> None:
    path = sample("gam-users", "bad")
    v = run_check(catalog, check_id, "bad", kinds=["gam-users"])
    assert v.status is FindingStatus.FAIL
    assert_named(v, path, {e: line_of(path, e + ",") for e in emails})


def test_never_signed_in_counts_only_once_the_account_is_a_month_old(catalog: Catalog) -> None:
    rows = [
        "oud@school.test,False,2026-01-05T08:00:00Z,False,False,True,True,Never,/Personeel,False",
        "nieuw@school.test,False,2026-11-25T08:00:00Z,False,False,True,False,Never,/Personeel,False",
        "weg@school.test,False,2020-01-05T08:00:00Z,False,False,True,True,Never,/Personeel,True",
        "arch@school.test,True,2020-01-05T08:00:00Z,False,False,True,True,Never,/Personeel,False",
    ]
    v = run_check(catalog, "google.stale-accounts", _gam(catalog, "\n".join([HEADER, *rows])))
    assert v.status is FindingStatus.FAIL
    assert "oud@school.test" in v.message
    assert not {"nieuw@", "weg@", "arch@"} & set(v.message.split())


@pytest.mark.parametrize("check_id", GOOGLE_CHECKS)
def test_a_gam_export_without_users_never_passes(catalog: Catalog, check_id: str) -> None:
    v = run_check(catalog, check_id, _gam(catalog, HEADER + "\n"), facts=SCHOOL_FACTS)
    assert v.status in (FindingStatus.NOT_APPLICABLE, FindingStatus.FAIL), v.message
    assert v.message


@pytest.mark.parametrize("check_id", ["google.admin-count", "google.break-glass"])
def test_a_gam_export_without_a_super_admin_is_not_complete(
    catalog: Catalog, check_id: str
) -> None:
    row = "an@school.test,False,2020-01-05T08:00:00Z,False,False,True,True,Never,/Personeel,False"
    v = run_check(catalog, check_id, _gam(catalog, f"{HEADER}\n{row}\n"))
    assert v.status is FindingStatus.NOT_APPLICABLE
    assert "names no super administrator" in v.message


def test_a_gam_export_without_the_2sv_column_is_refused_saying_what_to_give(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "gam-users.csv"
    path.write_text(
        "primaryEmail,isAdmin,suspended,lastLoginTime,creationTime,orgUnitPath\n"
        "an@school.test,True,False,Never,2020-01-05T08:00:00Z,/\n",
        encoding="utf-8",
    )
    parsed = ExportStore(catalog.kinds).parsed(ExportFile(path, path.name, "gam-users"))
    assert parsed.tree is None and parsed.error is not None
    assert "enforced_2sv" in parsed.error.detail or "isEnforcedIn2Sv" in parsed.error.detail
    assert "gam print users allfields" in parsed.error.detail


@pytest.mark.parametrize("check_id", ["google.2sv-admins", "google.2sv-staff"])
def test_a_school_listing_both_exports_meets_both(catalog: Catalog, check_id: str) -> None:
    docs = {
        "google-users": [parse_kind(catalog, "google-users", sample("google-users", "good"))],
        "gam-users": [parse_kind(catalog, "gam-users", sample("gam-users", "bad"))],
    }
    v = run_check(catalog, check_id, docs)
    assert v.status is FindingStatus.FAIL
    assert "secretariaat@sintjozef.be" in v.message


def test_a_delegated_administrator_without_enforced_2sv_is_an_administrator(
    catalog: Catalog,
) -> None:
    # a user-management admin (isDelegatedAdmin) is an administrator too, in whatever unit
    rows = [
        "baas@school.test,False,2020-01-05T08:00:00Z,True,False,True,True,Never,/Personeel,False",
        "helper@school.test,False,2020-01-05T08:00:00Z,False,True,False,False,Never,/Leerlingen,False",
    ]
    v = run_check(catalog, "google.2sv-admins", _gam(catalog, "\n".join([HEADER, *rows])))
    assert v.status is FindingStatus.FAIL, v.message
    assert "helper@school.test" in v.message
