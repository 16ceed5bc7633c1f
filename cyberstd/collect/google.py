"""`cyberstd collect google`: read a Google Workspace for Education domain's users and write them
as one `google-users` export.

One read: users.list with every page joined, written to `exports/google/google-users.json` in
the shape the Directory API returns it (`{"kind": "admin#directory#users", "users": [...]}`,
no `nextPageToken`) plus `"cyberstdCollected": {"at": ..., "source": ...}`. Only the fields the
google.* checks judge are asked (a partial response), so no more personal data than needed
lands in the school folder. Nothing is written unless the read succeeded; the file is replaced
atomically, and school.yaml lists it under `exports:` (comments and order kept).

Admin role assignments (roleAssignments.list, roles.list) are not read: they name users by id,
which the rules cannot join to the users list, and the users list already says who is a super
administrator (`isAdmin`) and who holds another admin role (`isDelegatedAdmin`). Not asking for
them keeps the delegation to one read-only scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cyberstd.collect.files import (
    STAMP,
    Outcome,
    prepare,
    register_exports,
    stamp_meta,
    write_exports,
)
from cyberstd.collect.google_api import DirectoryClient, Progress
from cyberstd.messages import Msg, msg

EXPORT_DIR = "exports/google"
USERS_FILE = "google-users.json"
USERS_KIND = "google-users"
# What the google.* checks read of each user, and what names the user in their findings.
USER_FIELDS = (
    "kind,id,primaryEmail,name/fullName,isAdmin,isDelegatedAdmin,isEnrolledIn2Sv,"
    "isEnforcedIn2Sv,lastLoginTime,creationTime,suspended,archived,orgUnitPath"
)
PAGE_FIELDS = f"kind,nextPageToken,users({USER_FIELDS})"


def _quiet(message: Msg) -> None:
    """Progress that goes nowhere."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(payload: dict[str, Any], at: dt.datetime, source: str) -> dict[str, Any]:
    """The answer with `cyberstdCollected` after its `kind`, the users last."""
    out: dict[str, Any] = {"kind": payload.get("kind")}
    out[STAMP] = stamp_meta(at, source)
    out.update((k, v) for k, v in payload.items() if k not in ("kind", "users", STAMP))
    out["users"] = payload.get("users", [])
    return out


def collect(
    folder: Path,
    client: DirectoryClient,
    progress: Progress = _quiet,
    now: Callable[[], dt.datetime] = _utc_now,
) -> Outcome:
    """Read every user into `folder/exports/google/` and list the file in school.yaml.

    school.yaml is checked before anything is sent; nothing is written unless the read
    succeeded."""
    school_file = prepare(folder, EXPORT_DIR)
    users, asked = client.all_users(PAGE_FIELDS)
    progress(msg("collect.google.users_read", n=len(users["users"])))
    written = write_exports(folder, EXPORT_DIR, [(USERS_FILE, stamp(users, now(), asked))])
    entries = [(f"{EXPORT_DIR}/{USERS_FILE}", USERS_KIND)]
    return Outcome(written, register_exports(school_file, entries))
