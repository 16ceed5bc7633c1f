"""The SPF record itself (RFC 7208 section 4.6): its syntax, parsed as receivers read it.

`mail.spf` (in `spf`) walks what this parses."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from cyberstd.messages import msg
from cyberstd.probes.dns.lookup import domain_name
from cyberstd.probes.mail.records import RecordError

# A record with more terms than this is not a real policy (and would take long to judge).
SPF_MAX_TERMS = 200

_SPF_MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)", re.DOTALL)
_DUAL_CIDR = re.compile(r"(?:/([0-9]{1,2}))?(?://([0-9]{1,3}))?")
_MACRO = re.compile(r"%(?:\{[slodiphcrtvSLODIPHCRTV][0-9]*[rR]?[.\-+,/_=]*\}|[%_\-])")
_QUALIFIER_NAME = {"+": "pass", "": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class SpfSyntaxError(RecordError):
    """An SPF record that receivers reject as a whole (permerror)."""


@dataclass(frozen=True)
class SpfTerm:
    qualifier: str
    name: str
    domain: str | None
    has_macro: bool


@dataclass
class SpfRecord:
    text: str
    mechanisms: list[SpfTerm] = field(default_factory=list)
    redirect: SpfTerm | None = None
    after_all: list[str] = field(default_factory=list)

    @property
    def all(self) -> SpfTerm | None:
        return next((m for m in self.mechanisms if m.name == "all"), None)


def _domain_spec(spec: str, term: str) -> tuple[str, bool]:
    """A checked domain-spec and whether it holds macros (then it cannot be followed here)."""
    if not spec:
        raise SpfSyntaxError(msg("mail.spf.syntax.empty-domain", term=term))
    if "%" in spec:
        if "%" in _MACRO.sub("", spec) or any(not 0x21 <= ord(c) <= 0x7E for c in spec):
            raise SpfSyntaxError(msg("mail.spf.syntax.bad-macro", term=term))
        return spec, True
    try:
        domain_name(spec)
    except ValueError:
        raise SpfSyntaxError(msg("mail.spf.syntax.bad-domain", term=term)) from None
    return spec.rstrip(".").lower(), False


def _check_ip(kind: str, value: str, term: str) -> None:
    address, _, prefix = value.partition("/")
    limit = 32 if kind == "ip4" else 128
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise SpfSyntaxError(msg("mail.spf.syntax.bad-address", term=term)) from None
    if (parsed.version == 4) != (kind == "ip4"):
        raise SpfSyntaxError(msg("mail.spf.syntax.mixed-ip", term=term))
    if prefix and not (prefix.isdigit() and int(prefix) <= limit and prefix == str(int(prefix))):
        raise SpfSyntaxError(msg("mail.spf.syntax.bad-prefix", term=term))


def _mechanism(term: str) -> SpfTerm:
    match = _MECHANISM.fullmatch(term)
    if match is None:
        raise SpfSyntaxError(msg("mail.spf.syntax.not-a-term", term=term))
    qualifier, name, rest = match[1], match[2].lower(), match[3]
    if name not in _SPF_MECHANISMS:
        raise SpfSyntaxError(msg("mail.spf.syntax.unknown-mechanism", name=name, term=term))
    if name == "all":
        if rest:
            raise SpfSyntaxError(msg("mail.spf.syntax.all-argument", term=term))
        return SpfTerm(qualifier, name, None, False)
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(msg("mail.spf.syntax.needs-address", term=term))
        _check_ip(name, rest[1:], term)
        return SpfTerm(qualifier, name, rest[1:], False)
    spec, cidr = rest, ""
    if name in ("a", "mx"):
        cut_at = spec.find("/")
        if cut_at >= 0:
            spec, cidr = spec[:cut_at], spec[cut_at:]
        cidr_match = _DUAL_CIDR.fullmatch(cidr)
        if (
            cidr_match is None
            or (cidr_match[1] and int(cidr_match[1]) > 32)
            or (cidr_match[2] and int(cidr_match[2]) > 128)
        ):
            raise SpfSyntaxError(msg("mail.spf.syntax.bad-prefix", term=term))
    if not spec:
        if name in ("include", "exists"):
            raise SpfSyntaxError(msg("mail.spf.syntax.needs-domain", term=term))
        return SpfTerm(qualifier, name, None, False)
    if not spec.startswith(":"):
        raise SpfSyntaxError(msg("mail.spf.syntax.not-a-term", term=term))
    domain, macro = _domain_spec(spec[1:], term)
    return SpfTerm(qualifier, name, domain, macro)


def parse_spf(text: str) -> SpfRecord:
    """Parse an SPF record (RFC 7208 section 4.6); raises SpfSyntaxError when it is invalid."""
    terms = text.split(" ")
    if terms[0].lower() != "v=spf1":
        raise SpfSyntaxError(msg("mail.spf.syntax.no-version"))
    terms = [t for t in terms[1:] if t]
    if len(terms) > SPF_MAX_TERMS:
        raise SpfSyntaxError(
            msg("mail.spf.syntax.too-many-terms", n=len(terms), limit=SPF_MAX_TERMS)
        )
    record = SpfRecord(text=text)
    seen_modifiers: set[str] = set()
    for term in terms:
        modifier = _MODIFIER.fullmatch(term)
        if modifier is not None:
            name = modifier[1].lower()
            if name in ("redirect", "exp"):
                if name in seen_modifiers:
                    raise SpfSyntaxError(msg("mail.spf.syntax.modifier-twice", name=name))
                seen_modifiers.add(name)
                domain, macro = _domain_spec(modifier[2], term)
                if name == "redirect":
                    record.redirect = SpfTerm("", name, domain, macro)
            continue  # other modifiers are allowed and ignored (RFC 7208 section 6)
        mechanism = _mechanism(term)
        if record.all is not None:
            record.after_all.append(term)
        record.mechanisms.append(mechanism)
    return record


def is_spf(text: str) -> bool:
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")
