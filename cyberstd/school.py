"""School folder: school.yaml, attestations.yaml and waivers.yaml, cross-checked; the scope guard."""

from __future__ import annotations

import functools
import ipaddress
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cyberstd.catalog import Catalog
from cyberstd.errors import InputError, Problem, ScopeError
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import ExportKind
from cyberstd.messages import Msg, msg
from cyberstd.paths import display_path, portable_name
from cyberstd.schema import (
    AttestationDef,
    AttestationsFile,
    Authorization,
    SchoolFile,
    WaiverDef,
    WaiversFile,
    ZoneKind,
)
from cyberstd.scope import (
    WIDEST_V4,
    WIDEST_V6,
    Network,
    carries_ipv4,
    is_public,
    never_a_target,
    never_scanned,
    reached,
    too_wide,
    why_never,
)
from cyberstd.validation import parse, suggest
from cyberstd.yamlsrc import Document, load, sha256_file

SCHOOL_FILE = "school.yaml"
ATTESTATIONS_FILE = "attestations.yaml"
WAIVERS_FILE = "waivers.yaml"


@dataclass
class SchoolFolder:
    dir: Path
    school: SchoolFile
    attestations: dict[str, AttestationDef] = field(default_factory=dict)
    waivers: list[WaiverDef] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    # Attestations that do not count, by control: an evidence file changed since it was
    # attested. Only that attestation is affected (the control is then judged without it);
    # `validate` shows each as a notice, `cyberstd attest --rehash` records the new file.
    void: dict[str, Problem] = field(default_factory=dict)
    # Where each waiver stands in waivers.yaml, by its scope ("control O7"), for notices.
    waiver_places: dict[str, Problem] = field(default_factory=dict)
    # exports the school's group shares (group.yaml), besides those school.yaml lists
    shared_exports: list[ExportFile] = field(default_factory=list)

    def resolve(self, relative: str) -> Path:
        return (self.dir / relative).resolve()

    def export_store(self, kinds: dict[str, ExportKind]) -> ExportStore:
        """The configuration exports that school.yaml lists, ready to be parsed (once each)."""
        files = [
            ExportFile(self.resolve(e.path), Path(e.path).as_posix(), e.kind)
            for e in self.school.exports
        ]
        return ExportStore(kinds, files + self.shared_exports)


MAX_CA_BUNDLE = 16 * 1024 * 1024
# Service names whose port the probes read from a host's `ports` (web and mail TLS). Other
# names declare a service the school runs on purpose (nas-admin: 5000), unless they are a
# near miss of one of these.
SERVICES = ("https", "smtp", "submission", "smtps", "imap", "imaps")
# Other services a school declares by their usual names: never taken for a typo.
OTHER_SERVICES = frozenset(
    [
        "http",
        "ssh",
        "sftp",
        "ftp",
        "ftps",
        "dns",
        "ldap",
        "ldaps",
        "kerberos",
        "rdp",
        "vnc",
        "snmp",
        "pop3",
        "pop3s",
        "smb",
        "cifs",
        "nfs",
        "telnet",
        "ntp",
        "mysql",
        "postgres",
        "mssql",
        "syslog",
        "radius",
        "ipp",
        "printer",
        "winrm",
    ]
)


def ca_bundle_problem(path: Path) -> tuple[str, Msg] | None:
    """(code, message) when a file cannot serve as a CA bundle: missing, too large, or not one
    or more PEM certificates (a private key, DER, random bytes); None when it can."""
    try:
        if not path.is_file():
            return "missing-file", msg("input.ca.missing")
        if path.stat().st_size > MAX_CA_BUNDLE:
            return "too-large", msg("input.ca.too_large", most=MAX_CA_BUNDLE)
        data = path.read_bytes()
    except OSError as exc:
        return "missing-file", msg("input.ca.unreadable", reason=exc.strerror or exc)
    import warnings

    from cryptography import x509

    try:
        with warnings.catch_warnings():  # old CA certificates with quirks (negative serials)
            warnings.simplefilter("ignore")
            found = x509.load_pem_x509_certificates(data)
    except ValueError:
        found = []
    if not found:
        return "not-a-ca-bundle", msg("input.ca.not_pem")
    return None


def _load(path: Path, inputs: dict[str, str], problems: list[Problem]) -> Document | None:
    try:
        doc = load(path, display_path(path))
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    inputs[path.name] = doc.sha256
    return doc


def load_school(
    folder: Path, catalog: Catalog, today: date
) -> tuple[SchoolFolder | None, list[Problem]]:
    """Load a school folder; return it (None when school.yaml is unusable) and every problem.
    Dates (attestations, waivers, scope authorisations) are judged as of `today`, the run's day."""
    problems: list[Problem] = []
    inputs: dict[str, str] = {}
    school_path = folder / SCHOOL_FILE
    if not folder.is_dir():
        said = msg("input.school.no_folder")
        return None, [Problem.of(display_path(folder), 1, 1, "missing-file", said)]
    if not school_path.exists():
        said = msg("input.school.no_file")
        return None, [Problem.of(display_path(school_path), 1, 1, "missing-file", said)]
    doc = _load(school_path, inputs, problems)
    school = None
    if doc is not None:
        school, found = parse(doc, SchoolFile)
        problems.extend(found)
        if school is not None:
            problems.extend(_school_problems(folder, doc, school, catalog, today, inputs))
    attestations: dict[str, AttestationDef] = {}
    void: dict[str, Problem] = {}
    att_path = folder / ATTESTATIONS_FILE
    problems.extend(_broken_link(att_path))
    if att_path.exists():
        att_doc = _load(att_path, inputs, problems)
        if att_doc is not None:
            model, found = parse(att_doc, AttestationsFile)
            problems.extend(found)
            if model is not None:
                attestations = _check_attestations(
                    folder, att_doc, model, catalog, today, inputs, problems, void
                )
    waivers: list[WaiverDef] = []
    places: dict[str, Problem] = {}
    waiver_path = folder / WAIVERS_FILE
    problems.extend(_broken_link(waiver_path))
    if waiver_path.exists():
        w_doc = _load(waiver_path, inputs, problems)
        if w_doc is not None:
            w_model, found = parse(w_doc, WaiversFile)
            problems.extend(found)
            if w_model is not None:
                waivers = _check_waivers(w_doc, w_model, catalog, today, problems)
                places = {w.scope: w_doc.problem(["waivers", i], "waiver", "") for i, w in
                          enumerate(w_model.waivers)}  # fmt: skip
    if school is None:
        return None, problems
    return SchoolFolder(folder, school, attestations, waivers, inputs, void, places), problems


def _broken_link(path: Path) -> list[Problem]:
    """A link that leads nowhere is a problem, not an absent file: the school meant one."""
    if path.is_symlink() and not path.exists():
        said = msg("input.school.broken_link", name=path.name, target=repr(os.readlink(path)))
        return [Problem.of(display_path(path), 1, 1, "missing-file", said)]
    return []


def _range_problem(network: Network) -> tuple[str, Msg] | None:
    """(code, message) when a scope range cannot be authorised, else None."""
    if too_wide(network):
        said = msg("input.scope.too_wide", network=network, v4=WIDEST_V4, v6=WIDEST_V6)
        return "scope-too-wide", said
    if carries_ipv4(network):
        return "scope-wrapped", msg("input.scope.wrapped", network=network)
    why = never_scanned(network)
    if why:
        return "scope-invalid", msg("input.scope.never", network=network, why=why)
    return None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _outside(folder: Path, relative: str) -> Msg | None:
    """Why an export path leads out of the school folder (absolute, `..`, a link), or None."""
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        return msg("input.export.not_relative", path=repr(relative))
    try:
        resolved = (folder / relative).resolve()
        inside = resolved.is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a link loop
        return msg("input.export.link_loop", path=repr(relative))
    if not inside:
        return msg("input.export.link_out", path=repr(relative))
    return None


def _school_problems(
    folder: Path,
    doc: Document,
    school: SchoolFile,
    catalog: Catalog,
    today: date,
    inputs: dict[str, str],
) -> list[Problem]:
    out: list[Problem] = []
    names: set[str] = set()
    zones = {z.id for z in school.zones}
    for i, host in enumerate(school.hosts):
        if host.name.lower() in names:
            said = msg("input.school.host_twice", host=repr(host.name))
            out.append(doc.problem(["hosts", i, "name"], "duplicate-id", said))
        names.add(host.name.lower())
        if host.zone is not None and host.zone not in zones:
            said = msg(
                "input.school.unknown_zone", zone=repr(host.zone), hint=suggest(host.zone, zones)
            )
            out.append(doc.problem(["hosts", i, "zone"], "unknown-id", said))
    seen_zones: set[str] = set()
    for i, zone in enumerate(school.zones):
        if zone.id in seen_zones:
            said = msg("input.school.zone_twice", zone=repr(zone.id))
            out.append(doc.problem(["zones", i, "id"], "duplicate-id", said))
        seen_zones.add(zone.id)
    if school.network.vantage_zone is not None:  # segmentation scans: rules speak of kinds
        kinds = ", ".join(k.value for k in ZoneKind)
        for i, zone in enumerate(school.zones):
            if zone.effective_kind is None:
                said = msg("input.school.zone_kind", zone=repr(zone.id), kinds=kinds)
                out.append(doc.problem(["zones", i, "id"], "missing-field", said))
    vantage = school.network.vantage_zone
    if vantage is not None and vantage not in zones:
        said = msg("input.school.unknown_zone", zone=repr(vantage), hint=suggest(vantage, zones))
        out.append(doc.problem(["network", "vantage_zone"], "unknown-id", said))
    if school.network.ca_bundle is not None:
        wrong = ca_bundle_problem(folder / school.network.ca_bundle)
        if wrong is not None:
            code, why = wrong
            said = msg("input.ca.bundle", path=repr(school.network.ca_bundle), why=why)
            out.append(doc.problem(["network", "ca_bundle"], code, said))
    for i, export in enumerate(school.exports):
        if catalog.kinds and export.kind not in catalog.kinds:
            said = msg(
                "input.export.unknown_kind",
                kind=repr(export.kind),
                hint=suggest(export.kind, catalog.kinds),
            )
            out.append(doc.problem(["exports", i, "kind"], "unknown-id", said))
        outside = _outside(folder, export.path)
        if outside is not None:
            out.append(doc.problem(["exports", i, "path"], "outside-folder", outside))
        elif (folder / export.path).is_file():
            inputs[Path(export.path).as_posix()] = sha256_file(folder / export.path)
        else:
            what = "folder" if (folder / export.path).is_dir() else "missing"
            if (folder / export.path).exists() and what == "missing":
                what = "not_a_file"
            said = msg(f"input.export.{what}", path=repr(export.path))
            out.append(doc.problem(["exports", i, "path"], "missing-file", said))
    domains = {d.rstrip(".") for d in school.domains}
    for domain in school.mail.dkim_selectors:
        if domain not in domains:
            said = msg(
                "input.school.dkim_domain", domain=repr(domain), hint=suggest(domain, domains)
            )
            out.append(
                doc.problem(["mail", "dkim_selectors", domain], "unknown-id", said, key=True)
            )
    seen_domains: set[str] = set()
    for i, domain in enumerate(school.domains):
        if domain in seen_domains:
            said = msg("input.school.domain_twice", domain=repr(domain))
            out.append(doc.problem(["domains", i], "duplicate-id", said))
        seen_domains.add(domain)
        bad_domain = domain_problem(domain)
        if bad_domain is not None:
            out.append(doc.problem(["domains", i], "public-suffix", bad_domain))
    for i, host in enumerate(school.hosts):
        for service in host.ports:
            if service in SERVICES or service.casefold() in OTHER_SERVICES:
                continue
            hint = suggest(service, SERVICES)
            if hint:  # htps, HTTPS: the default port would be probed instead
                said = msg("input.school.service", service=repr(service), hint=hint)
                out.append(
                    doc.problem(["hosts", i, "ports", service], "unknown-id", said, key=True)
                )
        never = never_a_target(host.address) if host.address is not None else None
        if never:
            said = msg("input.scope.no_target", address=host.address, why=never)
            out.append(doc.problem(["hosts", i, "address"], "scope-invalid", said))
        elif host.address is not None:
            try:  # what scan would refuse, validate says now
                authorize(school, host.name, str(host.address), today)
            except ScopeError as exc:
                refused = exc.said or str(exc)
                out.append(doc.problem(["hosts", i, "address"], "out-of-scope", refused))
    for i, auth in enumerate(school.scope):
        for j, network in enumerate(auth.ranges):
            wrong = _range_problem(network)
            if wrong is not None:
                out.append(doc.problem(["scope", i, "ranges", j], *wrong))
        if auth.date > today:
            said = msg("input.scope.future", date=str(auth.date))
            out.append(doc.problem(["scope", i, "date"], "date", said))
    if school.profile is not None and school.profile not in catalog.profiles:
        said = msg(
            "input.school.unknown_profile",
            profile=repr(school.profile),
            hint=suggest(school.profile, catalog.profiles),
        )
        out.append(doc.problem(["profile"], "unknown-id", said))
    known = catalog.all_control_ids()
    for i, na in enumerate(school.not_applicable):
        if na.control not in known:
            said = msg(
                "input.school.unknown_control",
                control=repr(na.control),
                hint=suggest(na.control, known, close=False),
            )
            out.append(doc.problem(["not_applicable", i, "control"], "unknown-id", said))
    return out


def _check_attestations(
    folder: Path,
    doc: Document,
    model: AttestationsFile,
    catalog: Catalog,
    today: date,
    inputs: dict[str, str],
    problems: list[Problem],
    void: dict[str, Problem],
) -> dict[str, AttestationDef]:
    known = catalog.all_control_ids()
    out: dict[str, AttestationDef] = {}
    root = folder.resolve()
    for i, att in enumerate(model.attestations):
        if att.control not in known:
            hint = suggest(att.control, known, close=False)
            said = msg("input.attest.unknown_control", control=repr(att.control), hint=hint)
            problems.append(doc.problem(["attestations", i, "control"], "unknown-id", said))
            continue
        if att.control in out:
            said = msg("input.attest.twice", control=repr(att.control))
            problems.append(doc.problem(["attestations", i, "control"], "duplicate-id", said))
            continue
        if att.date > today:
            said = msg("input.attest.future", date=str(att.date))
            problems.append(doc.problem(["attestations", i, "date"], "date", said))
        for j, ev in enumerate(att.evidence):
            loc: list[int | str] = ["attestations", i, "evidence", j, "path"]
            try:
                path = (folder / ev.path).resolve()
            except (OSError, RuntimeError):  # a link loop
                said = msg("input.evidence.loop", path=repr(ev.path))
                problems.append(doc.problem(loc, "evidence-missing", said))
                continue
            if not path.is_relative_to(root):
                said = msg("input.evidence.outside", path=repr(ev.path))
                problems.append(doc.problem(loc, "evidence-outside", said))
                continue
            if not path.is_file():
                said = msg("input.evidence.missing", path=repr(ev.path))
                problems.append(doc.problem(loc, "evidence-missing", said))
                continue
            try:
                actual = sha256_file(path)
            except OSError as exc:
                said = msg(
                    "input.evidence.unreadable", path=repr(ev.path), reason=exc.strerror or exc
                )
                problems.append(doc.problem(loc, "evidence-missing", said))
                continue
            inputs[portable_name(path, root)] = actual
            if actual != ev.sha256:
                said = msg(
                    "input.evidence.changed",
                    path=repr(ev.path),
                    date=att.date,
                    actual=actual[:12],
                    recorded=ev.sha256[:12],
                    control=att.control,
                )
                # only this attestation stops counting
                void[att.control] = doc.problem(loc, "evidence-changed", said)
        out[att.control] = att
    return out


def _check_waivers(
    doc: Document, model: WaiversFile, catalog: Catalog, today: date, problems: list[Problem]
) -> list[WaiverDef]:
    known = catalog.all_control_ids()
    out: list[WaiverDef] = []
    seen: dict[str, int] = {}
    for i, waiver in enumerate(model.waivers):
        key = "control" if waiver.control is not None else "check"
        if waiver.scope in seen:
            said = msg(
                "input.waiver.twice", scope=waiver_scope(waiver), entry=seen[waiver.scope] + 1
            )
            problems.append(doc.problem(["waivers", i, key], "duplicate-id", said))
            continue
        seen[waiver.scope] = i
        if waiver.approved is not None and waiver.approved > today:
            said = msg("input.waiver.future", date=str(waiver.approved))
            problems.append(doc.problem(["waivers", i, "approved"], "date", said))
        if waiver.control is not None and waiver.control not in known:
            hint = suggest(waiver.control, known, close=False)
            said = msg("input.waiver.unknown_control", control=repr(waiver.control), hint=hint)
            problems.append(doc.problem(["waivers", i, "control"], "unknown-id", said))
            continue
        if waiver.check is not None and waiver.check not in catalog.checks:
            hint = suggest(waiver.check, catalog.checks)
            said = msg("input.waiver.unknown_check", check=repr(waiver.check), hint=hint)
            problems.append(doc.problem(["waivers", i, "check"], "unknown-id", said))
            continue
        out.append(waiver)
    return out


def waiver_scope(waiver: WaiverDef) -> Msg:
    """What a waiver is for, in words: control O7, check web.hsts."""
    if waiver.control is not None:
        return msg("input.waiver.of_control", control=waiver.control)
    return msg("input.waiver.of_check", check=waiver.check)


def domain_problem(domain: str) -> Msg | None:
    """Why `domain` cannot be a school's own domain (an address, a single label, a public
    suffix), or None."""
    if "." not in domain or _is_address(domain):
        return msg("input.school.not_a_domain", domain=repr(domain))
    if _public_suffix(domain):
        return msg("input.school.public_suffix", domain=repr(domain))
    return None


def _public_suffix(domain: str) -> bool:
    """A single label or a suffix under which the public registers names (be, ac.uk,
    github.io, ...), after the Public Suffix List."""
    name = domain.lower().rstrip(".")
    return "." not in name or bool(_suffix_list().is_public(name))


@functools.cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList  # its list is read once, when first needed

    return PublicSuffixList()


def _declared(school: SchoolFile, name: str) -> bool:
    """A declared host, a declared domain, or a name under a declared domain."""
    wanted = name.lower().rstrip(".")
    if any(h.name == wanted for h in school.hosts):
        return True
    return any(
        wanted == d or wanted.endswith("." + d)
        for d in (d.lower().rstrip(".") for d in school.domains)
    )


def _covering(
    school: SchoolFile, network: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> list[Authorization]:
    """The authorisations with a range that holds all of `network`, expired or not."""
    return [
        auth
        for auth in school.scope
        if any(network.version == net.version and network.subnet_of(net) for net in auth.ranges)  # type: ignore[arg-type]
    ]


def _authorised(
    school: SchoolFile, network: ipaddress.IPv4Network | ipaddress.IPv6Network, today: date
) -> bool:
    return any(auth.expires is None or auth.expires >= today for auth in _covering(school, network))


def _expired_cover(
    school: SchoolFile, network: ipaddress.IPv4Network | ipaddress.IPv6Network, today: date
) -> Msg | None:
    """Why an authorisation that covers `network` no longer counts, or None."""
    for auth in _covering(school, network):
        if auth.expires is not None and auth.expires < today:
            return msg("scope.expired", by=auth.authorized_by, date=str(auth.expires))
    return None


def authorize(school: SchoolFile, host_name: str, address: str, today: date) -> None:
    """Refuse, before any packet is sent, a target that the school has not put in scope.

    The name must be a host declared in school.yaml, or lie under one of its domains. A
    non-public address (private, loopback, link-local, ...) must also lie in a range that
    someone authorised, and that authorisation must not have expired on `today`.
    """
    if not _declared(school, host_name):
        raise ScopeError(msg("scope.undeclared", host=host_name))
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ScopeError(msg("scope.not-an-ip", host=host_name, address=repr(address))) from None
    never = why_never(ip)
    if never is not None:  # a DNS answer of 0.0.0.0 (a blocked name) would scan this machine
        raise ScopeError(msg("scope.never", host=host_name, address=address, why=never))
    # judged by what the packets reach: the IPv4 address inside an IPv6 wrapper, never the wrapper
    for target in reached(ip):
        if is_public(target) or _authorised(school, ipaddress.ip_network(target), today):
            continue
        shown = address if target == ip else msg("scope.reaches", address=address, to=str(target))
        expired = _expired_cover(school, ipaddress.ip_network(target), today)
        then = expired or msg("scope.add-the-range")
        raise ScopeError(msg("scope.internal", host=host_name, shown=shown, then=then))


def authorize_range(school: SchoolFile, cidr: str, today: date) -> None:
    """Refuse to sweep a range that does not lie wholly inside an authorised range."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise ScopeError(msg("scope.not-a-network", cidr=repr(cidr))) from None
    if carries_ipv4(network):
        raise ScopeError(msg("scope.carries-ipv4", network=str(network)))
    if not _authorised(school, network, today):
        then = _expired_cover(school, network, today) or msg("scope.add-it")
        raise ScopeError(msg("scope.range-outside", network=str(network), then=then))
