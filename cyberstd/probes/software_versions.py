"""What software.outdated knows and reads: the minimum-versions data file, what each open port
says about itself (banner, greeting, HTTP headers), and the products and versions found in it."""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cyberstd.errors import InputError, ProbeError
from cyberstd.messages import msg
from cyberstd.net.banners import BANNER_SOURCES, HEADER_SOURCES, ServiceRead, read_service
from cyberstd.net.nmap import PortResult, clip
from cyberstd.net.tcp import concurrently
from cyberstd.registry import ProbeContext, Target
from cyberstd.versions import Version, parse_version
from cyberstd.yamlsrc import load

# Where the evidence says a version came from when nmap's version detection found it.
NMAP_SV = "nmap -sV"
NMAP_TEXT = "nmap version detection"

# Ports, and names a school gives its ports in school.yaml, that usually speak TLS from the
# first byte, or HTTP: the read starts that way (it tries the other way when that fails).
TLS_PORTS = frozenset({443, 465, 563, 636, 853, 990, 992, 993, 994, 995, 4443, 8443, 10443})
HTTP_PORTS = frozenset({80, 443, 591, 4443, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 10443})
TLS_NAMES = frozenset({"https", "smtps", "submissions", "imaps", "pop3s", "ftps", "ldaps"})
HTTP_NAMES = frozenset({"http", "https", "web", "www", "admin", "webadmin", "mgmt", "management"})


# --- the data file -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://\S+$")


class MinVersion(_Strict):
    """One product: how to recognise it, the oldest supported version, and where that comes from.

    `nmap_product` is matched against the product nmap's version detection names; `header_token`
    (one group: the version) is searched in the Server and X-Powered-By headers and in nmap's
    version text; `banner_token` (one group: the version) in what a service says first (SSH,
    FTP, SMTP, POP3 and IMAP greetings, SMTP's answer to EHLO, other banners).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    nmap_product: str | None = None
    header_token: str | None = None
    banner_token: str | None = None
    minimum: str = Field(min_length=1)
    checked: dt.date
    source: SourceRef
    note: str | None = None

    @field_validator("nmap_product", "header_token", "banner_token")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
            if compiled.groups > 1:
                raise ValueError(f"{value!r} may capture at most one group (the version)")
        return value

    @field_validator("minimum")
    @classmethod
    def _version(cls, value: str) -> str:
        if parse_version(value) is None:
            raise ValueError(f"{value!r} is not a version number")
        return value


class MinVersionsFile(_Strict):
    policy: str = Field(min_length=1)
    entries: list[MinVersion] = Field(min_length=1)


_LOADING = threading.Lock()


@functools.lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> MinVersionsFile:
    try:
        doc = load(path)
    except InputError as exc:
        raise ProbeError(msg("ports.min-versions.unreadable", why=str(exc))) from None
    try:
        return MinVersionsFile.model_validate(doc.data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ProbeError(msg("ports.min-versions.invalid", path=path, why=problems)) from None


def load_min_versions(path: Path) -> MinVersionsFile:
    """The minimum-versions file at `path` (read again only when it changed)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        said = msg("ports.min-versions.missing", path=path, why=str(exc))
        raise ProbeError(said) from None
    with _LOADING:  # one reading for the hosts that start at the same time
        return _load(path, stamp)


# --- products and versions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """A product and version one port revealed, and how they were found."""

    port: int
    entry: MinVersion
    version_text: str
    found_in: str

    @property
    def version(self) -> Version | None:
        return parse_version(self.version_text)

    @property
    def outdated(self) -> bool | None:
        version, minimum = self.version, parse_version(self.entry.minimum)
        if version is None or minimum is None:
            return None
        return version < minimum

    def evidence(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "product": self.entry.name,
            "version": clip(self.version_text, 100),
            "minimum": self.entry.minimum,
            "outdated": self.outdated,
            "found_in": self.found_in,
            "checked": self.entry.checked.isoformat(),
            "source": self.entry.source.url,
        }


def _found(
    port: int, entry: MinVersion, token: str, texts: Iterable[tuple[str, str]]
) -> Iterable[Component]:
    pattern = re.compile(token)
    for where, text in texts:
        for match in pattern.finditer(text):
            version = match.group(1) if pattern.groups else match.group(0)
            yield Component(port, entry, version, where)


def _unique(found: Iterable[Component]) -> list[Component]:
    seen: dict[tuple[str, str], Component] = {}
    for component in found:
        seen.setdefault((component.entry.id, component.version_text), component)
    return list(seen.values())


def _nmap_texts(port: PortResult) -> list[tuple[str, str]]:
    texts = [(NMAP_TEXT, " ".join(x for x in (port.product, port.version, port.extrainfo) if x))]
    server = port.scripts.get("http-server-header")
    if server:
        texts.append(("Server header", server))
    for line in port.scripts.get("http-headers", "").splitlines():
        name, _, value = line.strip().partition(":")
        if name.lower() in {"server", "x-powered-by"}:
            texts.append((f"{name.strip()} header", value.strip()))
    return texts


def components(port: PortResult, data: MinVersionsFile) -> list[Component]:
    """Every product of the data file that nmap's version detection found on `port`."""
    found: list[Component] = []
    for entry in data.entries:
        if entry.nmap_product and port.product and re.search(entry.nmap_product, port.product):
            if port.version:
                found.append(Component(port.port, entry, port.version, NMAP_SV))
            continue
        if entry.header_token:
            found += _found(port.port, entry, entry.header_token, _nmap_texts(port))
    return _unique(found)


def read_components(read: ServiceRead, data: MinVersionsFile) -> list[Component]:
    """Every product of the data file, with its version, in what the service on a port said:
    `banner_token` in its greetings and banners, `header_token` in its HTTP headers."""
    banners = [(s.source, s.text) for s in read.said if s.source in BANNER_SOURCES]
    headers = [(s.source, s.text) for s in read.said if s.source in HEADER_SOURCES]
    found: list[Component] = []
    for entry in data.entries:
        if entry.banner_token:
            found += _found(read.port, entry, entry.banner_token, banners)
        if entry.header_token:
            found += _found(read.port, entry, entry.header_token, headers)
    return _unique(found)


# --- reading the ports -------------------------------------------------------------------------


def read_ports(
    target: Target, ports: Iterable[int], timeout: float, ctx: ProbeContext
) -> list[ServiceRead]:
    """What the service on each port says about itself, every port at the same time; the
    read starts with TLS or HTTP where the port's number or its name in school.yaml says so."""
    names: dict[int, set[str]] = {}
    for name, number in target.ports.items():
        names.setdefault(number, set()).add(name.lower())

    def reader(port: int) -> ServiceRead:
        named = names.get(port, set())
        ctx.limiter.acquire(target.address)
        return read_service(
            target.address,
            port,
            timeout=timeout,
            host_name=target.name,
            tls_first=port in TLS_PORTS or bool(named & TLS_NAMES),
            ask_first=port in HTTP_PORTS or bool(named & HTTP_NAMES),
        )

    return concurrently([functools.partial(reader, port) for port in ports])
