"""The roll-up of a group run: each school's row built from its results (rows.py)."""

from __future__ import annotations

from cyberstd.rollup.rows import control_infos, run_summary, school_row, unscanned_row

__all__ = ["control_infos", "run_summary", "school_row", "unscanned_row"]
