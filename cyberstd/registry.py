"""Probe registry: `@probe("id", params=Model)` binds a probe id to its function and parameters."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from cyberstd.results import ProbeOutcome


class ProbeKind(StrEnum):
    NETWORK = "network"
    CONFIG = "config"


class ProbeParams(BaseModel):
    """Base of every probe's parameter model: unknown parameters are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Target:
    """A host the school declared: its name (for SNI, Host and certificate checks) and address."""

    name: str
    address: str
    roles: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=dict)

    def port(self, service: str, default: int) -> int:
        return self.ports.get(service, default)


@dataclass(frozen=True)
class ProbeContext:
    """What a probe may use besides its target and params; passed in, never global."""

    timeout: float = 10.0
    ca_bundle: Path | None = None


P = TypeVar("P", bound=ProbeParams)
ProbeFunc = Callable[[Target, Any, ProbeContext], ProbeOutcome]


@dataclass(frozen=True)
class ProbeSpec:
    id: str
    func: ProbeFunc
    params: type[ProbeParams]
    kind: ProbeKind
    role: str
    doc: str


_REGISTRY: dict[str, ProbeSpec] = {}
_LOADED: list[bool] = []


def probe(
    probe_id: str, *, params: type[P], kind: ProbeKind = ProbeKind.NETWORK, role: str = ""
) -> Callable[[Callable[[Target, P, ProbeContext], ProbeOutcome]], ProbeFunc]:
    """Register a probe. Its docstring is the user documentation that `checks show` prints."""

    def wrap(func: Callable[[Target, P, ProbeContext], ProbeOutcome]) -> ProbeFunc:
        if probe_id in _REGISTRY:
            raise RuntimeError(f"probe {probe_id!r} registered twice")
        _REGISTRY[probe_id] = ProbeSpec(
            id=probe_id,
            func=func,
            params=params,
            kind=kind,
            role=role,
            doc=inspect.cleandoc(func.__doc__ or ""),
        )
        return func

    return wrap


def _load_all() -> None:
    import cyberstd.probes as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")


def probes() -> dict[str, ProbeSpec]:
    """Every registered probe, importing the probe modules on first use."""
    if not _LOADED:
        _load_all()
        _LOADED.append(True)
    return dict(_REGISTRY)
