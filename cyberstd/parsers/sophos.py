"""Sophos Firewall (SFOS, XG/XGS) configuration in the XML API's format, read with defusedxml.

Two files hold it: `Entities.xml` from the archive that Backup & firmware > Import export >
Export configuration writes (root `<Configuration APIVersion=...>`), and the XML API's answer
to `<Get>` requests (root `<Response APIVersion=...>`). Both list one element per entity
(`<Zone>`, `<Interface>`, `<FirewallRule>`, `<LocalServiceACL>`, `<SyslogServers>`, ...). The
element tree is built by the safe XML reader (xmltree.py); this module adds what the rules
need: which zones face the internet, what each firewall rule lets through, and the firmware.
"""

from __future__ import annotations

import re

from cyberstd.parsers import parser
from cyberstd.parsers.base import REDACTED, Node, ParseError, Source
from cyberstd.parsers.xmltree import TreeBuilder, items, read_tree, text

ROOTS = ("Configuration", "Response")
# The zones SFOS creates itself; their names cannot change and only "WAN" is of type WAN.
_BUILT_IN = {"wan": "wan", "lan": "lan", "dmz": "dmz", "vpn": "vpn", "local": "local"}
# Device access services that manage the firewall (the web admin console, SSH, SNMP).
_ADMIN_SERVICES = ("AdminServices", "HTTPS", "SSH", "SNMP")
# Web policies that filter nothing: none at all, and SFOS's built-in "Allow All".
_NO_WEB_FILTER = ("none", "allow all")
_API_VERSION = re.compile(r"^(\d{1,2})(\d{2})\.\d+$")


def _wrong_root(shown: str) -> str:
    return (
        f"not a Sophos Firewall configuration: the root element is <{shown}>, expected "
        "<Configuration> (Entities.xml of an exported configuration) or <Response> "
        "(an XML API answer)"
    )


@parser("sophos")
def parse_sophos(source: Source) -> Node:
    """A Sophos Firewall `Entities.xml` or XML API `<Response>`: the root's children by tag.

    The element tree is built as for `pfsense`: a tag that repeats becomes a list (`Zone`,
    `Interface`), one that appears once a single node; empty elements are ""; attributes are
    "@name" keys (`@transactionid`, `@APIVersion`); every node is at its start tag's line. An
    API answer's `<Login>` must say the sign-in succeeded, and an entity that only says "No.
    of records Zero." is left out. Added for the rules:

    - the root: `wan-zones` (zones of type WAN, and the built-in zone "WAN" when a rule or
      interface names it), `wan-interfaces` (interfaces in such a zone), `firmware` (the
      release line, "19.5" from an export's `APIVersion="1905.1"`; an API answer echoes the
      version the client asked for, so it gives none), `full-export: "yes"` for an
      `Entities.xml` and `answers` (["all"] for an `Entities.xml`, else the entities the API
      answer holds: a check of one it does not hold is not judged);
    - every `Zone`: `role-effective` (its type, lowercased) and `admin-services` (the device
      access services that manage the firewall, "HTTPS, SSH, SNMP"; left out when none);
    - every `Interface`: `role-effective` and `role-reason` from its zone;
    - every `LocalServiceACL`: `source-role` ("any" without a zone) and `admin-services`;
    - every `FirewallRule` (its `NetworkPolicy` or `UserPolicy`): `action-effective`,
      `log-traffic`, `source-zones`/`destination-zones` (["Any"] when none is listed),
      `source-roles`/`destination-roles`, `any-source-network`, `any-destination-network`,
      `any-service` (true when the list is empty or holds "Any") and `web-filter` (the web
      policy, left out when "None" or the built-in "Allow All", which filters nothing).

    Passwords, password hashes, pre-shared keys, the export's `TOKEN`, SNMP community names
    (they are the community strings) and SNMPv3 passwords are redacted.
    """
    file = source.display
    builder = TreeBuilder(file, ROOTS, _wrong_root)
    root = read_tree(source, builder)
    if not isinstance(root.value, dict):
        raise ParseError(file, "the root element holds no configuration", root.line)
    _check_login(root)
    # what an API answer was asked for, an entity with no records included ("none" is known)
    asked = [k for k in root.value if k[0].isupper() and k not in ("Login", "Status")]
    _drop_empty_answers(root)
    _redact(root)
    _annotate(root)
    if builder.root_tag == "Configuration":
        _annotate_export(root)
    else:
        _put(root, "answers", asked)
    return root


def _texts(node: Node | None, tag: str) -> list[Node]:
    """The text children `tag` of a list element (`<SourceZones><Zone>LAN</Zone>...`)."""
    if node is None or not isinstance(node.value, dict):
        return []
    found = node.get(tag)
    if found is None:
        return []
    nodes = found.value if isinstance(found.value, list) else [found]
    return [n for n in nodes if text(n)]


def _put(node: Node, key: str, value: object, at: Node | None = None) -> None:
    """Add a derived value to a mapping, at the line of `at` (else of the node)."""
    where = at or node
    if isinstance(value, list):
        made = Node([Node(v, where.file, where.line) for v in value], where.file, where.line)
    else:
        made = Node(value, where.file, where.line)
    node.value[key] = made


def _check_login(root: Node) -> None:
    """An API answer whose sign-in failed holds no configuration: say so."""
    login = root.get("Login")
    status = text(login.get("status")) if login is not None else ""
    if status and "successful" not in status.lower():
        raise ParseError(
            root.file,
            f"the XML API refused the request ({status[:60]}): the answer holds no "
            "configuration; check the API user and the allowed IP addresses",
            login.line if login is not None else root.line,
        )


def _drop_empty_answers(root: Node) -> None:
    """Leave out `<FirewallRule><Status>No. of records Zero.</Status></FirewallRule>`: an API
    answer that there are none is no entity (the rules then count zero, not one)."""
    for tag in list(root.value):
        if tag.startswith(("@", "#")):
            continue
        node = root.value[tag]
        kept = [
            n
            for n in (node.value if isinstance(node.value, list) else [node])
            if not (isinstance(n.value, dict) and _only_status(n))
        ]
        if not kept:
            del root.value[tag]
        elif isinstance(node.value, list):
            node.value = kept


def _only_status(entity: Node) -> bool:
    keys = [k for k in entity.value if not k.startswith("@")]
    return keys == ["Status"] or keys == ["status"]


def _redact(root: Node) -> None:
    """Secrets that the generic redaction cannot tell by name."""
    if "@TOKEN" in root.value:
        root.value["@TOKEN"].value = REDACTED
    for entity in items(root.get("SNMPCommunity")):
        name = entity.get("Name")
        if name is not None and text(name):
            name.value = REDACTED


def _zone_roles(root: Node) -> dict[str, str]:
    """Each zone's role (its type, lowercased), by the zone's name folded."""
    roles: dict[str, str] = {}
    for zone in items(root.get("Zone")):
        name = text(zone.get("Name"))
        kind = text(zone.get("Type")).lower() or _BUILT_IN.get(name.lower(), "")
        if name and kind:
            roles[name.lower()] = kind
            _put(zone, "role-effective", kind)
        services = _zone_admin_services(zone)
        if services:
            access = zone.get("ApplianceAccess") or zone
            _put(zone, "admin-services", ", ".join(services), access)
    return roles


def _zone_admin_services(zone: Node) -> list[str]:
    access = zone.get("ApplianceAccess")
    found: list[str] = []
    admin = access.get("AdminServices") if access is not None else None
    if admin is not None and isinstance(admin.value, dict):
        found += [k for k, v in admin.value.items() if text(v).lower() == "enable"]
    other = access.get("OtherServices") if access is not None else None
    snmp = other.get("SNMP") if other is not None else None
    if text(snmp).lower() == "enable":
        found.append("SNMP")
    return found


def _role(name: str, roles: dict[str, str]) -> str:
    folded = name.lower()
    return roles.get(folded) or _BUILT_IN.get(folded) or ("any" if folded == "any" else "unknown")


def _is_any(values: list[str]) -> bool:
    return not values or any(v.lower() == "any" for v in values)


def _annotate(root: Node) -> None:
    roles = _zone_roles(root)
    rules = items(root.get("FirewallRule"))
    acls = items(root.get("LocalServiceACL"))
    interfaces = items(root.get("Interface"))
    named = [
        n
        for rule in rules
        for part in (_policy(rule),)
        if part is not None
        for tag in ("SourceZones", "DestinationZones")
        for n in _texts(part.get(tag), "Zone")
    ]
    named += [n for acl in acls if (n := acl.get("SourceZone")) is not None and text(n)]
    named += [n for i in interfaces if (n := i.get("NetworkZone")) is not None and text(n)]
    wan = [z for z in items(root.get("Zone")) if roles.get(text(z.get("Name")).lower()) == "wan"]
    wan_names = [Node(text(z.get("Name")), z.file, z.line) for z in wan]
    if not wan_names:  # a partial answer without zones: the built-in WAN zone, where named
        first = next((n for n in named if text(n).lower() == "wan"), None)
        if first is not None:
            wan_names = [Node("WAN", first.file, first.line)]
            roles["wan"] = "wan"
    if wan_names:
        root.value["wan-zones"] = Node(wan_names, root.file, wan_names[0].line)
    wan_interfaces: list[Node] = []
    for interface in interfaces:
        zone = text(interface.get("NetworkZone"))
        if not zone or zone.lower() == "none":
            continue
        role = _role(zone, roles)
        at = interface.get("NetworkZone")
        _put(interface, "role-effective", role, at)
        _put(interface, "role-reason", f"it is in zone {zone} (type {role.upper()})", at)
        if role == "wan":
            wan_interfaces.append(Node(text(interface.get("Name")), interface.file, interface.line))
    if wan_interfaces:
        root.value["wan-interfaces"] = Node(wan_interfaces, root.file, wan_interfaces[0].line)
    for acl in acls:
        zone = text(acl.get("SourceZone")) or "Any"
        _put(acl, "source-role", _role(zone, roles), acl.get("SourceZone"))
        services = [text(s) for s in _texts(acl.get("Services"), "Service")]
        admin = [s for s in services if s.upper() in _ADMIN_SERVICES]
        if admin:
            _put(acl, "admin-services", ", ".join(admin), acl.get("Services"))
    for rule in rules:
        _annotate_rule(rule, roles)


def _policy(rule: Node) -> Node | None:
    for tag in ("NetworkPolicy", "UserPolicy"):
        found = rule.get(tag)
        if found is not None and isinstance(found.value, dict):
            return found
    return None


def _annotate_rule(rule: Node, roles: dict[str, str]) -> None:
    policy = _policy(rule)
    if policy is None:
        return
    action = policy.get("Action")
    if text(action):
        _put(rule, "action-effective", text(action).lower(), action)
    log = policy.get("LogTraffic")
    if text(log):
        _put(rule, "log-traffic", text(log).lower(), log)
    for side, tag in (("source", "SourceZones"), ("destination", "DestinationZones")):
        zones = [text(z) for z in _texts(policy.get(tag), "Zone")]
        at = policy.get(tag) or policy
        shown = zones or ["Any"]
        _put(rule, f"{side}-zones", shown, at)
        _put(rule, f"{side}-roles", sorted({_role(z, roles) for z in shown}), at)
    for key, tag, item in (
        ("any-source-network", "SourceNetworks", "Network"),
        ("any-destination-network", "DestinationNetworks", "Network"),
        ("any-service", "Services", "Service"),
    ):
        values = [text(n) for n in _texts(policy.get(tag), item)]
        _put(rule, key, _is_any(values), policy.get(tag) or policy)
    web = policy.get("WebFilter")
    if text(web) and text(web).lower() not in _NO_WEB_FILTER:
        _put(rule, "web-filter", text(web), web)


def _annotate_export(root: Node) -> None:
    """An Entities.xml is the whole configuration, written by the firmware whose release line
    its `APIVersion` gives ("1905.1": SFOS 19.5)."""
    root.value["full-export"] = Node("yes", root.file, root.line)
    _put(root, "answers", ["all"])
    version = root.value.get("@APIVersion")
    match = _API_VERSION.match(text(version))
    if version is not None and match:
        line = f"{int(match.group(1))}.{int(match.group(2))}"
        root.value["firmware"] = Node(line, version.file, version.line)
