"""Evidence bundles: one deterministic zip of a scan's results, raw evidence and the files behind them.

Layout of a bundle (every path relative, '/'-separated, entries sorted):

    results.json                       the scan's results, as `scan` writes them
    evidence/<finding id>.json         the evidence dict of every finding, one file each
    attestations/<path>                the evidence files of the attestations (path as attested)
    exports/<path>.redacted.json       each configuration export as its rules read it: the
                                       parsed tree with every secret redacted, the line of every
                                       value, and the original file's sha256 (path as in
                                       school.yaml)
    exports/<path>                     the raw export itself, only with include_raw_exports
    inputs/<name>                      school.yaml, attestations.yaml, waivers.yaml, as scanned
    reports/<name>                     rendered reports, when given
    manifest.json                      every other entry with its sha256 and size

The same inputs give the same bytes: fixed timestamps and permissions, fixed compression,
sorted entries, and a manifest whose `created` is the scan's finish time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cyberstd import __version__
from cyberstd.errors import CyberstdError
from cyberstd.kinds import ExportKind, parse_export
from cyberstd.outputs import write_atomic
from cyberstd.parsers import parse_source
from cyberstd.parsers.base import REDACTED, Node, ParseError, Source, decode
from cyberstd.paths import input_paths, where
from cyberstd.report.json import render as render_json
from cyberstd.results import Results, Tool
from cyberstd.school import ATTESTATIONS_FILE, SCHOOL_FILE, WAIVERS_FILE, SchoolFolder

BUNDLE_FORMAT: Final = "cyberstd-evidence-bundle"
BUNDLE_VERSION: Final = 2
REDACTED_SUFFIX: Final = ".redacted.json"
MANIFEST = "manifest.json"
RESULTS = "results.json"
# The school's own input files, bundled under inputs/ when the scan read them.
SCHOOL_INPUTS = (SCHOOL_FILE, ATTESTATIONS_FILE, WAIVERS_FILE)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
# Everything zipfile and zlib raise on a damaged or hostile archive.
READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
_DRIVE = re.compile(r"^[A-Za-z]:")


class BundleError(CyberstdError):
    """A bundle that cannot be written (evidence changed, unsafe path) or read."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ManifestEntry(_Model):
    """One file of the bundle, as the manifest records it."""

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    finding: str | None = None
    # A redacted export: the sha256 and size of the file it was made from, as results.json
    # records it, so an auditor who holds the original can tell it is the same file.
    original_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    original_size: int | None = Field(default=None, ge=0)


class Manifest(_Model):
    """manifest.json: what the bundle holds, for which run and school, made by which tool."""

    format: Literal["cyberstd-evidence-bundle"] = BUNDLE_FORMAT
    # 1: exports always raw; 2: exports redacted unless `exports` says "raw"
    format_version: Literal[1, 2] = BUNDLE_VERSION
    tool: Tool
    run_id: str
    school_id: str
    created: dt.datetime
    exports: Literal["redacted", "raw"] = "raw"
    files: list[ManifestEntry]


# --- paths -----------------------------------------------------------------------------------


def archive_path(prefix: str, relative: str) -> str:
    """prefix + a path from a school file, refusing absolute paths and '..' (BundleError)."""
    text = relative.replace("\\", "/")
    if not text.strip() or "\x00" in text:
        raise BundleError(f"{relative!r} is not a usable path")
    if text.startswith("/") or _DRIVE.match(text):
        raise BundleError(
            f"{relative!r} is an absolute path; give it relative to the school folder"
        )
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise BundleError(f"{relative!r} leaves the school folder ('..')")
    return prefix + "/".join(parts)


def is_safe_member(name: str) -> bool:
    """A name that stays inside the folder an archive is unpacked into, on any system."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or _DRIVE.match(name):
        return False
    parts = name.split("/")
    return all(p not in ("", ".", "..") for p in parts)


def safe_name(text: str) -> str:
    """A finding id as a file name: unchanged when safe, else cleaned up plus a short hash of it."""
    cleaned = _UNSAFE.sub("_", text).strip(".")[:100]
    if cleaned == text and text:
        return text
    return f"{cleaned or '_'}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:10]}"


# --- writing ---------------------------------------------------------------------------------


def _dump(value: Any, *, sort_keys: bool = True) -> bytes:
    """JSON text as bytes, the same for the same value."""
    text = json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _evidence_members(results: Results) -> tuple[dict[str, bytes], dict[str, str]]:
    """evidence/<id>.json per finding, and which finding each one is."""
    members: dict[str, bytes] = {}
    findings: dict[str, str] = {}
    for finding in results.findings:
        stem = safe_name(finding.id)
        name, n = f"evidence/{stem}.json", 1
        while name in members:
            n += 1
            name = f"evidence/{stem}-{n}.json"
        members[name] = _dump(finding.model_dump(mode="json")["evidence"])
        findings[name] = finding.id
    return members, findings


def _inside(folder: SchoolFolder, relative: str) -> Path:
    """The file a school-folder path names, refusing one that resolves outside the folder."""
    root = folder.dir.resolve()
    path = (folder.dir / relative).resolve()
    if not path.is_relative_to(root):
        raise BundleError(f"{relative!r} lies outside the school folder {folder.dir}")
    return path


def _read_checked(folder: SchoolFolder, relative: str, expected: str) -> bytes:
    """Read a school file and check it still has the sha256 the scan recorded."""
    path = _inside(folder, relative)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{relative!r} cannot be read: {exc.strerror or exc}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BundleError(
            f"{relative!r} changed since the scan (sha256 {actual}, "
            f"results.json records {expected}); scan again to bundle the current file"
        )
    return data


def _recorded(inputs: dict[str, str], folder: SchoolFolder, path: Path) -> str | None:
    """The sha256 that results.json's run.inputs recorded for a file, if any."""
    target = path.resolve()
    for name, sha in inputs.items():
        found = where(name, folder.dir)
        if found is not None and found.resolve() == target:
            return sha
    return None


def _attestation_files(
    results: Results, folder: SchoolFolder, add: dict[str, bytes], problems: list[str]
) -> None:
    """The attestations' evidence files, checked against the sha256 in results.json, into `add`."""
    for control in results.controls:
        if control.attestation is None:
            continue
        for ev in control.attestation.evidence:
            relative = ev.get("path", "")
            try:
                name = archive_path("attestations/", relative)
                if name not in add:
                    add[name] = _read_checked(folder, relative, ev.get("sha256", ""))
            except BundleError as exc:
                problems.append(f"evidence file of the attestation for {control.id}: {exc}")


def _pointer(parts: list[str]) -> str:
    """A JSON Pointer (RFC 6901) of a path of keys and indexes."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _lines(node: Node, display: str, parts: list[str], out: dict[str, int | str]) -> None:
    """Where every value of a tree came from: its line, or file:line for an included file."""
    if node.line is not None:
        out[_pointer(parts)] = node.line if node.file == display else f"{node.file}:{node.line}"
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            _lines(child, display, [*parts, key], out)
    elif isinstance(node.value, list):
        for index, child in enumerate(node.value):
            _lines(child, display, [*parts, str(index)], out)


def redacted_export(
    data: bytes,
    path: Path,
    display: str,
    kind_id: str,
    fmt: str | None,
    kind: ExportKind | None = None,
) -> bytes:
    """An export as its rules read it, for a bundle: the parsed tree with every secret
    replaced by REDACTED (the parsers' own redaction), in its kind's shape (a CSV's columns
    also under the names the rules use, with `fields` saying which header gave each), the line
    of every value, and the sha256 of the original. An export that cannot be parsed gives its
    error, not its text."""
    body: dict[str, Any] = {
        "export": display,
        "kind": kind_id,
        "original_sha256": hashlib.sha256(data).hexdigest(),
        "original_size": len(data),
        "redacted": REDACTED,
    }
    if fmt is None:
        body["error"] = f"unknown kind {kind_id!r}"
        return _dump(body, sort_keys=False)
    body["format"] = fmt
    try:
        source = Source(path=path, display=display, text=decode(data, display), data=data)
        tree = parse_source(source, fmt) if kind is None else parse_export(kind, source)
    except ParseError as exc:
        body["error"] = str(exc)
        return _dump(body, sort_keys=False)
    lines: dict[str, int | str] = {}
    _lines(tree, display, [], lines)
    body["tree"] = tree.plain()
    body["lines"] = lines
    return _dump(body, sort_keys=False)


@dataclass(frozen=True)
class ExportPolicy:
    """How exports enter a bundle: redacted (the default, with the kinds to parse them by),
    or raw, secrets and all, when the school chooses to hand those over."""

    kinds: dict[str, ExportKind]
    raw: bool = False


def _export_files(
    results: Results,
    folder: SchoolFolder,
    policy: ExportPolicy,
    add: dict[str, bytes],
    originals: dict[str, tuple[str, int]],
    problems: list[str],
) -> None:
    """The configuration exports, checked against results.json's run.inputs, into `add`:
    redacted (and the original's sha256 and size into `originals`), or raw."""
    for export in folder.school.exports:
        try:
            name = archive_path("exports/", export.path)
            path = _inside(folder, export.path)
            recorded = _recorded(results.run.inputs, folder, path)
            if recorded is None:
                raise BundleError(
                    f"{export.path!r} is not among the inputs of results.json; "
                    "was this scan made with this school.yaml?"
                )
            data = _read_checked(folder, export.path, recorded)
        except BundleError as exc:
            problems.append(f"export of kind {export.kind}: {exc}")
            continue
        if policy.raw:
            add[name] = data
            continue
        display = Path(export.path).as_posix()
        name += REDACTED_SUFFIX
        kind = policy.kinds.get(export.kind)
        fmt = kind.format if kind is not None else None
        add[name] = redacted_export(data, path, display, export.kind, fmt, kind)
        originals[name] = (recorded, len(data))


def _input_files(
    results: Results, folder: SchoolFolder, add: dict[str, bytes], problems: list[str]
) -> None:
    """school.yaml, attestations.yaml and waivers.yaml as the scan read them (those among
    results.json's run.inputs), checked against their recorded sha256, into `add`."""
    for name in SCHOOL_INPUTS:
        recorded = _recorded(results.run.inputs, folder, folder.dir / name)
        if recorded is None:
            continue
        try:
            add["inputs/" + name] = _read_checked(folder, name, recorded)
        except BundleError as exc:
            problems.append(f"input file {name}: {exc}")


def build_bundle(
    results: Results,
    folder: SchoolFolder,
    reports: dict[str, str | bytes] | None = None,
    *,
    exports: ExportPolicy,
    created: dt.datetime | None = None,
) -> bytes:
    """The bytes of a bundle; BundleError listing every file that changed or cannot be bundled."""
    if results.school.id != folder.school.school.id:
        raise BundleError(
            f"results.json is of school {results.school.id!r}, the folder {folder.dir} of "
            f"{folder.school.school.id!r}"
        )
    members, findings = _evidence_members(results)
    members[RESULTS] = render_json(results).encode("utf-8")
    problems: list[str] = []
    originals: dict[str, tuple[str, int]] = {}
    _attestation_files(results, folder, members, problems)
    _export_files(results, folder, exports, members, originals, problems)
    _input_files(results, folder, members, problems)
    for name, content in sorted((reports or {}).items()):
        try:
            members[archive_path("reports/", name)] = (
                content.encode("utf-8") if isinstance(content, str) else content
            )
        except BundleError as exc:
            problems.append(f"report {name!r}: {exc}")
    if problems:
        raise BundleError(
            f"cannot write the bundle, {len(problems)} problem(s):\n  " + "\n  ".join(problems)
        )
    manifest = Manifest(
        tool=Tool(version=__version__),
        run_id=results.run.id,
        school_id=results.school.id,
        created=created or results.run.finished,
        exports="raw" if exports.raw else "redacted",
        files=[
            ManifestEntry(
                path=name,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                finding=findings.get(name),
                original_sha256=originals[name][0] if name in originals else None,
                original_size=originals[name][1] if name in originals else None,
            )
            for name, data in sorted(members.items())
        ],
    )
    # The model's field order: fixed by the code, so the bytes stay the same.
    members[MANIFEST] = _dump(manifest.model_dump(mode="json", exclude_none=True), sort_keys=False)
    return _zip(members)


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip of members, the same bytes for the same members on every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


def write_bundle(
    results: Results,
    folder: SchoolFolder,
    path: Path,
    reports: dict[str, str | bytes] | None = None,
    *,
    exports: ExportPolicy,
    created: dt.datetime | None = None,
) -> Path:
    """Write a bundle of a scan of `folder` to `path` (all at once, never half); return path.

    `reports` maps a file name (kept under reports/) to a rendered report. Refuses, listing
    them all, attestation evidence or exports whose sha256 differs from what results.json says,
    and a path that is one of the scan's inputs.
    """
    data = build_bundle(results, folder, reports, exports=exports, created=created)
    inputs = input_paths(results.run.inputs, folder.dir)
    return write_atomic(path, data, inputs=inputs, option="the bundle")


# --- reading ---------------------------------------------------------------------------------


@dataclass
class BundleCheck:
    """What checking a bundle against its manifest found."""

    manifest: Manifest | None = None
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not (
            self.changed or self.added or self.removed or self.problems
        )

    def failures(self) -> list[str]:
        """One line per failure: 'changed: PATH (...)', 'added: PATH', 'removed: PATH', ..."""
        lines = [f"bundle: {p}" for p in self.problems]
        for label, names in (
            ("changed", self.changed),
            ("added", self.added),
            ("removed", self.removed),
        ):
            for name in names:
                detail = self.details.get(name)
                lines.append(f"{label}: {name}" + (f" ({detail})" if detail else ""))
        return lines


def is_bundle(path: Path) -> bool:
    """Whether a file is a zip archive (and so should be read as a bundle)."""
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _member_digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[str, int]:
    """sha256 and size of a member, reading at most limit + 1 bytes of it."""
    h = hashlib.sha256()
    size = 0
    with zf.open(info) as fh:
        while size <= limit:
            block = fh.read(min(1 << 16, limit + 1 - size))
            if not block:
                break
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _load_manifest(zf: zipfile.ZipFile, info: zipfile.ZipInfo, check: BundleCheck) -> None:
    if info.file_size > MAX_MANIFEST_BYTES:
        check.problems.append(f"{MANIFEST} is too large ({info.file_size} bytes)")
        return
    try:
        with zf.open(info) as fh:
            text = fh.read(MAX_MANIFEST_BYTES + 1)
        check.manifest = Manifest.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        check.problems.append(f"{MANIFEST} is not a bundle manifest: {where}: {first['msg']}")
    except READ_ERRORS as exc:
        check.problems.append(f"{MANIFEST} cannot be read: {exc}")


def _compare(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], check: BundleCheck) -> None:
    """Every manifest entry against the archive: changed, removed; then what was added."""
    assert check.manifest is not None
    listed: set[str] = set()
    for entry in check.manifest.files:
        if entry.path in listed or entry.path == MANIFEST or not is_safe_member(entry.path):
            check.problems.append(f"{MANIFEST} lists {entry.path!r} more than once or unsafely")
            continue
        listed.add(entry.path)
        info = infos.get(entry.path)
        if info is None:
            check.removed.append(entry.path)
            continue
        try:
            sha, size = _member_digest(zf, info, entry.size)
        except READ_ERRORS as exc:
            check.changed.append(entry.path)
            check.details[entry.path] = f"unreadable: {exc}"
            continue
        if sha != entry.sha256 or size != entry.size:
            check.changed.append(entry.path)
            check.details[entry.path] = f"sha256 {sha}, manifest {entry.sha256}"
    for name in infos:
        if name != MANIFEST and name not in listed:
            check.added.append(name)
    if RESULTS not in listed:
        check.problems.append(f"{MANIFEST} does not list {RESULTS}")


def _cross_check(zf: zipfile.ZipFile, check: BundleCheck) -> None:
    """The manifest's run and school must be those of the results.json beside it."""
    assert check.manifest is not None
    try:
        with zf.open(RESULTS) as fh:
            body = json.loads(fh.read(MAX_MANIFEST_BYTES * 8))
        run_id, school_id = body["run"]["id"], body["school"]["id"]
    except (*READ_ERRORS, KeyError, TypeError):
        check.problems.append(f"{RESULTS} cannot be read as cyberstd results")
        return
    if run_id != check.manifest.run_id or school_id != check.manifest.school_id:
        check.problems.append(
            f"{MANIFEST} is of run {check.manifest.run_id} ({check.manifest.school_id}), "
            f"{RESULTS} of run {run_id} ({school_id})"
        )


def check_bundle(path: Path) -> BundleCheck:
    """Check every file of a bundle against its manifest; never raises for a damaged archive."""
    check = BundleCheck()
    try:
        with zipfile.ZipFile(path) as zf:
            infos: dict[str, zipfile.ZipInfo] = {}
            for info in zf.infolist():
                if info.filename in infos:
                    check.problems.append(f"the archive holds {info.filename!r} twice")
                if not is_safe_member(info.filename):
                    check.problems.append(f"unsafe path in the archive: {info.filename!r}")
                infos.setdefault(info.filename, info)
            if MANIFEST not in infos:
                check.problems.append(f"no {MANIFEST} in the archive")
                return check
            _load_manifest(zf, infos[MANIFEST], check)
            if check.manifest is None:
                return check
            _compare(zf, infos, check)
            if RESULTS in infos and RESULTS not in check.changed:
                _cross_check(zf, check)
    except READ_ERRORS as exc:
        check.problems.append(f"the archive cannot be read: {exc}")
    return check


# --- against a signed list -------------------------------------------------------------------


def signed_contents(path: Path) -> tuple[str, list[ManifestEntry]]:
    """What a signature over a bundle records besides its bytes: the sha256 of manifest.json
    and the manifest's entries. BundleError when the bundle does not match its manifest."""
    check = check_bundle(path)
    if not check.ok or check.manifest is None:
        raise BundleError(
            f"{path} is not a consistent evidence bundle:\n  " + "\n  ".join(check.failures())
        )
    try:
        with zipfile.ZipFile(path) as zf:
            manifest_sha, _ = _member_digest(zf, zf.getinfo(MANIFEST), MAX_MANIFEST_BYTES)
    except READ_ERRORS as exc:
        raise BundleError(f"{path}: {MANIFEST} cannot be read: {exc}") from None
    return manifest_sha, list(check.manifest.files)


def compare_signed(
    path: Path, manifest_sha256: str | None, files: list[tuple[str, str, int]]
) -> list[str]:
    """The archive's members against the list a signature recorded: one line per member that
    changed, was added or was removed since signing (manifest.json included), so that a file
    is named even when its manifest entry was recomputed to match it."""
    signed = {name: (sha, size) for name, sha, size in files}
    if manifest_sha256 is not None:
        signed[MANIFEST] = (manifest_sha256, -1)  # its size is not recorded: compare the hash
    try:
        with zipfile.ZipFile(path) as zf:
            infos: dict[str, zipfile.ZipInfo] = {}
            for member in zf.infolist():
                infos.setdefault(member.filename, member)
            lines = [_against_signed(zf, infos.get(name), name, *signed[name]) for name in signed]
            lines += [f"added since signing: {name}" for name in infos if name not in signed]
    except READ_ERRORS as exc:
        return [f"bundle: the archive cannot be read to compare it with the signed list: {exc}"]
    return sorted(line for line in lines if line)


def _against_signed(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo | None, name: str, sha: str, size: int
) -> str:
    """'' when a member is as signed, else the line that says how it is not (size -1: any)."""
    if info is None:
        return f"removed since signing: {name}"
    limit = size if size >= 0 else MAX_MANIFEST_BYTES
    actual, actual_size = _safe_digest(zf, info, limit)
    if size >= 0 and actual_size != size:
        return f"changed since signing: {name} (not the {size} bytes signed)"
    if actual != sha:
        return f"changed since signing: {name} (sha256 {actual}, signed {sha})"
    return ""


def _safe_digest(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> tuple[str, int]:
    """sha256 and size of a member (at most limit + 1 bytes read); 'unreadable' when damaged."""
    try:
        return _member_digest(zf, info, limit)
    except READ_ERRORS:
        return "unreadable", -1
