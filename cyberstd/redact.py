"""Redaction for sharing: identifying values in results replaced by stable placeholders.

A school may want to share a report (with its board, a supplier, another school) without
handing out a map of its network and a list of its staff. `redact(results)` returns a copy in
which internal IP addresses, the school's host names and domains (and every name under an
internal suffix such as `.local` or `.lan`), accounts (also `DOMAIN\\user`) and e-mail
addresses, the people who attested or approved, the school folder and the user part of local
paths are replaced by placeholders (`ip-1`, `host-1`, `school`, `user-1@school`, `user-2`,
`person-1`, `<school>`). The same
value always gets the same placeholder within one `RedactionMap`, so a host named in a message
and in the evidence stays recognisably the same host. Public facts that identify nobody (check
and control ids, statuses, severities, TLS versions, port numbers, catalog texts) are kept.

What counts as the school's: the domains given, the registrable domain of every host name that
is a finding's target, the domains of the school's Microsoft 365 tenant (`*.onmicrosoft.com`),
every name under an internal suffix (INTERNAL_SUFFIXES: nobody else's network uses those
names), and the e-mail domains under those; when none of these is known, the most frequent
e-mail domain. Other e-mail domains are replaced as `domain-N`. Free text the school wrote itself
(explanations, reasons) is searched for the same values but cannot be searched for names it
has never been told about: read it before sharing.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from cyberstd.results import ControlResult, Finding, Results, WaiverRecord

# Labels of configuration items that are accounts or devices, told apart by the export's kind
# or by what the rule selected.
ACCOUNT_KINDS = frozenset({"entra-users", "entra-directory-roles", "google-users"})
DEVICE_KINDS = frozenset({"intune-devices", "device-inventory"})
ACCOUNT_SELECT = re.compile(
    r"system admin|system\.user|\busers?\b|\bmembers?\b|\badmins?\b|\baccounts?\b", re.I
)
# Account names that every system has; they identify no one and stay as they are.
GENERIC_ACCOUNTS = frozenset(
    {"admin", "administrator", "administrators", "root", "guest", "system", "superuser"}
)
# Second-level labels under which a registrable domain has three labels (school.sch.uk).
SECOND_LEVEL = frozenset(
    {"ac", "co", "com", "edu", "gov", "net", "org", "sch", "k12", "nom", "ltd", "plc"}
)
# Platforms whose sub-domains each belong to one customer (the school's tenant).
TENANT_SUFFIXES = ("onmicrosoft.com", "sharepoint.com")
# Path folders whose name is not a person.
SHARED_HOMES = frozenset({"public", "shared", "default", "default user", "all users"})
# Suffixes of names that exist only inside a private network (RFC 6762, RFC 8375 and common
# practice): a name under one of them is always the school's own.
INTERNAL_SUFFIXES = ("local", "lan", "internal", "intranet", "corp", "home.arpa", "localdomain")
# Windows account domains that every system has; `BUILTIN\\Administrators` identifies no one.
WELL_KNOWN_DOMAINS = frozenset(
    {"builtin", "nt authority", "authority", "nt service", "service", "workgroup", "window manager"}
)
# What the school folder becomes: one neutral name wherever its path appears.
SCHOOL_FOLDER = "<school>"

INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
    )
)

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_TLD = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(
    r"(?<![\w.%+#'-])([\w.%+#'-]+)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63})(?![\w-])"
)
NAME = re.compile(rf"(?<![\w-])(?<![\w-]\.)((?:{_LABEL}\.)+{_TLD})(?![\w-])")
TENANT = re.compile(r"[\w-]+(?:\.mail)?\.(?:onmicrosoft|sharepoint)\.com", re.I)
IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?!\w|\.\d)")
IPV6 = re.compile(
    r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}))"
    r"(%[\w.-]+)?(/\d{1,3})?(?![\w:])"
)
HOME = re.compile(
    r"((?<!\w)(?:/(?:var|usr|export|data|private|mnt/[a-z]))?/(?:home|homes|Users)/"
    r"|(?<![A-Za-z])[A-Za-z]:[\\/]+(?:Users|Documents and Settings)[\\/]+)"
    r"([^/\\\s'\"`:;,()\[\]{}<>]+)",
    re.I,
)
# A NetBIOS-style account, DOMAIN\\user: a domain in capitals (so that a relative Windows path
# like `exports\\fw.conf` is not taken for one) and a user name that ends the path.
NETBIOS = re.compile(
    r"(?<![\w\\.$-])([A-Z][A-Z0-9_-]{0,14})\\(?![\\\s])([\w$-](?:[\w.$-]{0,62}[\w$-])?)"
    r"(?![\w$\\-]|\.\w)"
)
UNC = re.compile(r"(?<![\\\w])\\\\([A-Za-z0-9_][\w-]*)(?=\\)")
ELLIPSIS = re.compile(r"([^\s'\"(\[{<>,;]{4,100})(?=\.\.\.|…)")
RESERVED = re.compile(r"\b(host|ip|user|person|domain|school)-(\d+)\b")
PLACEHOLDER = re.compile(
    r"<school>|(?i:(?:host|ip|user|person|domain|school)-\d+|school)"
    r"(?:@(?:school(?:-\d+)?|domain-\d+|host-\d+))?"
)


def is_placeholder(text: str) -> bool:
    """Whether `text` is already a placeholder (so redacting twice changes nothing)."""
    return PLACEHOLDER.fullmatch(text) is not None


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Private, loopback, link-local or carrier-grade NAT (also as an IPv4-mapped IPv6 address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in INTERNAL_NETWORKS)


def is_internal_name(name: str) -> bool:
    """Whether a host or domain name ends in a suffix that only private networks use."""
    low = name.lower().rstrip(".")
    return any(low.endswith("." + suffix) for suffix in INTERNAL_SUFFIXES)


def registrable(name: str) -> str:
    """The domain a name was registered under: `www.school.be` -> `school.be`, with a short
    list of second-level suffixes (`school.sch.uk`) and tenant platforms (`x.onmicrosoft.com`)."""
    labels = name.lower().rstrip(".").split(".")
    if len(labels) <= 2:
        return ".".join(labels)
    tail = ".".join(labels[-2:])
    if tail == "home.arpa":
        return ".".join(labels[-3:])
    if tail in TENANT_SUFFIXES:
        size = 4 if labels[-3] == "mail" and len(labels) >= 4 else 3
        return ".".join(labels[-size:])
    if labels[-2] in SECOND_LEVEL:
        return ".".join(labels[-3:])
    return tail


def person_name(text: str) -> str | None:
    """The name in an `attested_by`/`approved_by` text ("K. Peeters, ICT coordinator")."""
    head = text.split(" (until ")[0]
    name = head.split(",")[0].strip()
    if len(name) < 2 or "@" in name or is_placeholder(name):
        return None
    return name


class RedactionMap:
    """Original values and their placeholders; grows as new values are met.

    Build one with `mapping_for(results, ...)`; use the same map for several results (or for a
    text rendered from them) to give the same value the same placeholder everywhere."""

    def __init__(
        self,
        *,
        school_domains: Iterable[str] = (),
        check_ids: Iterable[str] = (),
        redact_public_ips: bool = False,
    ) -> None:
        self.redact_public_ips = redact_public_ips
        self.school_domains: list[str] = []
        self.other_domains: list[str] = []
        self.check_ids = frozenset(check_ids)
        self._table: dict[str, str] = {}
        self._originals: dict[str, str] = {}
        self._used: dict[str, set[int]] = {}
        self._literals: dict[str, str] = {}
        self._literal_re: re.Pattern[str] | None = None
        self._folders: list[tuple[re.Pattern[str], str]] = []
        self._folder_paths: set[str] = set()
        for domain in school_domains:
            self.add_school_domain(domain)

    # --- placeholders ------------------------------------------------------------------------

    def reserve(self, text: str) -> None:
        """Keep the numbers of placeholders already in `text` from being given out again."""
        for m in RESERVED.finditer(text):
            self._used.setdefault(m.group(1), set()).add(int(m.group(2)))

    def _new(self, prefix: str) -> str:
        used = self._used.setdefault(prefix, set())
        n = 1
        while n in used:
            n += 1
        used.add(n)
        return prefix if prefix == "school" and n == 1 else f"{prefix}-{n}"

    def _get(self, key: str, original: str, prefix: str) -> str:
        """The placeholder for `key`, given out on first use."""
        if key not in self._table:
            self._table[key] = self._new(prefix)
            self._originals[original.lower()] = self._table[key]
        return self._table[key]

    def items(self) -> list[tuple[str, str]]:
        """(original, placeholder) pairs, for the school's own reference; never share these."""

        def order(kv: tuple[str, str]) -> tuple[str, int, str]:
            prefix, _, number = kv[1].partition("@")[0].rpartition("-")
            return (prefix, int(number), kv[0]) if number.isdigit() else (kv[1], 0, kv[0])

        return sorted(self._originals.items(), key=order)

    # --- what is known -----------------------------------------------------------------------

    def add_school_domain(self, domain: str) -> None:
        """Count `domain` (by its registrable domain) as the school's."""
        reg = registrable(domain)
        if reg and "." in reg and reg not in TENANT_SUFFIXES and reg not in self.school_domains:
            self.school_domains.append(reg)
            if reg in self.other_domains:
                self.other_domains.remove(reg)

    def add_other_domain(self, domain: str) -> None:
        """Count `domain` as someone else's that still identifies (a partner's mail domain)."""
        reg = registrable(domain)
        if reg not in self.school_domains and reg not in self.other_domains:
            self.other_domains.append(reg)

    def add_literal(self, token: str, placeholder: str) -> None:
        """A value replaced wherever it appears as a whole word (host, account, person)."""
        key = token.strip().lower()
        if len(key) < 2 or is_placeholder(token.strip()) or key in self._literals:
            return
        self._literals[key] = placeholder
        self._originals.setdefault(key, placeholder)
        self._literal_re = None

    def add_folder(self, folder: str, placeholder: str = SCHOOL_FOLDER) -> None:
        """A folder replaced as a whole, before anything in its path is (the school's folder).

        Only a folder that names a place on disk (an absolute path, or one with a separator):
        a bare name like `sint-jan` would also hit domains and words."""
        path = folder.rstrip("/\\")
        key = path.lower()
        if len(path) <= 1 or is_placeholder(path) or not re.search(r"[/\\]", path):
            return
        if key in self._folder_paths:
            return
        self._folder_paths.add(key)
        pattern = re.compile(rf"(?<![\w-]){re.escape(path)}(?![\w-])", re.I)
        self._folders.append((pattern, placeholder))
        # the longest first, so a folder inside another is replaced as itself
        self._folders.sort(key=lambda item: -len(item[0].pattern))
        self._originals.setdefault(key, placeholder)

    def host(self, name: str) -> str:
        """The placeholder of a host name that is not under a known domain (`server01`)."""
        placeholder = self._get(f"host:{name.lower()}", name, "host")
        self.add_literal(name, placeholder)
        return placeholder

    def add_user(self, name: str) -> None:
        """An account name that is not an e-mail address (generic names like `admin` stay)."""
        if name.strip().lower() not in GENERIC_ACCOUNTS:
            self.add_literal(name, self._get(f"user:{name.lower()}", name, "user"))

    def add_person(self, name: str) -> None:
        """A person who attested or approved."""
        self.add_literal(name, self._get(f"person:{name.lower()}", name, "person"))

    def _known(self, name: str) -> str | None:
        """The registrable domain of `name` when it is the school's or another known one."""
        reg = registrable(name)
        if is_internal_name(name) and reg not in self.school_domains:
            self.add_school_domain(reg)
        if reg in self.school_domains or reg in self.other_domains:
            return reg
        if reg.endswith(TENANT_SUFFIXES) and reg not in TENANT_SUFFIXES:
            self.add_school_domain(reg)
            return reg
        return None

    # --- replacement -------------------------------------------------------------------------

    def domain(self, domain: str) -> str:
        """The placeholder of a domain: `school` (and `school-2`, ...) or `domain-N`."""
        reg = registrable(domain)
        if is_internal_name(domain) and reg not in self.school_domains:
            self.add_school_domain(reg)
        if reg not in self.school_domains:
            self.add_other_domain(reg)
            return self._get(f"domain:{reg}", reg, "domain")
        return self._get(f"school:{reg}", reg, "school")

    def name(self, name: str) -> str:
        """The placeholder of a host name of a known domain; the domain itself as `domain()`."""
        low = name.lower().rstrip(".")
        if low == registrable(low):
            return self.domain(low)
        return self._get(f"host:{low}", low, "host")

    def email(self, local: str, domain: str) -> str:
        """The placeholder of an e-mail address: `user-N@` and its domain's placeholder."""
        address = f"{local}@{domain}".lower()
        key = f"email:{address}"
        if key not in self._table:
            self._table[key] = f"{self._new('user')}@{self.domain(domain)}"
            self._originals[address] = self._table[key]
        return self._table[key]

    def ip(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        """The placeholder of an address (compared in its normal form)."""
        return self._get(f"ip:{address}", str(address), "ip")

    def apply(self, text: str) -> str:
        """`text` with every value this map knows (or recognises) replaced by its placeholder."""
        if not text:
            return text
        out = text
        for pattern, placeholder in self._folders:
            out = pattern.sub(placeholder, out)
        out = EMAIL.sub(self._email_match, out)
        out = IPV6.sub(self._ipv6_match, out)
        out = IPV4.sub(self._ipv4_match, out)
        out = NAME.sub(self._name_match, out)
        out = HOME.sub(self._home_match, out)
        out = UNC.sub(self._unc_match, out)
        out = NETBIOS.sub(self._netbios_match, out)
        literal = self._literal_pattern()
        if literal is not None:
            out = literal.sub(lambda m: self._literals[m.group(0).lower()], out)
        return ELLIPSIS.sub(self._cut_match, out)

    def _email_match(self, m: re.Match[str]) -> str:
        local, domain = m.group(1), m.group(2)
        if local in self.check_ids:
            # a finding id (check@host), not an address
            return f"{local}@{self.name(domain) if self._known(domain) else domain}"
        return self.email(local, domain)

    def _ipv4_match(self, m: re.Match[str]) -> str:
        try:
            address = ipaddress.IPv4Address(m.group(1))
        except ValueError:
            return m.group(0)
        if not (self.redact_public_ips or is_internal(address)) or address.is_unspecified:
            return m.group(0)
        return self.ip(address) + (m.group(2) or "")

    def _ipv6_match(self, m: re.Match[str]) -> str:
        text = m.group(1)
        tail = ""
        while text and text[-1] in ":." and not text.endswith("::"):
            text, tail = text[:-1], text[-1] + tail
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            return m.group(0)
        if not (self.redact_public_ips or is_internal(address)) or address.is_unspecified:
            return m.group(0)
        return self.ip(address) + tail + (m.group(2) or "") + (m.group(3) or "")

    def _name_match(self, m: re.Match[str]) -> str:
        name = m.group(1)
        if not self._known(name):
            return name
        placeholder = self.name(name)
        if is_internal_name(name):
            self._short_name(name, placeholder)
        return placeholder

    def _short_name(self, name: str, placeholder: str) -> None:
        """The first label of an internal host (`EXCH01` of `EXCH01.school.local`), which
        banners and logs also use alone: the same placeholder, when it looks like a machine
        name (a digit or a hyphen in it) rather than a word like `mail`."""
        first = name.split(".")[0]
        if (
            placeholder.startswith("host-")
            and len(first) >= 4
            and re.search(r"[\d-]", first)
            and not is_placeholder(first)
        ):
            self.add_literal(first, placeholder)

    def _netbios_match(self, m: re.Match[str]) -> str:
        """DOMAIN\\user: the account's placeholder (well-known Windows domains stay)."""
        domain, user = m.group(1), m.group(2)
        if domain.lower() in WELL_KNOWN_DOMAINS or is_placeholder(user):
            return m.group(0)
        return self._get(f"user:{user.lower()}", user, "user")

    def _home_match(self, m: re.Match[str]) -> str:
        user = m.group(2)
        if user.lower() in SHARED_HOMES or is_placeholder(user):
            return m.group(0)
        return m.group(1) + self._get(f"user:{user.lower()}", user, "user")

    def _unc_match(self, m: re.Match[str]) -> str:
        host = m.group(1)
        if is_placeholder(host):
            return m.group(0)
        return "\\\\" + self._get(f"host:{host.lower()}", host, "host")

    def _literal_pattern(self) -> re.Pattern[str] | None:
        if self._literal_re is None and self._literals:
            words = sorted(self._literals, key=len, reverse=True)
            alternation = "|".join(re.escape(w) for w in words)
            self._literal_re = re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-]|\.\w)", re.I)
        return self._literal_re

    def _cut_match(self, m: re.Match[str]) -> str:
        """A value cut short ("j.peeters@demo-sch..."): its start replaced as the whole value."""
        run = m.group(1)
        for i in range(len(run) - 3):
            fragment = run[i:].lower()
            if i and (run[i - 1].isalnum() or run[i - 1] == "_"):
                continue
            for original, placeholder in self._originals.items():
                if original != fragment and original.startswith(fragment):
                    return run[:i] + placeholder
        return run


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON-like value, dictionary keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _selects(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _labels(
    node: Any, kind: str | None = None, select: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    """(label, "account" or "device") for evidence items that name an account or a device."""
    if isinstance(node, list):
        for item in node:
            yield from _labels(item, kind, select)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("kind"), str) and "items" in node:
        kind, select = node["kind"], tuple(_selects(node.get("select")))
    label = node.get("label")
    if isinstance(label, str) and label:
        if kind in ACCOUNT_KINDS or any(ACCOUNT_SELECT.search(s) for s in select):
            yield label, "account"
        elif kind in DEVICE_KINDS:
            yield label, "device"
    for value in node.values():
        if isinstance(value, dict | list):
            yield from _labels(value, kind, select)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return True


def mapping_for(
    *results: Results,
    keep_school: bool = True,
    domains: Iterable[str] = (),
    redact_public_ips: bool = False,
) -> RedactionMap:
    """A redaction map that knows the school's names, accounts and people in `results`."""
    mapping = RedactionMap(
        school_domains=domains,
        check_ids={f.check for r in results for f in r.findings},
        redact_public_ips=redact_public_ips,
    )
    texts = [s for r in results for s in _strings(r.model_dump(mode="json"))]
    for text in texts:
        mapping.reserve(text)
    school_ids = {r.school.id for r in results}
    for r in results:
        if r.school.folder:
            mapping.add_folder(r.school.folder)
    if not keep_school:
        for r in results:
            mapping.add_literal(r.school.id, "school")
            mapping.add_literal(r.school.name, "School")
    for r in results:
        for f in r.findings:
            _learn_target(mapping, f.target, school_ids)
    for text in texts:
        for tenant in TENANT.findall(text):
            mapping.add_school_domain(tenant)
    email_domains = Counter(m.group(2).lower() for t in texts for m in EMAIL.finditer(t))
    if not mapping.school_domains and email_domains:
        mapping.add_school_domain(email_domains.most_common(1)[0][0])
    for text in texts:
        for m in NAME.finditer(text):
            if is_internal_name(m.group(1)):
                mapping.add_school_domain(m.group(1))
    for domain in email_domains:
        if registrable(domain) not in mapping.school_domains:
            mapping.add_other_domain(domain)
    for r in results:
        _learn_findings(mapping, r.findings)
        _learn_people(mapping, r)
    for text in texts:
        for m in NETBIOS.finditer(text):
            if m.group(1).lower() not in WELL_KNOWN_DOMAINS:
                mapping.add_user(m.group(2))
    for text in texts:
        # Give every value a placeholder now, in document order, so that a value cut short
        # before its first full appearance is still recognised.
        mapping.apply(text)
    return mapping


def _learn_target(mapping: RedactionMap, target: str, school_ids: set[str]) -> None:
    if target in ("-", "") or target in school_ids or _is_address(target):
        return
    if "." in target.strip("."):
        mapping.add_school_domain(target)
    else:
        mapping.host(target)


def _learn_findings(mapping: RedactionMap, findings: list[Finding]) -> None:
    for f in findings:
        for label, role in _labels(f.evidence):
            if EMAIL.fullmatch(label) or _is_address(label):
                continue
            if role == "account":
                mapping.add_user(label)
            elif "." in label.strip("."):
                mapping.add_school_domain(label)
            else:
                mapping.host(label)


def _learn_people(mapping: RedactionMap, r: Results) -> None:
    people = [c.attestation.attested_by for c in r.controls if c.attestation is not None]
    people += [c.waiver.approved_by for c in r.controls if c.waiver is not None]
    people += [w.approved_by for w in r.waivers] + [f.waived_by for f in r.findings if f.waived_by]
    for text in people:
        name = person_name(text)
        if name is not None:
            mapping.add_person(name)


def redact_text(text: str, mapping: RedactionMap | None = None) -> str:
    """`text` with identifying values replaced, for formats that do not go through Results.

    With the map of the results the text was made from, the placeholders match the redacted
    results; without one, only what is recognisable by its form is replaced (internal addresses,
    e-mail addresses, user folders in paths)."""
    return (mapping or RedactionMap()).apply(text)


def _deep(value: Any, mapping: RedactionMap) -> Any:
    """A JSON-like value with every string (keys too) redacted."""
    if isinstance(value, str):
        return mapping.apply(value)
    if isinstance(value, list):
        return [_deep(v, mapping) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = mapping.apply(str(k))
            while key in out:
                key += "'"
            out[key] = _deep(v, mapping)
        return out
    return value


def _finding_id(finding_id: str, check: str, mapping: RedactionMap, school: str) -> str:
    if finding_id == check:
        return finding_id
    if finding_id.startswith(check + "@"):
        return f"{check}@{_target(finding_id[len(check) + 1 :], mapping, school)}"
    return mapping.apply(finding_id)


def _target(target: str, mapping: RedactionMap, school: str) -> str:
    """A finding's target: always a placeholder, unless it is none (`-`) or the school kept."""
    if target == "-" or is_placeholder(target):
        return target
    if target == school:
        return mapping.apply(target)
    redacted = mapping.apply(target)
    if redacted == target:
        return mapping.name(target) if "." in target.strip(".") else mapping.host(target)
    return redacted


def _redact_finding(f: Finding, mapping: RedactionMap, school: str) -> Finding:
    def opt(text: str | None) -> str | None:
        return mapping.apply(text) if text is not None else None

    return f.model_copy(
        update={
            "id": _finding_id(f.id, f.check, mapping, school),
            "target": _target(f.target, mapping, school),
            "message": mapping.apply(f.message),
            "messages": {lang: mapping.apply(text) for lang, text in f.messages.items()},
            "evidence": _deep(f.evidence, mapping),
            "warning": opt(f.warning),
            "warning_messages": {k: mapping.apply(v) for k, v in f.warning_messages.items()},
            "error_detail": opt(f.error_detail),
            "waived_by": opt(f.waived_by),
        }
    )


def _redact_control(c: ControlResult, ids: dict[str, str], mapping: RedactionMap) -> ControlResult:
    update: dict[str, Any] = {
        "reason": mapping.apply(c.reason),
        "finding_ids": [ids.get(i) or mapping.apply(i) for i in c.finding_ids],
    }
    if c.attestation is not None:
        a = c.attestation
        update["attestation"] = a.model_copy(
            update={
                "explanation": mapping.apply(a.explanation),
                "attested_by": mapping.apply(a.attested_by),
                "evidence": [{k: mapping.apply(v) for k, v in e.items()} for e in a.evidence],
            }
        )
    if c.waiver is not None:
        update["waiver"] = _redact_waiver(c.waiver, mapping)
    if c.not_applicable_reason is not None:
        update["not_applicable_reason"] = {
            k: mapping.apply(v) for k, v in c.not_applicable_reason.items()
        }
    return c.model_copy(update=update)


def _redact_waiver(w: WaiverRecord, mapping: RedactionMap) -> WaiverRecord:
    texts = {"reason": w.reason, "approved_by": w.approved_by, "scope": w.scope}
    note = {k: mapping.apply(v) for k, v in w.note.items()} if w.note else None
    return w.model_copy(update={k: mapping.apply(v) for k, v in texts.items()} | {"note": note})


def redact(
    results: Results,
    *,
    keep_school: bool = True,
    domains: Iterable[str] = (),
    redact_public_ips: bool = False,
    mapping: RedactionMap | None = None,
) -> Results:
    """A copy of `results` for sharing, with identifying values replaced by stable placeholders.

    `keep_school=False` also replaces the school's own id, name and folder. `domains` adds the
    school's domains when they cannot be inferred (a results with configuration checks only).
    Give `mapping` (from `mapping_for(old, new)`) to redact several results consistently; the
    other options are then the map's. The result validates as Results; redacting it again
    changes nothing."""
    m = mapping or mapping_for(
        results, keep_school=keep_school, domains=domains, redact_public_ips=redact_public_ips
    )
    school = results.school.id
    findings = [_redact_finding(f, m, school) for f in results.findings]
    ids = {old.id: new.id for old, new in zip(results.findings, findings, strict=True)}
    controls = [_redact_control(c, ids, m) for c in results.controls]
    run = results.run.model_copy(
        update={"inputs": {m.apply(k): v for k, v in results.run.inputs.items()}}
    )
    school_ref = results.school.model_copy(
        update={
            "id": m.apply(results.school.id),
            "name": m.apply(results.school.name),
            # always the neutral name: a bare folder name (as results.json now records it)
            # is often the school's own name
            "folder": SCHOOL_FOLDER if results.school.folder else None,
        }
    )
    waivers = [_redact_waiver(w, m) for w in results.waivers]
    copy = results.model_copy(
        update={
            "run": run,
            "school": school_ref,
            "controls": controls,
            "findings": findings,
            "waivers": waivers,
        }
    )
    return Results.model_validate(copy.model_dump())
