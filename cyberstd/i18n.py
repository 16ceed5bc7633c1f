"""How cyberstd says things in Dutch and English: texts by id (from the message catalog,
cyberstd/messages.py), and numbers as each language writes them."""

from __future__ import annotations

from typing import Any

from cyberstd.messages import LANGS, render

__all__ = ["LANGS", "percent", "signed", "t"]


def t(key: str, lang: str, **values: Any) -> str:
    """The text for `key` in `lang` ('nl' or 'en'), with values filled in."""
    return render(key, lang, values)


def percent(value: float, lang: str, digits: int = 1) -> str:
    """A percentage as the language writes it: "2,9 %" in Dutch (decimal comma, a no-break
    space before the sign), "2.9%" in English."""
    text = f"{value:.{digits}f}"
    return f"{text.replace('.', ',')}\u00a0%" if lang == "nl" else f"{text}%"


def signed(value: float, lang: str, digits: int = 1) -> str:
    """A difference with its sign: "+5,5" in Dutch, "+5.5" in English."""
    text = f"{value:+.{digits}f}"
    return text.replace(".", ",") if lang == "nl" else text
