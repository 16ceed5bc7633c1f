"""What the web probes share: network text made inert, numbers in each language, host
name comparison."""

from __future__ import annotations

import re

from cyberstd.messages import Msg, msg, verbatim

SECONDS_PER_DAY = 86400
KB = 1024

# Evidence is bounded: each value is cut to this many characters.
MAX_VALUE_CHARS = 2048

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text
# (bidi overrides, zero-width characters, line and paragraph separators, the BOM).
_UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """Text from the network as inert data: control and invisible characters shown as escapes
    (\\x1b, \\u202e), so that nothing can move a terminal cursor or reorder a report line, and
    the length cut to `limit` characters with a note saying so. Markup such as <script> is kept
    as the plain text it is; every renderer escapes it for its own format.
    """
    shown = _UNSAFE_CHARS.sub(_escape_char, text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]} ... [cut: {len(text)} characters in all]"


def quoted(text: str, limit: int = 200) -> str:
    """A value for a one-line message: inert, short and in quotes."""
    return f"'{inert(text, limit)}'"


def number(value: float) -> Msg:
    """A number as each language writes it: "0,3" in Dutch, "0.3" in English."""
    text = f"{value:g}"
    whole, dot, fraction = text.partition(".")
    if not dot or "e" in text:
        return verbatim(text)
    return msg("web.decimal", whole=whole, fraction=fraction)


def same_host(a: str, b: str) -> bool:
    """The same host name, ignoring case and a trailing dot."""
    return a.rstrip(".").lower() == b.rstrip(".").lower()
