"""One catalog of what cyberstd says, in Dutch and English, by message id.

The texts live in `cyberstd/locale/*.yaml`, one file per family (report words, web probes,
mail probes, ...), every id with both languages:

    web.hsts.missing:
      nl: "{url} stuurt geen Strict-Transport-Security-header"
      en: "{url} sends no Strict-Transport-Security header"

A text that counts something may give a form for one and one for more, chosen by the value
named `n`:

    why.passed:
      nl: {one: "{n} controle geslaagd", other: "{n} controles geslaagd"}
      en: {one: "{n} check passed", other: "{n} checks passed"}

Code says `msg("web.hsts.missing", url=url)` and renders the result in the language a report
asks for. A value that is itself a `Msg` is rendered in the same language, and a list of them
is joined with "; ", so that a probe can compose its verdict from parts. A day (a `date`) is
written as the language writes it in a sentence: "7 juli 2030", "7 July 2030".

Why a YAML catalog and not gettext: both languages are first-class and written together, so a
text is known by an id, not by its English wording; a missing language is an error the test
suite finds instead of a silent fallback; the project already keeps its data in YAML and
checks it, and nothing has to be compiled before an installed cyberstd can speak.
"""

from __future__ import annotations

import datetime as dt
import string
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGS = ("nl", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
PLURAL_FORMS = ("one", "other")

# A text: one string, or a form for one and one for more.
Text = str | dict[str, str]


class CatalogError(Exception):
    """The message catalog itself is wrong (a missing language, an id given twice)."""


@dataclass(frozen=True)
class Msg:
    """A message by id, with the values to fill in; rendered per language."""

    id: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        return render(self.id, lang, self.args)

    def __str__(self) -> str:
        return self.render("en")


def msg(id: str, /, **args: Any) -> Msg:
    """The message `id` with `args` to fill in (checked against the catalog when rendered)."""
    return Msg(id, args)


def verbatim(text: str) -> Msg:
    """Text that is the same in every language (a host name, a value read from a file)."""
    return Msg("text.verbatim", {"text": text})


MONTHS = {
    "nl": (
        "januari", "februari", "maart", "april", "mei", "juni",
        "juli", "augustus", "september", "oktober", "november", "december",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def day(value: dt.date, lang: str) -> str:
    """A day as the language writes it in a sentence: "7 juli 2030", "7 July 2030"."""
    months = MONTHS["en" if lang == "en" else "nl"]
    return f"{value.day} {months[value.month - 1]} {value.year}"


@dataclass(frozen=True)
class _Local(Msg):
    """Text the files already give in both languages: rendered as the one asked for."""

    def render(self, lang: str) -> str:
        return str(self.args["en" if lang == "en" else "nl"])


def local(nl: str, en: str) -> Msg:
    """Text already written in Dutch and English (a LocalText of the catalog, a reason the
    code composed in both languages), to fill in like any message."""
    return _Local("text.verbatim", {"nl": nl, "en": en})


def _value(value: Any, lang: str) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return day(value, lang)
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Msg) for v in value):
        return "; ".join(v.render(lang) for v in value)
    return value


def render(id: str, lang: str, args: Mapping[str, Any] | None = None) -> str:
    """The text of `id` in `lang` ('nl' or 'en'; anything else is English) with `args` filled in."""
    entry = catalog().get(id)
    if entry is None:
        raise KeyError(f"no message {id!r} in the catalog")
    text = entry["en" if lang == "en" else "nl"]
    values = {k: _value(v, lang) for k, v in (args or {}).items()}
    if isinstance(text, dict):
        count = values.get("n")
        text = text["one"] if count == 1 else text["other"]
    return text.format(**values)


def both(m: Msg) -> dict[str, str]:
    """A message in both languages, as results.json keeps texts."""
    return {lang: m.render(lang) for lang in LANGS}


def joined(parts: Iterable[Msg], lang: str, sep: str = "; ") -> str:
    return sep.join(p.render(lang) for p in parts)


def fields(text: Text) -> set[str]:
    """The names a text fills in."""
    forms = text.values() if isinstance(text, dict) else [text]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def _check_entry(where: str, id: str, entry: Any) -> dict[str, Text]:
    if not isinstance(entry, dict) or set(entry) != set(LANGS):
        raise CatalogError(f"{where}: message {id!r} must give exactly nl and en")
    for lang in LANGS:
        text = entry[lang]
        if isinstance(text, dict):
            if set(text) != set(PLURAL_FORMS) or not all(isinstance(v, str) for v in text.values()):
                raise CatalogError(f"{where}: message {id!r} ({lang}) must give one and other")
        elif not isinstance(text, str) or not text:
            raise CatalogError(f"{where}: message {id!r} ({lang}) is not a text")
    if fields(entry["nl"]) != fields(entry["en"]):
        raise CatalogError(f"{where}: message {id!r} fills in other values in nl than in en")
    return {lang: entry[lang] for lang in LANGS}


def load(directory: Path) -> dict[str, dict[str, Text]]:
    """Every message of the YAML files in `directory`; an id may appear only once."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    found: dict[str, dict[str, Text]] = {}
    where_of: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise CatalogError(f"{path.name}: not a mapping of message ids")
        for id, entry in data.items():
            if id in found:
                raise CatalogError(f"{path.name}: message {id!r} is also in {where_of[id]}")
            found[str(id)] = _check_entry(path.name, str(id), entry)
            where_of[str(id)] = path.name
    return found


_LOADING = threading.Lock()
_LOADED: list[dict[str, dict[str, Text]]] = []


def catalog() -> dict[str, dict[str, Text]]:
    """Every message, read once: probes that render their first message at the same time wait
    for one reading instead of each reading the catalog again. Once read, no lock is taken
    (every message rendered asks for the catalog: a lock there makes threads queue)."""
    if not _LOADED:
        with _LOADING:
            if not _LOADED:
                _LOADED.append(load(LOCALE_DIR))
    return _LOADED[0]
