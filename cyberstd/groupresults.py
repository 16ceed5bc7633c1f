"""The roll-up of a group run: one row per school, small enough for thousands of schools.

A group run (`cyberstd group scan`) writes one results.json per school, unchanged in format,
and this roll-up beside them (`group-results.json`): where each school stands (level, score,
the status of every control, the checks that failed), how its scan went (done, failed, timed
out, or taken from a recent run), and the runs before it for the trend. The dashboard, the CSV
and the group JSON are rendered from it alone; nobody has to hold every school's results.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cyberstd.results import ControlStatus, Count, Level, Tool

GROUP_SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class ScanState(StrEnum):
    """How one school's scan went in this run."""

    DONE = "done"  # scanned in this run
    RECENT = "recent"  # scanned recently (--since): that run's results are used
    FAILED = "failed"  # every attempt failed (a bad school folder, an error): see `error`
    TIMED_OUT = "timed_out"  # every attempt ran past the per-school deadline
    PENDING = "pending"  # not scanned yet: the run was stopped (resume it)


class GroupMode(StrEnum):
    FOLDERS = "folders"  # a group folder of school folders: every check the profile holds
    PERIMETER = "perimeter"  # a list of schools: only public-facing checks (DNS, mail, TLS, web)


class LocalText(_Model):
    nl: str
    en: str


class ControlInfo(_Model):
    """A control of the framework, for the heat map's rows."""

    id: str
    level: int
    title: LocalText


class CheckInfo(_Model):
    """A check that failed in some school, with its title for the dashboard's list of gaps."""

    id: str
    title: LocalText


class BatchAuthorization(_Model):
    """Who allowed the scan of the whole batch (perimeter mode), as group.yaml records it."""

    authorized_by: str
    date: dt.date
    expires: dt.date | None = None
    reference: str | None = None


class SchoolRow(_Model):
    id: str
    name: str
    institution_number: str | None = None
    state: ScanState
    attempts: Count = 0
    # why the school has no results (state failed or timed_out), in both languages
    error: LocalText | None = None
    # relative to the group's output folder: schools/<id>/results.json and its report
    results_path: str | None = None
    report_path: str | None = None
    # the run that made the results used here (this run, or an earlier one for `recent`)
    results_run: str | None = None
    scanned: dt.datetime | None = None
    target_level: Level | None = None
    level_reached: Level | None = None
    score: Percent | None = None
    # the status of every control of the framework, by control id
    controls: dict[str, ControlStatus] = Field(default_factory=dict)
    # check ids that failed at least once in this school
    failed_checks: list[str] = Field(default_factory=list)
    # the same school in the run before, for the trend
    previous_level: Level | None = None
    previous_score: Percent | None = None


class RunSummary(_Model):
    """An earlier run of the same group, for the trend."""

    id: str
    finished: dt.datetime
    schools: Count
    assessed: Count  # schools with results
    # schools per level reached, by level ("0" .. "6")
    levels: dict[str, Count] = Field(default_factory=dict)
    mean_score: Percent | None = None


class GroupRunInfo(_Model):
    id: str
    started: dt.datetime
    finished: dt.datetime | None = None
    mode: GroupMode
    profile: str
    framework: str
    as_of: dt.date | None = None
    executor: str = "local"
    authorization: BatchAuthorization | None = None


class GroupRef(_Model):
    id: str
    name: str


class GroupResults(_Model):
    schema_version: str = GROUP_SCHEMA_VERSION
    tool: Tool
    run: GroupRunInfo
    group: GroupRef
    controls: list[ControlInfo]
    schools: list[SchoolRow]
    # the checks that failed in at least one school (their titles); older roll-ups have none
    checks: list[CheckInfo] = Field(default_factory=list)
    history: list[RunSummary] = Field(default_factory=list)
