"""How a user can complete an SSH login, as sshd_config(5) and sshd decide it (for sshd.py).

sshd accepts a login when one list of AuthenticationMethods is completed; without that
setting (or with `any`) every method that is switched on is a list by itself. A list that
names a method switched off is skipped (auth2.c, "contains disabled method, skipping"). A
connection takes the settings outside Match blocks, overridden per keyword by the first
matching Match block that sets it (servconf.c, first value wins). Which users a Match block
matches is not in the file, so every block is read as matching some connection; so are
blocks that one connection could match together.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from cyberstd.parsers.base import Node

# The keywords that decide the methods, with the OpenSSH default of each.
_DEFAULTS = {
    "authenticationmethods": "any",
    "pubkeyauthentication": "yes",
    "passwordauthentication": "yes",
    "kbdinteractiveauthentication": "yes",
    "hostbasedauthentication": "no",
    "gssapiauthentication": "no",
    "permitemptypasswords": "no",
}
# Each method and the keyword that switches it on (auth2.c's `enabled` of each Authmethod).
_SWITCH = {
    "publickey": "pubkeyauthentication",
    "password": "passwordauthentication",
    "keyboard-interactive": "kbdinteractiveauthentication",
    "hostbased": "hostbasedauthentication",
    "gssapi-with-mic": "gssapiauthentication",
}
# More Match blocks that change authentication than this are not combined (2^n scopes).
MAX_COMBINED = 8


@dataclass(frozen=True, eq=False)
class _Block:
    name: str  # "Match User backup"
    settings: dict[str, Node]
    line: int | None
    file: str


def _value(settings: dict[str, Node], keyword: str) -> str | None:
    node = settings.get(keyword)
    return str(node.value) if node is not None and isinstance(node.value, str) else None


class _Scope:
    """The settings one kind of connection gets: the global ones, then its Match blocks."""

    def __init__(self, top: dict[str, Node], file: str, blocks: list[_Block]) -> None:
        self.blocks = blocks
        self.name = " + ".join(b.name for b in blocks) or "global"
        self.nodes: dict[str, Node | None] = {}
        self.values: dict[str, str] = {}
        for keyword, default in _DEFAULTS.items():
            node = next((b.settings[keyword] for b in blocks if keyword in b.settings), None)
            node = node or top.get(keyword)
            self.nodes[keyword] = node
            text = str(node.value) if node is not None and isinstance(node.value, str) else None
            self.values[keyword] = (text or default).strip().lower()
        self.file = blocks[0].file if blocks else file
        self.line = blocks[0].line if blocks else None

    def key(self) -> tuple[str, ...]:
        return tuple(self.values[k] for k in _DEFAULTS)

    def on(self, method: str) -> bool:
        if method == "none":  # empty passwords (auth2-none.c): both settings must allow them
            return self.values["permitemptypasswords"] == "yes" and self.on("password")
        keyword = _SWITCH.get(method)
        if keyword is None:
            return False
        if _DEFAULTS[keyword] == "yes":
            return self.values[keyword] != "no"
        return self.values[keyword] == "yes"

    def where(self, keyword: str) -> tuple[str, int | None, str]:
        """The file and line of a keyword's value in this scope, and the words that say it."""
        node = self.nodes[keyword]
        name = _NAMES[keyword]
        if node is None:
            return self.file, self.line, f"{name} {_DEFAULTS[keyword]} by default"
        return node.file, node.line, f"{name} {node.value}"


_NAMES = {
    "authenticationmethods": "AuthenticationMethods",
    "pubkeyauthentication": "PubkeyAuthentication",
    "passwordauthentication": "PasswordAuthentication",
    "kbdinteractiveauthentication": "KbdInteractiveAuthentication",
    "hostbasedauthentication": "HostbasedAuthentication",
    "gssapiauthentication": "GSSAPIAuthentication",
    "permitemptypasswords": "PermitEmptyPasswords",
}


def _path(scope: _Scope, methods: str, via: str, combined: bool, keyword: str) -> Node:
    file, line, why = scope.where(keyword)
    names = [m.split(":", 1)[0].lower() for m in methods.split(",")]
    fields: dict[str, object] = {
        "way": f"{methods} ({scope.name}: {why})",
        "methods": names,
        "via": via,
        "scope": scope.name,
        "combined": combined,
    }
    return _node(fields, file, line)


def _node(fields: dict[str, object], file: str, line: int | None) -> Node:
    """A mapping of plain values (a list of words at most) as nodes at one place."""
    out: dict[str, Node] = {}
    for key, value in fields.items():
        if isinstance(value, list):
            out[key] = Node([Node(v, file, line) for v in value], file, line)
        else:
            out[key] = Node(value, file, line)
    return Node(out, file, line)


def _paths(scope: _Scope, combined: bool) -> list[Node]:
    methods = scope.values["authenticationmethods"]
    if methods == "any":
        return [_path(scope, m, "any", combined, _SWITCH[m]) for m in _SWITCH if scope.on(m)]
    out = []
    for group in methods.split():
        names = [m.split(":", 1)[0] for m in group.split(",")]
        if all(scope.on(n) for n in names):
            out.append(_path(scope, group, "AuthenticationMethods", combined,
                             "authenticationmethods"))  # fmt: skip
    return out


def _blocks(matches: list[Node]) -> list[_Block]:
    out = []
    for match in matches:
        criteria, settings = match.value["criteria"], match.value["settings"].value
        out.append(_Block(f"Match {criteria.value}", settings, match.line, match.file))
    return out


def auth_paths(top: dict[str, Node], matches: list[Node], file: str) -> list[Node]:
    """Every way to complete a login: `{way, methods, via, scope, combined}` per list of
    methods and per scope (the global settings, each Match block over them, and Match blocks
    combined), each at the line of the setting that opens it."""
    blocks = [b for b in _blocks(matches) if set(b.settings) & set(_DEFAULTS)]
    always = [b for b in blocks if b.name.lower() == "match all"]
    some = [b for b in blocks if not any(b is a for a in always)]
    order = {id(b): i for i, b in enumerate(blocks)}

    def scope(chosen: tuple[_Block, ...]) -> _Scope:
        return _Scope(top, file, sorted([*chosen, *always], key=lambda b: order[id(b)]))

    single = [scope(())] + [scope((b,)) for b in some]
    out = [p for s in single for p in _paths(s, False)]
    seen = {s.key() for s in single}
    for size in range(2, len(some) + 1) if len(some) <= MAX_COMBINED else ():
        for chosen in combinations(some, size):
            s = scope(chosen)
            if s.key() not in seen:
                seen.add(s.key())
                out += _paths(s, True)
    if len(some) > MAX_COMBINED:  # too many to combine: a way no one can rule out
        s = scope(tuple(some))
        note = f"more than {MAX_COMBINED} Match blocks change authentication"
        fields: dict[str, object] = {
            "way": f"unknown ({note})",
            "methods": [],
            "via": "any",
            "scope": note,
            "combined": True,
        }
        out.append(_node(fields, s.file, s.line))
    return out
