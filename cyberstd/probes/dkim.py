"""DKIM of a school's domain: the keys its mail is signed with are published and sound
(`mail.dkim`).

DNS cannot list a domain's selectors, so the probe asks for the ones the school declares and
for the well-known ones of the senders schools use. A key missing at a guessed selector proves
nothing; a key that is published but broken, weak or revoked does.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pydantic import Field

from cyberstd.probes.dns import Lookup, cut_list
from cyberstd.probes.mailrecords import RECORD_BUDGET, first_tag_is, outcome, tag_list
from cyberstd.registry import (
    Preview,
    ProbeContext,
    ProbeParams,
    Reach,
    Target,
    TargetKind,
    preview_of,
    probe,
)
from cyberstd.results import FindingStatus, ProbeOutcome

# Selectors of the senders Flemish schools use, tried for every domain:
# Microsoft 365 (selector1, selector2), Google Workspace (google), web hosting panels such as
# cPanel and Plesk (default), common own choices (dkim, mail), Mailchimp (k1, k2) and
# SendGrid (s1, s2).
WELL_KNOWN_SELECTORS = (
    "selector1",
    "selector2",
    "google",
    "default",
    "dkim",
    "mail",
    "k1",
    "k2",
    "s1",
    "s2",
)
MAX_SELECTORS = 20
_SELECTOR = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-.]{0,62}[A-Za-z0-9_])?")
REVOKED = "the key is revoked (empty p=)"


class DkimParams(ProbeParams):
    selectors: list[str] = Field(
        default_factory=list,
        description="The DKIM selectors the school signs with; each must have a valid key.",
    )
    provider_selectors: list[str] = Field(
        default=list(WELL_KNOWN_SELECTORS),
        description="Well-known selectors of mail senders, also looked for.",
    )
    min_rsa_bits: int = Field(default=1024, ge=512, le=8192)


def judge_dkim_key(record: str, min_rsa_bits: int) -> tuple[bool, str, dict[str, Any]]:
    """Whether a DKIM key record (RFC 6376 section 3.6.1) holds a usable key, why, and facts."""
    try:
        tags = tag_list(record)
    except ValueError as exc:
        return False, f"invalid record: {exc}", {}
    if "v" in tags and (tags["v"] != "DKIM1" or not record.lstrip().lower().startswith("v")):
        return False, "v= is not DKIM1 or not the first tag", {}
    key_type = tags.get("k", "rsa").lower()
    services = [s.strip() for s in tags.get("s", "*").split(":")]
    if not {"*", "email"} & set(services):
        return False, f"s={tags['s']} does not allow the key for e-mail", {"key_type": key_type}
    if "p" not in tags:
        return False, "no public key (p=)", {}
    data = re.sub(r"\s+", "", tags["p"])
    if not data:
        return False, REVOKED, {"key_type": key_type}
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False, "p= is not valid base64", {"key_type": key_type}
    if key_type == "ed25519":
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            return False, "p= is not an Ed25519 public key", {"key_type": key_type}
        return True, "Ed25519 key", {"key_type": key_type, "key_bits": 256}
    if key_type != "rsa":
        return False, f"unknown key type k={key_type}", {"key_type": key_type}
    try:
        key = load_der_public_key(raw)
    except (ValueError, TypeError):
        return False, "p= is not an RSA public key", {"key_type": key_type}
    if not isinstance(key, rsa.RSAPublicKey):
        return False, "p= is not an RSA public key", {"key_type": key_type}
    facts = {"key_type": key_type, "key_bits": key.key_size}
    if key.key_size < min_rsa_bits:
        return False, f"the RSA key has {key.key_size} bits, fewer than {min_rsa_bits}", facts
    return True, f"RSA key of {key.key_size} bits", facts


def is_key_record(text: str) -> bool:
    """A TXT record that is a DKIM key record: it starts with v=DKIM1 or has a p= tag (a
    wildcard SPF or verification record at the name is not one)."""
    if first_tag_is(text, "DKIM1"):
        return True
    try:
        return "p" in tag_list(text)
    except ValueError:
        return False


def declared_selectors(ctx: ProbeContext, params: DkimParams, domain: str) -> list[str]:
    """The selectors the check's parameters and school.yaml (`mail: dkim_selectors`) name."""
    school = ctx.school.mail.dkim_selectors.get(domain, []) if ctx.school is not None else []
    return list(dict.fromkeys([*params.selectors, *school]))[:MAX_SELECTORS]


def _look(lookup: Lookup, domain: str, selector: str, params: DkimParams) -> dict[str, Any]:
    if not _SELECTOR.fullmatch(selector):
        return {"valid": False, "reason": "not a valid selector name"}
    answer = lookup.query(f"{selector}._domainkey.{domain}", "TXT")
    keys = [t for t in answer.texts() if is_key_record(t)]
    row: dict[str, Any] = {"records": cut_list(answer.texts(), 3)}
    if not keys:
        return row | {"valid": False, "reason": "no DKIM key record", "found": False}
    ok, reason, facts = judge_dkim_key(keys[0], params.min_rsa_bits)
    row.update(valid=ok, reason=reason, found=True, **facts)
    if len(keys) > 1:
        row.update(valid=False, reason=f"{len(keys)} key records for one selector")
    return row


def _listed(rows: dict[str, dict[str, Any]], names: list[str]) -> str:
    return ", ".join(f"{s} ({rows[s]['reason']})" for s in names)


@probe("mail.dkim", params=DkimParams, target=TargetKind.DOMAIN, budget=RECORD_BUDGET)
def dkim(target: Target, params: DkimParams, ctx: ProbeContext) -> ProbeOutcome:
    """Outgoing mail can be signed with DKIM: the domain publishes sound DKIM keys.

    DKIM selectors cannot be listed from DNS, so the probe asks for the TXT record at
    `<selector>._domainkey.<domain>` for each selector the school declares (school.yaml
    `mail: dkim_selectors: {domain: [...]}`, or the check's `selectors`) and for the
    well-known selectors in `provider_selectors` (Microsoft 365: selector1, selector2; Google
    Workspace: google; hosting panels: default; dkim, mail; Mailchimp: k1, k2; SendGrid: s1,
    s2). CNAMEs (as Microsoft 365 uses) are followed. It never judges from an answer for
    `_domainkey.<domain>` itself, which proves nothing (wildcards, odd servers).

    A key is sound when the record has v=DKIM1 (if present, first), a known key type (rsa or
    ed25519), a service type that allows e-mail, and a non-empty p= that decodes to a public
    key of that type; RSA keys need at least `min_rsa_bits` bits (RFC 8301 forbids fewer than
    1024); a 1024-bit key passes with a warning (2048 is the norm now).

    Pass: every declared selector has a sound key, no published key is broken, and at least
    one sound key was found.
    Fail: a declared selector has no key, a revoked (empty p=) or a broken one; a key found at
    a well-known selector is broken or too weak (anyone who can forge with it signs as the
    school); or every key found is revoked.
    Not assessed (not applicable, with the reason): the school declares no selector and none
    of the well-known selectors has a key. Absence at guessed selectors is no proof of
    absence: name the selector in school.yaml. A revoked key at a well-known selector next to
    a sound one passes with a note (RFC 6376 section 3.6.1 retires keys that way).

    Parameters: `selectors` (default none), `provider_selectors` (the well-known list above),
    `min_rsa_bits` (1024).
    Evidence: `declared`, `selectors` (one entry per selector: declared, records, found,
    valid, reason, key type and size).
    """
    lookup = Lookup(ctx, budget=RECORD_BUDGET)
    domain = target.name.rstrip(".").lower()
    declared = declared_selectors(ctx, params, domain)
    guessed = [s for s in dict.fromkeys(params.provider_selectors) if s not in declared]
    rows: dict[str, dict[str, Any]] = {}
    for selector in [*declared, *guessed[:MAX_SELECTORS]]:
        rows[selector] = {"declared": selector in declared} | _look(
            lookup, domain, selector, params
        )
    evidence: dict[str, Any] = {"domain": domain, "declared": declared, "selectors": rows}
    valid = [s for s, r in rows.items() if r["valid"]]
    revoked = [s for s, r in rows.items() if r.get("reason") == REVOKED]
    missing = [s for s in declared if not rows[s]["valid"]]
    broken = [
        s
        for s, r in rows.items()
        if r.get("found") and not r["valid"] and r["reason"] != REVOKED and s not in declared
    ]
    if missing or broken:
        en: list[str] = []
        nl: list[str] = []
        if missing:
            en.append(f"declared DKIM selector(s) without a sound key: {_listed(rows, missing)}")
            nl.append(
                f"opgegeven DKIM-selector(s) zonder bruikbare sleutel: {_listed(rows, missing)}"
            )
        if broken:
            en.append(f"published DKIM key(s) that are broken or weak: {_listed(rows, broken)}")
            nl.append(
                f"gepubliceerde DKIM-sleutel(s) die stuk of zwak zijn: {_listed(rows, broken)}"
            )
        return outcome(
            FindingStatus.FAIL,
            f"{domain}: {'; '.join(en)}",
            evidence,
            nl=f"{domain}: {'; '.join(nl)}",
        )
    if revoked and not valid:
        shown = ", ".join(revoked)
        return outcome(
            FindingStatus.FAIL,
            f"{domain} publishes only revoked DKIM keys (empty p=) at selector(s) {shown}: its "
            "mail cannot carry a valid DKIM signature",
            evidence,
            nl=f"{domain} publiceert alleen ingetrokken DKIM-sleutels (lege p=) op selector(s) "
            f"{shown}: de mail kan geen geldige DKIM-handtekening dragen",
        )
    if not valid:
        tried = ", ".join(rows)
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            f"not assessed: no DKIM key at the well-known selectors of {domain} ({tried}), and "
            "school.yaml names none; a key at another selector cannot be seen. Name your DKIM "
            f"selector in school.yaml (mail: dkim_selectors: {{{domain}: [...]}})",
            evidence | {"not_assessed": "no selector declared and none of the guessed has a key"},
            nl=f"niet beoordeeld: geen DKIM-sleutel op de gekende selectors van {domain} "
            f"({tried}), en school.yaml noemt er geen; een sleutel op een andere selector is "
            "niet te zien. Geef je DKIM-selector op in school.yaml "
            f"(mail: dkim_selectors: {{{domain}: [...]}})",
        )
    warnings = [
        f"selector {s} has a {rows[s]['key_bits']}-bit RSA key"
        for s in valid
        if rows[s].get("key_type") == "rsa" and rows[s].get("key_bits", 0) < 2048
    ]
    if revoked:
        warnings.append(f"revoked key(s) at selector(s) {', '.join(revoked)} (retired keys)")
    shown = ", ".join(valid)
    return outcome(
        FindingStatus.PASS,
        f"{domain} publishes sound DKIM keys for selector(s) {shown}",
        evidence,
        warnings,
        nl=f"{domain} publiceert bruikbare DKIM-sleutels voor selector(s) {shown}",
    )


@preview_of("mail.dkim")
def dkim_preview(target: Target, params: DkimParams, ctx: ProbeContext) -> Preview:
    domain = target.name.rstrip(".").lower()
    declared = declared_selectors(ctx, params, domain)
    guessed = [s for s in dict.fromkeys(params.provider_selectors) if s not in declared]
    names = [*declared, *guessed[:MAX_SELECTORS]]
    reaches = tuple(Reach(f"{s}._domainkey.{domain}", note="TXT") for s in names)
    notes = (
        ()
        if declared
        else (
            f"{domain}: no DKIM selector declared in school.yaml; when no well-known selector "
            "has a key, mail.dkim is not assessed",
        )
    )
    return Preview(reaches=reaches, notes=notes)
