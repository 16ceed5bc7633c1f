"""Find English sentences in text that should be Dutch.

Data is not language: code spans, quoted values, URLs, file paths, host names, ids and the
values a report shows from the school's own files are taken out first; what remains is
searched for English function words that Dutch does not use."""

from __future__ import annotations

import html
import re

# Words that only English uses (none of them is a Dutch word).
ENGLISH = (
    "the",
    "which",
    "with",
    "could",
    "does",
    "doesn't",
    "has",
    "have",
    "there",
    "this",
    "these",
    "from",
    "only",
    "than",
    "without",
    "should",
    "would",
    "were",
    "and",
    "not",
    "its",
    "into",
    "when",
    "where",
    "every",
    "any",
    "found",
    "missing",
    "answers",
    "sends",
    "runs",
    "exposes",
    "discloses",
    "nobody",
    "receivers",
    "or",
)
_WORD = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH) + r")\b", re.IGNORECASE)
_DATA = [
    re.compile(r"<(style|script)\b.*?</\1>", re.S),
    re.compile(r"<pre\b.*?</pre>", re.S),  # evidence as JSON
    re.compile(r"```.*?```", re.S),
    re.compile(r"`[^`\n]*`"),
    re.compile(r"<code>.*?</code>", re.S),
    re.compile(r"'[^'\n]*'"),
    re.compile(r"\"[^\"\n]*\""),
    re.compile(r"\b\w+://\S+"),
    re.compile(r"\S+[/\\]\S+"),  # paths
    re.compile(r"\b[\w-]+(\.[\w-]+)+\b"),  # host names, check ids, versions
    re.compile(r"\b\w+_\w+\b"),  # identifiers
    re.compile(r"\b\w+(-\w+)+\b"),  # header values, names with dashes
    re.compile(r"\b[1-5]\d\d( [A-Z][a-z]+)+"),  # an HTTP status line: 404 Not Found
    re.compile(r"[\[{][\s,]*[\[{\"][^<\n]*"),  # evidence as JSON, cut short in a summary
]
# Evidence shown as data (a list or mapping), innermost first.
_JSON = re.compile(r"\{[^{}\[\]]*\}|\[[^{}\[\]]*\]")


def strip_data(text: str, data: tuple[str, ...] = ()) -> str:
    text = html.unescape(text)
    while True:
        shorter = _JSON.sub(" ", text)
        if shorter == text:
            break
        text = shorter
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    for pattern in _DATA:
        text = pattern.sub(" ", text)
    return text


def english_in(text: str, data: tuple[str, ...] = ()) -> list[str]:
    """The lines of `text` (data taken out) that hold an English word, with the word."""
    hits = []
    for line in strip_data(text, data).splitlines():
        found = _WORD.findall(line)
        if found:
            hits.append(f"{found[0]!r}: {line.strip()[:200]}")
    return hits
