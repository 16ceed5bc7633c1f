"""pfSense and OPNsense configuration backups (`config.xml`), read with defusedxml.

Both firewalls keep their whole configuration in one XML file under a `<pfsense>` or
`<opnsense>` root. Any DTD, entity declaration or external entity is refused, so an entity
bomb or an external reference never expands.
"""

from __future__ import annotations

import io
import re
import xml.sax
from dataclasses import dataclass, field
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, InputSource, Locator

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from cyberstd.parsers import parser
from cyberstd.parsers.base import REDACTED, Node, ParseError, Source, is_secret_key

ROOTS = ("pfsense", "opnsense")
MAX_DEPTH = 200
ENTITIES = "XML entities are not allowed"

# Secrets that the generic, key-based redaction would miss: tags whose names do not look
# secret, or secrets held in a child (<apikeys><item><key>) whose own tag says nothing.
_SECRET_TAGS = re.compile(
    r"^(authorizedkeys|otp_seed|ldap_bindpw|bindpw|radiuskey\d*|encryption_password)$",
    re.IGNORECASE,
)
# tag -> parent tags under which it is a secret
_SECRET_IN: dict[str, frozenset[str]] = {
    # OpenVPN's static TLS authentication/encryption key (base64)
    "tls": frozenset({"openvpn-server", "openvpn-client"}),
    # notification tokens (pfSense: <notifications><telegram><api>, <slack><api>)
    "api": frozenset({"telegram", "slack", "pushover"}),
}
# ancestors under which a <key> element is a secret (API keys, OpenVPN static keys, IPsec PSKs)
_KEY_HOLDERS = frozenset({"apikeys", "statickey", "statickeys", "presharedkey", "presharedkeys"})


@dataclass
class _Open:
    """An element whose end tag has not been read yet."""

    tag: str
    line: int | None
    attrs: list[tuple[str, str]]
    children: dict[str, list[Node]] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)


def _is_secret(tag: str, ancestors: list[str]) -> bool:
    """Whether the text of an element with this tag, below these ancestors, is a secret."""
    if is_secret_key(tag) or _SECRET_TAGS.match(tag):
        return True
    parent = ancestors[-1].casefold() if ancestors else ""
    folded = tag.casefold()
    if parent in _SECRET_IN.get(folded, frozenset()):
        return True
    return folded == "key" and any(a.casefold() in _KEY_HOLDERS for a in ancestors)


class _TreeBuilder(ContentHandler):
    """Builds the node tree from SAX events, each element at the line where it starts."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.locator: Locator | None = None
        self.stack: list[_Open] = []
        self.root: Node | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int | None:
        """The line the parser is at (where the current start tag begins)."""
        return self.locator.getLineNumber() if self.locator is not None else None

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        line = self.line()
        if not self.stack and self.root is None and name not in ROOTS:
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise ParseError(
                self.file,
                f"not a pfSense/OPNsense config.xml: the root element is <{shown}>, "
                "expected <pfsense> or <opnsense>",
                line,
            )
        if len(self.stack) >= MAX_DEPTH:
            raise ParseError(self.file, f"elements nested more than {MAX_DEPTH} deep", line)
        self.stack.append(_Open(name, line, [(k, attrs[k]) for k in attrs.getNames()]))

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text.append(content)

    def endElement(self, name: str) -> None:
        element = self.stack.pop()
        node = self.build(element)
        if self.stack:
            self.stack[-1].children.setdefault(name, []).append(node)
        else:
            self.root = node

    def build(self, element: _Open) -> Node:
        """Text for a text-only element ("" when empty), else a mapping of its children.

        A tag that repeats among siblings becomes a list; attributes are "@name" keys; text
        beside children or attributes is kept under "#text".
        """
        text = "".join(element.text).strip()
        if text and _is_secret(element.tag, [e.tag for e in self.stack]):
            text = REDACTED
        if not element.children and not element.attrs:
            return Node(text, self.file, element.line)
        out: dict[str, Node] = {}
        for key, value in element.attrs:
            out["@" + key] = Node(value, self.file, element.line)
        for tag, nodes in element.children.items():
            out[tag] = nodes[0] if len(nodes) == 1 else Node(nodes, self.file, nodes[0].line)
        if text:
            out["#text"] = Node(text, self.file, element.line)
        return Node(out, self.file, element.line)


def _syntax_message(exc: xml.sax.SAXParseException) -> str:
    """A reader's message for expat's terse error text."""
    raw = exc.getMessage()
    if raw.startswith("no element found") or raw.startswith("unclosed token"):
        return "unexpected end of file (the export may be truncated)"
    if raw.startswith("undefined entity"):
        return f"{ENTITIES} (undefined entity reference)"
    return f"not well-formed XML: {raw}"


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
    file = source.display
    if not source.text.strip():
        raise ParseError(file, "empty file")
    builder = _TreeBuilder(file)
    reader = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    reader.setContentHandler(builder)
    stream = InputSource(file)
    stream.setCharacterStream(io.StringIO(source.text))
    try:
        reader.parse(stream)
    except DefusedXmlException:
        raise ParseError(file, ENTITIES, builder.line()) from None
    except xml.sax.SAXParseException as exc:
        raise ParseError(file, _syntax_message(exc), exc.getLineNumber()) from None
    except (xml.sax.SAXException, ValueError) as exc:
        raise ParseError(
            file, f"not well-formed XML: {type(exc).__name__}", builder.line()
        ) from None
    root = builder.root
    if root is None:
        raise ParseError(file, "no XML element found")
    if not isinstance(root.value, dict) or not any(k[0] not in "@#" for k in root.value):
        raise ParseError(file, "the root element holds no configuration", root.line)
    _annotate_wan(root)
    return root


# Interfaces that take their address from a provider face the internet.
_PROVIDER_ADDRESSING = {"dhcp", "dhcp6", "pppoe", "pptp", "l2tp", "ppp"}


def _text(node: Node | None) -> str:
    return node.value.strip() if node is not None and isinstance(node.value, str) else ""


def _items(node: Node | None) -> list[Node]:
    if node is None:
        return []
    items = node.value if isinstance(node.value, list) else [node]
    return [n for n in items if isinstance(n.value, dict)]


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
            address = _text(entry.get("ipaddr")).lower()
            address6 = _text(entry.get("ipaddrv6")).lower()
            gateway = _text(entry.get("gateway"))
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
    filter_rules = _items((root.get("filter") or Node({}, "")).get("rule"))
    mvc = root.get("OPNsense")
    for part in ("Firewall", "Filter", "rules", "rule"):
        mvc = mvc.get(part) if mvc is not None else None
    rules = filter_rules + _items(mvc)
    if "wan" not in roles:  # a partial backup: rules on "wan" still name pfSense's WAN
        named = [r for r in rules if "wan" in _text(r.get("interface")).lower().split(",")]
        if named:
            roles["wan"] = "wan"
            wan.append(Node("wan", named[0].file, named[0].line))
    if wan:
        root.value["wan-interfaces"] = Node(wan, root.file, wan[0].line)
    for rule in rules:
        names = [n.strip().lower() for n in _text(rule.get("interface")).split(",") if n.strip()]
        found = [roles.get(n, "wan" if n == "wan" else "lan") for n in names]
        rule.value["interface-role"] = Node(
            [Node(r, rule.file, rule.line) for r in found], rule.file, rule.line
        )
        kind = _text(rule.get("type")) or _text(rule.get("action")) or "pass"
        rule.value["type-effective"] = Node(kind.lower(), rule.file, rule.line)
