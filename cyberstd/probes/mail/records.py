"""What the mail probes share: the tag=value records of DMARC, DKIM, MTA-STS and TLS-RPT, the
shape of their outcomes, and the small pieces their catalog messages are built from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cyberstd.messages import Msg, msg, verbatim
from cyberstd.probes.dns.lookup import DnsAnswer, cut
from cyberstd.results import FindingStatus, ProbeOutcome

# Time budget of a probe that reads a few DNS records, in multiples of the scan's timeout.
RECORD_BUDGET = 4.0


class RecordError(ValueError):
    """A record that receivers cannot read; `said` says why in every language (`str` is the
    English)."""

    def __init__(self, said: Msg) -> None:
        super().__init__(said.render("en"))
        self.said = said


def outcome(
    status: FindingStatus,
    message: Msg,
    evidence: dict[str, Any],
    warnings: Sequence[Msg] = (),
) -> ProbeOutcome:
    """A probe's verdict, in every language of the catalog."""
    return ProbeOutcome.said(status, message, evidence, warnings)


def fail(message: Msg, evidence: dict[str, Any], warnings: Sequence[Msg] = ()) -> ProbeOutcome:
    return outcome(FindingStatus.FAIL, message, evidence, warnings)


def summary(problems: Sequence[Msg]) -> Msg:
    """The first problem, and how many more there are."""
    more = len(problems) - 1
    return msg("mail.more-problems", first=problems[0], n=more) if more else problems[0]


def english(parts: Sequence[Msg]) -> list[str]:
    """Messages as the evidence keeps them: in English."""
    return [p.render("en") for p in parts]


def unique(parts: Sequence[Msg]) -> list[Msg]:
    """The messages without repeats (the same text once), in their order."""
    seen: dict[str, Msg] = {}
    for part in parts:
        seen.setdefault(part.render("en"), part)
    return list(seen.values())


def _chained(parts: Sequence[Msg | str], join: Callable[[Msg, Msg], Msg]) -> Msg:
    if not parts:
        return verbatim("")
    first, *rest = [p if isinstance(p, Msg) else verbatim(p) for p in parts]
    for part in rest:
        first = join(first, part)
    return first


def commas(parts: Sequence[Msg | str]) -> Msg:
    """Parts joined by commas: 'a, b, c'."""
    return _chained(parts, lambda first, then: msg("mail.comma", first=first, then=then))


def either(parts: Sequence[str]) -> Msg:
    """Alternatives as each language says them: 'a or b' / 'a of b'."""
    return _chained(parts, lambda first, then: msg("mail.or", first=first, then=then))


@dataclass(frozen=True)
class Clipped(Msg):
    """A message cut, once rendered, to `limit` characters (a long list of errors)."""

    limit: int = 600

    def render(self, lang: str) -> str:
        return cut(super().render(lang), self.limit)


def clipped(message: Msg, limit: int) -> Msg:
    return Clipped(message.id, message.args, limit)


def tag_list(record: str) -> dict[str, str]:
    """The tags of a DMARC, DKIM, MTA-STS or TLS-RPT record (`tag=value; ...`), names lowered.

    Raises RecordError for a part without `=` or a tag given twice.
    """
    tags: dict[str, str] = {}
    for part in record.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise RecordError(msg("mail.record.not-a-pair", part=cut(part, 80)))
        if name in tags:
            raise RecordError(msg("mail.record.tag-twice", name=name))
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
