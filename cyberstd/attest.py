"""Records an attestation in attestations.yaml, rewriting it round-trip (comments and order kept)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from cyberstd.errors import InputError, Problem, UsageError
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


def record(folder: Path, new: NewAttestation) -> Path:
    """Add or replace the attestation of `new.control`; returns the file written.

    Evidence files must lie inside the school folder; their sha256 is taken now.
    """
    root = folder.resolve()
    evidence = CommentedSeq()
    for path in new.evidence:
        try:
            full = (path if path.is_absolute() else Path.cwd() / path).resolve()
            found = full.is_file()
        except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a name too long
            reason = getattr(exc, "strerror", None) or "a link that cannot be followed"
            raise UsageError(f"evidence file {path} cannot be used: {reason}") from None
        if not found:
            raise UsageError(f"evidence file not found: {path}")
        if not full.is_relative_to(root):
            raise UsageError(f"evidence file {path} must lie inside the school folder {folder}")
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
            raise InputError(
                [Problem(str(target), 1, 1, "type", "expected a mapping with 'attestations'")]
            )
    else:
        data = yaml.load(HEADER + "attestations: []\n")
    items = data.get("attestations")
    if items is None:
        items = data["attestations"] = CommentedSeq()
    if not isinstance(items, CommentedSeq):
        raise InputError([Problem(str(target), 1, 1, "type", "'attestations' must be a list")])
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
