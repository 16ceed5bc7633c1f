"""JUnit XML for CI: a test suite per target (a file, a host), a test case per check."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from cyberstd.i18n import t
from cyberstd.report.common import waiver_line
from cyberstd.report.escape import xml as _clean
from cyberstd.report.locations import locations
from cyberstd.results import Finding, FindingStatus, Results, WaiverRecord


def _value(v: object) -> str:
    if isinstance(v, bool) or v is None:
        return {True: "true", False: "false", None: "null"}[v]
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _details(f: Finding, lang: str) -> str:
    lines = [f.text(lang)]
    for loc in locations(f):
        where = f"{loc.file}:{loc.line}" if loc.line else loc.file
        label = f" ({loc.label})" if loc.label else ""
        actual = f": {_value(loc.actual)}" if loc.actual is not None else ""
        lines.append(f"  {where}{label}{actual}")
    remedy = f.remediation.get(lang) or f.remediation.get("en")
    if remedy and f.status is FindingStatus.FAIL:
        lines += ["", remedy]
    return _clean("\n".join(lines))


def render_findings(
    findings: Sequence[Finding],
    lang: str = "en",
    name: str = "cyberstd",
    waivers: Sequence[WaiverRecord] = (),
) -> str:
    """JUnit XML: failing checks are failures, probe or input errors are errors; `waivers`
    form one more suite, a waiver that takes no effect skipped with the reason."""
    suites: dict[str, list[Finding]] = {}
    waiver_of = {w.scope: w for w in waivers}
    for f in findings:
        suites.setdefault(f.target, []).append(f)
    root = Element("testsuites", name=_clean(name))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for target, group in suites.items():
        suite = SubElement(root, "testsuite", name=_clean(target))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in group:
            counts["tests"] += 1
            title = f.title.get(lang) or f.title.get("en") or ""
            case = SubElement(
                suite,
                "testcase",
                classname=_clean(target),
                name=_clean(f"{f.check}: {title}" if title else f.check),
                time=f"{f.duration_ms / 1000:.3f}",
            )
            locs = locations(f)
            if locs and locs[0].file == target:
                case.set("file", _clean(target))
                if locs[0].line:
                    case.set("line", str(locs[0].line))
            advice_only = bool(f.advises) and not f.controls
            if f.status is FindingStatus.FAIL and not f.waived_by and not advice_only:
                counts["failures"] += 1
                node = SubElement(
                    case, "failure", message=_clean(f.text(lang)), type=str(f.severity)
                )
                node.text = _details(f, lang)
            elif f.status is FindingStatus.ERROR:
                counts["errors"] += 1
                reason = str(f.error_reason) if f.error_reason else "error"
                node = SubElement(case, "error", message=_clean(f.text(lang)), type=reason)
                node.text = _details(f, lang)
            elif f.status in (FindingStatus.SKIPPED, FindingStatus.NOT_APPLICABLE) or f.waived_by:
                counts["skipped"] += 1
                waiver = waiver_of.get(f"check {f.check}") if f.waived_by else None
                said = waiver_line(waiver, lang) if waiver else f.waived_by or f.text(lang)
                SubElement(case, "skipped", message=_clean(said))
            elif f.status is FindingStatus.FAIL:  # advice only: reported, never a failure
                counts["skipped"] += 1
                note = t("advice.for", lang, controls=", ".join(f.advises))
                SubElement(case, "skipped", message=_clean(f"{note}: {f.text(lang)}"))
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    if waivers:
        suite = SubElement(root, "testsuite", name="waivers", tests=str(len(waivers)))
        unused = 0
        for w in waivers:
            case = SubElement(suite, "testcase", classname="waivers", name=_clean(w.scope))
            if not w.applied:
                unused += 1
                SubElement(case, "skipped", message=_clean(waiver_line(w, lang)))
        suite.set("skipped", str(unused))
        totals["tests"] += len(waivers)
        totals["skipped"] += unused
    for k, v in totals.items():
        root.set(k, str(v))
    indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"


def render(results: Results, lang: str) -> str:
    """JUnit of a scan's findings."""
    name = f"cyberstd {results.school.id}"
    return render_findings(results.findings, lang, name=name, waivers=results.waivers)
