"""`cyberstd collect m365`: what to read from Microsoft Graph and how to write it.

Six reads, each written to `exports/m365/` in Graph's own response shape (a collection as
`{"@odata.context": ..., "value": [every page]}`, the security defaults policy as the object
Graph returns) plus `"cyberstdCollected": {"at": ..., "source": ...}`. Nothing is written
until every read succeeded; each file is replaced atomically. Then school.yaml lists each file
under `exports:` (missing entries are added, comments and order kept, existing ones untouched).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cyberstd.collect.files import (
    STAMP,
    Outcome,
    register_exports,
    school_yaml,
    stamp_meta,
    write_exports,
)
from cyberstd.collect.graph import GraphAccessError, GraphClient, GraphError

EXPORT_DIR = "exports/m365"

USER_FIELDS = "id,displayName,userPrincipalName,mail,accountEnabled,userType,createdDateTime"
# Graph expands at most 20 related objects; a role with that many is read again in full.
EXPAND_LIMIT = 20
# Graph's answer when signInActivity is asked of a tenant without Entra ID P1/P2.
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


@dataclass(frozen=True)
class Resource:
    """One read: the export kind it becomes, its file, its request and its permissions."""

    kind: str
    file: str
    path: str
    permissions: tuple[str, ...]
    title: str
    noun: str = ""  # what the items of a collection are, for progress
    collection: bool = True


SECURITY_DEFAULTS = Resource(
    "entra-security-defaults",
    "security-defaults.json",
    "/policies/identitySecurityDefaultsEnforcementPolicy",
    ("Policy.Read.All",),
    "security defaults",
    collection=False,
)
CONDITIONAL_ACCESS = Resource(
    "entra-conditional-access",
    "conditional-access.json",
    "/identity/conditionalAccess/policies",
    ("Policy.Read.All",),
    "conditional access policies",
    "policies",
)
DIRECTORY_ROLES = Resource(
    "entra-directory-roles",
    "directory-roles.json",
    "/directoryRoles?$expand=members",
    ("RoleManagement.Read.Directory",),
    "directory roles with their members",
    "active roles",
)
USERS = Resource(
    "entra-users",
    "users.json",
    f"/users?$select={USER_FIELDS},signInActivity",
    ("Directory.Read.All", "AuditLog.Read.All"),
    "users with their sign-in activity",
    "users",
)
# Domain.Read.All would do; Directory.Read.All, which the users need anyway, includes it.
DOMAINS = Resource(
    "entra-domains",
    "domains.json",
    "/domains",
    ("Directory.Read.All",),
    "domains",
    "domains",
)
REGISTRATION = Resource(
    "entra-registration-details",
    "registration-details.json",
    "/reports/authenticationMethods/userRegistrationDetails",
    ("AuditLog.Read.All",),
    "authentication methods registered per user",
    "users",
)
RESOURCES = (SECURITY_DEFAULTS, CONDITIONAL_ACCESS, DIRECTORY_ROLES, USERS, DOMAINS, REGISTRATION)

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Progress that goes nowhere."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Collected:
    """One read's answer, stamped and ready to write."""

    resource: Resource
    payload: dict[str, Any]
    count: int | None


# --- reading ----------------------------------------------------------------------------------


def stamp(
    payload: dict[str, Any], at: dt.datetime, source: str, note: str | None = None
) -> dict[str, Any]:
    """Graph's answer with `cyberstdCollected` after its `@odata.*` keys."""
    meta = stamp_meta(at, source, note)
    out = {k: v for k, v in payload.items() if k.startswith("@odata.")}
    out[STAMP] = meta
    out.update((k, v) for k, v in payload.items() if not k.startswith("@odata.") and k != STAMP)
    return out


def _role_members(client: GraphClient, roles: dict[str, Any], progress: Progress) -> None:
    """Read the members of every role whose members were not (or not all) expanded."""
    for role in roles["value"]:
        if not isinstance(role, dict):
            raise GraphError(
                f"GET {client.request_path(DIRECTORY_ROLES.path)}: a role is no object"
            )
        members = role.get("members")
        complete = isinstance(members, list) and len(members) < EXPAND_LIMIT
        if complete and "members@odata.nextLink" not in role:
            continue
        role_id = role.get("id")
        if not isinstance(role_id, str) or not role_id:
            raise GraphError(f"GET {client.request_path(DIRECTORY_ROLES.path)}: a role has no id")
        path = f"/directoryRoles/{quote(role_id, safe='')}/members"
        progress(
            f"  members of {role.get('displayName') or role_id}: GET {client.request_path(path)}"
        )
        role["members"] = client.get_all(path, DIRECTORY_ROLES.permissions)["value"]
        role.pop("members@odata.nextLink", None)


def _users(client: GraphClient, progress: Progress) -> tuple[dict[str, Any], str, str | None]:
    """All users; without signInActivity when the tenant has no Entra ID P1/P2 licence."""
    try:
        return client.get_all(USERS.path, USERS.permissions), USERS.path, None
    except GraphAccessError as exc:
        if exc.code != NON_PREMIUM:
            raise
    path = f"/users?$select={USER_FIELDS}"
    note = "signInActivity not available: the tenant has no Microsoft Entra ID P1 or P2 licence"
    progress(f"  {note}; reading users without it: GET {client.request_path(path)}")
    return client.get_all(path, USERS.permissions), path, note


def _registration(client: GraphClient, progress: Progress) -> tuple[dict[str, Any], str | None]:
    """Every user's registered methods; an empty list when the tenant has no Entra ID P1/P2
    (the report needs it), so that the check says it cannot judge instead of judging none."""
    try:
        return client.get_all(REGISTRATION.path, REGISTRATION.permissions), None
    except GraphAccessError as exc:
        if exc.code != NON_PREMIUM:
            raise
    note = "the registration report is not available: the tenant has no Microsoft Entra ID P1 or P2"
    progress(f"  {note}; writing an empty list")
    return {"value": []}, note


def fetch(
    client: GraphClient,
    resource: Resource,
    progress: Progress = _quiet,
    now: Callable[[], dt.datetime] = _utc_now,
) -> Collected:
    """Read one resource (every page of it) and stamp it with when and what was asked."""
    progress(f"reading {resource.title}: GET {client.request_path(resource.path)}")
    path, note = resource.path, None
    if resource is USERS:
        payload, path, note = _users(client, progress)
    elif resource is REGISTRATION:
        payload, note = _registration(client, progress)
    elif resource.collection:
        payload = client.get_all(resource.path, resource.permissions)
    else:
        payload = client.get(resource.path, resource.permissions)
    if resource is DIRECTORY_ROLES:
        _role_members(client, payload, progress)
    count = len(payload["value"]) if resource.collection else None
    if count is not None:
        progress(f"  {count} {resource.noun}")
    return Collected(resource, stamp(payload, now(), client.request_path(path), note), count)


def collect(
    folder: Path,
    client: GraphClient,
    progress: Progress = _quiet,
    now: Callable[[], dt.datetime] = _utc_now,
) -> Outcome:
    """Read the tenant into `folder/exports/m365/` and list the files in school.yaml.

    school.yaml is checked before anything is sent; nothing is written unless every read
    succeeded.
    """
    school_file = school_yaml(folder)
    client.sign_in()
    collected = [fetch(client, r, progress, now) for r in RESOURCES]
    written = write_exports(folder, EXPORT_DIR, [(c.resource.file, c.payload) for c in collected])
    entries = [(f"{EXPORT_DIR}/{c.resource.file}", c.resource.kind) for c in collected]
    return Outcome(written, register_exports(school_file, entries))
