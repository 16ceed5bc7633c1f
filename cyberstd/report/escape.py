"""One escaping function per output format: untrusted text made inert before it is written.

Untrusted is everything a report shows that cyberstd did not write itself: banners, headers
and certificates from the scanned network, values from exports, what the school folder says
(its id, name, explanations, file names) and what a custom catalog says (ids, titles,
remediation). In every format such text is

- **visible**: control characters (ESC, NUL, carriage return, ...), format characters (the
  right-to-left and isolate overrides that reorder what a reader sees, zero-width characters)
  and line or paragraph separators are shown as `\\n`, `\\xNN` or `\\uXXXX`, never passed on;
- **bounded** where a format is read by people (`inert`);
- **escaped** for the format's own syntax: `markdown` escapes Markdown and shows link-like
  text as code, `xml` leaves nothing XML 1.0 cannot hold, `json_strings` makes every string of
  a JSON document visible, and `terminal` gives rich `Text`, which is never read as markup.

HTML is escaped by Jinja's autoescape (report/html.py), CSV cells by csv.py, both after
`inert`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.text import Text

# Unicode categories never passed on as they are: control, format (bidi overrides, zero-width
# characters), line and paragraph separators, surrogates, private use, unassigned.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Line breaks and tabs that multi-line formats (JSON strings, XML text) may keep.
LAYOUT = "\n\t"
DEFAULT_LIMIT = 500


@functools.lru_cache(maxsize=1024)
def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in HIDDEN_CATEGORIES


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, keep: str = "") -> str:
    """Text with every hidden character shown as an escape (those in `keep` stay)."""
    if text.isprintable():  # the usual case: nothing hidden (isprintable is the stricter test)
        return text
    return "".join(_shown(ch) if _hidden(ch) and ch not in keep else ch for ch in text)


def inert(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """Text shown as it is on one line: hidden characters visible, length bounded."""
    shown = visible(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# --- Markdown ---------------------------------------------------------------------------------

# What GitHub or GitLab would make a link of: a URL with a scheme, or a `www.` name.
LINKABLE = re.compile(r"(?i)(?<![\w.+-])(?:[a-z][a-z0-9+.-]{0,31}://|www\.)[^\s`<>|\"'\\]+")
# Punctuation that ends a sentence rather than a URL ("see https://x.example/a.").
TRAILING = ".,;:!?)]}"
# Characters with a meaning in CommonMark or GitHub's Markdown anywhere in a line: escapes,
# tables, code, emphasis, links and images, raw HTML, headings, entities, strikethrough.
MARKDOWN_SPECIAL = "\\|`*_[]<>#&~!"


def _escape_markdown(text: str) -> str:
    for ch in MARKDOWN_SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text


def markdown_code(text: str) -> str:
    """Text as a Markdown code span, whatever backticks it holds (no link, no markup in it)."""
    clean = inert(text)
    longest = max((len(run) for run in re.findall(r"`+", clean)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if clean.startswith("`") or clean.endswith("`") else ""
    return f"{fence}{pad}{clean}{pad}{fence}"


def markdown(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """Text made inert in Markdown: visible, escaped, and link-like text shown as code.

    GitHub links `www.` names even with escapes, and GitLab every `scheme://` in the rendered
    text, so only a code span keeps them plain on both."""
    clean = inert(text, limit)
    out: list[str] = []
    pos = 0
    for m in LINKABLE.finditer(clean):
        link = m.group(0).rstrip(TRAILING)
        if m.start() < pos or not link:
            continue
        out.append(_escape_markdown(clean[pos : m.start()]))
        out.append(markdown_code(link))
        pos = m.start() + len(link)
    out.append(_escape_markdown(clean[pos:]))
    return "".join(out)


# --- XML, JSON, terminal ----------------------------------------------------------------------


def xml(text: str) -> str:
    """Text for an XML attribute or element (JUnit): only what XML 1.0 can hold, nothing
    hidden; the serializer escapes <, > and &."""
    return visible(text, keep=LAYOUT)


def json_strings(value: Any) -> Any:
    """A JSON document (SARIF, OSCAL) with every string, keys included, made visible; line
    breaks and tabs stay, JSON escapes them."""
    if isinstance(value, str):
        return visible(value, keep=LAYOUT)
    if isinstance(value, dict):
        return {visible(k, keep=LAYOUT): json_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_strings(v) for v in value]
    return value


def terminal(text: str, style: str = "", limit: int = DEFAULT_LIMIT) -> Text:
    """Text for the terminal: rich Text, which is never parsed as markup (`[/bold]` stays as
    it is), with hidden characters (ESC above all) visible."""
    from rich.text import Text

    return Text(inert(text, limit), style=style)
