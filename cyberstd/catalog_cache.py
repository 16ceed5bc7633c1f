"""A cache of the validated catalog, so that commands start fast (CI runs them per file).

Loading and cross-checking every YAML file of standards/, checks/ and profiles/ takes most of
a second; a catalog that loaded without problems is kept as JSON (data, never code: whoever
can write the cache folder cannot make cyberstd run anything, and what is read back is
validated by the same models as the YAML) keyed by the sha256 of
every catalog file, the catalog's folder, cyberstd's own modules (size and time) and the
versions of cyberstd and Python. Any change to any of them gives another key, so a stale
catalog is never used; the eight most recent cache files are kept. The cache lives in
$CYBERSTD_CACHE_DIR, else $XDG_CACHE_HOME/cyberstd, else ~/.cache/cyberstd; set
CYBERSTD_NO_CACHE=1 to bypass it. A cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cyberstd import __version__

if TYPE_CHECKING:
    from cyberstd.catalog import Catalog

FOLDERS = ("standards", "checks", "profiles")
KEEP = 8


def cache_dir() -> Path:
    env = os.environ.get("CYBERSTD_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "cyberstd"


def enabled() -> bool:
    return os.environ.get("CYBERSTD_NO_CACHE", "") in ("", "0")


def fingerprint(root: Path) -> tuple[str, dict[str, str]]:
    """The cache key of a catalog folder and the sha256 of each of its files (absolute paths)."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}|{sys.version}|{root.resolve()}".encode())
    # The code that validates the catalog (parameter models, kinds): size and time of each
    # module, so that a changed model in a checkout is never served a stale catalog.
    package = Path(__file__).resolve().parent
    for module in sorted(package.rglob("*.py")):
        stat = module.stat()
        digest.update(f"{module.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    files: dict[str, str] = {}
    for folder in FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*.yaml") if p.is_file()):
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            files[str(path.resolve())] = sha
            digest.update(f"{path.relative_to(root)}={sha}\n".encode())
    return digest.hexdigest(), files


def _path(key: str) -> Path:
    return cache_dir() / f"catalog-{key[:32]}.json"


_ADAPTERS: dict[str, Any] = {}


def _adapter(name: str) -> Any:
    """The pydantic adapter that validates one section of the cache file."""
    if not _ADAPTERS:
        from pydantic import TypeAdapter

        from cyberstd.kinds import ExportKind
        from cyberstd.schema import CheckDef, ControlDef, FrameworkMeta, MappingEntry, ProfileDef

        _ADAPTERS.update(
            meta=TypeAdapter(FrameworkMeta),
            controls=TypeAdapter(dict[str, ControlDef]),
            mappings=TypeAdapter(dict[str, MappingEntry]),
            checks=TypeAdapter(dict[str, CheckDef]),
            profiles=TypeAdapter(dict[str, ProfileDef]),
            kinds=TypeAdapter(dict[str, ExportKind]),
            probe_kinds=TypeAdapter(dict[str, str]),
        )
    return _ADAPTERS[name]


def _dump(catalog: Catalog) -> bytes:
    def section(name: str, value: Any) -> str:
        return str(_adapter(name).dump_json(value).decode())

    document = {
        "frameworks": {
            fid: {
                "meta": section("meta", fw.meta),
                "controls": section("controls", fw.controls),
                "mappings": section("mappings", fw.mappings),
            }
            for fid, fw in catalog.frameworks.items()
        },
        **{
            name: section(name, getattr(catalog, name))
            for name in ("checks", "profiles", "kinds", "probe_kinds")
        },
    }
    return json.dumps(document).encode()


def _build(root: Path, data: bytes) -> Catalog:
    from cyberstd.catalog import Catalog, Framework

    document = json.loads(data)
    frameworks = {
        fid: Framework(
            meta=_adapter("meta").validate_json(fw["meta"]),
            controls=_adapter("controls").validate_json(fw["controls"]),
            mappings=_adapter("mappings").validate_json(fw["mappings"]),
        )
        for fid, fw in document["frameworks"].items()
    }
    return Catalog(
        root=root,
        frameworks=frameworks,
        **{
            name: _adapter(name).validate_json(document[name])
            for name in ("checks", "profiles", "kinds", "probe_kinds")
        },
    )


def load(root: Path, key: str) -> Catalog | None:
    """The cached catalog for this key, or None (also when the file is not what we wrote)."""
    if not enabled():
        return None
    try:
        return _build(root, _path(key).read_bytes())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # pydantic's ValidationError is a ValueError


def save(catalog: Catalog, key: str) -> None:
    """Keep a catalog that loaded without problems (atomically; errors are ignored)."""
    if not enabled():
        return
    target = _path(key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        old = sorted(target.parent.glob("catalog-*.json"), key=lambda p: p.stat().st_mtime)
        for stale in old[:-KEEP]:  # keep the most recent few (several checkouts, versions)
            stale.unlink(missing_ok=True)
        for legacy in target.parent.glob("catalog-*.pickle"):  # never read: data, not code
            legacy.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=target.parent, delete=False) as fh:
            fh.write(_dump(catalog))
        Path(fh.name).replace(target)
    except OSError:
        return
