"""pfSense and OPNsense configuration backups (`config.xml`), read with defusedxml.

Both firewalls keep their whole configuration in one XML file under a `<pfsense>` or
`<opnsense>` root. Any DTD, entity declaration or external entity is refused, so an entity
bomb or an external reference never expands.
"""

from __future__ import annotations

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source
from cyberstd.parsers.xmltree import TreeBuilder, items, read_tree, text

ROOTS = ("pfsense", "opnsense")


def _wrong_root(shown: str) -> str:
    return (
        f"not a pfSense/OPNsense config.xml: the root element is <{shown}>, "
        "expected <pfsense> or <opnsense>"
    )


@parser("pfsense")
def parse_pfsense(source: Source) -> Node:
    """A pfSense or OPNsense `config.xml`: the children of the `<pfsense>`/`<opnsense>` root.

    Each element becomes a mapping of its child tags; a tag that repeats among siblings
    (`filter.rule`, `system.user`) becomes a list, while a tag that appears once stays a single
    node (one rule is a mapping, not a list of one); an element holding only text becomes that
    text, stripped; an empty element (`<any/>`, `<enable/>`) becomes "" (present but empty).
    Attributes are kept under "@name" keys, and text beside child elements under "#text".
    Every node is at the line where its element starts. For example
    `{"version": "22.2", "system": {"hostname": "fw", "user": [{"name": "admin", ...}]},
    "filter": {"rule": [{"type": "pass", "interface": "wan", "source": {"any": ""}, ...}]}}`.
    Password hashes, pre-shared keys, private keys (`prv`), SSH authorized keys, API keys and
    secrets, OTP seeds, LDAP bind passwords, RADIUS keys, notification tokens and OpenVPN TLS
    keys are redacted; certificates (`crt`) are kept.
    """
    root = read_tree(source, TreeBuilder(source.display, ROOTS, _wrong_root))
    if not isinstance(root.value, dict) or not any(k[0] not in "@#" for k in root.value):
        raise ParseError(source.display, "the root element holds no configuration", root.line)
    _annotate_wan(root)
    return root


# Interfaces that take their address from a provider face the internet.
_PROVIDER_ADDRESSING = {"dhcp", "dhcp6", "pppoe", "pptp", "l2tp", "ppp"}


def _annotate_wan(root: Node) -> None:
    """Tell which interfaces face the internet and mark every filter rule with it.

    An interface faces the internet when it is `wan`, has an upstream `<gateway>`, or takes
    its address by DHCP or PPPoE: a second line (`opt1` with a gateway) is as much WAN as the
    first. Each interface gets `role-effective` and `role-reason`; every rule (pfSense's
    `filter.rule` and OPNsense's `OPNsense.Firewall.Filter.rules.rule`) gets `interface-role`
    (the roles of its interfaces) and `type-effective` (`type`, or OPNsense's `action`; a rule
    without one passes, as pfSense treats it). The root gets `wan-interfaces`."""
    interfaces = root.get("interfaces")
    roles: dict[str, str] = {}
    wan: list[Node] = []
    if interfaces is not None and isinstance(interfaces.value, dict):
        for name, entry in interfaces.value.items():
            if not isinstance(entry.value, dict):
                continue
            address = text(entry.get("ipaddr")).lower()
            address6 = text(entry.get("ipaddrv6")).lower()
            gateway = text(entry.get("gateway"))
            if name.lower() == "wan":
                role, why = "wan", "it is the interface called wan"
            elif gateway:
                role, why = "wan", f"it has an upstream gateway ({gateway})"
            elif address in _PROVIDER_ADDRESSING or address6 in _PROVIDER_ADDRESSING:
                role, why = "wan", f"it takes its address by {address or address6}"
            else:
                role, why = "lan", "no gateway, a fixed address"
            entry.value["role-effective"] = Node(role, entry.file, entry.line)
            entry.value["role-reason"] = Node(why, entry.file, entry.line)
            roles[name.lower()] = role
            if role == "wan":
                wan.append(Node(name, entry.file, entry.line))
    filter_rules = items((root.get("filter") or Node({}, "")).get("rule"))
    mvc = root.get("OPNsense")
    for part in ("Firewall", "Filter", "rules", "rule"):
        mvc = mvc.get(part) if mvc is not None else None
    rules = filter_rules + items(mvc)
    if "wan" not in roles:  # a partial backup: rules on "wan" still name pfSense's WAN
        named = [r for r in rules if "wan" in text(r.get("interface")).lower().split(",")]
        if named:
            roles["wan"] = "wan"
            wan.append(Node("wan", named[0].file, named[0].line))
    if wan:
        root.value["wan-interfaces"] = Node(wan, root.file, wan[0].line)
    for rule in rules:
        names = [n.strip().lower() for n in text(rule.get("interface")).split(",") if n.strip()]
        found = [roles.get(n, "wan" if n == "wan" else "lan") for n in names]
        rule.value["interface-role"] = Node(
            [Node(r, rule.file, rule.line) for r in found], rule.file, rule.line
        )
        kind = text(rule.get("type")) or text(rule.get("action")) or "pass"
        rule.value["type-effective"] = Node(kind.lower(), rule.file, rule.line)
