"""`cyberstd collect m365`: what to read from Microsoft Graph and how to write it.

Eight reads, each written to `exports/m365/` in Graph's own response shape (a collection as
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
    prepare,
    register_exports,
    stamp_meta,
    write_exports,
)
from cyberstd.collect.graph import GraphAccessError, GraphAnswerError, GraphClient, GraphError
from cyberstd.messages import Msg, msg

EXPORT_DIR = "exports/m365"

USER_FIELDS = "id,displayName,userPrincipalName,mail,accountEnabled,userType,createdDateTime"
# Graph expands at most 20 related objects; a role with that many is read again in full.
EXPAND_LIMIT = 20
# Graph's answer when signInActivity is asked of a tenant without Entra ID P1/P2.
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
# What Graph reads of each Intune device: the fields the device checks need, and what says
# which device it is.
DEVICE_FIELDS = ",".join(
    (
        "id",
        "deviceName",
        "operatingSystem",
        "osVersion",
        "complianceState",
        "isEncrypted",
        "lastSyncDateTime",
        "enrolledDateTime",
        "managementAgent",
        "managedDeviceOwnerType",
        "userPrincipalName",
        "model",
        "manufacturer",
        "serialNumber",
        "wiFiMacAddress",
        "ethernetMacAddress",
        "azureADDeviceId",
        "jailBroken",
    )
)
# Graph's answer to deviceManagement requests of a tenant without an Intune licence
# (HTTP 400, code BadRequest).
NO_INTUNE = "not applicable to target tenant"


@dataclass(frozen=True)
class Resource:
    """One read: the export kind it becomes, its file, its request and its permissions."""

    kind: str
    file: str
    path: str
    permissions: tuple[str, ...]
    collection: bool = True

    @property
    def name(self) -> str:
        """The file's stem, which names its progress messages (`m365.resource.<name>`)."""
        return self.file.removesuffix(".json")

    def title(self) -> Msg:
        return msg(f"m365.resource.{self.name}")

    def counted(self, n: int) -> Msg:
        return msg(f"m365.count.{self.name}", n=n)


SECURITY_DEFAULTS = Resource(
    "entra-security-defaults",
    "security-defaults.json",
    "/policies/identitySecurityDefaultsEnforcementPolicy",
    ("Policy.Read.All",),
    collection=False,
)
CONDITIONAL_ACCESS = Resource(
    "entra-conditional-access",
    "conditional-access.json",
    "/identity/conditionalAccess/policies",
    ("Policy.Read.All",),
)
DIRECTORY_ROLES = Resource(
    "entra-directory-roles",
    "directory-roles.json",
    "/directoryRoles?$expand=members",
    ("RoleManagement.Read.Directory",),
)
USERS = Resource(
    "entra-users",
    "users.json",
    f"/users?$select={USER_FIELDS},signInActivity",
    ("Directory.Read.All", "AuditLog.Read.All"),
)
# Domain.Read.All would do; Directory.Read.All, which the users need anyway, includes it.
DOMAINS = Resource(
    "entra-domains",
    "domains.json",
    "/domains",
    ("Directory.Read.All",),
)
REGISTRATION = Resource(
    "entra-registration-details",
    "registration-details.json",
    "/reports/authenticationMethods/userRegistrationDetails",
    ("AuditLog.Read.All",),
)
MANAGED_DEVICES = Resource(
    "intune-managed-devices",
    "managed-devices.json",
    f"/deviceManagement/managedDevices?$select={DEVICE_FIELDS}",
    ("DeviceManagementManagedDevices.Read.All",),
)
COMPLIANCE_POLICIES = Resource(
    "intune-compliance-policies",
    "compliance-policies.json",
    "/deviceManagement/deviceCompliancePolicies?$expand=assignments",
    ("DeviceManagementConfiguration.Read.All",),
)
RESOURCES = (
    SECURITY_DEFAULTS,
    CONDITIONAL_ACCESS,
    DIRECTORY_ROLES,
    USERS,
    DOMAINS,
    REGISTRATION,
    MANAGED_DEVICES,
    COMPLIANCE_POLICIES,
)
INTUNE = (MANAGED_DEVICES, COMPLIANCE_POLICIES)

Progress = Callable[[Msg], None]


def _quiet(message: Msg) -> None:
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
    what = f"GET {client.request_path(DIRECTORY_ROLES.path)}"
    for role in roles["value"]:
        if not isinstance(role, dict):
            raise GraphError(msg("m365.read.not_object", what=what))
        members = role.get("members")
        complete = isinstance(members, list) and len(members) < EXPAND_LIMIT
        if complete and "members@odata.nextLink" not in role:
            continue
        role_id = role.get("id")
        if not isinstance(role_id, str) or not role_id:
            raise GraphError(msg("m365.read.no_id", what=what))
        path = f"/directoryRoles/{quote(role_id, safe='')}/members"
        progress(
            msg(
                "m365.progress.members",
                role=role.get("displayName") or role_id,
                request=client.request_path(path),
            )
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
    progress(msg("m365.progress.no_sign_in_activity", request=client.request_path(path)))
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
    progress(msg("m365.progress.no_registration"))
    return {"value": []}, note


def _is_windows(device: dict[str, Any]) -> bool:
    system = device.get("operatingSystem")
    return isinstance(system, str) and system.strip().lower().startswith("windows")


def _protection_state(answer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The windowsProtectionState object; Graph's reference shows it wrapped in `value`."""
    if answer is None:
        return None
    inner = answer.get("value")
    state = inner if isinstance(inner, dict) else answer
    return {k: v for k, v in state.items() if k != "@odata.context"}


def _protection_states(client: GraphClient, devices: dict[str, Any], progress: Progress) -> None:
    """Embed each Windows device's Defender status (`windowsProtectionState`, null when Graph
    has none for it); other devices get none, as Graph keeps it for Windows only."""
    windows = [d for d in devices["value"] if isinstance(d, dict) and _is_windows(d)]
    if windows:
        progress(msg("m365.progress.protection", n=len(windows)))
    for device in devices["value"]:
        if not isinstance(device, dict):
            raise GraphError(
                msg("m365.read.not_object", what=client.request_path(MANAGED_DEVICES.path))
            )
        if not _is_windows(device):
            device["windowsProtectionState"] = None
            continue
        device_id = device.get("id")
        if not isinstance(device_id, str) or not device_id:
            raise GraphError(msg("m365.read.no_id", what=client.request_path(MANAGED_DEVICES.path)))
        path = (
            f"/deviceManagement/managedDevices/{quote(device_id, safe='')}/windowsProtectionState"
        )
        answer = client.get_optional(path, MANAGED_DEVICES.permissions)
        device["windowsProtectionState"] = _protection_state(answer)


def _intune(
    client: GraphClient, resource: Resource, progress: Progress
) -> tuple[dict[str, Any], str | None]:
    """An Intune collection; an empty list saying why when the tenant has no Intune licence
    (Graph answers 400 "Request not applicable to target tenant"), so that a check says it
    cannot judge. A refusal (401/403: a missing permission) still stops the run."""
    try:
        payload = client.get_all(resource.path, resource.permissions)
    except GraphAnswerError as exc:
        if exc.status != 400 or NO_INTUNE not in exc.detail.lower():
            raise
        note = "not available: the tenant has no Microsoft Intune licence (Graph: Request not "
        note += "applicable to target tenant)"
        progress(msg("m365.progress.no_intune"))
        return {"value": []}, note
    if resource is MANAGED_DEVICES:
        _protection_states(client, payload, progress)
    return payload, None


def fetch(
    client: GraphClient,
    resource: Resource,
    progress: Progress = _quiet,
    now: Callable[[], dt.datetime] = _utc_now,
) -> Collected:
    """Read one resource (every page of it) and stamp it with when and what was asked."""
    progress(
        msg(
            "m365.progress.reading",
            what=resource.title(),
            request=client.request_path(resource.path),
        )
    )
    path, note = resource.path, None
    if resource is USERS:
        payload, path, note = _users(client, progress)
    elif resource is REGISTRATION:
        payload, note = _registration(client, progress)
    elif resource in INTUNE:
        payload, note = _intune(client, resource, progress)
    elif resource.collection:
        payload = client.get_all(resource.path, resource.permissions)
    else:
        payload = client.get(resource.path, resource.permissions)
    if resource is DIRECTORY_ROLES:
        _role_members(client, payload, progress)
    count = len(payload["value"]) if resource.collection else None
    if count is not None:
        progress(resource.counted(count))
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
    school_file = prepare(folder, EXPORT_DIR)
    client.sign_in()
    collected = [fetch(client, r, progress, now) for r in RESOURCES]
    written = write_exports(folder, EXPORT_DIR, [(c.resource.file, c.payload) for c in collected])
    entries = [(f"{EXPORT_DIR}/{c.resource.file}", c.resource.kind) for c in collected]
    return Outcome(written, register_exports(school_file, entries))
