"""Pydantic models of every YAML file: catalog, mapping, checks, profiles, school, attestations, waivers."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import unicodedata
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from cyberstd.errors import InvalidValue
from cyberstd.messages import msg
from cyberstd.results import Answer, Severity

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=80)]
NonEmpty = Annotated[
    str,
    StringConstraints(min_length=1, strip_whitespace=True),
    WithJsonSchema({"type": "string", "minLength": 1, "pattern": r"\S"}),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$", to_lower=True)]
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def _host_name(value: str) -> str:
    name = value.rstrip(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise InvalidValue(msg("input.schema.host_name", value=repr(value)))
    return name.lower()


def _ip_address(value: object) -> IPv4Address | IPv6Address:
    if isinstance(value, IPv4Address | IPv6Address):
        return value
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise InvalidValue(msg("input.schema.ip_address", value=repr(value))) from None


def _ip_network(value: object) -> IPv4Network | IPv6Network:
    if isinstance(value, IPv4Network | IPv6Network):
        return value
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            fixed = ipaddress.ip_network(str(value), strict=False)
            said = msg("input.schema.host_bits", value=repr(value), fixed=repr(str(fixed)))
            raise InvalidValue(said) from None
        raise InvalidValue(msg("input.schema.network", value=repr(value))) from None


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: object) -> object:
    """A date as the files write it: YYYY-MM-DD. A bare number is not a date (pydantic would
    read 1788220800 as seconds since 1970), nor is 1/9/2026."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        return value.strip()
    raise InvalidValue(msg("input.schema.day", value=repr(value)))


def _port(value: object) -> object:
    """A TCP port as a plain number: `true` or "443" is not one."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(msg("input.schema.port", value=repr(value)))
    return value


MAX_PATH = 4096
MAX_NAME = 255


def _file_path(value: str) -> str:
    """A path as a file system takes it: no NUL or other control character, no name longer
    than 255 bytes, not longer than 4096 bytes in all."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidValue(msg("input.schema.path_control", value=repr(value)))
    if len(value.encode("utf-8")) > MAX_PATH:
        raise InvalidValue(msg("input.schema.path_long", most=MAX_PATH))
    for part in value.replace("\\", "/").split("/"):
        if len(part.encode("utf-8")) > MAX_NAME:
            raise InvalidValue(msg("input.schema.name_long", name=repr(part[:40]), most=MAX_NAME))
    return value


# What each type below accepts, as JSON Schema (`cyberstd schema`, for editors): as close to the
# validator as a pattern can say; what it cannot say (a host-bits check, a path's length in
# bytes) the loader still refuses with a positioned message.
_NO_CONTROL = r"\u0000-\u001f\u007f"
_LABEL_JS = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
FilePath = Annotated[
    str,
    StringConstraints(min_length=1, strip_whitespace=True),
    AfterValidator(_file_path),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "pattern": f"^[^{_NO_CONTROL}]*[^\\s{_NO_CONTROL}][^{_NO_CONTROL}]*$",
        }
    ),
]
Day = Annotated[
    dt.date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
]
Port = Annotated[
    int,
    BeforeValidator(_port),
    Field(ge=1, le=65535),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 65535}),
]
HostName = Annotated[
    str,
    AfterValidator(_host_name),
    WithJsonSchema(
        {"type": "string", "maxLength": 254, "pattern": f"^{_LABEL_JS}(\\.{_LABEL_JS})*\\.*$"}
    ),
]
IPAddress = Annotated[
    IPv4Address | IPv6Address,
    PlainValidator(_ip_address),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9A-Fa-f:.]+(%[^\\s]+)?$",
            "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
        }
    ),
]
IPNetwork = Annotated[
    IPv4Network | IPv6Network,
    PlainValidator(_ip_network),
    WithJsonSchema({"type": "string", "pattern": "^[0-9A-Fa-f:.]+(/[0-9.]{1,15})?$"}),
]


class ProbeKind(StrEnum):
    """What a probe reads: the network, or configuration exports."""

    NETWORK = "network"
    CONFIG = "config"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class LocalText(Strict):
    """A text in Dutch and English."""

    nl: NonEmpty
    en: NonEmpty

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


# --- catalog ---------------------------------------------------------------------------------


class EvidenceKind(StrEnum):
    PROBE = "probe"
    CONFIG = "config"
    ATTESTATION = "attestation"


class LevelDef(Strict):
    level: int = Field(ge=1, le=20)
    name: LocalText


class Source(Strict):
    publisher: NonEmpty
    title: NonEmpty
    url: str | None = None


class FrameworkMeta(Strict):
    id: Id
    name: LocalText
    version: NonEmpty
    date: Day
    source: Source
    note: LocalText
    control_types: list[Id] = Field(min_length=1)
    levels: list[LevelDef] = Field(min_length=1)
    crosswalk_schemes: dict[Id, LocalText] = Field(default_factory=dict)


class ControlDef(Strict):
    id: Id
    level: int = Field(ge=1)
    type: Id
    title: LocalText
    description: LocalText
    verification: LocalText
    evidence: list[EvidenceKind] = Field(min_length=1)
    crosswalks: dict[Id, list[NonEmpty]] = Field(default_factory=dict)


class ControlsFile(Strict):
    controls: list[ControlDef] = Field(min_length=1)


class AttestationRequired(StrEnum):
    ALWAYS = "always"
    IF_NO_CHECKS = "if_no_checks"
    IF_NO_CONFIG = "if_no_config"
    NEVER = "never"


class AttestationSpec(Strict):
    required: AttestationRequired
    questions: list[LocalText] = Field(default_factory=list)


class EvidencePart(Strict):
    """One part of what a control asks (O7: MFA, a password policy, lockout). Checks evidence
    the part only when one of `covered_by` gave a verdict; an uncovered part, or a part no check
    can cover (`covered_by` empty), still needs the attestation."""

    id: Id
    title: LocalText
    covered_by: list[Id] = Field(default_factory=list)


class MappingEntry(Strict):
    """A control's evidence: `checks` are required (a failure is a gap in the control),
    `recommended` checks are advice (a failure is shown with its remediation and never enters
    the control's status). `parts` say which required checks cover which part of the control;
    `reasons` give, per check, why it is required or recommended for this control."""

    control: Id
    checks: list[Id] = Field(default_factory=list)
    recommended: list[Id] = Field(default_factory=list)
    parts: list[EvidencePart] = Field(default_factory=list)
    reasons: dict[Id, LocalText] = Field(default_factory=dict)
    attestation: AttestationSpec

    @model_validator(mode="after")
    def _apart(self) -> Self:
        both = sorted(set(self.checks) & set(self.recommended))
        if both:
            raise ValueError(f"{', '.join(both)} both required and recommended: choose one")
        ids = [p.id for p in self.parts]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"part {', '.join(twice)} given twice")
        for part in self.parts:
            stray = [c for c in part.covered_by if c not in self.checks]
            if stray:
                raise ValueError(
                    f"part {part.id!r} is covered by {', '.join(stray)}, "
                    "which is not among this control's required checks"
                )
        stray = sorted(set(self.reasons) - set(self.checks) - set(self.recommended))
        if stray:
            raise ValueError(f"a reason for {', '.join(stray)}, which this control does not map")
        return self


class MappingFile(Strict):
    framework: Id
    mappings: list[MappingEntry]


# --- checks and profiles ---------------------------------------------------------------------


class HostRole(StrEnum):
    WEBSITE = "website"
    MAIL = "mail"
    VPN = "vpn"
    FIREWALL = "firewall"
    DNS = "dns"
    SERVER = "server"
    WIFI_CONTROLLER = "wifi-controller"
    NAS = "nas"
    PRINTER = "printer"
    OTHER = "other"


class CheckDef(Strict):
    id: Id
    title: LocalText
    probe: Id
    role: HostRole | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    severity: Severity
    remediation: LocalText


class ChecksFile(Strict):
    checks: list[CheckDef]


class Selection(Strict):
    """A check or a control that a profile adds or removes, always with a reason."""

    check: Id | None = None
    control: Id | None = None
    reason: LocalText

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.check is None) == (self.control is None):
            raise ValueError("give exactly one of 'check' or 'control'")
        return self


class ProfileNotApplicable(Strict):
    control: Id
    reason: LocalText


class Promotion(Strict):
    """A recommended check that a profile requires: for `control`, or for every control it
    advises (a school group that manages DNS centrally can require DNSSEC)."""

    check: Id
    control: Id | None = None
    reason: LocalText


class ProfileDef(Strict):
    id: Id
    title: LocalText
    description: LocalText
    framework: Id
    extends: Id | None = None
    target_level: int | None = Field(default=None, ge=1)
    check_kinds: list[ProbeKind] | None = None
    include: list[Selection] = Field(default_factory=list)
    exclude: list[Selection] = Field(default_factory=list)
    not_applicable: list[ProfileNotApplicable] = Field(default_factory=list)
    params: dict[Id, dict[str, Any]] = Field(default_factory=dict)
    require: list[Promotion] = Field(default_factory=list)


# --- school folder ---------------------------------------------------------------------------


class SchoolInfo(Strict):
    id: Id
    name: NonEmpty
    institution_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,10}$")] | None = None


class HostDef(Strict):
    name: HostName
    address: IPAddress | None = None
    roles: list[HostRole] = Field(min_length=1)
    ports: dict[Id, Port] = Field(default_factory=dict)
    allowed_ports: list[Port] | None = None
    zone: Id | None = None


class ZoneKind(StrEnum):
    """What a zone is for: the segmentation rules speak of kinds, so zone ids can be anything,
    in any language (`administratie`, `wifi-leerlingen`)."""

    PUPILS = "pupils"
    STAFF = "staff"
    ADMINISTRATION = "administration"
    SERVERS = "servers"
    GUESTS = "guests"
    # personal devices of staff and pupils (bring your own device), on a network of their own
    BYOD = "byod"
    MANAGEMENT = "management"
    IOT = "iot"
    DMZ = "dmz"
    OTHER = "other"


class ZoneDef(Strict):
    id: Id
    cidr: IPNetwork
    description: str | None = None
    kind: ZoneKind | None = None

    @property
    def effective_kind(self) -> ZoneKind | None:
        """The zone's kind, or its id when that is a kind's name (pupils, servers, ...)."""
        if self.kind is not None:
            return self.kind
        return ZoneKind(self.id) if self.id in ZoneKind._value2member_map_ else None


class ExportDef(Strict):
    path: FilePath
    kind: Id


class Authorization(Strict):
    """Who allowed scanning which ranges, and when."""

    ranges: list[IPNetwork] = Field(min_length=1)
    authorized_by: NonEmpty
    date: Day
    expires: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        expires_after(self.date, self.expires)
        return self


def expires_after(date: dt.date, expires: dt.date | None) -> None:
    """InvalidValue when an authorisation expires before it was given."""
    if expires is not None and expires < date:
        said = msg("input.schema.expires_before_date", expires=str(expires), date=str(date))
        raise InvalidValue(said)


class SchoolNotApplicable(Strict):
    control: Id
    reason: NonEmpty


class ResolverSettings(Strict):
    """The DNS server the scan asks (split-horizon DNS, a lab): address and port."""

    address: IPAddress
    port: Port = 53


class NetworkSettings(Strict):
    timeout: float = Field(default=10.0, ge=0.1, le=300, allow_inf_nan=False)
    ca_bundle: FilePath | None = None
    vantage_zone: Id | None = None
    resolver: ResolverSettings | None = None
    max_rate: float | None = Field(default=None, ge=0.1, le=10000, allow_inf_nan=False)


class MailSettings(Strict):
    """What DNS cannot tell about the school's mail: the DKIM selectors it signs with."""

    dkim_selectors: dict[HostName, Annotated[list[Id], Field(min_length=1)]] = Field(
        default_factory=dict
    )


_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _object_id(value: str) -> str:
    text = value.strip().lower()
    if not _GUID.match(text):
        raise InvalidValue(msg("input.schema.object_id", value=repr(value)))
    return text


def _org_unit(value: str) -> str:
    text = value.strip()
    if not text.startswith("/") or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidValue(msg("input.schema.org_unit", value=repr(value)))
    text = text.rstrip("/")
    if not text:
        raise InvalidValue(msg("input.schema.org_unit_top"))
    return text


_HEX = "[0-9A-Fa-f]"
ObjectId = Annotated[
    str,
    AfterValidator(_object_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^\\s*{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\\s*$",
        }
    ),
]
OrgUnitPath = Annotated[
    str, AfterValidator(_org_unit), WithJsonSchema({"type": "string", "pattern": "^\\s*/.*[^/\\s]"})
]


class IdentitySettings(Strict):
    """Who is staff and who is a pupil: facts the identity exports name but cannot explain.

    `staff_groups`: the Entra ID groups that together hold all staff (object ids);
    `pupil_groups`: Entra ID groups that hold only pupils; `pupil_domains`: the domains the
    pupils' accounts live on, when those are not the staff's; `pupil_org_units`: the
    pupils' organisational units in Google Workspace (and everything below them);
    `service_accounts`: the Active Directory accounts (sAMAccountName) that run services and
    whose password is documented never to expire."""

    staff_groups: list[ObjectId] | None = Field(default=None, min_length=1)
    pupil_groups: list[ObjectId] | None = Field(default=None, min_length=1)
    pupil_domains: list[HostName] | None = Field(default=None, min_length=1)
    pupil_org_units: list[OrgUnitPath] | None = Field(default=None, min_length=1)
    service_accounts: list[NonEmpty] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _apart(self) -> Self:
        both = sorted(set(self.staff_groups or ()) & set(self.pupil_groups or ()))
        if both:
            raise InvalidValue(msg("input.schema.group_both", group=both[0]))
        return self


class SchoolFile(Strict):
    school: SchoolInfo
    domains: list[HostName] = Field(default_factory=list)
    hosts: list[HostDef] = Field(default_factory=list)
    zones: list[ZoneDef] = Field(default_factory=list)
    exports: list[ExportDef] = Field(default_factory=list)
    scope: list[Authorization] = Field(default_factory=list)
    not_applicable: list[SchoolNotApplicable] = Field(default_factory=list)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    profile: Id | None = None

    @model_validator(mode="after")
    def _pupils_apart(self) -> Self:
        for pupil in self.identity.pupil_domains or []:
            for own in self.domains:
                if own.lower() == pupil.lower() or own.lower().endswith("." + pupil.lower()):
                    said = msg("input.schema.pupil_domain", pupil=pupil, own=own)
                    raise InvalidValue(said)
        return self


class EvidenceFile(Strict):
    path: FilePath
    sha256: Sha256


class AttestationDef(Strict):
    control: Id
    answer: Answer
    explanation: NonEmpty
    evidence: list[EvidenceFile] = Field(default_factory=list)
    attested_by: NonEmpty
    date: Day
    review_by: Day

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.review_by < self.date:
            said = msg(
                "input.schema.review_before_date",
                review_by=str(self.review_by),
                date=str(self.date),
            )
            raise InvalidValue(said)
        return self


class AttestationsFile(Strict):
    attestations: list[AttestationDef] = Field(default_factory=list)


class WaiverDef(Strict):
    control: Id | None = None
    check: Id | None = None
    reason: NonEmpty
    approved_by: NonEmpty
    approved: Day | None = None
    expires: Day

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if (self.check is None) == (self.control is None):
            raise InvalidValue(msg("input.schema.check_or_control"))
        if self.approved is not None and self.expires < self.approved:
            said = msg("input.schema.expires_before_approved", expires=str(self.expires),
                       approved=str(self.approved))  # fmt: skip
            raise InvalidValue(said)
        return self

    @property
    def scope(self) -> str:
        return f"control {self.control}" if self.control else f"check {self.check}"


class WaiversFile(Strict):
    waivers: list[WaiverDef] = Field(default_factory=list)
