"""Probe families, one module or package each; importing one registers its probes.

`probes()` imports every family on first use, so that the registry (cyberstd.registry) knows
them all; the registry itself never imports a probe.
"""

from __future__ import annotations

import importlib
import pkgutil

from cyberstd.registry import PreviewFunc, ProbeSpec, registered, registered_preview

_LOADED: list[bool] = []


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


def probe_spec(probe_id: str) -> ProbeSpec | None:
    """One probe, importing only the family named by its prefix when that family holds it
    (`config.rule` lives in probes/config.py); else every family."""
    known = registered()
    if probe_id not in known and not _LOADED:
        prefix = probe_id.split(".", 1)[0]
        if any(m.name == prefix for m in pkgutil.iter_modules(__path__)):
            importlib.import_module(f"{__name__}.{prefix}")
            known = registered()
    if probe_id not in known:
        known = probes()
    return known.get(probe_id)


def probes() -> dict[str, ProbeSpec]:
    """Every registered probe, importing the probe families on first use."""
    if not _LOADED:
        _load_all()
        _LOADED.append(True)
    return registered()


def preview_for(probe_id: str) -> PreviewFunc | None:
    """How a probe says what it would touch, without sending anything (see Preview)."""
    probes()
    return registered_preview(probe_id)
