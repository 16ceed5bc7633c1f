"""Probe registry: `@probe("id", params=Model)` binds a probe id to its function and parameters."""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from cyberstd.clock import Clock
from cyberstd.errors import ScopeError
from cyberstd.messages import Msg
from cyberstd.net.ratelimit import RateLimiter
from cyberstd.paths import portable_name
from cyberstd.results import ProbeOutcome
from cyberstd.schema import ProbeKind

if TYPE_CHECKING:
    from cyberstd.exports import ExportStore
    from cyberstd.net.resolver import Resolver
    from cyberstd.schema import SchoolFile


class ProbeParams(BaseModel):
    """Base of every probe's parameter model: unknown parameters are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetKind(StrEnum):
    """What a probe runs against: each declared host (with a role), each domain, or the school once."""

    HOST = "host"
    DOMAIN = "domain"
    SCHOOL = "school"


@dataclass(frozen=True)
class Target:
    """What one probe run looks at.

    For a host: its name (for SNI, Host and certificate checks), its address, roles, service
    ports (`ports`: service name -> port), the ports the school allows to be open
    (`allowed_ports`, None when it declared none) and its zone. For a domain: the domain
    name, no address. For the school: the school id.
    """

    name: str
    address: str = ""
    roles: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=dict)
    kind: TargetKind = TargetKind.HOST
    allowed_ports: tuple[int, ...] | None = None
    zone: str | None = None

    def port(self, service: str, default: int) -> int:
        return self.ports.get(service, default)


def _loopback_only(name: str, address: str) -> None:
    if not ipaddress.ip_address(address).is_loopback:
        raise ScopeError(f"{name} ({address}) is not in scope")


def _loopback_range_only(network: str) -> None:
    if not ipaddress.ip_network(network).is_loopback:
        raise ScopeError(f"{network} is not in scope")


def _resolver() -> Resolver:
    from cyberstd.net.resolver import Resolver  # dnspython: imported only when a probe needs DNS

    return Resolver()


@dataclass(frozen=True)
class ProbeContext:
    """What a probe may use besides its target and params; passed in, never global.

    `guard(name, address)` must be called before a probe connects to anything it found
    at run time (an MX host, a policy host): it raises ScopeError for what the school did
    not put in scope. `guard_range(cidr)` does the same for a range to sweep. Both refuse
    everything but loopback unless the runner sets them from school.yaml.
    """

    timeout: float = 10.0
    ca_bundle: Path | None = None
    resolver: Resolver = field(default_factory=lambda: _resolver())
    guard: Callable[[str, str], None] = _loopback_only
    guard_range: Callable[[str], None] = _loopback_range_only
    limiter: RateLimiter = field(default_factory=RateLimiter)
    school: SchoolFile | None = None
    school_dir: Path | None = None
    exports: ExportStore | None = None
    clock: Clock = field(kw_only=True)

    @property
    def today(self) -> date:
        """The run's day, for verdicts on ages and expiry dates."""
        return self.clock.today

    def name_of(self, path: Path) -> str:
        """How evidence names a file: relative to the school folder, `catalog:` for the
        catalog's own, never an absolute path (paths.portable_name)."""
        return portable_name(path, self.school_dir)


P = TypeVar("P", bound=ProbeParams)
ProbeFunc = Callable[[Target, Any, ProbeContext], ProbeOutcome]


# A text a preview holds: a catalog message, said in every language, or plain text that is the
# same in every language (a record type, a zone pair) or that only has its English.
Said = Msg | str


@dataclass(frozen=True)
class Reach:
    """One address, range, domain or file that a probe would touch, and the ports it would try
    there (empty when the probe picks them at run time), with a short note."""

    what: str
    ports: tuple[int, ...] = ()
    note: Said = ""


@dataclass(frozen=True)
class Preview:
    """What one probe would touch for one target, found without sending anything.

    `reaches`: what it would probe or read; `refused`: what the scope guard would refuse, with
    the reason; `not_judged`: why the check will give no verdict at all (en, nl), or None;
    `notes`: what it leaves out on purpose (a zone too large to sweep). Reasons and notes are
    catalog messages (`Msg`), which `plan` says in its language, or plain text (`Said`).
    """

    reaches: tuple[Reach, ...] = ()
    refused: tuple[tuple[str, Said], ...] = ()
    not_judged: tuple[str, str] | None = None
    notes: tuple[Said, ...] = ()


PreviewFunc = Callable[[Target, Any, ProbeContext], Preview]
_PREVIEWS: dict[str, PreviewFunc] = {}


def preview_of(probe_id: str) -> Callable[[PreviewFunc], PreviewFunc]:
    """Register how `probe_id` says, without sending anything, what it would touch (see Preview).
    A probe without one is shown by its target alone."""

    def wrap(func: PreviewFunc) -> PreviewFunc:
        if probe_id in _PREVIEWS:
            raise RuntimeError(f"preview of {probe_id!r} registered twice")
        _PREVIEWS[probe_id] = func
        return func

    return wrap


@dataclass(frozen=True)
class ProbeSpec:
    id: str
    func: ProbeFunc
    params: type[ProbeParams]
    kind: ProbeKind
    roles: tuple[str, ...]
    target: TargetKind
    budget: float
    doc: str
    tool: str | None = None


def _roles(role: str | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(role, str):
        return (role,) if role else ()
    return tuple(role)


_REGISTRY: dict[str, ProbeSpec] = {}


def probe(
    probe_id: str,
    *,
    params: type[P],
    kind: ProbeKind = ProbeKind.NETWORK,
    role: str | tuple[str, ...] = (),
    target: TargetKind = TargetKind.HOST,
    budget: float = 3.0,
    tool: str | None = None,
) -> Callable[[Callable[[Target, P, ProbeContext], ProbeOutcome]], ProbeFunc]:
    """Register a probe. Its docstring is the user documentation that `checks show` prints.

    `role` names the host roles it applies to by default (a check may name another);
    `target` says whether it runs per host, per domain or once per school. `budget` bounds
    the whole run at `budget` x the scan's timeout (plus 2 s): raise it for probes that make
    many connections in a row (nmap, DNS walks). `tool` names the program it runs (nmap):
    the runner checks once, before anything is sent, that it is installed.
    """

    def wrap(func: Callable[[Target, P, ProbeContext], ProbeOutcome]) -> ProbeFunc:
        if probe_id in _REGISTRY:
            raise RuntimeError(f"probe {probe_id!r} registered twice")
        _REGISTRY[probe_id] = ProbeSpec(
            id=probe_id,
            func=func,
            params=params,
            kind=kind,
            roles=(role,)
            if isinstance(role, str) and role
            else tuple(role)
            if not isinstance(role, str)
            else (),
            target=target,
            budget=budget,
            doc=inspect.cleandoc(func.__doc__ or ""),
            tool=tool,
        )
        return func

    return wrap


def registered() -> dict[str, ProbeSpec]:
    """The probes registered so far (cyberstd.probes.probes() imports them all first)."""
    return dict(_REGISTRY)


def registered_preview(probe_id: str) -> PreviewFunc | None:
    return _PREVIEWS.get(probe_id)
