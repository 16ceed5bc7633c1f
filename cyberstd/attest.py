"""Records an attestation in attestations.yaml, rewriting it round-trip (comments and order kept)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from cyberstd.errors import InputError, Problem, UsageError
from cyberstd.messages import msg
from cyberstd.results import Answer
from cyberstd.schema import AttestationDef
from cyberstd.school import ATTESTATIONS_FILE
from cyberstd.yamlsrc import load, sha256_file, writer_yaml

HEADER = """\
# Attestations: what a person confirms about a control, with evidence.
# Record them with `cyberstd attest SCHOOL CONTROL`; each evidence file's sha256 is
# recorded so that a later change to the file is detected by `cyberstd validate`.
"""


@dataclass(frozen=True)
class NewAttestation:
    control: str
    answer: Answer
    explanation: str
    attested_by: str
    date: dt.date
    review_by: dt.date
    evidence: tuple[Path, ...] = ()


def record(folder: Path, new: NewAttestation, header: str = HEADER) -> Path:
    """Add or replace the attestation of `new.control`; returns the file written.

    Evidence files must lie inside the school folder; their sha256 is taken now. A new
    attestations.yaml opens with `header` (comment lines).
    """
    root = folder.resolve()
    evidence = CommentedSeq()
    for path in new.evidence:
        try:
            full = (path if path.is_absolute() else Path.cwd() / path).resolve()
            found = full.is_file()
        except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a name too long
            reason = getattr(exc, "strerror", None) or msg("input.attest.link_loop")
            raise UsageError(msg("input.attest.unusable", path=path, reason=reason)) from None
        if not found:
            raise UsageError(msg("input.attest.not_found", path=path))
        if not full.is_relative_to(root):
            raise UsageError(msg("input.attest.outside", path=path, folder=folder))
        item = CommentedMap()
        item["path"] = full.relative_to(root).as_posix()
        item["sha256"] = sha256_file(full)
        evidence.append(item)
    AttestationDef(
        control=new.control,
        answer=new.answer,
        explanation=new.explanation,
        attested_by=new.attested_by,
        date=new.date,
        review_by=new.review_by,
        evidence=[],
    )
    target = folder / ATTESTATIONS_FILE
    yaml = writer_yaml()
    if target.exists():
        load(target)  # refuses what is unsafe or broken before we touch it
        data = yaml.load(target.read_text(encoding="utf-8"))
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            said = msg("input.attest.not_mapping")
            raise InputError([Problem.of(str(target), 1, 1, "type", said)])
    else:
        data = yaml.load(header + "attestations: []\n")
    items = data.get("attestations")
    if items is None:
        items = data["attestations"] = CommentedSeq()
    if not isinstance(items, CommentedSeq):
        said = msg("input.attest.not_list")
        raise InputError([Problem.of(str(target), 1, 1, "type", said)])
    entry = next(
        (e for e in items if isinstance(e, CommentedMap) and e.get("control") == new.control), None
    )
    if entry is None:
        entry = CommentedMap()
        items.append(entry)
    entry["control"] = new.control
    entry["answer"] = str(new.answer)
    entry["explanation"] = new.explanation
    entry["evidence"] = evidence
    entry["attested_by"] = new.attested_by
    entry["date"] = new.date
    entry["review_by"] = new.review_by
    if hasattr(items, "fa"):
        items.fa.set_block_style()
    _atomic_write(target, yaml, data)
    return target


def _atomic_write(target: Path, yaml: object, data: object) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".attest-", suffix=".yaml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.dump(data, fh)  # type: ignore[attr-defined]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rehash(folder: Path, control: str, today: dt.date) -> tuple[Path, list[str]]:
    """Record the current sha256 of every evidence file of `control`'s attestation, after a
    person has reviewed the changed files; the attestation is dated `today` (it is attested
    again), everything else is kept. Returns the file written and the evidence paths whose
    hash changed. UsageError when there is no such attestation or a file is gone."""
    target = folder / ATTESTATIONS_FILE
    if not target.is_file():
        raise UsageError(msg("input.attest.no_file", folder=folder, file=ATTESTATIONS_FILE))
    load(target)  # refuses what is unsafe or broken before we touch it
    yaml = writer_yaml()
    data = yaml.load(target.read_text(encoding="utf-8"))
    items = data.get("attestations") if isinstance(data, CommentedMap) else None
    entry = next(
        (e for e in items or [] if isinstance(e, CommentedMap) and e.get("control") == control),
        None,
    )
    if entry is None:
        raise UsageError(msg("input.attest.none_for", file=ATTESTATIONS_FILE, control=control))
    root = folder.resolve()
    changed: list[str] = []
    for ev in entry.get("evidence") or []:
        relative = str(ev.get("path", ""))
        try:
            path = (folder / relative).resolve()
            ok = path.is_file() and path.is_relative_to(root)
        except (OSError, RuntimeError, ValueError):
            ok = False
        if not ok:
            said = msg(
                "input.attest.rehash_unreadable",
                path=repr(relative),
                control=control,
                folder=folder,
            )
            raise UsageError(said)
        actual = sha256_file(path)
        if actual != ev.get("sha256"):
            ev["sha256"] = actual
            changed.append(relative)
    entry["date"] = today
    review = entry.get("review_by")
    if isinstance(review, dt.date) and review < today:
        entry["review_by"] = (
            today.replace(year=today.year + 1)
            if today.month != 2 or today.day != 29
            else today + dt.timedelta(days=365)
        )
    _atomic_write(target, yaml, data)
    return target, changed
