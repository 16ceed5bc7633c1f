"""The scan of one school of a group as a pure function of (the school, the options, the clock),
with group.yaml's defaults and scope applied (or a perimeter school built from its row).

`scan_school` runs wherever an executor puts it: a thread of this process, or a Dask worker on
another machine. Everything it needs travels in its arguments (a school folder travels as its
files), and it returns plain data: the results.json text, the reports, or why there are none.
The same job with the same clock gives the same verdicts on every executor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import CyberstdError, InputError, Problem, Said
from cyberstd.exports import ExportFile
from cyberstd.groupresults import LocalText
from cyberstd.messages import msg
from cyberstd.paths import GROUP_PREFIX
from cyberstd.results import Results
from cyberstd.schema import Authorization, SchoolFile
from cyberstd.school import SchoolFolder, load_school

# A school folder sent to another machine: its files, at most this many bytes in all.
MAX_FOLDER_BYTES = 64 * 1024 * 1024
LANGS = ("nl", "en")


@dataclass(frozen=True)
class GroupOptions:
    """What the command line sets for every school of a run."""

    profile: str | None = None
    workers: int = 8  # checks at once within one school
    timeout: float | None = None
    max_rate: float | None = None
    lang: str = "nl"
    formats: tuple[str, ...] = ("html",)  # reports per school besides results.json
    catalog_root: str | None = None  # None: the worker's own catalog
    # the run's id: its schools share DNS answers and connection limits in each process
    run_scope: str | None = None
    # new connections per second to one target address, from all schools of the run
    per_target_rate: float | None = 20.0
    # new connections per second across all schools of the run (per process), None: no limit
    across_rate: float | None = None


@dataclass(frozen=True)
class SchoolJob:
    """One school to scan. Exactly one of `folder` (a path this machine can read), `files` (a
    school folder's files by relative path, for another machine) or `school` (a perimeter
    school's school.yaml as data) is set. `defaults` and `scope` come from group.yaml."""

    key: str
    folder: str | None = None
    files: dict[str, bytes] | None = None
    school: dict[str, Any] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    scope: list[dict[str, Any]] = field(default_factory=list)
    ca_bundle: bytes | None = None
    # the group's shared exports: (path in the group folder, kind, content)
    shared: tuple[tuple[str, str, bytes], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: the results and reports, or why there are none."""

    key: str
    results_json: str | None = None
    reports: dict[str, bytes] = field(default_factory=dict)
    error: LocalText | None = None
    # the school's folder has problems: a fault of the input, not worth a retry
    invalid: bool = False
    # the institution number school.yaml gives (results.json does not carry it)
    institution_number: str | None = None


def with_defaults(
    school: SchoolFile, defaults: dict[str, Any], scope: list[dict[str, Any]]
) -> SchoolFile:
    """school.yaml with what group.yaml gives every school: what the school says itself wins;
    the group's scope authorisations come after the school's own."""
    update: dict[str, Any] = {}
    if school.profile is None and defaults.get("profile"):
        update["profile"] = defaults["profile"]
    network: dict[str, Any] = {}
    if school.network.resolver is None and defaults.get("resolver"):
        network["resolver"] = defaults["resolver"]
    if "timeout" not in school.network.model_fields_set and defaults.get("timeout"):
        network["timeout"] = defaults["timeout"]
    if network:
        update["network"] = school.network.model_validate(
            {**school.network.model_dump(exclude_unset=True), **network}
        )
    if scope:
        update["scope"] = [*school.scope, *(Authorization.model_validate(a) for a in scope)]
    return school.model_copy(update=update) if update else school


def prepare(
    job: SchoolJob, folder_dir: Path, catalog: Catalog, clock: Clock, shared_dir: Path
) -> SchoolFolder:
    """The school folder to scan; InputError with every problem of a school folder. The
    group's shared exports are written into `shared_dir` (a temporary folder) for it."""
    if job.school is not None:
        school = SchoolFile.model_validate(job.school)
        return SchoolFolder(folder_dir, with_defaults(school, job.defaults, job.scope))
    loaded, problems = load_school(folder_dir, catalog, clock.today)
    if problems or loaded is None:
        raise InputError(problems)
    loaded.school = with_defaults(loaded.school, job.defaults, job.scope)
    own = {e.kind for e in loaded.school.exports}
    for name, kind, data in job.shared:
        if kind in own:
            continue  # the school's own export of that kind wins
        path = shared_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        shown = GROUP_PREFIX + name
        loaded.shared_exports.append(ExportFile(path, shown, kind))
        loaded.inputs[shown] = hashlib.sha256(data).hexdigest()
    return loaded


def render_reports(results: Results, options: GroupOptions) -> dict[str, bytes]:
    """The reports of one school (besides results.json), by file name."""
    from cyberstd.report import SUFFIX, renderer

    out: dict[str, bytes] = {}
    for fmt in options.formats:
        text = renderer(fmt)(results, options.lang)
        out[f"report.{options.lang}.{SUFFIX[fmt]}"] = text.encode("utf-8")
    return out


def pack(folder: Path) -> dict[str, bytes]:
    """A school folder's files by relative path (links and hidden folders left out)."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (
            path.is_symlink()
            or not path.is_file()
            or any(p.startswith(".") for p in relative.parts)
        ):
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_FOLDER_BYTES:
            raise ValueError(f"{folder.name}: more than {MAX_FOLDER_BYTES} bytes to send")
        files[relative.as_posix()] = data
    return files


def _unpack(files: dict[str, bytes], into: Path) -> None:
    for name, data in files.items():
        target = (into / name).resolve()
        if not target.is_relative_to(into.resolve()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@functools.lru_cache(maxsize=4)
def _catalog(root: str | None) -> Any:
    from cyberstd.catalog import load_catalog
    from cyberstd.paths import default_root

    catalog, problems = load_catalog(Path(root) if root else default_root())
    if problems:
        raise InputError(problems)
    return catalog


def _named(problem: Problem, folder: Path) -> Problem:
    """A problem of a school's file named from the school's folder's parent
    (`sint-jan/school.yaml`), as the roll-up shows it: never a path of the machine."""
    name = Path(problem.path)
    try:
        shown = name.resolve().relative_to(folder.resolve().parent).as_posix()
    except (ValueError, OSError, RuntimeError):
        shown = name.name
    return dataclasses.replace(problem, path=shown)


def _said(exc: BaseException, folder: Path) -> LocalText:
    if isinstance(exc, InputError):
        problems = [_named(p, folder) for p in exc.problems[:5]]
        lines = {lang: "; ".join(p.render(lang) for p in problems) for lang in LANGS}
        return LocalText(nl=lines["nl"], en=lines["en"])
    return error_text(exc)


def error_text(exc: BaseException) -> LocalText:
    """An error of one school's scan in both languages, as the roll-up shows it: its catalog
    message, else framed in words of each language around what the error said, with a file
    named by its name only (an OSError's text holds the machine's path)."""
    if isinstance(exc, Said) and exc.said is not None:
        return LocalText(nl=exc.said.render("nl"), en=exc.said.render("en"))
    if isinstance(exc, OSError) and exc.filename is not None:
        detail = f"{exc.strerror or type(exc).__name__}: {Path(str(exc.filename)).name}"
    else:
        detail = f"{type(exc).__name__}: {exc}"
    said = msg("group.scan-error", detail=detail)
    return LocalText(nl=said.render("nl"), en=said.render("en"))


def scan_school(job: SchoolJob, options: GroupOptions, now: dt.datetime, as_of: bool) -> Outcome:
    """Scan one school; never raises for what the school gave (that is an Outcome's error)."""
    clock = Clock(now, as_of=as_of)
    with tempfile.TemporaryDirectory(prefix="cyberstd-school-") as tmp:
        folder = Path(job.folder) if job.folder else Path(tmp) / job.key
        try:
            return _scan(job, options, clock, folder, Path(tmp))
        except InputError as exc:
            return Outcome(job.key, error=_said(exc, folder), invalid=True)
        except (CyberstdError, OSError, ValueError) as exc:
            return Outcome(job.key, error=_said(exc, folder))


def _scan(
    job: SchoolJob, options: GroupOptions, clock: Clock, folder_dir: Path, tmp: Path
) -> Outcome:
    from cyberstd.report.json import render as render_json
    from cyberstd.runner import context_for, evaluate, execute, make_plan

    catalog = _catalog(options.catalog_root)
    if job.files is not None:
        _unpack(job.files, folder_dir)
    ca_bundle = None
    if job.ca_bundle is not None:
        ca_bundle = tmp / "ca.pem"
        ca_bundle.write_bytes(job.ca_bundle)
    folder = prepare(job, folder_dir, catalog, clock, tmp / "group")
    plan = make_plan(catalog, folder, options.profile)
    ctx = context_for(
        folder,
        ca_bundle=ca_bundle,
        timeout=options.timeout,
        max_rate=options.max_rate,
        clock=clock,
        kinds=catalog.kinds,
        run_scope=options.run_scope,
        per_target_rate=options.per_target_rate,
        across_rate=options.across_rate,
    )
    findings = execute(plan, ctx, workers=options.workers)
    results = evaluate(plan, findings, clock=clock, catalog_inputs=catalog.inputs)
    number = folder.school.school.institution_number
    return Outcome(
        job.key, render_json(results), render_reports(results, options), institution_number=number
    )
