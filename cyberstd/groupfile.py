"""A group of schools: group.yaml, its school folders or its list of schools (perimeter mode).

The format is in docs/groups.md. Loading a group checks group.yaml and the list of schools
(every problem with file:line, like a school folder's), not the school folders themselves: each
school folder is loaded, and its problems reported, when its own scan starts, so that one
broken school never stops the rest.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from pydantic import Field, ValidationError, model_validator

from cyberstd.errors import InputError, InvalidValue, Problem
from cyberstd.groupresults import BatchAuthorization, GroupMode
from cyberstd.messages import Msg, msg
from cyberstd.paths import GROUP_PREFIX, display_path
from cyberstd.schema import (
    Authorization,
    Day,
    ExportDef,
    Id,
    NonEmpty,
    ResolverSettings,
    SchoolFile,
    Strict,
    expires_after,
)
from cyberstd.school import domain_problem
from cyberstd.validation import parse
from cyberstd.yamlsrc import Document, load, sha256_file

GROUP_FILE = "group.yaml"
SCHOOL_FILE = "school.yaml"
PERIMETER_PROFILE = "perimeter"
# The largest list of schools read: every Flemish school several times over.
MAX_SCHOOLS = 20_000

# Column names of the list of schools, Dutch and English, by what they hold.
COLUMNS = {
    "institution_number": ("instellingsnummer", "institution_number", "institution number"),
    "name": ("naam", "name", "schoolnaam"),
    "domains": ("domeinen", "domains", "domein", "domain"),
    "id": ("id",),
}
_DOMAIN_SPLIT = re.compile(r"[\s,|]+")


class GroupInfo(Strict):
    id: Id
    name: NonEmpty


class GroupDefaults(Strict):
    """What every school of the group gets unless its school.yaml says otherwise."""

    profile: Id | None = None
    resolver: ResolverSettings | None = None
    # relative to the group folder: the CA of an internal or lab certificate authority
    ca_bundle: NonEmpty | None = None
    timeout: float | None = Field(default=None, ge=0.1, le=300, allow_inf_nan=False)


class BatchAuthorizationDef(Strict):
    authorized_by: NonEmpty
    date: Day
    expires: Day | None = None
    reference: NonEmpty | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        expires_after(self.date, self.expires)
        return self


class PerimeterDef(Strict):
    schools: NonEmpty
    authorization: BatchAuthorizationDef
    # non-public ranges that may be scanned too (a lab on loopback)
    scope: list[Authorization] = Field(default_factory=list)


class GroupFile(Strict):
    group: GroupInfo
    defaults: GroupDefaults = Field(default_factory=GroupDefaults)
    schools: list[NonEmpty] | None = None
    scope: list[Authorization] = Field(default_factory=list)
    # exports the group shares (one Microsoft 365 tenant), relative to the group folder: every
    # school gets those of a kind its own school.yaml does not list
    exports: list[ExportDef] = Field(default_factory=list)
    perimeter: PerimeterDef | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        if self.perimeter is not None and self.schools is not None:
            raise InvalidValue(msg("group.both-modes"))
        return self


@dataclass(frozen=True)
class Member:
    """One school of the group: its key (unique in the group, the name of its folder in the
    output), and either its folder or, in perimeter mode, its domains."""

    key: str
    name: str
    folder: Path | None = None
    institution_number: str | None = None
    domains: tuple[str, ...] = ()
    line: int = 0  # its row in the list of schools (perimeter mode)


@dataclass
class Group:
    dir: Path
    file: GroupFile
    members: list[Member]
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def mode(self) -> GroupMode:
        return GroupMode.PERIMETER if self.file.perimeter is not None else GroupMode.FOLDERS

    @property
    def authorization(self) -> BatchAuthorization | None:
        perimeter = self.file.perimeter
        if perimeter is None:
            return None
        given = perimeter.authorization
        return BatchAuthorization(
            authorized_by=given.authorized_by,
            date=given.date,
            expires=given.expires,
            reference=given.reference,
        )

    def ca_bundle(self) -> Path | None:
        given = self.file.defaults.ca_bundle
        return (self.dir / given).resolve() if given else None


def load_group(path: Path) -> Group:
    """Load a group folder (or its group.yaml); raise InputError with every problem found."""
    folder = path.parent if path.is_file() else path
    group_path = folder / GROUP_FILE
    if not group_path.is_file():
        said = msg("group.no-file", folder=display_path(folder))
        raise InputError([Problem.of(display_path(group_path), 1, 1, "missing-file", said)])
    doc = load(group_path, display_path(group_path))
    model, problems = parse(doc, GroupFile)
    if model is None:
        raise InputError(problems)
    inputs = {GROUP_FILE: doc.sha256}
    if model.perimeter is not None:
        members, problems = _perimeter_members(folder, doc, model.perimeter, inputs)
    else:
        members, problems = _folder_members(folder, doc, model)
    problems += _shared_exports(folder, doc, model, inputs)
    if model.defaults.ca_bundle and not (folder / model.defaults.ca_bundle).is_file():
        said = msg("group.no-ca-bundle", path=repr(model.defaults.ca_bundle))
        problems.append(doc.problem(["defaults", "ca_bundle"], "missing-file", said))
    if problems:
        raise InputError(problems)
    return Group(folder, model, members, inputs)


def _shared_exports(
    folder: Path, doc: Document, model: GroupFile, inputs: dict[str, str]
) -> list[Problem]:
    """The group's shared exports: inside the group folder, there, in folders mode only."""
    problems: list[Problem] = []
    for i, export in enumerate(model.exports):
        where: list[int | str] = ["exports", i, "path"]
        relative = Path(export.path)
        path = folder / relative
        if model.perimeter is not None:
            problems.append(
                doc.problem(["exports"], "invalid-value", msg("group.exports-perimeter"))
            )
            break
        if relative.is_absolute() or ".." in relative.parts:
            said = msg("input.export.not_relative", path=repr(export.path))
            problems.append(doc.problem(where, "outside-folder", said))
        elif not path.is_file():
            said = msg("group.export-missing", path=repr(export.path))
            problems.append(doc.problem(where, "missing-file", said))
        else:
            inputs[GROUP_PREFIX + relative.as_posix()] = sha256_file(path)
    return problems


def _folder_members(
    folder: Path, doc: Document, model: GroupFile
) -> tuple[list[Member], list[Problem]]:
    problems: list[Problem] = []
    if model.schools is None:
        found = sorted(p for p in folder.iterdir() if (p / SCHOOL_FILE).is_file())
        if not found:
            said = msg("group.no-schools", folder=display_path(folder))
            problems.append(Problem.of(doc.display, 1, 1, "no-schools", said))
        return [Member(p.name, p.name, p) for p in found], problems
    members: list[Member] = []
    seen: set[str] = set()
    for i, name in enumerate(model.schools):
        where: list[int | str] = ["schools", i]
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or len(relative.parts) != 1:
            said = msg("group.school-not-a-folder-name", name=repr(name))
            problems.append(doc.problem(where, "outside-folder", said))
        elif not (folder / name / SCHOOL_FILE).is_file():
            said = msg("group.school-missing", name=repr(name))
            problems.append(doc.problem(where, "missing-file", said))
        elif name in seen:
            problems.append(
                doc.problem(where, "duplicate-id", msg("group.school-twice", name=repr(name)))
            )
        else:
            seen.add(name)
            members.append(Member(name, name, folder / name))
    return members, problems


def _perimeter_members(
    folder: Path, doc: Document, perimeter: PerimeterDef, inputs: dict[str, str]
) -> tuple[list[Member], list[Problem]]:
    relative = Path(perimeter.schools)
    listing = folder / relative
    if relative.is_absolute() or ".." in relative.parts or not listing.is_file():
        said = msg("group.no-list", path=repr(perimeter.schools))
        return [], [doc.problem(["perimeter", "schools"], "missing-file", said)]
    inputs[relative.as_posix()] = sha256_file(listing)
    return read_school_list(listing.read_bytes(), display_path(listing))


def _problem(shown: str, line: int, code: str, said: Msg) -> Problem:
    return Problem.of(shown, line, 1, code, said)


def _columns(header: list[str]) -> dict[str, int] | Msg:
    """The index of each known column, or why the header will not do."""
    names = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                found[key] = i
                break
    lacking = [COLUMNS[k][0] for k in ("institution_number", "name", "domains") if k not in found]
    if lacking:
        return msg("group.csv-columns", missing=", ".join(lacking), found=", ".join(header))
    return found


def read_school_list(data: bytes, shown: str) -> tuple[list[Member], list[Problem]]:
    """The schools of a perimeter list (CSV: `;` or `,`, UTF-8 with or without BOM)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # the line and column of the first byte that is not UTF-8 (Latin-1 from Excel: é, ë)
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        said = msg("group.csv-encoding")
        return [], [Problem.of(shown, line, column, "encoding", said)]
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return [], [_problem(shown, 1, "no-schools", msg("group.csv-empty"))]
    columns = _columns(header)
    if isinstance(columns, Msg):
        return [], [_problem(shown, 1, "missing-field", columns)]
    members: list[Member] = []
    problems: list[Problem] = []
    keys: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            member = _member(row, columns, line, shown, problems)
            if member is None:
                continue
            if member.key in keys:
                said = msg("group.csv-duplicate", key=member.key, line=keys[member.key])
                problems.append(_problem(shown, line, "duplicate-id", said))
                continue
            keys[member.key] = line
            members.append(member)
            if len(members) > MAX_SCHOOLS:
                said = msg("group.csv-too-many", n=MAX_SCHOOLS)
                return [], [_problem(shown, line, "too-many", said)]
    except csv.Error as exc:
        problems.append(
            _problem(shown, reader.line_num, "csv", msg("group.csv-broken", why=str(exc)))
        )
    if not members and not problems:
        problems.append(_problem(shown, 1, "no-schools", msg("group.csv-empty")))
    return members, problems


def _cell(row: list[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return row[index].strip() if index is not None and index < len(row) else ""


def _member(
    row: list[str], columns: dict[str, int], line: int, shown: str, problems: list[Problem]
) -> Member | None:
    number = _cell(row, columns, "institution_number")
    name = _cell(row, columns, "name")
    domains = tuple(
        d.lower().rstrip(".") for d in _DOMAIN_SPLIT.split(_cell(row, columns, "domains")) if d
    )
    given_id = _cell(row, columns, "id")
    key = given_id or (f"school-{number}" if number else "")
    said: Msg | None = None
    if not re.fullmatch(r"[0-9]{3,10}", number):
        said = msg("group.csv-number", value=repr(number))
    elif not name:
        said = msg("group.csv-no-name")
    elif not domains:
        said = msg("group.csv-no-domain")
    elif not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key.lower()):
        said = msg("group.csv-id", value=repr(key))
    if said is None:
        try:
            perimeter_school(Member(key, name, None, number, domains, line), None, [], None)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            error = (first.get("ctx") or {}).get("error")
            why = error.said if isinstance(error, InvalidValue) else str(first.get("msg", ""))
            said = msg("group.csv-domain", why=why, domains=" ".join(domains))
        else:
            said = _domains_problem(domains)
    if said is not None:
        problems.append(_problem(shown, line, "invalid-value", said))
        return None
    return Member(key, name, None, number, domains, line)


def _domains_problem(domains: tuple[str, ...]) -> Msg | None:
    """Why a row's domains are not a school's own (an address, a single label, a public suffix
    such as be): the same rule as the domains of school.yaml."""
    for domain in domains:
        said = domain_problem(domain)
        if said is not None:
            return said
    return None


def perimeter_school(
    member: Member,
    resolver: ResolverSettings | None,
    scope: list[Authorization],
    timeout: float | None,
) -> SchoolFile:
    """The school.yaml a row of the list of schools stands for: its domains, the website at
    `www.` of the first, the perimeter profile, and the batch's scope."""
    network: dict[str, Any] = {}
    if resolver is not None:
        network["resolver"] = resolver.model_dump()
    if timeout is not None:
        network["timeout"] = timeout
    data: dict[str, Any] = {
        "school": {
            "id": member.key,
            "name": member.name,
            "institution_number": member.institution_number,
        },
        "profile": PERIMETER_PROFILE,
        "domains": list(member.domains),
        "hosts": [{"name": f"www.{member.domains[0]}", "roles": ["website"]}],
        "scope": [a.model_dump() for a in scope],
        "network": network,
    }
    return SchoolFile.model_validate(data)
