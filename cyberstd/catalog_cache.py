"""A cache of the validated catalog (its JSON document: cyberstd.catalog makes and reads it), so that commands start fast (CI runs them per file).

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
import os
import sys
import tempfile
from pathlib import Path

from cyberstd import __version__

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


def read(key: str) -> bytes | None:
    """The cached document for this key, or None (no cache, or it cannot be read)."""
    if not enabled():
        return None
    try:
        return _path(key).read_bytes()
    except OSError:
        return None


def write(key: str, data: bytes) -> None:
    """Keep a document under this key (atomically; errors are ignored)."""
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
            fh.write(data)
        Path(fh.name).replace(target)
    except OSError:
        return
