"""Turn a YAML document into a pydantic model, reporting every problem with its position."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from cyberstd.errors import Problem

if TYPE_CHECKING:
    from cyberstd.yamlsrc import Document

M = TypeVar("M", bound=BaseModel)

_DATE_ERRORS = {
    "date_parsing",
    "date_from_datetime_parsing",
    "date_from_datetime_inexact",
    "date_type",
}


def _same_id(text: str) -> str:
    """An id reduced to what a typo keeps: case, spaces, '-' and leading zeros gone."""
    bare = re.sub(r"[\s_-]+", "", text.casefold()).rstrip(".")
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", bare)


def did_you_mean(word: str, choices: Iterable[str], *, close: bool = True) -> str:
    """' (did you mean X?)' when a match exists, else ''. The same id but for case, spaces,
    '-' or leading zeros comes first (o12, O-12, O012 are O12, not T12); other close matches
    only when `close` (for control ids they would point at another measure: O99 is not O29)."""
    pool = list(choices)
    same = {_same_id(c): c for c in pool}
    if _same_id(word) in same:
        return f" (did you mean {same[_same_id(word)]!r}?)"
    if not close:
        return ""
    folded = {c.casefold(): c for c in pool}
    matches = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean {folded[matches[0]]!r}?)" if matches else ""


def parse(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    """Validate a loaded document; return the model or every problem found, positioned."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors(include_url=False):
            problem = _problem(doc, model, err)
            # a union reports once per member; one line per position is enough
            if not any((p.line, p.col) == (problem.line, problem.col) for p in problems):
                problems.append(problem)
        return None, problems


def _problem(doc: Document, model: type[BaseModel], err: Any) -> Problem:
    loc: tuple[int | str, ...] = tuple(
        p for p in err["loc"] if not (isinstance(p, str) and "[" in p)
    )
    kind: str = err["type"]
    where = ".".join(str(p) for p in loc) or "document"
    if kind == "missing":
        return doc.problem(loc[:-1], "missing-field", f"required field {loc[-1]!r} is missing")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        known = _fields_at(model, loc[:-1])
        hint = did_you_mean(name, known)
        return doc.problem(loc, "unknown-field", f"unknown field {name!r}{hint}", key=True)
    if kind == "enum":
        given = str(err.get("input"))
        expected = [
            e.strip(" '") for e in str(err["ctx"]["expected"]).replace(" or ", ", ").split(",")
        ]
        hint = did_you_mean(given, expected)
        return doc.problem(
            loc, "invalid", f"{where}: {given!r} is not one of {', '.join(expected)}{hint}"
        )
    if kind in _DATE_ERRORS:
        return doc.problem(loc, "date", f"{where}: {err['msg'].lower()} (got {err.get('input')!r})")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return doc.problem(
            loc, "type", f"{where}: should be a mapping of fields (key: value), not {_what(err)}"
        )
    if kind.endswith("_type") or kind == "list_type":
        return doc.problem(loc, "type", f"{where}: {err['msg'].lower()}")
    if kind == "string_pattern_mismatch":
        given = str(err.get("input"))
        hint = " (it has spaces around it)" if given != given.strip() else ""
        return doc.problem(
            loc,
            "invalid",
            f"{where}: {given!r} is not a valid id: letters, digits, '.', '_' and '-', starting "
            f"with a letter or digit{hint}",
        )
    msg = str(err["msg"]).removeprefix("Value error, ")
    return doc.problem(loc, "invalid", f"{where}: {msg}")


def _what(err: Any) -> str:
    """What was given instead, in a word: a list, text, a number, ..."""
    given = err.get("input")
    if isinstance(given, list):
        return "a list"
    if isinstance(given, bool):
        return f"the value {str(given).lower()}"
    if isinstance(given, (int, float)):
        return f"the number {given}"
    if isinstance(given, str):
        return f"the text {given[:40]!r}"
    return "an empty value" if given is None else "that"


def _fields_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """Field names of the model that sits at `loc` inside `model`, for "did you mean"."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = get_args(current)
            current = args[-1] if args else None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Union to the first model member, keeping list/dict for indexing."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        for arg in get_args(tp):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
            if get_origin(arg) in (list, dict):
                return arg
        return None
    return tp
