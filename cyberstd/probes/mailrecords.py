"""What the mail probes share: the tag=value records of DMARC, DKIM, MTA-STS and TLS-RPT, and
the shape of their outcomes."""

from __future__ import annotations

from typing import Any

from cyberstd.probes.dns import DnsAnswer, cut
from cyberstd.results import FindingStatus, ProbeOutcome

# Time budget of a probe that reads a few DNS records, in multiples of the scan's timeout.
RECORD_BUDGET = 4.0


def outcome(
    status: FindingStatus,
    message: str,
    evidence: dict[str, Any],
    warnings: list[str] | None = None,
    *,
    nl: str | None = None,
) -> ProbeOutcome:
    """A probe's verdict; `nl` is the message in Dutch when the probe gives one."""
    return ProbeOutcome(
        status=status,
        message=message,
        messages={"nl": nl} if nl else {},
        evidence=evidence,
        warning="; ".join(warnings) if warnings else None,
    )


def fail(message: str, evidence: dict[str, Any], warnings: list[str] | None = None) -> ProbeOutcome:
    return outcome(FindingStatus.FAIL, message, evidence, warnings)


def summary(problems: list[str]) -> str:
    """The first problem, and how many more there are."""
    more = len(problems) - 1
    return problems[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def tag_list(record: str) -> dict[str, str]:
    """The tags of a DMARC, DKIM, MTA-STS or TLS-RPT record (`tag=value; ...`), names lowered.

    Raises ValueError for a part without `=` or a tag given twice.
    """
    tags: dict[str, str] = {}
    for part in record.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise ValueError(f"{cut(part, 80)!r} is not a tag=value pair")
        if name in tags:
            raise ValueError(f"tag {name!r} appears twice")
        tags[name] = value.strip()
    return tags


def first_tag_is(record: str, version: str) -> bool:
    """Whether the record's first tag is v=`version` (leniently: case and spaces ignored)."""
    head = record.split(";", 1)[0]
    name, _, value = head.partition("=")
    return name.strip().lower() == "v" and value.strip().upper() == version.upper()


def versioned(answer: DnsAnswer, version: str) -> list[str]:
    """The TXT records of an answer whose first tag is v=`version`."""
    return [text for text in answer.texts() if first_tag_is(text, version)]


def report_uris(value: str) -> tuple[list[str], list[str]]:
    """The mailto:/https: URIs of a rua tag, and the parts that are no such URI."""
    good: list[str] = []
    bad: list[str] = []
    for uri in (u.strip() for u in value.split(",")):
        if not uri:
            continue
        scheme = uri.split(":", 1)[0].lower()
        (good if scheme in ("mailto", "https") and ":" in uri else bad).append(uri)
    return good, bad
