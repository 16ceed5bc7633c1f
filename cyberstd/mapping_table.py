"""The mapping of a framework as a table: per control, each check, whether it is required or
only advice, the part it covers and why, in nl or en (docs/grip-mapping.*.md are made by it)."""

from __future__ import annotations

from cyberstd.catalog import Catalog, Framework

_WORDS = {
    "nl": {
        "title": "# {name}: welke controle welke maatregel onderbouwt",
        "intro": (
            "Gemaakt met `cyberstd standards mapping {fw} --lang nl`. *Vereist*: een gefaalde "
            "controle is een tekortkoming in de maatregel. *Aanbevolen*: een gefaalde controle is "
            "advies en telt niet mee voor de status of het niveau. *Dekt*: het deel van de "
            "maatregel dat de controle aantoont; een deel zonder controle vraagt een verklaring."
        ),
        "head": "| maatregel (niveau) | controle | soort | dekt | waarom |",
        "required": "vereist",
        "recommended": "aanbevolen",
        "missing": "(geen reden opgegeven)",
        "parts": "Delen zonder controle (altijd een verklaring): {parts}",
    },
    "en": {
        "title": "# {name}: which check evidences which control",
        "intro": (
            "Made by `cyberstd standards mapping {fw} --lang en`. *Required*: a failed check is a "
            "gap in the control. *Recommended*: a failed check is advice and counts for neither "
            "the status nor the level. *Covers*: the part of the control the check shows; a part "
            "no check covers needs an attestation."
        ),
        "head": "| control (level) | check | kind | covers | why |",
        "required": "required",
        "recommended": "recommended",
        "missing": "(no reason given)",
        "parts": "Parts no check covers (always an attestation): {parts}",
    },
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def mapping_table(catalog: Catalog, fw: Framework, lang: str) -> str:
    """Markdown: one row per check→control pair, in the framework's control order."""
    w = _WORDS["nl" if lang == "nl" else "en"]
    lines = [
        w["title"].format(name=fw.meta.name.get(lang)),
        "",
        w["intro"].format(fw=fw.meta.id),
        "",
        w["head"],
        "|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for control in fw.controls.values():
        mapping = fw.mappings.get(control.id)
        if mapping is None:
            continue
        label = f"{control.id} ({control.level})"
        rows = [(c, "required") for c in mapping.checks] + [
            (c, "recommended") for c in mapping.recommended
        ]
        for check_id, kind in rows:
            covers = ", ".join(p.title.get(lang) for p in mapping.parts if check_id in p.covered_by)
            reason = mapping.reasons.get(check_id)
            title = catalog.checks[check_id].title.get(lang) if check_id in catalog.checks else ""
            lines.append(
                f"| {label} | `{check_id}`<br>{_cell(title)} | {w[kind]} | {_cell(covers) or '-'} "
                f"| {_cell(reason.get(lang)) if reason else w['missing']} |"
            )
        paper = [p.title.get(lang) for p in mapping.parts if not p.covered_by]
        if paper:
            notes.append(f"- {control.id}: " + w["parts"].format(parts="; ".join(paper)))
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
