"""The group dashboard: one self-contained HTML page over every school of a group run, in nl or en.

Where the run stands (how many schools were scanned, taken from a recent run, failed, timed out
or still wait), how many schools reached each level of the growth path, the controls-by-schools
heat map (for more than HEATMAP_LIMIT schools the share of schools per status of each control
instead, so that the page stays light for thousands of schools), the most common gaps, the trend
against earlier runs, and a table of the schools that links to each school's own report.

As the board summary: nothing is fetched and no script runs (its Content-Security-Policy allows
neither), text from the group folder, the school list or a results file is made inert
(views.py) and escaped by Jinja's autoescape; nothing is marked safe.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cyberstd.groupresults import GroupResults, ScanState
from cyberstd.i18n import percent, t
from cyberstd.messages import day
from cyberstd.report.escape import inert
from cyberstd.report.html import STATUS_ORDER, template_env
from cyberstd.report.summary import CSP
from cyberstd.rollup.rows import assessed, errored_schools, mean_score
from cyberstd.rollup.views import (
    BAR_WIDTH,
    CAUSES_SHOWN,
    HEATMAP_LIMIT,
    ID_LIMIT,
    NAME_LIMIT,
    changes,
    check_gaps,
    control_gaps,
    heat_map,
    level_bars,
    level_name,
    school_views,
    share_rows,
    state_counts,
    trend,
    unfinished,
)

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "group.html.j2"
BAR_ROW = 22  # height of a bar's row in the level chart
LABEL_WIDTH = 130  # room for a level's name left of its bar


def _env() -> Environment:
    return template_env(TEMPLATES)


def _when(moment: dt.datetime | None) -> str:
    """A moment of the run in UTC, to the minute."""
    if moment is None:
        return ""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment
    return f"{utc:%Y-%m-%d %H:%M} UTC"


def _authorization(group: GroupResults, lang: str) -> list[str]:
    """Who allowed the scan of the whole list, as group.yaml says it (perimeter mode)."""
    auth = group.run.authorization
    if auth is None:
        return []
    lines = [t("group.auth.by", lang, by=inert(auth.authorized_by, NAME_LIMIT), date=auth.date)]
    if auth.expires is not None:
        lines.append(t("group.auth.expires", lang, date=auth.expires))
    if auth.reference:
        lines.append(t("group.auth.reference", lang, reference=inert(auth.reference, ID_LIMIT)))
    return lines


def _context(group: GroupResults, lang: str) -> dict[str, Any]:
    """Everything the template shows, already made inert."""
    tr = functools.partial(t, lang=lang)
    with_results = assessed(group.schools)
    mean = mean_score(with_results)
    problems = unfinished(group, lang)
    heat = len(group.schools) <= HEATMAP_LIMIT
    columns, heat_rows = heat_map(group, lang) if heat else ([], [])
    bars = level_bars(group, lang)
    runs = trend(group, lang)
    return {
        "lang": "en" if lang == "en" else "nl",
        "tr": tr,
        "csp": CSP,
        "title": t("group.title", lang),
        "group_name": inert(group.group.name, NAME_LIMIT),
        "group_id": inert(group.group.id, ID_LIMIT),
        "run_id": inert(group.run.id, ID_LIMIT),
        "mode": str(group.run.mode),
        "mode_text": t(f"group.mode.{group.run.mode}", lang),
        "profile": inert(group.run.profile, ID_LIMIT),
        "framework": inert(group.run.framework, ID_LIMIT),
        "started": _when(group.run.started),
        "finished": _when(group.run.finished),
        "as_of": day(group.run.as_of, lang) if group.run.as_of is not None else "",
        "authorization": _authorization(group, lang),
        "total": len(group.schools),
        "with_results": len(with_results),
        "errored": errored_schools(group),
        "states": state_counts(group, lang),
        "pending": sum(1 for s in group.schools if s.state is ScanState.PENDING),
        "problems": problems[:CAUSES_SHOWN],
        "more_problems": max(0, len(problems) - CAUSES_SHOWN),
        "unfinished": sum(p.count for p in problems),
        "mean": percent(mean, lang) if mean is not None else "",
        "bars": bars,
        "bar_width": BAR_WIDTH,
        "bar_row": BAR_ROW,
        "label_width": LABEL_WIDTH,
        "levels_height": BAR_ROW * len(bars),
        "heat": heat,
        "heat_limit": HEATMAP_LIMIT,
        "columns": columns,
        "heat_rows": heat_rows,
        "share_rows": [] if heat else share_rows(group, lang),
        "legend": [
            (str(st), t(f"status.{st}", lang), t(f"group.cell.{st}", lang)) for st in STATUS_ORDER
        ],
        "control_gaps": control_gaps(group, lang),
        "check_gaps": check_gaps(group, lang),
        "trend": runs,
        "trend_levels": [(level, level_name(level, lang)) for level, _ in runs[-1].levels],
        "change": changes(group),
        "schools": school_views(group, lang),
        "tool": inert(group.tool.name, ID_LIMIT),
        "tool_version": inert(group.tool.version, ID_LIMIT),
    }


def render_html(group: GroupResults, lang: str = "nl") -> str:
    """The group dashboard as one self-contained HTML page in Dutch ('nl') or English ('en')."""
    return _env().get_template(TEMPLATE).render(_context(group, lang))
