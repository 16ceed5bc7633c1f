"""Where the catalog lives, and how a file is named: for the person at the terminal, and in
what a run writes.

Two names, two readers:
- `display_path` is for messages printed while working (a problem in school.yaml, a file
  written): relative to the working folder, so a terminal or an editor opens it.
- `portable_name` is for everything a run writes down (results.json's inputs, evidence,
  findings, reports): a file of the school folder relative to that folder
  (`exports/firewall/fortigate.conf`), a catalog file as `catalog:` and its path in the catalog
  (`catalog:standards/grip/controls.yaml`), anything else by its bare file name after
  `outside:`. The same scan gives the same names on every machine, and a shared report never
  says where the coordinator keeps the school's files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

CATALOG_PREFIX = "catalog:"
OUTSIDE_PREFIX = "outside:"
# a file of the school's group (group.yaml's shared exports), relative to the group folder
GROUP_PREFIX = "group:"


def default_root() -> Path:
    """Where standards/, checks/ and profiles/ live: $CYBERSTD_ROOT, the source checkout, or
    (in an installed package) the copy shipped in cyberstd/catalog_data."""
    env = os.environ.get("CYBERSTD_ROOT")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "standards").is_dir():
        return checkout
    return Path(__file__).resolve().parent / "catalog_data"


def display_path(path: Path) -> str:
    """A path as the user should see it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the folder, or a link loop
        return str(path)


def _inside(path: Path, base: Path | None) -> str | None:
    """`path` relative to `base` in forward slashes, or None when it lies elsewhere."""
    if base is None:
        return None
    try:
        return PurePosixPath(path.resolve().relative_to(base.resolve())).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


def portable_name(path: Path, school_dir: Path | None, catalog_root: Path | None = None) -> str:
    """The name a run writes down for `path` (see the module's docstring): the same on every
    machine, and never an absolute path."""
    relative = _inside(path, school_dir)
    if relative is not None:
        return relative
    in_catalog = _inside(path, catalog_root if catalog_root is not None else default_root())
    if in_catalog is not None:
        return CATALOG_PREFIX + in_catalog
    return OUTSIDE_PREFIX + path.name


def catalog_name(path: Path, catalog_root: Path | None = None) -> str:
    """The name of a catalog file (`catalog:checks/http.yaml`), or `outside:` and its file name
    for a file that is not in the catalog."""
    return portable_name(path, None, catalog_root)


def is_portable(name: str) -> bool:
    """True for a name that `portable_name` could have given: relative, never absolute, never
    climbing out of its folder, in forward slashes."""
    if not name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    for prefix in (CATALOG_PREFIX, OUTSIDE_PREFIX, GROUP_PREFIX):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return bool(name) and ".." not in PurePosixPath(name).parts and not name.startswith("/")


def where(name: str, school_dir: Path, catalog_root: Path | None = None) -> Path | None:
    """The file a name of `portable_name` stands for, or None for a file outside the school
    folder and the catalog (only its file name was kept). An absolute name, as results.json
    wrote before names were portable, is taken as it is."""
    if name.startswith((OUTSIDE_PREFIX, GROUP_PREFIX)):
        return None
    if name.startswith(CATALOG_PREFIX):
        root = catalog_root if catalog_root is not None else default_root()
        return root / name[len(CATALOG_PREFIX) :]
    return school_dir / name


def input_paths(
    names: Iterable[str], school_dir: Path, catalog_root: Path | None = None
) -> list[Path]:
    """The files behind results.json's run.inputs that can still be found (see `where`)."""
    found = (where(name, school_dir, catalog_root) for name in names)
    return [path for path in found if path is not None]
