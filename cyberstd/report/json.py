"""results.json: the canonical output that every other format is rendered from."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from cyberstd.errors import InputError, Problem
from cyberstd.results import Results
from cyberstd.yamlsrc import read_text


def render(results: Results, lang: str = "en") -> str:
    return results.model_dump_json(indent=2, exclude_none=True) + "\n"


def load(path: Path, display: str) -> Results:
    """Read a results.json back, with a clear message when it is not one."""
    text, _ = read_text(path, display)
    try:
        return Results.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise InputError(
            [
                Problem(
                    display,
                    1,
                    1,
                    "results",
                    f"not a cyberstd results file: {where}: {first['msg']}",
                )
            ]
        ) from None
