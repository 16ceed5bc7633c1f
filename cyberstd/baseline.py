"""Configuration baselines for CI: a profile's configuration checks over files given one by one.

Each file gets a kind (given, or recognised by name and content), is parsed once, and every
configuration check of the profile that reads that kind is judged on it, giving one finding per
check and file. Parts of a rule that read another kind (`any_of` over security defaults and
conditional access, say) see the files of that kind given in the same run.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyberstd import __version__
from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import UsageError
from cyberstd.exports import ExportFile, ExportStore, Parsed
from cyberstd.kinds import detect
from cyberstd.parsers.base import Node
from cyberstd.paths import display_path
from cyberstd.probes import probe_spec
from cyberstd.profiles import PlannedCheck, resolve
from cyberstd.results import ErrorReason, Finding, FindingStatus, Severity
from cyberstd.rules.engine import RuleParams, Verdict, evaluate
from cyberstd.schema import ProbeKind
from cyberstd.validation import did_you_mean

INPUT_CHECK = "cyberstd.input"


@dataclass
class FileResult:
    path: str
    kind: str | None
    sha256: str = ""
    error: str | None = None
    line: int | None = None
    error_file: str | None = None  # where the error is, when not in the file itself (Include)
    skipped: str | None = None  # why the file was not judged (--skip-unknown)


@dataclass
class BaselineResult:
    profile: str
    started: dt.datetime
    finished: dt.datetime
    files: list[FileResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def invalid(self) -> bool:
        return any(f.error for f in self.files) or any(
            f.status is FindingStatus.ERROR for f in self.findings
        )

    @property
    def failed(self) -> bool:
        return any(f.status is FindingStatus.FAIL for f in self.findings)

    def counts(self) -> dict[str, int]:
        c = Counter(str(f.status) for f in self.findings)
        return {s.value: c.get(s.value, 0) for s in FindingStatus}

    def to_json(self) -> dict[str, object]:
        return {
            "schema_version": "1.0",
            "tool": {"name": "cyberstd", "version": __version__},
            "run": {
                "kind": "baseline",
                "profile": self.profile,
                "started": self.started.isoformat(),
                "finished": self.finished.isoformat(),
            },
            "files": [
                {k: v for k, v in vars(f).items() if v is not None and v != ""} for f in self.files
            ],
            "summary": {"counts": self.counts(), "files": len(self.files)},
            "findings": [f.model_dump(mode="json", exclude_none=True) for f in self.findings],
        }


def config_checks(catalog: Catalog, profile_id: str) -> dict[str, tuple[PlannedCheck, RuleParams]]:
    """The profile's checks that judge configuration files, with their rules."""
    profile = resolve(catalog, profile_id)
    out: dict[str, tuple[PlannedCheck, RuleParams]] = {}
    for check_id, planned in profile.checks.items():
        spec = probe_spec(planned.check.probe)
        if spec is None or spec.kind is not ProbeKind.CONFIG:
            continue
        if isinstance(planned.params, RuleParams):
            out[check_id] = (planned, planned.params)
    return out


def _kind_of(path: Path, catalog: Catalog, forced: str | None) -> tuple[str | None, str]:
    if forced is not None:
        return forced, ""
    found = detect(path, catalog.kinds)
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, "cannot tell what kind of export this is; give it with --kind"
    return None, f"could be any of {', '.join(found)}; give the kind with --kind"


def _input_finding(file: FileResult) -> Finding:
    """The finding of a file that was not judged: an input error, or (--skip-unknown) a file
    left out on purpose, named and never silently dropped."""
    common: dict[str, Any] = {
        "id": f"{INPUT_CHECK}@{file.path}",
        "check": INPUT_CHECK,
        "title": {"nl": "Het bestand kan gelezen worden", "en": "The file can be read"},
        "controls": [],
        "target": file.path,
    }
    if file.skipped is not None:
        return Finding(
            **common,
            status=FindingStatus.SKIPPED,
            severity=Severity.INFO,
            message=f"skipped (--skip-unknown): {file.skipped}",
            messages={"nl": f"overgeslagen (--skip-unknown): {file.skipped}"},
            evidence={"file": file.path, "skipped": file.skipped},
        )
    return Finding(
        **common,
        status=FindingStatus.ERROR,
        severity=Severity.HIGH,
        message=file.error or "",
        evidence={"file": file.error_file or file.path, "line": file.line, "kind": file.kind},
        error_reason=ErrorReason.INPUT,
    )


def _finding(
    check_id: str, planned: PlannedCheck, file: FileResult, verdict: Verdict, took: float
) -> Finding:
    found = planned.finding(
        f"{check_id}@{file.path}", check_id, file.path, verdict.status, verdict.message
    )
    found.evidence = {
        "files": [{"path": file.path, "kind": file.kind, "sha256": file.sha256}],
        **verdict.evidence,
    }
    if verdict.message_nl:
        found.messages = {"nl": verdict.message_nl}
    if verdict.status is FindingStatus.ERROR:
        found.error_reason = ErrorReason.INPUT
    found.duration_ms = int(took * 1000)
    return found


def _regular(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, RuntimeError):
        return False


def _unreadable(path: Path) -> str | None:
    """Why a path cannot be judged (missing, a loop, a pipe or device), or None."""
    try:
        if not path.exists():
            return "file not found"
        if not path.is_file():
            return "not a regular file"
    except (OSError, RuntimeError):
        return "cannot be read (a link loop?)"
    return None


def expand(paths: list[Path]) -> list[tuple[Path, bool]]:
    """Files as given (explicit) and the files inside folders given (not explicit), sorted;
    hidden files and folders (.git) are skipped."""
    out: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if _regular(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            out.extend((p, False) for p in found)
        else:
            out.append((path, True))
    return out


PARALLEL_MIN = 200  # files; below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class _Job:
    """What a worker needs besides the catalog (which a forked worker inherits)."""

    profile_id: str
    kind: str | None
    day: dt.date
    started: dt.datetime
    skip_unknown: bool
    defer: frozenset[str]


_WORKER_CATALOG: list[Catalog] = []


def run_baseline(
    catalog: Catalog,
    profile_id: str,
    paths: list[Path],
    *,
    kind: str | None = None,
    clock: Clock,
    skip_unknown: bool = False,
    workers: int | None = None,
) -> BaselineResult:
    """Judge every file against the profile's configuration checks.

    A file of no recognisable kind, named or found in a folder, is an input error unless
    `skip_unknown` (for pre-commit, which passes every changed file); a skipped file is still
    named, with why, in every output. Large runs are spread over worker processes (one per core, `workers` to
    choose); files whose kind a rule reads together with another kind (Microsoft 365's
    security defaults and conditional access) are judged together, after the others, so the
    verdicts are the same as in one process."""
    if kind is not None and kind not in catalog.kinds:
        hint = did_you_mean(kind, catalog.kinds)
        raise UsageError(f"unknown kind {kind!r}{hint}; `cyberstd checks kinds` lists them")
    checks = config_checks(catalog, profile_id)
    if not checks:
        raise UsageError(f"profile {profile_id!r} has no configuration checks")
    day, started = clock.today, clock.started
    items = _unique(expand(paths))
    count = workers or os.cpu_count() or 1
    if count < 2 or len(items) < PARALLEL_MIN or "fork" not in mp.get_all_start_methods():
        result = _run(
            catalog, checks, items, _Job(profile_id, kind, day, started, skip_unknown, frozenset())
        )[0]
    else:
        result = _parallel(
            catalog,
            checks,
            items,
            _Job(profile_id, kind, day, started, skip_unknown, frozenset()),
            count,
        )
    result.started = started
    result.finished = clock.finished()
    return result


def _unique(items: list[tuple[Path, bool]]) -> list[tuple[Path, bool]]:
    """Each file once, however often (or through whichever link) it was named."""
    seen: set[Path] = set()
    out = []
    for path, explicit in items:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            real = path
        if real not in seen:
            seen.add(real)
            out.append((path, explicit))
    return out


def _shared_kinds(checks: dict[str, tuple[PlannedCheck, RuleParams]]) -> frozenset[str]:
    """Kinds that some rule reads together with another kind."""
    return frozenset(
        k for _, params in checks.values() if len(params.kinds()) > 1 for k in params.kinds()
    )


def _work(
    chunk: list[tuple[Path, bool]], job: _Job
) -> tuple[BaselineResult, list[tuple[Path, bool]]]:
    catalog = _WORKER_CATALOG[0]
    return _run(catalog, config_checks(catalog, job.profile_id), chunk, job)


def _parallel(
    catalog: Catalog,
    checks: dict[str, tuple[PlannedCheck, RuleParams]],
    items: list[tuple[Path, bool]],
    job: _Job,
    count: int,
) -> BaselineResult:
    from concurrent.futures import ProcessPoolExecutor

    shared = _shared_kinds(checks)
    deferred_job = _Job(job.profile_id, job.kind, job.day, job.started, job.skip_unknown, shared)
    size = max(1, -(-len(items) // (count * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    _WORKER_CATALOG[:] = [catalog]
    try:
        with ProcessPoolExecutor(count, mp_context=mp.get_context("fork")) as pool:
            parts = list(pool.map(_work, chunks, [deferred_job] * len(chunks)))
    finally:
        _WORKER_CATALOG.clear()
    merged = BaselineResult(job.profile_id, job.started, job.started)
    deferred: list[tuple[Path, bool]] = []
    for part, later in parts:
        merged.files += part.files
        merged.findings += part.findings
        deferred += later
    if deferred:
        last, _ = _run(catalog, checks, deferred, job)
        merged.files += last.files
        merged.findings += last.findings
    order = {display_path(p): i for i, (p, _) in enumerate(items)}
    merged.files.sort(key=lambda f: order.get(f.path, len(order)))
    merged.findings.sort(key=lambda f: order.get(f.target, len(order)))  # stable within a file
    return merged


def _run(
    catalog: Catalog,
    checks: dict[str, tuple[PlannedCheck, RuleParams]],
    items: list[tuple[Path, bool]],
    job: _Job,
) -> tuple[BaselineResult, list[tuple[Path, bool]]]:
    """Judge files in this process; files of a kind in `job.defer` are handed back untouched."""
    kind = job.kind
    result = BaselineResult(job.profile_id, job.started, job.started)
    store = ExportStore(catalog.kinds)
    parsed: list[tuple[FileResult, Parsed]] = []
    deferred: list[tuple[Path, bool]] = []
    for path, explicit in items:
        shown = display_path(path)
        problem = _unreadable(path)
        if problem:
            file = FileResult(shown, kind, error=problem)
            result.files.append(file)
            result.findings.append(_input_finding(file))
            continue
        found_kind, why = _kind_of(path, catalog, kind)
        if found_kind is None and job.skip_unknown:
            file = FileResult(shown, None, skipped=why)
            result.files.append(file)
            result.findings.append(_input_finding(file))
            continue
        if found_kind in job.defer:
            deferred.append((path, explicit))
            continue
        file = FileResult(shown, found_kind)
        result.files.append(file)
        if found_kind is None:
            file.error = why
            result.findings.append(_input_finding(file))
            continue
        export = ExportFile(path, shown, found_kind)
        store.files.append(export)
        p = store.parsed(export)
        file.sha256 = p.sha256
        if p.error is not None:
            file.error, file.line = p.error.detail, p.error.line
            if p.error.file != shown:
                file.error_file = p.error.file
                file.error = f"{p.error.file}: {p.error.detail}"
            result.findings.append(_input_finding(file))
            continue
        parsed.append((file, p))
    trees: dict[str, list[Node]] = {}
    for file, p in parsed:
        if p.tree is not None and file.kind is not None:
            trees.setdefault(file.kind, []).append(p.tree)
    for file, p in parsed:
        assert p.tree is not None and file.kind is not None
        for check_id, (planned, params) in checks.items():
            kinds = params.kinds()
            if file.kind not in kinds:
                continue
            if file.kind != params.kind and trees.get(params.kind):
                continue  # judged once, on the files of the rule's own kind
            docs = {k: trees.get(k, []) for k in kinds if k != file.kind}
            docs[file.kind] = [p.tree]
            started = time.perf_counter()
            verdict = evaluate(params, docs, job.day)
            result.findings.append(
                _finding(check_id, planned, file, verdict, time.perf_counter() - started)
            )
    return result, deferred
