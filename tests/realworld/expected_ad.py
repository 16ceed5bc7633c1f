"""Expected verdicts on the Active Directory files of the real-world corpus
(tests/data/realworld/ad/SOURCES.md says why each is what a careful auditor concludes)."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "ad/users-ps51-typeline.csv": ("ad-users", {
        # en-US dates: 8/16/2026 is August; the substitute teacher never signed on
        "ad.stale-accounts": (F, "sara.vermeulen ('8/16/2026 11:40:27 AM'), lkr.vervanging"),
        "ad.password-never-expires": (F, "scan2mail"),
        # MemberOf is the type name, not the groups: AdminCount alone decides (2 accounts)
        "ad.domain-admin-count": (P, "2 enabled accounts with AdminCount 1"),
    }),
    "ad/users-ps51.json": ("ad-users", {
        # the partner last signed on 91 days ago (\/Date(ms)\/, read as UTC)
        "ad.stale-accounts": (F, "2 of 6 enabled accounts, where at most 0 are expected: partner.ict"),
        "ad.password-never-expires": (F, "Administrator"),
        "ad.domain-admin-count": (F, "Administrator, adm.els, adm.koen, partner.ict, oud.adm.piet"),
    }),
    "ad/password-policy-ps51.json": ("ad-password-policy", {
        "ad.password-length": (F, "('7')"),
        "ad.password-complexity": (P, ""),
        "ad.account-lockout": (F, "('0')"),
        "ad.reversible-encryption": (P, ""),
    }),
    "ad/password-policies-text.json": ("ad-password-policy", {
        # the default policy is sound; the pupils' fine-grained policy is not
        "ad.password-length": (F, "PSO-Leerlingen-LO"),
        "ad.password-complexity": (F, "PSO-Leerlingen-LO"),
        "ad.account-lockout": (F, "PSO-Leerlingen-LO"),
        "ad.reversible-encryption": (P, ""),
    }),
}  # fmt: skip

WITH_SCHOOL_YAML: dict[
    str, list[tuple[str, dict[str, list[str]], dict[str, tuple[FindingStatus, str]]]]
] = {
    "ad/users-ps51-typeline.csv": [
        ("ad-users", {"identity.service_accounts": ["scan2mail"]},
         {"ad.password-never-expires": (P, "0 of 6 enabled accounts")}),
    ],
}  # fmt: skip
