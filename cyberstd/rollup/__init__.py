"""The roll-up of a group run: each school's row built from its results (rows.py), and the
group's JSON, CSV and HTML dashboard rendered from the roll-up alone (json.py, csv.py,
html.py), in Dutch and English."""

from __future__ import annotations

from cyberstd.rollup.csv import render_csv
from cyberstd.rollup.html import render_html
from cyberstd.rollup.json import render_json
from cyberstd.rollup.rows import control_infos, run_summary, school_row, unscanned_row

__all__ = [
    "control_infos",
    "render_csv",
    "render_html",
    "render_json",
    "run_summary",
    "school_row",
    "unscanned_row",
]
