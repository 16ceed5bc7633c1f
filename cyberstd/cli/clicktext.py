"""What click says about a command typed wrongly, in the console's language.

click asks `gettext` for each of its texts (its own way to be translated). Each of its modules
that does is given `said` and `said_n` instead, which look the English text up in the message
catalog (cyberstd/locale/click.yaml: `en` holds click's text to the letter) and give the Dutch
one when the console is Dutch. A text the catalog lacks, or an English console, keeps click's
own words. The language is asked each time a text is needed, so a test that sets LANG after
import is served in it.
"""

from __future__ import annotations

import functools
import gettext
from types import ModuleType

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

from cyberstd.cli.common import console_lang
from cyberstd.messages import catalog

PREFIX = "click."
_MODULES: tuple[ModuleType, ...] = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
)


@functools.cache
def _dutch() -> dict[str, str | dict[str, str]]:
    """click's English text -> the Dutch (a text, or its `one` and `other` forms)."""
    out: dict[str, str | dict[str, str]] = {}
    for id, entry in catalog().items():
        if not id.startswith(PREFIX):
            continue
        en, nl = entry["en"], entry["nl"]
        if isinstance(en, dict) and isinstance(nl, dict):
            out[en["one"]] = nl
        elif isinstance(en, str):
            out[en] = nl
    return out


def said(message: str) -> str:
    """click's text in the console's language."""
    if console_lang() == "en":
        return message
    found = _dutch().get(message)
    return found if isinstance(found, str) else message


def said_n(singular: str, plural: str, n: int) -> str:
    """click's text for a count, in the console's language."""
    english = singular if n == 1 else plural
    if console_lang() == "en":
        return english
    found = _dutch().get(singular)
    if not isinstance(found, dict):
        return english
    return found["one"] if n == 1 else found["other"]


def install() -> None:
    """Have click's modules ask `said` and `said_n` for their texts (once is enough)."""
    for module in _MODULES:
        if getattr(module, "_", None) is gettext.gettext:
            module._ = said  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = said_n  # type: ignore[attr-defined]
