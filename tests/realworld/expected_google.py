"""Google Workspace files of the real-world corpus read through other kinds than the
Directory API's JSON: GAM's `gam print users allfields` CSV (tests/data/realworld/google/
SOURCES.md). Joined into test_corpus.py's tables."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "google/gam-print-users.csv": ("gam-users", {
        "google.2sv-admins": (F, "beheer@atheneum-lindenhove.test"),
        "google.2sv-staff": (F, "1 of 6 active staff accounts"),  # pupils left out
        # `Never` (created 2026-09-01) and a pupil who left in June without being suspended
        "google.stale-accounts": (F, "milan.jacobs@lln.atheneum-lindenhove.test, nieuwe.leerkracht@"),
        "google.admin-count": (P, "2 active super administrators"),
        "google.break-glass": (P, "2 active super administrators"),
        "google.mail-own-domain": (NA, "does not declare the school's domains"),
    }),
}  # fmt: skip

WITH_SCHOOL_YAML: dict[
    str, list[tuple[str, dict[str, list[str]], dict[str, tuple[FindingStatus, str]]]]
] = {
    "google/gam-print-users.csv": [
        # the pupils' sub-domain is the school's too
        ("gam-users", {"domains": ["atheneum-lindenhove.test"]},
         {"google.mail-own-domain": (P, "0 active accounts")}),
    ],
}  # fmt: skip
