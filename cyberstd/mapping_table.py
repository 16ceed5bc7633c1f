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


_SHEET = {
    "nl": {
        "head": "{id} ({fw}, niveau {level}, {type}): {title}",
        "verification": "Beoordeling: ",
        "evidence": "bewijs: ",
        "checks": "vereiste controles: ",
        "recommended": "aanbevolen controles: ",
        "part": "  deel {id}: {title} <- {by}",
        "by_attestation": "verklaring",
        "attestation": "verklaring nodig: ",
        "organisational": "organisatorisch",
        "technical": "technisch",
        "probe": "netwerkcontrole",
        "config": "configuratie-export",
        "always": "altijd",
        "if_no_checks": "tenzij de controles elk deel dekken",
        "if_no_config": "tenzij de configuratiecontroles elk deel dekken",
        "never": "nooit",
    },
    "en": {
        "head": "{id} ({fw}, level {level}, {type}): {title}",
        "verification": "Verification: ",
        "evidence": "evidence: ",
        "checks": "required checks: ",
        "recommended": "recommended checks: ",
        "part": "  part {id}: {title} <- {by}",
        "by_attestation": "attestation",
        "attestation": "attestation needed: ",
        "probe": "network probe",
        "config": "configuration export",
        "always": "always",
        "if_no_checks": "unless the checks cover every part",
        "if_no_config": "unless the configuration checks cover every part",
        "never": "never",
    },
}


def control_sheet(fw: Framework, control_id: str, lang: str) -> list[str]:
    """One control as `standards show` prints it: text, evidence, checks, parts, questions."""
    w = _SHEET["nl" if lang == "nl" else "en"]
    c, mapping = fw.controls[control_id], fw.mappings[control_id]
    rule = str(mapping.attestation.required)
    lines = [
        w["head"].format(
            id=c.id,
            fw=fw.meta.id,
            level=c.level,
            type=w.get(c.type, c.type),
            title=c.title.get(lang),
        ),
        "",
        c.description.get(lang),
        "",
        w["verification"] + c.verification.get(lang),
        "",
        w["evidence"] + ", ".join(w.get(str(e), w["by_attestation"]) for e in c.evidence),
        w["checks"] + (", ".join(mapping.checks) or "-"),
        w["recommended"] + (", ".join(mapping.recommended) or "-"),
    ]
    lines += [
        w["part"].format(
            id=p.id, title=p.title.get(lang), by=", ".join(p.covered_by) or w["by_attestation"]
        )
        for p in mapping.parts
    ]
    lines.append(w["attestation"] + w.get(rule, rule))
    lines += [f"  - {q.get(lang)}" for q in mapping.attestation.questions]
    lines += [f"{scheme}: {', '.join(ids)}" for scheme, ids in c.crosswalks.items()]
    return lines
