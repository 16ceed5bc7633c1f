"""The group's spreadsheet: one row per school, for Excel or any tool that reads CSV.

Columns: the school's id, institution number and name, how its scan went, the level reached and
the target level, the score, the level of the run before, how many of its controls have each
status, how many checks failed, the paths of its report and results (relative to the group's
output folder) and, for a scan that failed, why. Headers and words are in the report's
language.

With ';' (the default) the file is for Excel in a Dutch or Belgian locale, as the school's
action plan: UTF-8 with a byte order mark and a decimal comma in the score. With ',' it is for
other tools: no byte order mark, a decimal point. Lines end with CRLF, and every cell is
neutralised against CSV injection (report/csv.py).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Literal

from cyberstd.groupresults import GroupResults, SchoolRow
from cyberstd.i18n import t
from cyberstd.report.csv import BOM, neutralise
from cyberstd.report.html import STATUS_ORDER

Separator = Literal[";", ","]

# Column keys before and after the counts per control status; headers are
# `group.csv.col.<key>`, a count's header `group.csv.col.count` with the status.
HEAD: tuple[str, ...] = (
    "id",
    "institution_number",
    "name",
    "state",
    "level_reached",
    "target_level",
    "score",
    "previous_level",
)
TAIL: tuple[str, ...] = ("failed_checks", "report", "results", "error")


def headers(lang: str) -> list[str]:
    counts = [t("group.csv.col.count", lang, status=t(f"status.{st}", lang)) for st in STATUS_ORDER]
    return [
        *(t(f"group.csv.col.{key}", lang) for key in HEAD),
        *counts,
        *(t(f"group.csv.col.{key}", lang) for key in TAIL),
    ]


def _number(value: int | float | None, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", decimal)
    return str(value)


def row(school: SchoolRow, lang: str, decimal: str) -> list[str]:
    """A school's cells, before they are neutralised."""
    has_results = school.level_reached is not None
    counted = Counter(school.controls.values())
    error = ""
    if school.error is not None:
        error = school.error.en if lang == "en" else school.error.nl
    return [
        school.id,
        school.institution_number or "",
        school.name,
        t(f"group.state.{school.state}", lang),
        _number(school.level_reached, decimal),
        _number(school.target_level, decimal),
        _number(school.score, decimal),
        _number(school.previous_level, decimal),
        *(str(counted[st]) if has_results else "" for st in STATUS_ORDER),
        str(len(school.failed_checks)) if has_results else "",
        school.report_path or "",
        school.results_path or "",
        error,
    ]


def render_csv(group: GroupResults, lang: str = "nl", sep: Separator = ";") -> str:
    """One row per school, by id, after a header row in the report's language."""
    if sep not in (";", ","):
        raise ValueError(f"a CSV separator is ';' or ',', not {sep!r}")
    decimal = "," if sep == ";" else "."
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers(lang)])
    for school in sorted(group.schools, key=lambda s: s.id):
        writer.writerow([neutralise(cell) for cell in row(school, lang, decimal)])
    return (BOM if sep == ";" else "") + buffer.getvalue()
