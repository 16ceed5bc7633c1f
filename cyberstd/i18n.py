"""Dutch and English texts of everything cyberstd says in reports and summaries."""

from __future__ import annotations

from typing import Any

LANGS = ("nl", "en")

_TEXT: dict[str, tuple[str, str]] = {
    # control statuses
    "status.compliant": ("in orde", "compliant"),
    "status.partial": ("gedeeltelijk", "partial"),
    "status.non_compliant": ("niet in orde", "non-compliant"),
    "status.waived": ("risico aanvaard", "waived"),
    "status.not_applicable": ("niet van toepassing", "not applicable"),
    "status.not_assessed": ("niet beoordeeld", "not assessed"),
    "status.error": ("fout bij beoordeling", "error"),
    # finding statuses
    "finding.pass": ("geslaagd", "pass"),
    "finding.fail": ("gefaald", "fail"),
    "finding.error": ("fout", "error"),
    "finding.skipped": ("overgeslagen", "skipped"),
    "finding.not_applicable": ("niet van toepassing", "not applicable"),
    # severities (of a check, and of a control that is a gap)
    "severity.info": ("info", "info"),
    "severity.low": ("laag", "low"),
    "severity.medium": ("gemiddeld", "medium"),
    "severity.high": ("hoog", "high"),
    "severity.critical": ("kritiek", "critical"),
    # kinds of record in a spreadsheet report ('control' is the word the reports use in Dutch too)
    "record.control": ("maatregel", "control"),
    "record.finding": ("bevinding", "finding"),
    # explanations
    "why.na": ("niet van toepassing: {reason}", "not applicable: {reason}"),
    "why.failed": (
        "{n} controle(s) gefaald, o.a. {check}: {message}",
        "{n} check(s) failed, e.g. {check}: {message}",
    ),
    "why.att_not": (
        "verklaring 'niet ingevoerd' door {by} op {date}: {text}",
        "attested 'not implemented' by {by} on {date}: {text}",
    ),
    "why.error": (
        "{check} kon niet beoordeeld worden: {message}",
        "{check} could not be judged: {message}",
    ),
    "why.att_partial": (
        "verklaring 'gedeeltelijk' door {by} op {date}: {text}",
        "attested 'partially' by {by} on {date}: {text}",
    ),
    "why.att_expired": (
        "verklaring van {by} moest herzien worden op {review_by}; ze telt niet meer",
        "attestation by {by} was due for review on {review_by}; it no longer counts",
    ),
    "why.att_missing": (
        "er is een verklaring nodig en die ontbreekt",
        "an attestation is required and none is recorded",
    ),
    "why.uncovered": (
        "geen controle gaf bewijs voor: {parts}; een verklaring moet dat deel beantwoorden",
        "no check gave evidence for: {parts}; an attestation must answer that part",
    ),
    "why.attested_parts": (
        "de verklaring staat in voor wat geen controle toonde: {parts}",
        "the attestation answers for what no check showed: {parts}",
    ),
    "why.no_evidence": (
        "geen bewijs: geen geslaagde controle en geen verklaring",
        "no evidence: no check gave a verdict and no attestation is recorded",
    ),
    "why.passed": ("{n} controle(s) geslaagd", "{n} check(s) passed"),
    "why.attested": ("verklaard door {by} op {date}", "attested by {by} on {date}"),
    "why.waived": (
        "risico aanvaard door {by} tot {expires}: {reason} (eigenlijke status: {status})",
        "waived by {by} until {expires}: {reason} (underlying status: {status})",
    ),
    "why.waiver_no_effect": (
        "uitzondering van {by} geldt niet: {note}",
        "waiver by {by} takes no effect: {note}",
    ),
    "why.waiver_expired": (
        "uitzondering van {by} is verlopen op {expires}",
        "waiver by {by} expired on {expires}",
    ),
    # report
    "report.title": ("Gaprapport {framework}", "{framework} gap report"),
    "report.school": ("School", "School"),
    "report.profile": ("Profiel", "Profile"),
    "report.date": ("Datum", "Date"),
    "report.framework": ("Kader", "Framework"),
    "report.level_reached": ("Bereikt niveau", "Level reached"),
    "report.target_level": ("Doelniveau", "Target level"),
    "report.score": ("Score", "Score"),
    "report.counts": ("Aantal maatregelen per status", "Controls by status"),
    "report.top_gaps": ("Eerst aan te pakken", "Fix first"),
    "report.no_gaps": ("Geen tekortkomingen gevonden.", "No gaps found."),
    "report.level": ("Niveau {level}", "Level {level}"),
    "report.why": ("Waarom", "Why"),
    "report.next": ("Wat nu", "What next"),
    "report.findings": ("Bevindingen", "Findings"),
    "report.errors": (
        "Let op: {n} controle(s) konden niet uitgevoerd worden; het rapport is onvolledig.",
        "Note: {n} check(s) could not be run; this report is incomplete.",
    ),
    "report.error_causes": ("Oorzaken", "Causes"),
    "report.as_of": ("Beoordeeld alsof het {day} is", "Judged as of {day}"),
    "report.error_cause": (
        "{message} ({n} controle(s): {checks})",
        "{message} ({n} check(s): {checks})",
    ),
    "report.advice": ("Aanbevelingen", "Recommendations"),
    "report.advice_note": (
        "Aanbevolen, niet vereist: deze controles wegen niet mee in de status van de maatregel.",
        "Recommended, not required: these checks do not count in the control's status.",
    ),
    "advice.for": ("aanbeveling bij {controls}", "recommended for {controls}"),
    "report.waivers": ("Uitzonderingen (aanvaarde risico's)", "Waivers (accepted risks)"),
    "waiver.in_effect": ("geldt", "in effect"),
    "waiver.no_effect": ("geldt niet: {note}", "takes no effect: {note}"),
    "waiver.line": (
        "{scope}: {reason} (goedgekeurd door {by}, tot {expires}): {effect}",
        "{scope}: {reason} (approved by {by}, until {expires}): {effect}",
    ),
    "waiver.control": ("maatregel {id}", "control {id}"),
    "waiver.check": ("controle {id}", "check {id}"),
    "report.and_more": ("en nog {n}", "and {n} more"),
    "warn.raw_exports": (
        "waarschuwing: de bundel bevat {n} export(s) zoals ze zijn, met alle geheimen erin "
        "(wachtwoorden, PSK's, SNMP-community's, herstelsleutels): geef hem enkel aan wie die "
        "mag zien",
        "warning: the bundle holds {n} export(s) as they are, with every secret in them "
        "(passwords, PSKs, SNMP communities, recovery keys): hand it only to someone who may "
        "see those",
    ),
    "warn.tool_missing": (
        "waarschuwing: {tool} is niet geïnstalleerd: {n} controle(s) lopen niet "
        "— installeer het met: {install}",
        "warning: {tool} is not installed: {n} check(s) will not run — install it with: {install}",
    ),
    "report.level_none": ("nog geen niveau", "no level yet"),
    "report.questions": ("Beantwoord in een verklaring", "Answer in an attestation"),
    "report.warning": ("Waarschuwing", "Warning"),
    "report.inputs": ("Invoerbestanden (sha256)", "Input files (sha256)"),
    "next.attest": (
        "Leg een verklaring vast: `cyberstd attest {school} {control}`",
        "Record an attestation: `cyberstd attest {school} {control}`",
    ),
    "next.review": (
        "Herzie de verklaring en leg ze opnieuw vast: `cyberstd attest {school} {control}`",
        "Review the attestation and record it again: `cyberstd attest {school} {control}`",
    ),
    "next.implement": ("Voer de maatregel in: {text}", "Put the measure in place: {text}"),
    "next.rerun": (
        "Los de fout op (zie bevindingen) en scan opnieuw.",
        "Fix the error (see findings) and scan again.",
    ),
    "next.waiver_renew": (
        "De uitzondering is verlopen: los het probleem op of laat de uitzondering opnieuw goedkeuren.",
        "The waiver expired: fix the problem or have the waiver approved again.",
    ),
}


def t(key: str, lang: str, **values: Any) -> str:
    """The text for `key` in `lang` ('nl' or 'en'), with values filled in."""
    nl, en = _TEXT[key]
    return (en if lang == "en" else nl).format(**values)


def percent(value: float, lang: str, digits: int = 1) -> str:
    """A percentage as the language writes it: "2,9 %" in Dutch (decimal comma, a no-break
    space before the sign), "2.9%" in English."""
    text = f"{value:.{digits}f}"
    return f"{text.replace('.', ',')}\u00a0%" if lang == "nl" else f"{text}%"


def signed(value: float, lang: str, digits: int = 1) -> str:
    """A difference with its sign: "+5,5" in Dutch, "+5.5" in English."""
    text = f"{value:+.{digits}f}"
    return text.replace(".", ",") if lang == "nl" else text
