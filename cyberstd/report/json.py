"""results.json: the canonical output that every other format is rendered from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cyberstd.errors import InputError, Problem
from cyberstd.messages import msg
from cyberstd.results import SCHEMA_VERSION, Results
from cyberstd.yamlsrc import read_text


def render(results: Results, lang: str = "en") -> str:
    return results.model_dump_json(indent=2, exclude_none=True) + "\n"


# results.json has its own limit, far above the YAML inputs': a school of 800 hosts writes
# about 25 MB, and a results file is our own output, not a hand-written document.
MAX_RESULTS_BYTES = 1024 * 1024 * 1024


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different (else the last would silently win)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number results.json can hold")


def load(path: Path, display: str) -> Results:
    """Read a results.json back, refusing (InputError, at file:line:col) what is not valid
    JSON, not a cyberstd results file, or of another schema_version."""
    text, _ = read_text(
        path, display, limit=MAX_RESULTS_BYTES, expected=msg("input.file.json_text")
    )

    def problem(message: str, line: int = 1, col: int = 1) -> InputError:
        return InputError([Problem(display, line, col, "results", message)])

    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise problem(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise problem("not a cyberstd results file: nested too deeply") from None
    except ValueError as exc:  # a duplicate key, NaN, a number of thousands of digits
        raise problem(f"not a cyberstd results file: {exc}") from None
    if not isinstance(data, dict) or "controls" not in data or "schema_version" not in data:
        raise problem("not a cyberstd results file (no schema_version and controls)")
    version = data["schema_version"]
    if version != SCHEMA_VERSION:
        raise problem(
            f"schema_version {version!r} is not supported: this cyberstd reads "
            f"{SCHEMA_VERSION!r}; render results with the cyberstd version that wrote them"
        )
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise problem(f"not a cyberstd results file: {where}: {first['msg']}") from None
