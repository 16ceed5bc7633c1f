"""`cyberstd collect m365`: what to read from Microsoft Graph and how to write it.

Six reads, each written to `exports/m365/` in Graph's own response shape (a collection as
`{"@odata.context": ..., "value": [every page]}`, the security defaults policy as the object
Graph returns) plus `"cyberstdCollected": {"at": ..., "source": ...}`. Nothing is written
until every read succeeded; each file is replaced atomically. Then school.yaml lists each file
under `exports:` (missing entries are added, comments and order kept, existing ones untouched).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from cyberstd.collect.graph import GraphAccessError, GraphClient, GraphError
from cyberstd.errors import InputError, Problem, UsageError
from cyberstd.school import SCHOOL_FILE
from cyberstd.yamlsrc import load, writer_yaml

EXPORT_DIR = "exports/m365"
STAMP = "cyberstdCollected"
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


@dataclass(frozen=True)
class Outcome:
    """What a collection wrote: the files, and the export paths newly listed in school.yaml."""

    written: list[Path]
    added: list[str]


# --- reading ----------------------------------------------------------------------------------


def stamp(
    payload: dict[str, Any], at: dt.datetime, source: str, note: str | None = None
) -> dict[str, Any]:
    """Graph's answer with `cyberstdCollected` after its `@odata.*` keys."""
    meta: dict[str, Any] = {
        "at": at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "source": source,
    }
    if note:
        meta["note"] = note
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


# --- writing ----------------------------------------------------------------------------------


def _school_yaml(folder: Path) -> Path:
    """school.yaml of a school folder, checked to be safe YAML with a usable `exports` list."""
    target = folder / SCHOOL_FILE
    if not target.is_file():
        raise UsageError(
            f"{folder} is not a school folder (no {SCHOOL_FILE}); create one with `cyberstd init`"
        )
    doc = load(target)
    if not isinstance(doc.data, CommentedMap):
        raise InputError([Problem(doc.display, 1, 1, "type", "expected a mapping")])
    exports = doc.data.get("exports")
    if exports is not None and not isinstance(exports, CommentedSeq):
        raise InputError([doc.problem(["exports"], "type", "'exports' must be a list")])
    return target


def _atomic_text(target: Path, text: str) -> Path:
    """Write text to a temporary file next to `target` (flushed to disk); returns its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_exports(folder: Path, collected: list[Collected]) -> list[Path]:
    """Write every answer: all temporary files first, then each renamed over its file."""
    target_dir = folder / EXPORT_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    if not target_dir.resolve().is_relative_to(folder.resolve()):
        raise UsageError(f"{target_dir} lies outside the school folder {folder}; not writing there")
    staged: list[tuple[Path, Path]] = []
    try:
        for item in collected:
            text = json.dumps(item.payload, indent=2, ensure_ascii=False) + "\n"
            final = target_dir / item.resource.file
            staged.append((_atomic_text(final, text), final))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [final for _, final in staged]


def _normal(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def _trailing_comment(seq: CommentedSeq) -> CommentToken | None:
    """The comment token after a list's last item (where blank lines and comments after it live)."""
    node: Any = seq
    found: CommentToken | None = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key: Any = len(node) - 1 if isinstance(node, CommentedSeq) else list(node)[-1]
        slot = 0 if isinstance(node, CommentedSeq) else 2
        entry = node.ca.items.get(key)
        if entry and len(entry) > slot and isinstance(entry[slot], CommentToken):
            found = entry[slot]
        node = node[key]
    return found


def _append_entries(exports: CommentedSeq, entries: list[tuple[str, str]]) -> None:
    """Append `{path, kind}` items, moving what followed the old last item after the new ones."""
    token = _trailing_comment(exports)
    after = ""
    if token is not None:
        head, _, after = str(token.value).partition("\n")
        token.value = head + "\n"
    for path, kind in entries:
        item = CommentedMap()
        item["path"] = path
        item["kind"] = kind
        exports.append(item)
    if after:
        exports[-1].ca.items["kind"] = [
            None,
            None,
            CommentToken("\n" + after, CommentMark(0)),
            None,
        ]
    exports.fa.set_block_style()


def register_exports(school_file: Path, entries: list[tuple[str, str]]) -> list[str]:
    """List each (path, kind) under `exports:` unless its path is listed; returns those added.

    school.yaml is rewritten round-trip (comments and order kept) through a temporary file,
    and only when something is added.
    """
    load(school_file)  # refuses what is unsafe or broken before it is touched
    yaml = writer_yaml()
    data = yaml.load(school_file.read_text(encoding="utf-8"))
    if not isinstance(data, CommentedMap):
        raise InputError([Problem(str(school_file), 1, 1, "type", "expected a mapping")])
    exports = data.get("exports")
    if exports is None:
        exports = data["exports"] = CommentedSeq()
    if not isinstance(exports, CommentedSeq):
        raise InputError([Problem(str(school_file), 1, 1, "type", "'exports' must be a list")])
    listed = {
        _normal(e["path"])
        for e in exports
        if isinstance(e, CommentedMap) and isinstance(e.get("path"), str)
    }
    missing = [(p, k) for p, k in entries if _normal(p) not in listed]
    if not missing:
        return []
    _append_entries(exports, missing)
    fd, tmp = tempfile.mkstemp(prefix=".school-", suffix=".yaml", dir=school_file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.dump(data, fh)
        os.replace(tmp, school_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return [p for p, _ in missing]


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
    school_file = _school_yaml(folder)
    client.sign_in()
    collected = [fetch(client, r, progress, now) for r in RESOURCES]
    written = write_exports(folder, collected)
    entries = [(f"{EXPORT_DIR}/{c.resource.file}", c.resource.kind) for c in collected]
    return Outcome(written, register_exports(school_file, entries))
