"""Writing what a command produces: all at once (a temporary file, then a rename), and never
onto one of the command's own inputs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cyberstd.errors import UsageError
from cyberstd.messages import msg


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs(output: Path, inputs: Iterable[Path], option: str = "the output") -> None:
    """UsageError when `output` is (or links to) one of `inputs`: writing it would destroy the
    input it was made from."""
    target = output.resolve()
    for given in inputs:
        if given.resolve() == target or _same(output, given):
            raise UsageError(
                f"{option} {output} is also an input of this command ({given}); "
                "choose another file (nothing was written)"
            )


def write_atomic(
    path: Path, data: bytes, *, inputs: Iterable[Path] = (), option: str = "the output"
) -> Path:
    """Write `data` to `path` through a temporary file beside it and a rename, so a reader never
    sees half a file and a failure leaves the old one; refuse `path` when it is an input."""
    refuse_inputs(path, inputs, option)
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)  # into an existing folder only: a mistyped folder is an error
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def writable_folder(folder: Path) -> Path:
    """`folder`, made when missing, after a test write: a UsageError naming it when nothing can
    be written there, before a long run finds out at its first file."""
    probe = folder / f".cyberstd-write-test.{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        said = msg("output.folder", path=str(folder), why=exc.strerror or str(exc))
        raise UsageError(said) from None
    return folder
