"""FortiOS configuration backups (`config` / `edit` / `set` / `next` / `end`, as FortiGates save them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cyberstd.parsers import parser
from cyberstd.parsers.base import REDACTED, Node, ParseError, Source, is_secret_key, is_secret_value

MAX_DEPTH = 64
_SPACE = re.compile(r"[ \t\r\f\v]*")
_WORD = re.compile(r"""(?:"[^"\\]*(?:\\.[^"\\]*)*"|'[^']*'|[^\s"'])+""", re.DOTALL)
_PIECE = re.compile(r""""((?:[^"\\]|\\.)*)"|'([^']*)'|([^"']+)""", re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_LOOKS_FORTIOS = re.compile(r"^[ \t]*(#config-version=|config[ \t]+\S)", re.MULTILINE)
# FGT60F-7.4.3-FW-build2573, FG3K2D-5.02-FW-build736 (FortiOS 5.x wrote 5.02 for 5.2),
# FGT_100E-v7.0.10.F-build0485 (some exports)
_VERSION = re.compile(
    r"(?P<model>.+?)-v?(?P<version>\d+\.\d+(?:\.\d+)?)(?:\.[A-Z])?(?:-FW)?-build(?P<build>\d+)\b"
)


@dataclass
class _Statement:
    words: list[str]
    line: int


@dataclass
class _Scan:
    statements: list[_Statement] = field(default_factory=list)
    comments: list[_Statement] = field(default_factory=list)


def _unquote(word: str) -> str:
    """A word without its quotes; backslash escapes inside double quotes are undone."""
    out: list[str] = []
    for m in _PIECE.finditer(word):
        if m.group(1) is not None:
            out.append(_UNESCAPE.sub(r"\1", m.group(1)))
        else:
            out.append(m.group(2) if m.group(2) is not None else m.group(3))
    return "".join(out)


def _scan(text: str, file: str) -> _Scan:
    """Split the text into statements of words; a quoted word may span lines."""
    scan = _Scan()
    words: list[str] = []
    pos, line, start = 0, 1, 1
    while True:
        space = _SPACE.match(text, pos)
        pos = space.end() if space else pos
        if pos >= len(text) or text[pos] == "\n":
            if words:
                scan.statements.append(_Statement(words, start))
                words = []
            if pos >= len(text):
                return scan
            pos, line = pos + 1, line + 1
            continue
        if not words and text[pos] == "#":
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            scan.comments.append(_Statement([text[pos + 1 : end].strip()], line))
            pos = end
            continue
        m = _WORD.match(text, pos)
        if m is None:
            raise ParseError(file, "a quoted string is never closed (truncated backup?)", line)
        if not words:
            start = line
        words.append(_unquote(m.group(0)))
        line += m.group(0).count("\n")
        pos = m.end()


def _header(comments: list[_Statement], file: str) -> Node | None:
    """The `#config-version=MODEL-VERSION-FW-buildNNNN-DATE:opmode=0:vdom=0:user=x` line."""
    for comment in comments:
        text = comment.words[0]
        if not text.startswith("config-version="):
            continue
        first, *pairs = text.removeprefix("config-version=").split(":")
        fields: dict[str, Node] = {}
        if m := _VERSION.match(first):
            for name in ("model", "version", "build"):
                fields[name] = Node(m.group(name), file, comment.line)
            parts = m.group("version").split(".")
            if len(parts) == 2:  # 5.02 is 5.2; the patch level is not in the header
                fields["version"].value = f"{int(parts[0])}.{int(parts[1])}.0"
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if sep and key.strip():
                fields[key.strip()] = Node(value.strip(), file, comment.line)
        return Node(fields, file, comment.line)
    return None


def _setting(key: str, values: list[str], file: str, line: int) -> Node:
    """The value of `set key values...`: a string, a list of strings, or REDACTED."""
    if values and (
        values[0] == "ENC" or is_secret_key(key) or any(is_secret_value(v) for v in values)
    ):
        return Node(REDACTED, file, line)
    if len(values) == 1:
        return Node(values[0], file, line)
    if not values:
        return Node("", file, line)
    return Node([Node(v, file, line) for v in values], file, line)


@dataclass
class _Frame:
    kind: str  # "root", "config" or "edit"
    node: Node
    line: int
    path: str = ""


class _Builder:
    """Turns statements into nested mappings with a stack of open config/edit blocks."""

    def __init__(self, file: str, root: Node) -> None:
        self.file = file
        self.stack = [_Frame("root", root, 1)]
        self.kinds: dict[int, str] = {}

    def fail(self, message: str, line: int) -> ParseError:
        return ParseError(self.file, message, line)

    def block(self, st: _Statement) -> None:
        """One statement applied to the innermost open block."""
        verb, args, top = st.words[0], st.words[1:], self.stack[-1]
        if verb == "config":
            self.open_config(" ".join(args), top, st.line)
        elif verb == "edit":
            if top.kind != "config":
                raise self.fail("'edit' outside a config block", st.line)
            if len(args) != 1:
                raise self.fail("'edit' takes one name", st.line)
            self.mark(top, "entries", st.line)
            entry = top.node.value.get(args[0])
            if entry is None or not isinstance(entry.value, dict):
                entry = top.node.value[args[0]] = Node({}, self.file, st.line)
            self.push(_Frame("edit", entry, st.line), st.line)
        elif verb in ("set", "unset"):
            if top.kind == "root":
                raise self.fail(f"'{verb}' outside a config block", st.line)
            if not args:
                raise self.fail(f"'{verb}' without a setting name", st.line)
            self.mark(top, "settings", st.line)
            value = _setting(args[0], args[1:], self.file, st.line)
            top.node.value[args[0]] = value if verb == "set" else Node(None, self.file, st.line)
        elif verb == "next":
            if top.kind != "edit":
                raise self.fail("'next' without 'edit'", st.line)
            self.stack.pop()
        elif verb == "end":
            if top.kind == "edit":  # the CLI accepts 'end' for 'next' + 'end'
                self.stack.pop()
            if self.stack[-1].kind != "config":
                raise self.fail("'end' without 'config'", st.line)
            self.stack.pop()
        else:
            raise self.fail("expected config, edit, set, unset, next or end", st.line)

    def open_config(self, path: str, top: _Frame, line: int) -> None:
        """Open `config path` under the current block, reusing a block of the same path."""
        if not path:
            raise self.fail("'config' without a path", line)
        if top.kind == "config":
            self.mark(top, "settings", line)
        child = top.node.value.get(path)
        if child is None or not isinstance(child.value, dict):
            child = top.node.value[path] = Node({}, self.file, line)
        self.push(_Frame("config", child, line, path), line)

    def mark(self, frame: _Frame, kind: str, line: int) -> None:
        """Refuse a config block that mixes `edit` entries with settings."""
        if self.kinds.setdefault(id(frame.node), kind) != kind:
            raise self.fail("a config block mixes 'edit' entries with settings", line)

    def push(self, frame: _Frame, line: int) -> None:
        if len(self.stack) > MAX_DEPTH:
            raise self.fail(f"blocks nested more than {MAX_DEPTH} deep", line)
        self.stack.append(frame)


@parser("fortigate")
def parse_fortigate(source: Source) -> Node:
    """`{header: {model, version, build, opmode, vdom, user}, "<config path>": {...}}`.

    A `config` block of `edit` entries is a mapping of entry name to its settings; a block of
    `set` lines is a mapping of settings; a `config` inside an entry is a nested key. `set k v`
    gives a string, `set k v1 v2` a list of strings, `unset k` null. Every node has the line
    of its `config`/`edit`/`set`. `ENC ...` values, secret settings (password, psksecret,
    private-key, ...) and private keys become "[redacted]". Repeated blocks and entries merge.
    """
    file = source.display
    if not source.text.strip():
        raise ParseError(file, "empty file")
    if not _LOOKS_FORTIOS.search(source.text):
        raise ParseError(
            file, "not a FortiGate configuration (no #config-version header, no config)"
        )
    scan = _scan(source.text, file)
    root = Node({}, file, 1)
    header = _header(scan.comments, file)
    if header is not None:
        root.value["header"] = header
    builder = _Builder(file, root)
    for statement in scan.statements:
        builder.block(statement)
    unclosed = [f for f in builder.stack if f.kind == "config"]
    if unclosed:
        raise ParseError(
            file, f"'config {unclosed[0].path}' has no 'end' (truncated backup?)", unclosed[0].line
        )
    if not any(k != "header" for k in root.value):
        raise ParseError(file, "no config blocks (an empty or truncated backup?)")
    _hide_communities(root)
    _annotate_roles(root)
    _annotate_web_filters(root)
    return root


def _blocks(root: Node, name: str) -> list[Node]:
    """A block at the top, under `global` and under every `vdom.<name>` (multi-VDOM backups)."""
    found = [root.get(name), (root.get("global") or Node({}, "")).get(name)]
    vdoms = root.get("vdom")
    if vdoms is not None and isinstance(vdoms.value, dict):
        found += [v.get(name) for v in vdoms.value.values()]
    return [b for b in found if b is not None and isinstance(b.value, dict)]


def _hide_communities(root: Node) -> None:
    """An SNMP community's name is its password (`config system snmp community`)."""
    for block in _blocks(root, "system snmp community"):
        for entry in block.value.values():
            name = entry.get("name") if isinstance(entry.value, dict) else None
            if name is not None and isinstance(name.value, str):
                name.value = REDACTED


# Default-route destinations as FortiOS writes them (IPv4 and IPv6), and the names under which
# an SD-WAN zone stands in a policy or route.
_DEFAULT_DST = {("0.0.0.0", "0.0.0.0"), ("0.0.0.0/0",), ("0.0.0.0", "0.0.0.0/0"), ("::/0",)}
_SDWAN_NAMES = {"virtual-wan-link", "sdwan"}


def _words(node: Node | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node.value, list):
        return [str(n.value) for n in node.value if isinstance(n.value, str)]
    return str(node.value).split() if isinstance(node.value, str) else []


def _sdwan_members(root: Node) -> list[str]:
    """The interfaces of the SD-WAN (`config system sdwan` / `virtual-wan-link` members)."""
    names: list[str] = []
    for block_name in ("system sdwan", "system virtual-wan-link"):
        for block in _blocks(root, block_name):
            members = block.get("members")
            if members is None or not isinstance(members.value, dict):
                continue
            for member in members.value.values():
                if isinstance(member.value, dict):
                    names += _words(member.get("interface"))
    return names


def _default_route_interfaces(root: Node) -> dict[str, str]:
    """Interface -> why it carries the default route (`config router static`, `static6`)."""
    out: dict[str, str] = {}
    for block_name in ("router static", "router static6"):
        for block in _blocks(root, block_name):
            for key, route in block.value.items():
                if not isinstance(route.value, dict):
                    continue
                if _words(route.get("blackhole"))[:1] == ["enable"]:
                    continue
                if _words(route.get("status"))[:1] == ["disable"]:
                    continue
                dst = route.get("dst")
                if dst is not None and tuple(_words(dst)) not in _DEFAULT_DST:
                    continue
                why = f"the default route leaves through it ({block_name} {key}, line {route.line})"
                for device in _words(route.get("device")):
                    out.setdefault(device, why)
                if (
                    route.get("sdwan-zone") is not None
                    or _words(route.get("virtual-wan-link"))[:1] == ["enable"]
                    or _words(route.get("sdwan"))[:1] == ["enable"]
                ):
                    for member in _sdwan_members(root):
                        out.setdefault(member, why + " through SD-WAN")
    return out


def _interface_role(name: str, entry: Node, default_routes: dict[str, str]) -> tuple[str, str]:
    """The role an interface plays and why: the default route makes it wan whatever its
    role says; then `set role`; then DHCP or PPPoE addressing; then a name starting with
    "wan"; else undefined."""
    role = (_words(entry.get("role")) or [""])[0].lower()
    mode = (_words(entry.get("mode")) or [""])[0].lower()
    if name in default_routes:
        return "wan", default_routes[name]
    if role and role != "undefined":
        return role, f"set role {role}"
    if mode in ("dhcp", "pppoe"):
        return "wan", f"set mode {mode}: it takes its address from a provider"
    if name.lower().startswith("wan"):
        return "wan", "its name starts with 'wan' and it has no role"
    return "undefined", "no role, no default route, a fixed address"


def _annotate_roles(root: Node) -> None:
    """Tell which interfaces face the internet, and give every firewall policy the roles of
    its interfaces.

    Every interface gets `role-effective` (wan, lan, dmz or undefined) and `role-reason`
    (_interface_role); zones and SD-WAN zones take wan when a member is wan. Every policy gets
    `srcintf-role` and `dstintf-role`. When some interface faces the internet, the root gets
    `wan-interfaces` (their names): the rules about "from the internet" need it, and are not
    judged without it."""
    default_routes = _default_route_interfaces(root)
    roles: dict[str, str] = {name: "wan" for name in _SDWAN_NAMES}
    wan: list[Node] = []
    for block in _blocks(root, "system interface"):
        for name, entry in block.value.items():
            if not isinstance(entry.value, dict):
                continue
            role, why = _interface_role(name, entry, default_routes)
            entry.value["role-effective"] = Node(role, entry.file, entry.line)
            entry.value["role-reason"] = Node(why, entry.file, entry.line)
            roles[name] = role
            if role == "wan":
                wan.append(Node(name, entry.file, entry.line))
    for block in _blocks(root, "system zone"):
        for name, zone in block.value.items():
            members = _words(zone.get("interface")) if isinstance(zone.value, dict) else []
            if members:
                roles[name] = "wan" if any(roles.get(m) == "wan" for m in members) else "lan"
    if wan:
        root.value["wan-interfaces"] = Node(wan, root.file, wan[0].line)
    for block in _blocks(root, "firewall policy"):
        for policy in block.value.values():
            if not isinstance(policy.value, dict):
                continue
            for side in ("srcintf", "dstintf"):
                intf = policy.get(side)
                if intf is None:
                    continue
                names = (
                    [n.value for n in intf.value] if isinstance(intf.value, list) else [intf.value]
                )
                found = [
                    roles.get(str(n), "wan" if str(n).lower().startswith("wan") else "undefined")
                    for n in names
                ]
                policy.value[f"{side}-role"] = Node(
                    [Node(r, intf.file, intf.line) for r in found], intf.file, intf.line
                )


def _first(node: Node | None) -> str:
    """The first word of a setting, lowercased ('' when unset)."""
    return (_words(node) or [""])[0].lower()


def _lookup(containers: list[Node], block: str, name: str) -> Node | None:
    """An entry of a block by name, in the policy's own VDOM first, then in `global`."""
    for container in containers:
        found = container.get(block)
        entry = found.get(name) if found is not None else None
        if entry is not None and isinstance(entry.value, dict):
            return entry
    return None


def _dns_filter(containers: list[Node], name: str) -> tuple[str | None, str, bool]:
    """(the filter it gives, why, unknown) for `set dnsfilter-profile NAME`.

    It filters when the profile is in the backup and at least one FortiGuard category filter
    blocks (`config ftgd-dns` > `config filters` > `set action block`; a filter without an
    action only monitors, as in the factory profile), unless `set options ftgd-disable`."""
    profile = _lookup(containers, "dnsfilter profile", name)
    if profile is None:
        return None, f"dnsfilter-profile {name!r} is not in the backup", True
    ftgd = profile.get("ftgd-dns")
    if ftgd is not None and "ftgd-disable" in [w.lower() for w in _words(ftgd.get("options"))]:
        return (
            None,
            f"dnsfilter-profile {name!r} has FortiGuard filtering off (ftgd-disable)",
            False,
        )
    filters = ftgd.get("filters") if ftgd is not None else None
    entries = (
        filters.value.values() if filters is not None and isinstance(filters.value, dict) else []
    )
    blocked = sum(
        1 for f in entries if isinstance(f.value, dict) and _first(f.get("action")) == "block"
    )
    if not blocked:
        return (
            None,
            f"dnsfilter-profile {name!r} blocks no FortiGuard category (it only monitors)",
            False,
        )
    return f"dnsfilter-profile {name!r} ({blocked} categories blocked)", "", False


def _web_filter(policy: Node, containers: list[Node]) -> tuple[list[str], list[str], bool]:
    """What filters a policy's web traffic: (filters, reasons there are none, unknown)."""
    if _first(policy.get("utm-status")) != "enable":
        return [], ["utm-status is not enabled, so no security profile applies"], False
    source, via = policy, ""
    if _first(policy.get("profile-type")) == "group":
        group = (_words(policy.get("profile-group")) or [""])[0]
        found = _lookup(containers, "firewall profile-group", group) if group else None
        if found is None:
            return [], [f"profile-group {group!r} is not in the backup"], True
        source, via = found, f"profile-group {group!r}: "
    filters: list[str] = []
    why: list[str] = []
    unknown = False
    web = (_words(source.get("webfilter-profile")) or [""])[0]
    if web:
        filters.append(f"{via}webfilter-profile {web!r}")
    dns = (_words(source.get("dnsfilter-profile")) or [""])[0]
    if dns:
        found_filter, reason, missing = _dns_filter(containers, dns)
        if found_filter:
            filters.append(via + found_filter)
        else:
            why.append(via + reason)
            unknown = unknown or missing
    if not filters and not why:
        why.append(f"{via}no webfilter-profile and no dnsfilter-profile")
    return filters, why, unknown


def _annotate_web_filters(root: Node) -> None:
    """Tell what filters each firewall policy's web traffic (GRIP T9: a web filter or DNS
    filtering).

    Every policy gets `web-filter-reason` (what filters it, or why nothing does); when a web
    filter profile or a blocking DNS filter profile applies, `web-filter` lists them; when it
    names a DNS filter profile or profile group that the backup does not hold, and nothing
    else filters, `web-filter-unknown` says so (a partial export cannot show it)."""
    containers = [root]
    vdoms = root.get("vdom")
    if vdoms is not None and isinstance(vdoms.value, dict):
        containers += [v for v in vdoms.value.values() if isinstance(v.value, dict)]
    shared = root.get("global")
    for container in containers:
        block = container.get("firewall policy")
        if block is None or not isinstance(block.value, dict):
            continue
        scope = [container] + ([shared] if shared is not None and shared is not container else [])
        for policy in block.value.values():
            if not isinstance(policy.value, dict):
                continue
            filters, why, unknown = _web_filter(policy, scope)
            file, line = policy.file, policy.line
            if filters:
                policy.value["web-filter"] = Node(
                    [Node(f, file, line) for f in filters], file, line
                )
            elif unknown:
                policy.value["web-filter-unknown"] = Node("; ".join(why), file, line)
            policy.value["web-filter-reason"] = Node("; ".join(filters or why), file, line)
