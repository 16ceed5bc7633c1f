"""OSCAL assessment-results (JSON) of a scan: observations for the evidence, findings per control.

One result holds the whole run. Every check finding and every attestation becomes an
observation (TEST for network probes, EXAMINE for configuration exports and attestations),
every control becomes an OSCAL finding whose target is the control (state satisfied when
the control is compliant or not applicable, else not-satisfied) and whose related
observations are the evidence it was judged on. A waived control is not satisfied: the risk
was accepted, the measure is not in place; its status says so in props (cyberstd status,
underlying status, the waiver's reason, approver and expiry) and remarks. Every waiver of the
run is an OSCAL risk: `deviation-approved` while it accepts a gap, else `open` (the gap it
covers is still there) or `closed` (there is none), its expiry the risk's deadline, related to
the observations it covers and to the findings of the controls that carry it; an observation
of a failure a waiver accepts names that waiver, its approver and expiry. cyberstd's own
statuses are kept in props of the namespace NS. UUIDs are version-5 UUIDs of the run id and
the ids of the things they name, so rendering the same results.json twice gives the same bytes.

Control ids keep their case in target-id and control-id (OSCAL tokens allow upper case);
only characters a token does not allow are replaced. Files are named by paths relative to
the school folder (as they are in school.yaml and attestations.yaml), catalog files relative
to the catalog root (`standards/...`, `checks/...`, `profiles/...`): never by an absolute path
of the machine that scanned.

OSCAL requires an `import-ap` (the assessment plan). cyberstd has none: the profile and the
framework decide what is assessed. The reference points at a back-matter resource that
says so, and its remarks explain it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from cyberstd.explain import why
from cyberstd.i18n import percent, t
from cyberstd.paths import CATALOG_PREFIX, OUTSIDE_PREFIX
from cyberstd.report.common import (
    accepted_findings,
    findings_of,
    next_step,
    severity_of,
    waiver_line,
    waiver_scope,
)
from cyberstd.report.escape import inert, json_strings
from cyberstd.report.locations import FAILED, evidence_summary, files_read, is_config, locations
from cyberstd.results import (
    GAP_ORDER,
    AttestationRecord,
    ControlResult,
    ControlStatus,
    Finding,
    FindingStatus,
    Results,
    WaiverRecord,
)

OSCAL_VERSION = "1.2.3"
NS = "urn:cyberstd:oscal"
MAX_EVIDENCE = 25
TEXT_LIMIT = 100_000
SATISFIED = "satisfied"
NOT_SATISFIED = "not-satisfied"

# Statuses whose objective is satisfied; a waived control is not (its risk was accepted).
SATISFIED_STATUSES = frozenset({ControlStatus.COMPLIANT, ControlStatus.NOT_APPLICABLE})
# Folders of a catalog root: a catalog file is named from the last of these in its path.
CATALOG_DIRS = ("standards", "checks", "profiles")

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")

_TEXT: dict[str, tuple[str, str]] = {
    "attestation": ("Verklaring voor {control}", "Attestation for {control}"),
    "ap.title": (
        "Geen apart beoordelingsplan: profiel {profile}",
        "No separate assessment plan: profile {profile}",
    ),
    "ap.remarks": (
        "OSCAL vereist een verwijzing naar een beoordelingsplan (import-ap). cyberstd maakt er "
        "geen: het profiel {profile} en het kader {framework} {version} bepalen wat beoordeeld "
        "wordt. De verwijzing wijst naar een plaatshouder voor run {run} in de back-matter.",
        "OSCAL requires a reference to an assessment plan (import-ap). cyberstd makes none: "
        "profile {profile} and framework {framework} {version} decide what is assessed. The "
        "reference points at a placeholder for run {run} in the back-matter.",
    ),
    "prepared-for": ("Opgesteld voor", "Prepared for"),
    "more": ("… en nog {n} andere", "… and {n} more"),
}


def _say(key: str, lang: str, **values: Any) -> str:
    nl, en = _TEXT[key]
    return (en if lang == "en" else nl).format(**values)


class _Ids:
    """Deterministic UUIDs (version 5) under a namespace derived from the run id."""

    def __init__(self, run_id: str) -> None:
        self.base = uuid.uuid5(uuid.NAMESPACE_URL, f"{NS}:run:{run_id}")

    def __call__(self, *parts: str) -> str:
        return str(uuid.uuid5(self.base, "/".join(parts)))


def token(text: str) -> str:
    """An OSCAL token from an id, case kept: letters, digits, '.', '-' and '_' only, starting
    with a letter or '_' (anything else becomes '_')."""
    chars = [ch if unicodedata.category(ch)[0] in "LN" or ch in ".-_" else "_" for ch in text]
    out = "".join(chars) or "_"
    return out if unicodedata.category(out[0])[0] == "L" or out[0] == "_" else "_" + out


def line(text: str) -> str:
    """Text for a single-line OSCAL field: whitespace collapsed, control characters made visible."""
    return inert(" ".join(text.split()), TEXT_LIMIT)


def multiline(text: str) -> str:
    """Text for a multi-line OSCAL field: line breaks kept, other control characters made visible."""
    return "\n".join(inert(part, TEXT_LIMIT) for part in text.splitlines())


def timestamp(moment: dt.datetime) -> str:
    """An OSCAL date-time with time zone (UTC, 'Z'); a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _day(day: dt.date) -> str | None:
    """A date as the start of that day in UTC, when OSCAL's pattern (years 1900-2999) allows it."""
    return f"{day.isoformat()}T00:00:00Z" if 1900 <= day.year <= 2999 else None


def _prop(name: str, value: object) -> dict[str, str] | None:
    text = line(str(value))
    return {"name": name, "ns": NS, "value": text} if text else None


def _props(*pairs: tuple[str, object | None]) -> list[dict[str, str]]:
    """Props in NS for the pairs whose value is set (empty values are left out)."""
    out = []
    for name, value in pairs:
        if value is None:
            continue
        shown = str(value).lower() if isinstance(value, bool) else value
        prop = _prop(name, shown)
        if prop is not None:
            out.append(prop)
    return out


def _is_absolute(path: str) -> bool:
    """Whether a path is absolute on POSIX or Windows (drive letter or UNC share)."""
    return path.startswith(("/", "\\")) or _WINDOWS_PATH.match(path) is not None


def relative_path(path: str, folder: str | None) -> str:
    """A file as the report names it, never by an absolute path of the scanning machine.

    Inside the school folder: relative to it (`exports/m365/users.json`). A catalog file:
    relative to the catalog root (`standards/grip/controls.yaml`). Any other absolute path:
    its file name. A relative path is kept as it is (with '/' as separator). Names as
    results.json writes them (paths.portable_name) lose their `catalog:` or `outside:`."""
    for prefix in (CATALOG_PREFIX, OUTSIDE_PREFIX):
        if path.startswith(prefix):
            return path[len(prefix) :].replace("\\", "/") or "-"
    text = path.replace("\\", "/")
    if folder:
        base = folder.replace("\\", "/").rstrip("/")
        if base and text.startswith(base + "/"):
            return text[len(base) + 1 :] or "-"
    if not _is_absolute(path):
        return text
    parts = [p for p in text.split("/") if p]
    if parts and _WINDOWS_PATH.match(path):
        parts = parts[1:]  # the drive
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in CATALOG_DIRS:
            return "/".join(parts[i:])
    return parts[-1] if parts else "-"


def without_folder(text: str, folder: str | None) -> str:
    """Text (a message, a reason) with the school folder's absolute path taken out of paths."""
    if not folder or not _is_absolute(folder):
        return text
    base = re.escape(folder.rstrip("/\\"))
    text = re.sub(base + r"[\\/]+", "", text)
    return re.sub(base + r"(?![\w.-])", ".", text)


def _href(path: str) -> str:
    """A relative file path as a URI reference (percent-encoded, '/'-separated)."""
    path = path.encode("utf-8", "backslashreplace").decode("utf-8")
    posix = PurePosixPath(path.replace("\\", "/"))
    return quote(str(posix).lstrip("/"), safe="/")


class _Builder:
    """Collects the parts of one assessment-results document while the result is built."""

    def __init__(self, results: Results, lang: str) -> None:
        self.results = results
        self.lang = lang
        self.ids = _Ids(results.run.id)
        self.collected = timestamp(results.run.started)
        self.resources: dict[str, dict[str, Any]] = {}
        self.parties: dict[str, dict[str, Any]] = {}
        self.subjects: dict[str, dict[str, Any]] = {}
        self.school_uuid = self.ids("party", "school")

    # back-matter -----------------------------------------------------------------------

    def path(self, path: str) -> str:
        """A file path as this document shows it (see relative_path)."""
        return relative_path(path, self.results.school.folder)

    def text(self, text: str) -> str:
        """Text from the results with the school folder's absolute path taken out."""
        return without_folder(text, self.results.school.folder)

    def resource(self, path: str, sha256: str | None = None) -> str:
        """The uuid of the back-matter resource for a file (made on first use)."""
        if path not in self.resources:
            shown = self.path(path)
            rlink: dict[str, Any] = {"href": _href(shown)}
            if sha256 and _SHA256.match(sha256):
                rlink["hashes"] = [{"algorithm": "SHA-256", "value": sha256.lower()}]
            self.resources[path] = {
                "uuid": self.ids("resource", path),
                "title": line(shown) or "-",
                "rlinks": [rlink],
            }
        return str(self.resources[path]["uuid"])

    def plan_placeholder(self) -> dict[str, Any]:
        run = self.results.run
        return {
            "uuid": self.ids("assessment-plan"),
            "title": line(_say("ap.title", self.lang, profile=run.profile)),
            "props": _props(("run-id", run.id), ("profile", run.profile)),
            "remarks": self._plan_remarks(),
        }

    def _plan_remarks(self) -> str:
        run = self.results.run
        return _say(
            "ap.remarks",
            self.lang,
            profile=run.profile,
            framework=run.framework.id,
            version=run.framework.version,
            run=run.id,
        )

    # parties and subjects --------------------------------------------------------------

    def person(self, name: str) -> str:
        """The uuid of a party for a person named in an attestation."""
        shown = line(name) or "-"
        if shown not in self.parties:
            self.parties[shown] = {
                "uuid": self.ids("party", "person", shown),
                "type": "person",
                "name": shown,
            }
        return str(self.parties[shown]["uuid"])

    def subject(self, target: str) -> dict[str, str]:
        """A subject reference to the inventory item for a finding's target."""
        shown = line(target) or "-"
        if shown not in self.subjects:
            self.subjects[shown] = {
                "uuid": self.ids("inventory-item", shown),
                "description": shown,
                "props": [{"name": "asset-id", "value": shown}],
            }
        return {
            "subject-uuid": str(self.subjects[shown]["uuid"]),
            "type": "inventory-item",
            "title": shown,
        }

    # observations ----------------------------------------------------------------------

    def observation(
        self, f: Finding, accepted: bool = False, waiver: WaiverRecord | None = None
    ) -> dict[str, Any]:
        """A finding of a check as an observation, with the evidence it rests on and, when
        a waiver accepts its failure, that waiver.

        Evidence of a configuration finding that failed: the offending `file:line` items;
        of one that did not: the files it read; of a network finding: its evidence in short."""
        config = is_config(f)
        obs: dict[str, Any] = {
            "uuid": self.ids("observation", f.id),
            "title": line(f.title.get(self.lang) or f.title.get("en") or f.check),
            "description": multiline(self.text(f.text(self.lang))) or "-",
            "props": _props(
                ("check", f.check),
                ("finding-id", f.id),
                ("status", str(f.status)),
                ("severity", str(f.severity)),
                ("error-reason", str(f.error_reason) if f.error_reason else None),
                ("waived-by", f.waived_by),
                ("accepted-risk", True if accepted else None),
                ("waiver-scope", waiver.scope if waiver else None),
                ("waiver-approved-by", waiver.approved_by if waiver else None),
                ("waiver-expires", waiver.expires.isoformat() if waiver else None),
            )
            + [p for cid in f.controls if (p := _prop("control", cid)) is not None],
            "methods": ["EXAMINE" if config else "TEST"],
            "types": ["finding"],
            "subjects": [self.subject(f.target)],
        }
        evidence = self._config_evidence(f) if config else self._probe_evidence(f)
        if evidence:
            obs["relevant-evidence"] = evidence
        obs["collected"] = self.collected
        remarks = [self.text(f.warning or ""), self.text(f.error_detail or "")]
        if any(remarks):
            obs["remarks"] = multiline("\n\n".join(r for r in remarks if r))
        return obs

    def _config_evidence(self, f: Finding) -> list[dict[str, Any]]:
        files = files_read(f)
        for path, sha in files:
            self.resource(path, sha)
        if f.status not in FAILED:
            return [
                {"href": "#" + self.resource(path), "description": line(self.path(path)) or "-"}
                for path, _ in files
            ]
        out: list[dict[str, Any]] = []
        found = locations(f)
        for loc in found[:MAX_EVIDENCE]:
            file = self.path(loc.file)
            where = f"{file}:{loc.line}" if loc.line else file
            text = where + (f" ({loc.label})" if loc.label else "")
            if loc.actual is not None and not isinstance(loc.actual, (dict, list)):
                text += f": {self.text(str(loc.actual))}"
            entry: dict[str, Any] = {"description": line(text) or "-"}
            if loc.file in self.resources:
                entry["href"] = "#" + str(self.resources[loc.file]["uuid"])
            if loc.line:
                entry["props"] = _props(("file", file), ("line", loc.line))
            out.append(entry)
        if len(found) > MAX_EVIDENCE:
            rest = len(found) - MAX_EVIDENCE
            out.append({"description": _say("more", self.lang, n=rest)})
        return out

    def _probe_evidence(self, f: Finding) -> list[dict[str, Any]]:
        summary = self.text(evidence_summary(f))
        return [{"description": line(summary)}] if summary.strip() else []

    def attestation(self, c: ControlResult, att: AttestationRecord) -> dict[str, Any]:
        """An attestation as an observation: who said what, until when, with which files."""
        obs: dict[str, Any] = {
            "uuid": self.ids("attestation", c.id),
            "title": line(_say("attestation", self.lang, control=c.id)),
            "description": multiline(self.text(att.explanation)) or "-",
            "props": _props(
                ("control", c.id),
                ("answer", str(att.answer)),
                ("attested-by", att.attested_by),
                ("date", att.date.isoformat()),
                ("review-by", att.review_by.isoformat()),
                ("expired", att.expired),
            ),
            "methods": ["EXAMINE"],
            "types": ["control-objective"],
            "origins": [
                {"actors": [{"type": "party", "actor-uuid": self.person(att.attested_by)}]}
            ],
            "subjects": [{"subject-uuid": self.school_uuid, "type": "party"}],
        }
        evidence = []
        for item in att.evidence:
            path, sha = item.get("path", ""), item.get("sha256", "")
            if not path:
                continue
            entry: dict[str, Any] = {
                "href": "#" + self.resource(path, sha),
                "description": line(self.path(path)) or "-",
            }
            if _SHA256.match(sha):
                entry["props"] = _props(("sha256", sha.lower()))
            evidence.append(entry)
        if evidence:
            obs["relevant-evidence"] = evidence
        obs["collected"] = self.collected
        expires = _day(att.review_by)
        if expires:
            obs["expires"] = expires
        return obs

    # risks -----------------------------------------------------------------------------

    def risk(self, w: WaiverRecord, related: list[str]) -> dict[str, Any]:
        """A waiver as an OSCAL risk: accepted (deviation-approved) while it takes effect."""
        lang = self.lang
        out: dict[str, Any] = {
            "uuid": self.ids("risk", w.scope),
            "title": line(t("oscal.risk_title", lang, scope=waiver_scope(w, lang))),
            "description": multiline(self.text(w.reason)) or "-",
            "statement": multiline(self.text(waiver_line(w, lang))) or "-",
            "props": _props(
                ("waiver-scope", w.scope),
                ("waiver-approved-by", w.approved_by),
                ("waiver-expires", w.expires.isoformat()),
                ("waiver-expired", w.expired),
                ("waiver-applied", w.applied),
            ),
            "status": "deviation-approved" if w.applied else self._risk_left(w),
        }
        deadline = _day(w.expires)
        if deadline:
            out["deadline"] = deadline
        if related:
            out["related-observations"] = [{"observation-uuid": u} for u in related]
        return out

    def _risk_left(self, w: WaiverRecord) -> str:
        """A waiver that accepts nothing: `open` while what it covers has a gap, else
        `closed`."""
        kind, _, ident = w.scope.partition(" ")
        if kind == "check":
            failing = (
                f.check == ident and f.status is FindingStatus.FAIL for f in self.results.findings
            )
            return "open" if any(failing) else "closed"
        control = next((c for c in self.results.controls if c.id == ident), None)
        gap = control is not None and (control.underlying_status or control.status) in GAP_ORDER
        return "open" if gap else "closed"

    # findings --------------------------------------------------------------------------

    def finding(
        self, c: ControlResult, related: list[str], risk: str | None = None
    ) -> dict[str, Any]:
        """A control as an OSCAL finding: its objective's status and what it was judged on."""
        lang = self.lang
        findings = findings_of(self.results, c)
        satisfied = c.status in SATISFIED_STATUSES
        judged = c.underlying_status if c.status is ControlStatus.WAIVED else c.status
        status: dict[str, Any] = {
            "state": SATISFIED if satisfied else NOT_SATISFIED,
            "reason": _reason(judged or c.status),
        }
        remarks = self._status_remarks(c)
        if remarks:
            status["remarks"] = remarks
        title = c.title.get(lang) or c.title.get("en") or ""
        out: dict[str, Any] = {
            "uuid": self.ids("finding", c.id),
            "title": line(f"{c.id} {title}"),
            "description": multiline(self.text(why(c, findings, lang) or c.reason))
            or t(f"status.{c.status}", lang),
            "props": self._finding_props(c),
            "target": {
                "type": "objective-id",
                "target-id": token(c.id),
                "title": line(f"{c.id} {title}"),
                "status": status,
            },
        }
        if related:
            out["related-observations"] = [{"observation-uuid": u} for u in related]
        if risk is not None:
            out["related-risks"] = [{"risk-uuid": risk}]
        step = next_step(self.results, c, lang)
        if step and not satisfied:
            out["remarks"] = multiline(self.text(step))
        return out

    def _finding_props(self, c: ControlResult) -> list[dict[str, str]]:
        props = _props(
            ("control-id", c.id),
            ("status", str(c.status)),
            ("underlying-status", str(c.underlying_status) if c.underlying_status else None),
            ("level", c.level),
            ("control-type", c.type),
            (
                "severity",
                str(severity_of(self.results, c)) if c.status in GAP_ORDER else None,
            ),
        )
        if c.waiver is not None:
            w = c.waiver
            props += _props(
                ("waived", c.status is ControlStatus.WAIVED),
                ("waiver-reason", w.reason),
                ("waiver-approved-by", w.approved_by),
                ("waiver-expires", w.expires.isoformat()),
                ("waiver-expired", w.expired),
                ("waiver-scope", w.scope),
                ("waiver-applied", w.applied),
            )
        return props

    def _status_remarks(self, c: ControlResult) -> str:
        lang = self.lang
        parts = []
        if c.waiver is not None:
            w = c.waiver
            key = "why.waiver_expired" if w.expired else "why.waived"
            underlying = c.underlying_status or c.status
            if not w.applied and not w.expired:
                note = (w.note or {}).get(lang, "")
                parts.append(t("why.waiver_no_effect", lang, by=w.approved_by, note=note))
            else:
                parts.append(
                    t(
                        key,
                        lang,
                        by=w.approved_by,
                        expires=w.expires,
                        reason=w.reason,
                        status=t(f"status.{underlying}", lang),
                    )
                )
        if c.status is ControlStatus.NOT_APPLICABLE:
            reason = (c.not_applicable_reason or {}).get(lang, "-")
            parts.append(t("why.na", lang, reason=reason))
        return multiline(self.text("\n\n".join(parts)))


def _reason(status: ControlStatus) -> str:
    """OSCAL's reason for an objective status: pass, fail or other (a waived control is
    judged on its underlying status, so a waived gap is a fail)."""
    if status is ControlStatus.COMPLIANT:
        return "pass"
    if status in (ControlStatus.NON_COMPLIANT, ControlStatus.PARTIAL):
        return "fail"
    return "other"


def build(results: Results, lang: str = "en") -> dict[str, Any]:
    """The assessment-results document as a JSON-ready dict."""
    b = _Builder(results, lang)
    run, school, s = results.run, results.school, results.summary
    plan = b.plan_placeholder()
    for path, digest in sorted(run.inputs.items()):
        b.resource(path, digest)

    observations: list[dict[str, Any]] = []
    by_finding: dict[str, str] = {}
    accepted = accepted_findings(results)
    for f in results.findings:
        obs = b.observation(f, f.id in accepted, accepted.get(f.id))
        observations.append(obs)
        by_finding[f.id] = str(obs["uuid"])
    risks: list[dict[str, Any]] = []
    risk_of: dict[str, str] = {}
    by_control = {c.id: c for c in results.controls}
    for w in results.waivers:
        if w.scope in risk_of:
            continue
        kind, _, ident = w.scope.partition(" ")
        if kind == "check":
            covered = [f.id for f in results.findings if f.check == ident]
        else:
            covered = by_control[ident].finding_ids if ident in by_control else []
        risk = b.risk(w, [by_finding[i] for i in covered if i in by_finding])
        risks.append(risk)
        risk_of[w.scope] = str(risk["uuid"])
    findings = []
    for c in results.controls:
        related = [by_finding[i] for i in c.finding_ids if i in by_finding]
        if c.attestation is not None:
            obs = b.attestation(c, c.attestation)
            observations.append(obs)
            related.append(str(obs["uuid"]))
        risk_id = risk_of.get(c.waiver.scope) if c.waiver is not None else None
        findings.append(b.finding(c, related, risk_id))

    title = line(f"{t('report.title', lang, framework=run.framework.id.upper())}: {school.name}")
    level = str(s.level_reached) if s.level_reached else t("report.level_none", lang)
    description = "\n".join(
        [
            f"{t('report.school', lang)}: {line(school.name)} ({line(school.id)})",
            f"{t('report.framework', lang)}: {run.framework.id} {run.framework.version}",
            f"{t('report.profile', lang)}: {run.profile}",
            f"{t('report.level_reached', lang)}: {level} / {s.target_level}",
            f"{t('report.score', lang)}: {percent(s.score, lang)}",
        ]
    )
    control_ids = [{"control-id": token(c.id)} for c in results.controls]
    selection: dict[str, Any] = (
        {"include-controls": control_ids} if control_ids else {"include-all": {}}
    )
    result: dict[str, Any] = {
        "uuid": b.ids("result"),
        "title": title,
        "description": description,
        "start": timestamp(run.started),
        "end": timestamp(run.finished),
        "props": _props(
            ("run-id", run.id),
            ("school-id", school.id),
            ("framework", run.framework.id),
            ("framework-version", run.framework.version),
            ("profile", run.profile),
            ("target-level", s.target_level),
            ("level-reached", s.level_reached),
            ("score", f"{s.score:.1f}"),
        ),
    }
    if b.subjects:
        result["local-definitions"] = {"inventory-items": list(b.subjects.values())}
    result["reviewed-controls"] = {"control-selections": [selection]}
    if observations:
        result["observations"] = observations
    if risks:
        result["risks"] = risks
    if findings:
        result["findings"] = findings

    metadata: dict[str, Any] = {
        "title": title,
        "last-modified": timestamp(run.finished),
        "version": line(run.id) or "-",
        "oscal-version": OSCAL_VERSION,
        "props": _props(("tool", results.tool.name), ("tool-version", results.tool.version)),
        "roles": [{"id": "prepared-for", "title": _say("prepared-for", lang)}],
        "parties": [
            {
                "uuid": b.school_uuid,
                "type": "organization",
                "name": line(school.name) or "-",
                "props": _props(("school-id", school.id)),
            },
            *b.parties.values(),
        ],
        "responsible-parties": [{"role-id": "prepared-for", "party-uuids": [b.school_uuid]}],
    }
    document = {
        "uuid": b.ids("assessment-results"),
        "metadata": metadata,
        "import-ap": {"href": "#" + str(plan["uuid"]), "remarks": b._plan_remarks()},
        "results": [result],
        "back-matter": {"resources": [plan, *b.resources.values()]},
    }
    return {"assessment-results": _prune(document)}


def _prune(value: Any) -> Any:
    """The document without empty lists, which OSCAL's schema does not allow."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def render(results: Results, lang: str = "en") -> str:
    """OSCAL assessment-results as JSON text (same results, same bytes)."""
    return json.dumps(json_strings(build(results, lang)), indent=2, ensure_ascii=False) + "\n"
