"""Session histories turned into jobs: backup software reports one row per run of a job (Veeam's
sessions, the lines of a DSM log, Active Backup for Business's task history), while the rules
ask per job when it last succeeded. A kind says, as data, where a history's sessions are and
how to read them (`SessionHistory`); `with_jobs` adds to the export one item per job.

Each job item (under `jobs`, at the line of the job's latest session) holds:

- `job`: the job's name, as the latest session writes it;
- `last_success`: when its latest successful backup session ran (`YYYY-MM-DD HH:MM:SS`, at the
  line of that session), absent when no session succeeded;
- `last_run`, `last_result`: the time and the outcome of its latest backup session;
- `sessions`, `failures_since_success`: how many backup sessions the export holds, and how many
  of them failed after the latest success;
- `last_restore`: when its latest successful restore ran, for a history that holds restores.

A session whose outcome is neither a success nor a failure (a "started" line, a session still
running) is no outcome and is left out; so is a line a `pattern` does not match (another
package's message in the same log).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pydantic import Field, field_validator

from cyberstd.parsers.base import Node, ParseError
from cyberstd.rules.compare import ValueProblem, absent, as_datetime
from cyberstd.rules.select import SelectorError, compile_selector, select
from cyberstd.schema import Strict

JOBS = "jobs"
EPOCH = "epoch"


class SessionHistory(Strict):
    """How a kind's export lists backup sessions: where they are, and, relative to each, the
    job, the time and the outcome (selectors), which outcomes are successes and failures
    (regular expressions, without regard to case), and the time's formats (strptime patterns,
    or `epoch` for seconds since 1970 in UTC), tried before the usual ones (section 6.5)."""

    # Where the sessions are: one selector, or several of which each is read (a JSON export
    # saved with or without its response envelope).
    select: str | list[str] = "rows[*]"
    job: str
    time: str
    result: str
    success: str
    failure: str
    time_formats: list[str] = Field(default_factory=list)
    # A text to read the other fields from: the named groups of `pattern` become fields of the
    # session (Hyper Backup writes "[Local][USB-Kopie] Backup task finished successfully.").
    message: str | None = None
    pattern: str | None = None
    # What a session did: only those whose action matches `backup` are backups (every session
    # without `action`); those that match `restore` are restores.
    action: str | None = None
    backup: str | None = None
    restore: str | None = None

    @field_validator("select", "job", "time", "result", "message", "action")
    @classmethod
    def _selector(cls, v: str | list[str] | None) -> str | list[str] | None:
        for one in [v] if isinstance(v, str) else v or []:
            try:
                compile_selector(one)
            except SelectorError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("success", "failure", "pattern", "backup", "restore")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return v


@dataclass
class _Job:
    name: Node
    sessions: int = 0
    last: tuple[dt.datetime, Node, Node] | None = None  # time, result, session
    success: tuple[dt.datetime, Node] | None = None
    failures: list[dt.datetime] = field(default_factory=list)
    restore: tuple[dt.datetime, Node] | None = None


def _first(item: Node, selector: str) -> Node | None:
    found = select(item, compile_selector(selector))
    return found[0].node if found and not absent(found[0].node.value) else None


def _moment(node: Node, formats: list[str]) -> dt.datetime:
    value = node.value
    try:
        if EPOCH in formats and (isinstance(value, int) or str(value).strip().isdigit()):
            return dt.datetime.fromtimestamp(int(str(value).strip()), dt.UTC).replace(tzinfo=None)
        moment = as_datetime(value, [f for f in formats if f != EPOCH])
    except (ValueProblem, ValueError, OverflowError):
        raise ParseError(node.file, f"{str(value)!r} is not a date", node.line) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _text(moment: dt.datetime, at: Node) -> Node:
    return Node(moment.strftime("%Y-%m-%d %H:%M:%S"), at.file, at.line)


def _session(history: SessionHistory, item: Node) -> Node | None:
    """The session with the named groups of its message as fields, or None when the message
    does not match (a line about something else)."""
    if history.message is None or history.pattern is None:
        return item
    text = _first(item, history.message)
    hit = re.search(history.pattern, str(text.value)) if text is not None else None
    if text is None or hit is None or not isinstance(item.value, dict):
        return None
    extra = {k: Node(v.strip(), text.file, text.line) for k, v in hit.groupdict().items() if v}
    return Node({**item.value, **extra}, item.file, item.line)


def _jobs(history: SessionHistory, tree: Node) -> list[_Job]:
    jobs: dict[str, _Job] = {}
    wanted = [history.select] if isinstance(history.select, str) else history.select
    for found in (m for one in wanted for m in select(tree, compile_selector(one))):
        session = _session(history, found.node)
        if session is None:
            continue
        name, when, result = (
            _first(session, s) for s in (history.job, history.time, history.result)
        )
        if name is None or when is None or result is None:
            continue
        action = _first(session, history.action) if history.action else None
        act = "" if action is None else str(action.value)
        is_restore = history.restore is not None and re.search(history.restore, act, re.I)
        if (
            history.backup is not None
            and not is_restore
            and not re.search(history.backup, act, re.I)
        ):
            continue
        outcome = str(result.value)
        ok = bool(re.search(history.success, outcome, re.IGNORECASE))
        if not ok and not re.search(history.failure, outcome, re.IGNORECASE):
            continue
        moment = _moment(when, history.time_formats)
        job = jobs.setdefault(str(name.value).strip().casefold(), _Job(name))
        if is_restore:
            if ok and (job.restore is None or moment > job.restore[0]):
                job.restore = (moment, session)
            continue
        job.sessions += 1
        if job.last is None or moment >= job.last[0]:
            job.last = (moment, result, session)
            job.name = name
        if ok and (job.success is None or moment > job.success[0]):
            job.success = (moment, session)
        elif not ok:
            job.failures.append(moment)
    return list(jobs.values())


def _item(job: _Job) -> Node:
    at = job.last[2] if job.last is not None else job.name
    fields: dict[str, Node] = {
        "job": job.name,
        "sessions": Node(job.sessions, at.file, at.line),
    }
    if job.last is not None:
        moment, result, session = job.last
        fields["last_run"] = _text(moment, session)
        fields["last_result"] = result
    if job.success is not None:
        fields["last_success"] = _text(*job.success)
    since = job.success[0] if job.success is not None else None
    failed = [m for m in job.failures if since is None or m > since]
    fields["failures_since_success"] = Node(len(failed), at.file, at.line)
    if job.restore is not None:
        fields["last_restore"] = _text(*job.restore)
    return Node(fields, at.file, at.line)


def with_jobs(history: SessionHistory, tree: Node) -> Node:
    """The export with `jobs`: one item per job of its session history (see the module).
    A time that is not a date is a ParseError at its line."""
    if not isinstance(tree.value, dict):
        return tree
    items = [_item(job) for job in _jobs(history, tree) if job.sessions or job.restore]
    return Node({**tree.value, JOBS: Node(items, tree.file, tree.line)}, tree.file, tree.line)
