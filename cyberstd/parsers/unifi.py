"""UniFi's zone-based firewall (UniFi Network 9 and later): zones and policies in one file.

A policy names its zones by id only, so the checks cannot tell "from the internet" or "from the
pupils' zone" without the zones. This parser reads both and writes, on every policy, the name
and role of its zones and what it matches in plain fields; the rules read those.
"""

from __future__ import annotations

import re

from cyberstd.parsers import parser
from cyberstd.parsers.base import Node, ParseError, Source
from cyberstd.parsers.jsonfmt import parse_json

# UniFi's built-in zones, by `zone_key` (v2 API) or, without one, by their name.
ROLES = ("internal", "external", "gateway", "vpn", "hotspot", "dmz")
# A zone whose name says it holds the pupils' or the guests' networks (the words the Wi-Fi
# and classic UniFi checks use).
SHARED = re.compile(
    r"(?i)(leerling|student|pupil|scholier|(?<![a-z])lln(?![a-z])|gast|guest|bezoek|visitor)"
)
_ANY = ("", "ANY")
_RESTRICTIONS = ("ips", "network_ids", "client_macs", "ip_group_id", "web_domains")


def _text(node: Node | None) -> str:
    if node is None or node.value is None or isinstance(node.value, (dict, list)):
        return ""
    return str(node.value).strip()


def _present(node: Node | None) -> bool:
    """A restriction that is set: a non-empty text, list or mapping."""
    return node is not None and node.value not in (None, "", [], {})


def _items(part: Node | None, file: str, what: str) -> list[Node]:
    """The objects of one answer: the v2 API's bare list, or the Network API's page
    (`{"data": [...]}`); one page of several is refused."""
    if part is None or part.value is None:
        return []
    if isinstance(part.value, dict):
        total, count = part.get("totalCount"), part.get("count")
        if (
            total is not None
            and count is not None
            and isinstance(total.value, int)
            and isinstance(count.value, int)
            and count.value < total.value
        ):
            raise ParseError(
                file,
                f"the {what} are one page of several ({count.value} of {total.value}); "
                "ask for all of them (limit)",
                part.line,
            )
        part = part.get("data")
        if part is None:
            raise ParseError(file, f"the {what} hold neither a list nor 'data'", None)
    if not isinstance(part.value, list):
        raise ParseError(file, f"the {what} are not a list", part.line)
    for item in part.value:
        if not isinstance(item.value, dict):
            raise ParseError(file, f"the {what} hold something else than objects", item.line)
    return list(part.value)


def _put(item: Node, key: str, value: object, at: Node | None = None) -> None:
    item.value[key] = Node(value, item.file, (at or item).line)


def _origin_user(item: Node) -> bool:
    meta = item.get("metadata")
    origin = _text(meta.get("origin")) if meta is not None else ""
    return origin.upper() in ("", "USER_DEFINED", "USER")


def _zones(zones: list[Node]) -> dict[str, Node]:
    """Zones by id, each given `role` (a built-in zone's key, or `custom`) and `shared` (a zone
    with networks that is the Hotspot zone or whose name says pupils or guests)."""
    found: dict[str, Node] = {}
    for zone in zones:
        key = _text(zone.get("zone_key")).casefold()
        name = _text(zone.get("name"))
        if key in ROLES:
            role = key
        elif (
            zone.get("zone_key") is None
            and name.casefold() in ROLES
            and not (zone.get("metadata") is not None and _origin_user(zone))
        ):
            role = name.casefold()
        else:
            role = "custom"
        _put(zone, "role", role, zone.get("zone_key") or zone.get("name"))
        nets = zone.get("network_ids") or zone.get("networkIds")
        shared = (role == "hotspot" or bool(SHARED.search(name))) and _present(nets)
        _put(zone, "shared", shared, zone.get("name"))
        zid = _text(zone.get("_id")) or _text(zone.get("id"))
        if zid:
            found[zid] = zone
    return found


def _side(side: Node | None) -> tuple[str, bool]:
    """The zone id of a policy's source or destination, and whether it matches every address."""
    if side is None or not isinstance(side.value, dict):
        return "", True
    zid = _text(side.get("zone_id")) or _text(side.get("firewallZoneId"))
    flt = side.get("trafficFilter")
    if flt is not None and isinstance(flt.value, dict):
        # the Network API: a filter narrows the side, except one on ports alone
        return zid, _text(flt.get("type")).upper() == "PORT"
    target = side.get("matching_target")
    if target is not None:
        return zid, _text(target).upper() in _ANY
    return zid, not any(_present(side.get(k)) for k in _RESTRICTIONS)


def _ports(side: Node | None) -> str:
    """The destination ports a policy matches: "any", else the ports as text."""
    if side is None or not isinstance(side.value, dict):
        return "any"
    flt = side.get("trafficFilter")
    if flt is not None and isinstance(flt.value, dict):
        if _text(flt.get("type")).upper() != "PORT":
            return "any"
        found = [str(n.value) for n in flt.walk() if isinstance(n.value, int | str)]
        numbers = [v for v in found if re.fullmatch(r"\d+", v)]
        return ",".join(numbers) or "?"
    kind = _text(side.get("port_matching_type")).upper()
    if kind in _ANY and not _present(side.get("port")):
        return "any"
    if kind == "OBJECT" or _present(side.get("port_group_id")):
        return "group " + _text(side.get("port_group_id"))
    return _text(side.get("port")) or "?"


def _new_connections(policy: Node) -> bool:
    """Whether the policy matches new connections (not only replies to ones made from inside)."""
    kind = _text(policy.get("connection_state_type")).upper()
    states = policy.get("connection_states") or policy.get("connectionStateFilter")
    listed = (
        [_text(n).upper() for n in states.value]
        if states is not None and isinstance(states.value, list)
        else []
    )
    if kind == "RESPOND_ONLY":
        return False
    if kind in ("", "ALL") and not listed:
        return True
    return "NEW" in listed or (kind == "ALL" and not listed)


def _policy(policy: Node, zones: dict[str, Node], unresolved: list[Node]) -> None:
    action = policy.get("action")
    word = _text(action.get("type")) if action and isinstance(action.value, dict) else _text(action)
    word = word.casefold()
    _put(policy, "action-effective", "block" if word in ("deny", "drop") else word, action)
    builtin = policy.get("predefined")
    is_builtin = (builtin is not None and builtin.value is True) or not _origin_user(policy)
    _put(policy, "origin", "builtin" if is_builtin else "user", builtin)
    log = policy.get("logging")
    log = log if log is not None else policy.get("loggingEnabled")
    _put(policy, "logging-effective", log is not None and log.value is True, log)
    _put(policy, "new-connections", _new_connections(policy))
    protocol = _text(policy.get("protocol")).casefold()
    scope = policy.get("ipProtocolScope")
    filtered = scope is not None and _present(scope.get("protocolFilter"))
    _put(policy, "any-protocol", protocol in ("", "all") and not filtered, policy.get("protocol"))
    missing = False
    for end in ("source", "destination"):
        side = policy.get(end)
        zid, anywhere = _side(side)
        zone = zones.get(zid)
        missing = missing or zone is None
        _put(policy, f"any-{end}", anywhere, side)
        _put(policy, f"{end}-zone", _text(zone.get("name")) if zone else zid, side)
        _put(policy, f"{end}-role", _text(zone.get("role")) if zone else "unknown", side)
        shared = zone.get("shared") if zone else None
        _put(policy, f"{end}-shared", shared is not None and shared.value is True, side)
    if missing:
        unresolved.append(policy)
    ports = _ports(policy.get("destination"))
    _put(policy, "any-port", ports == "any", policy.get("destination"))
    _put(policy, "ports", ports, policy.get("destination"))


@parser("unifi-policies")
def parse_unifi_policies(source: Source) -> Node:
    """`{zones: [...], policies: [...]}` with derived fields on every zone and policy.

    The file holds `zones` (GET /proxy/network/v2/api/site/<site>/firewall/zone, or the Network
    API's GET /v1/sites/<siteId>/firewall/zones page) and `policies` (…/firewall-policies, or
    the Network API's …/firewall/policies page). The policies alone (a bare list) are read
    without zones. Each zone gets `role` (internal, external, gateway, vpn, hotspot, dmz or
    custom) and `shared` (a zone with networks that is the Hotspot zone or whose name says
    pupils or guests). Each policy
    gets `origin` (user or builtin), `action-effective` (allow, block, reject),
    `logging-effective`, `new-connections`, `any-protocol`, `any-source`, `any-destination`,
    `any-port`, `ports`, and for its source and destination the zone's name (`source-zone`),
    `role` (`unknown` for an id the zones do not hold) and `shared`. `unresolved` lists the
    policies whose zones the file does not hold."""
    tree = parse_json(source)
    file = source.display
    if isinstance(tree.value, list):
        tree = Node({"policies": tree}, file, tree.line)
    if not isinstance(tree.value, dict) or tree.get("policies") is None:
        raise ParseError(
            file, "no 'policies': not an export of UniFi's zone-based firewall", tree.line
        )
    zones = _items(tree.get("zones"), file, "zones")
    policies = _items(tree.get("policies"), file, "policies")
    by_id = _zones(zones)
    unresolved: list[Node] = []
    for policy in policies:
        _policy(policy, by_id, unresolved)
    out: dict[str, Node] = {
        "zones": Node(zones, file, (tree.get("zones") or tree).line),
        "policies": Node(policies, file, (tree.get("policies") or tree).line),
    }
    if unresolved:
        names = [Node(_text(p.get("name")) or "?", file, p.line) for p in unresolved]
        out["unresolved"] = Node(names, file, unresolved[0].line)
    return Node(out, file, tree.line)
