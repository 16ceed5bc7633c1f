"""XML exports read safely into located trees (defusedxml: any DTD, entity declaration or
external entity is refused, so an entity bomb or an external reference never expands), for the
parsers of firewalls that keep their configuration in XML (pfSense/OPNsense, Sophos). Also the
secrets that key-based redaction would miss in such exports. Registers no format itself."""

from __future__ import annotations

import io
import re
import xml.sax
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, InputSource, Locator

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from cyberstd.parsers.base import REDACTED, Node, ParseError, Source, is_secret_key

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
class Open:
    """An element whose end tag has not been read yet."""

    tag: str
    line: int | None
    attrs: list[tuple[str, str]]
    children: dict[str, list[Node]] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)


def secret_element(tag: str, ancestors: list[str]) -> bool:
    """Whether the text of an element with this tag, below these ancestors, is a secret."""
    if is_secret_key(tag) or _SECRET_TAGS.match(tag):
        return True
    parent = ancestors[-1].casefold() if ancestors else ""
    folded = tag.casefold()
    if parent in _SECRET_IN.get(folded, frozenset()):
        return True
    return folded == "key" and any(a.casefold() in _KEY_HOLDERS for a in ancestors)


class TreeBuilder(ContentHandler):
    """Builds the node tree from SAX events, each element at the line where it starts. The
    root element must be one of `roots`; `wrong_root` says what the file is not, given the
    root it has. `root_tag` is the root element's name."""

    def __init__(self, file: str, roots: tuple[str, ...], wrong_root: Callable[[str], str]) -> None:
        super().__init__()
        self.file = file
        self.roots = roots
        self.wrong_root = wrong_root
        self.root_tag = ""
        self.locator: Locator | None = None
        self.stack: list[Open] = []
        self.root: Node | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int | None:
        """The line the parser is at (where the current start tag begins)."""
        return self.locator.getLineNumber() if self.locator is not None else None

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        line = self.line()
        if not self.stack and self.root is None:
            if name not in self.roots:
                shown = name if len(name) <= 40 else name[:40] + "..."
                raise ParseError(self.file, self.wrong_root(shown), line)
            self.root_tag = name
        if len(self.stack) >= MAX_DEPTH:
            raise ParseError(self.file, f"elements nested more than {MAX_DEPTH} deep", line)
        self.stack.append(Open(name, line, [(k, attrs[k]) for k in attrs.getNames()]))

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

    def build(self, element: Open) -> Node:
        """Text for a text-only element ("" when empty), else a mapping of its children.

        A tag that repeats among siblings becomes a list; attributes are "@name" keys; text
        beside children or attributes is kept under "#text".
        """
        text = "".join(element.text).strip()
        if text and secret_element(element.tag, [e.tag for e in self.stack]):
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


def read_tree(source: Source, builder: TreeBuilder) -> Node:
    """The tree of an XML export, read safely: no DTD, entity or external reference, at most
    MAX_DEPTH levels; every problem a ParseError at its line."""
    file = source.display
    if not source.text.strip():
        raise ParseError(file, "empty file")
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
    if builder.root is None:
        raise ParseError(file, "no XML element found")
    return builder.root


def text(node: Node | None) -> str:
    """The stripped text of a text element ("" for anything else or nothing)."""
    return node.value.strip() if node is not None and isinstance(node.value, str) else ""


def items(node: Node | None) -> list[Node]:
    """The elements under a tag: one or many, mappings only."""
    if node is None:
        return []
    found = node.value if isinstance(node.value, list) else [node]
    return [n for n in found if isinstance(n.value, dict)]
