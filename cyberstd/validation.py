"""Turn a YAML document into a pydantic model, reporting every problem with its position."""

from __future__ import annotations

import difflib
import functools
import re
import types
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from cyberstd.errors import InvalidValue, Problem
from cyberstd.messages import Msg, catalog, local, msg, render, verbatim

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


def suggest(word: str, choices: Iterable[str], *, close: bool = True) -> Msg | str:
    """' (did you mean X?)' as a catalog message when a match exists, else ''. The same id
    but for case, spaces, '-' or leading zeros comes first (o12, O-12, O012 are O12, not T12);
    other close matches only when `close` (for control ids they would point at another
    measure: O99 is not O29)."""
    pool = list(choices)
    same = {_same_id(c): c for c in pool}
    if _same_id(word) in same:
        return msg("input.did_you_mean", choice=repr(same[_same_id(word)]))
    if not close:
        return ""
    folded = {c.casefold(): c for c in pool}
    matches = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return msg("input.did_you_mean", choice=repr(folded[matches[0]])) if matches else ""


def did_you_mean(word: str, choices: Iterable[str], *, close: bool = True) -> str:
    """' (did you mean X?)' when a match exists, else '' (in English; `suggest` says it in
    every language)."""
    return str(suggest(word, choices, close=close))


def parse(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    """Validate a loaded document; return the model or every problem found, positioned."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors(include_url=False):
            problem = _problem(doc, model, err)
            # a union reports once per member; one line per position is enough. A key unknown
            # where a field is missing is said too: a misspelt key at the top of a file sits
            # where the file starts ('groep:' for 'group:', with "did you mean").
            if not any(_same_place(p, problem) for p in problems):
                problems.append(problem)
        return None, problems


def _same_place(one: Problem, other: Problem) -> bool:
    keys = {"unknown-field", "missing-field"}
    if one.code in keys and other.code in keys and one.code != other.code:
        return False
    return (one.line, one.col) == (other.line, other.col)


def _problem(doc: Document, model: type[BaseModel], err: Any) -> Problem:
    loc: tuple[int | str, ...] = tuple(
        p for p in err["loc"] if not (isinstance(p, str) and "[" in p)
    )
    kind: str = err["type"]
    where = ".".join(str(p) for p in loc) or "document"
    if kind == "missing":
        said = msg("input.field.missing", name=repr(loc[-1]))
        return doc.problem(loc[:-1], "missing-field", said)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        hint = suggest(name, _fields_at(model, loc[:-1]))
        said = msg("input.field.unknown", name=repr(name), hint=hint)
        return doc.problem(loc, "unknown-field", said, key=True)
    if kind == "enum":
        given = str(err.get("input"))
        expected = [
            e.strip(" '") for e in str(err["ctx"]["expected"]).replace(" or ", ", ").split(",")
        ]
        hint = suggest(given, expected)
        said = msg(
            "input.value.enum",
            where=where,
            given=repr(given),
            expected=", ".join(expected),
            hint=hint,
        )
        return doc.problem(loc, "invalid", said)
    if kind in _DATE_ERRORS:
        what = _said(err, str(err["msg"]).lower())
        said = msg("input.value.date", where=where, said=what, given=repr(err.get("input")))
        return doc.problem(loc, "date", said)
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return doc.problem(loc, "type", msg("input.value.mapping", where=where, what=_what(err)))
    if kind.endswith("_type") or kind == "list_type":
        what = _said(err, str(err["msg"]).lower())
        return doc.problem(loc, "type", msg("input.value.said", where=where, said=what))
    if kind == "string_pattern_mismatch":
        given = str(err.get("input"))
        spaces = msg("input.value.spaces") if given != given.strip() else ""
        said = msg("input.value.pattern", where=where, given=repr(given), hint=spaces)
        return doc.problem(loc, "invalid", said)
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, InvalidValue):
        what = error.said
    else:
        what = _said(err, str(err["msg"]).removeprefix("Value error, "))
    return doc.problem(loc, "invalid", msg("input.value.said", where=where, said=what))


def _said(err: Any, text: str) -> Msg:
    """pydantic's message `text` in the catalog's words (input.pydantic.<kind>), when the
    catalog's English is that text, word for word; else the text as pydantic gave it."""
    id = f"input.pydantic.{err['type']}"
    if id not in catalog():
        return verbatim(text)
    ctx = err.get("ctx") or {}
    values = {name: _ctx_value(name, value) for name, value in ctx.items()}
    for bound in ("min_length", "max_length"):
        if bound in ctx:
            values["n"] = ctx[bound]
    try:
        said = msg(id, **values)
        same = said.render("en") == text
    except (KeyError, IndexError, ValueError):
        same = False
    return said if same else verbatim(text)


_FIELD_TYPES_NL = {"List": "de lijst", "Dictionary": "de tabel", "Set": "de verzameling"}


def _ctx_value(name: str, value: Any) -> Any:
    """A value pydantic fills into its message, to fill into the catalog's."""
    if name == "error" and isinstance(value, str):
        detail = _details().get(value)
        return msg(detail) if detail else verbatim(value)
    if name == "field_type" and isinstance(value, str):
        return local(_FIELD_TYPES_NL.get(value, value), value)
    if isinstance(value, float):  # as pydantic writes it (300, not 300.0), with a comma in nl
        shown = str(int(value)) if value.is_integer() else repr(value)
        return local(shown.replace(".", ","), shown)
    return value


@functools.cache
def _details() -> dict[str, str]:
    """The ids of the details pydantic adds to a message (why a date is not one), by their
    English text."""
    prefix = "input.pydantic.detail."
    return {render(id, "en"): id for id in catalog() if id.startswith(prefix)}


def _what(err: Any) -> Msg:
    """What was given instead, in a word: a list, text, a number, ..."""
    given = err.get("input")
    if isinstance(given, list):
        return msg("input.what.list")
    if isinstance(given, bool):
        return msg("input.what.value", value=str(given).lower())
    if isinstance(given, (int, float)):
        return msg("input.what.number", number=_ctx_value("number", given))
    if isinstance(given, str):
        return msg("input.what.text", text=repr(given[:40]))
    return msg("input.what.empty") if given is None else msg("input.what.other")


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
