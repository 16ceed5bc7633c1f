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

from cyberstd.messages import Msg, msg
from cyberstd.probes.dns.lookup import Lookup, cut_list
from cyberstd.probes.mail.records import (
    RECORD_BUDGET,
    RecordError,
    commas,
    first_tag_is,
    outcome,
    tag_list,
)
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
# The catalog id of the reason a revoked key (empty p=) gives.
REVOKED = "mail.dkim.key.revoked"


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


def judge_dkim_key(record: str, min_rsa_bits: int) -> tuple[bool, Msg, dict[str, Any]]:
    """Whether a DKIM key record (RFC 6376 section 3.6.1) holds a usable key, why, and facts."""
    try:
        tags = tag_list(record)
    except RecordError as exc:
        return False, msg("mail.dkim.key.invalid-record", why=exc.said), {}
    if "v" in tags and (tags["v"] != "DKIM1" or not record.lstrip().lower().startswith("v")):
        return False, msg("mail.dkim.key.bad-version"), {}
    key_type = tags.get("k", "rsa").lower()
    typed = {"key_type": key_type}
    services = [s.strip() for s in tags.get("s", "*").split(":")]
    if not {"*", "email"} & set(services):
        return False, msg("mail.dkim.key.not-for-mail", services=tags["s"]), typed
    if "p" not in tags:
        return False, msg("mail.dkim.key.no-p"), {}
    data = re.sub(r"\s+", "", tags["p"])
    if not data:
        return False, msg("mail.dkim.key.revoked"), typed
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False, msg("mail.dkim.key.not-base64"), typed
    if key_type == "ed25519":
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            return False, msg("mail.dkim.key.not-ed25519"), typed
        return True, msg("mail.dkim.key.ed25519"), typed | {"key_bits": 256}
    if key_type != "rsa":
        return False, msg("mail.dkim.key.unknown-type", key_type=key_type), typed
    try:
        key = load_der_public_key(raw)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPublicKey):
        return False, msg("mail.dkim.key.not-rsa"), typed
    bits = key.key_size
    facts = typed | {"key_bits": bits}
    if bits < min_rsa_bits:
        return False, msg("mail.dkim.key.rsa-weak", bits=bits, min_bits=min_rsa_bits), facts
    return True, msg("mail.dkim.key.rsa", bits=bits), facts


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


def _look(
    lookup: Lookup, domain: str, selector: str, params: DkimParams
) -> tuple[dict[str, Any], Msg]:
    """What the selector holds (the evidence, its reason in English) and why, said."""
    if not _SELECTOR.fullmatch(selector):
        why = msg("mail.dkim.bad-selector")
        return {"valid": False, "reason": why.render("en")}, why
    answer = lookup.query(f"{selector}._domainkey.{domain}", "TXT")
    keys = [t for t in answer.texts() if is_key_record(t)]
    row: dict[str, Any] = {"records": cut_list(answer.texts(), 3)}
    if not keys:
        why = msg("mail.dkim.no-key")
        return row | {"valid": False, "reason": why.render("en"), "found": False}, why
    ok, why, facts = judge_dkim_key(keys[0], params.min_rsa_bits)
    if len(keys) > 1:
        ok, why = False, msg("mail.dkim.several-keys", n=len(keys))
    row.update(valid=ok, reason=why.render("en"), found=True, **facts)
    return row, why


def _listed(reasons: dict[str, Msg], names: list[str]) -> Msg:
    return commas([msg("mail.dkim.selector-reason", selector=s, reason=reasons[s]) for s in names])


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
    reasons: dict[str, Msg] = {}
    for selector in [*declared, *guessed[:MAX_SELECTORS]]:
        row, reasons[selector] = _look(lookup, domain, selector, params)
        rows[selector] = {"declared": selector in declared} | row
    evidence: dict[str, Any] = {"domain": domain, "declared": declared, "selectors": rows}
    valid = [s for s, r in rows.items() if r["valid"]]
    revoked = [s for s, why in reasons.items() if why.id == REVOKED]
    missing = [s for s in declared if not rows[s]["valid"]]
    broken = [
        s
        for s, r in rows.items()
        if r.get("found") and not r["valid"] and s not in revoked and s not in declared
    ]
    if missing or broken:
        problems: list[Msg] = []
        if missing:
            problems.append(
                msg(
                    "mail.dkim.declared-unsound",
                    selectors=_listed(reasons, missing),
                    n=len(missing),
                )
            )
        if broken:
            problems.append(
                msg("mail.dkim.broken", selectors=_listed(reasons, broken), n=len(broken))
            )
        return outcome(
            FindingStatus.FAIL, msg("mail.dkim.fail", domain=domain, problems=problems), evidence
        )
    if revoked and not valid:
        return outcome(
            FindingStatus.FAIL,
            msg(
                "mail.dkim.only-revoked",
                domain=domain,
                selectors=", ".join(revoked),
                n=len(revoked),
            ),
            evidence,
        )
    if not valid:
        return outcome(
            FindingStatus.NOT_APPLICABLE,
            msg("mail.dkim.not-assessed", domain=domain, tried=", ".join(rows)),
            evidence | {"not_assessed": "no selector declared and none of the guessed has a key"},
        )
    warnings = [
        msg("mail.dkim.weak-rsa", selector=s, bits=rows[s]["key_bits"])
        for s in valid
        if rows[s].get("key_type") == "rsa" and rows[s].get("key_bits", 0) < 2048
    ]
    if revoked:
        warnings.append(msg("mail.dkim.retired", selectors=", ".join(revoked), n=len(revoked)))
    return outcome(
        FindingStatus.PASS,
        msg("mail.dkim.pass", domain=domain, selectors=", ".join(valid), n=len(valid)),
        evidence,
        warnings,
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
