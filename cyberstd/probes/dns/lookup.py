"""The DNS look-ups of the DNS and mail probes, and how their evidence is cut to size."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import dns.exception
import dns.flags
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from cyberstd.errors import ConnectivityError, ProbeTimeout, ProtocolError
from cyberstd.messages import Msg, msg
from cyberstd.net.starttls import printable
from cyberstd.net.tcp import number
from cyberstd.registry import ProbeContext
from cyberstd.results import FindingStatus, ProbeOutcome

# Evidence stays small enough to read and store: long texts and lists are cut, and say so.
MAX_EVIDENCE_TEXT = 2048
MAX_EVIDENCE_ITEMS = 20
# The most MX or NS hosts one probe looks at (real domains have a handful).
MAX_HOSTS = 10
# Time budgets, in multiples of the scan's timeout (see `registry.probe`).
DNS_BUDGET = 4.0
# The DNS look-ups of one probe run share a deadline a little inside the runner's hard limit.
_DEADLINE_SHARE = 0.95


def cut(text: str, limit: int = MAX_EVIDENCE_TEXT) -> str:
    """`text` with control characters escaped, cut to `limit` characters with a note when longer."""
    shown = printable(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... (cut: {len(shown)} characters in all)"


def cut_list(items: Iterable[str], limit: int = MAX_EVIDENCE_ITEMS) -> list[str]:
    """The first `limit` items, each cut, and a last item saying how many were left out."""
    values = list(items)
    shown = [cut(item) for item in values[:limit]]
    if len(values) > limit:
        shown.append(f"... and {len(values) - limit} more ({len(values)} in all)")
    return shown


# --- look-ups ----------------------------------------------------------------------------------


class DnsStatus(StrEnum):
    """How a name answered: with records, without records of the type (NODATA), or not at all."""

    ANSWER = "answer"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"


@dataclass(frozen=True)
class DnsAnswer:
    """One look-up's result: the records (after CNAMEs), the name they belong to, the AD flag."""

    name: str
    rdtype: str
    status: DnsStatus
    rdatas: tuple[dns.rdata.Rdata, ...]
    canonical_name: str
    authenticated: bool
    signatures: tuple[dns.rdata.Rdata, ...] = ()

    @property
    def records(self) -> list[str]:
        """Each record in presentation format (what `dig` shows)."""
        return [rdata.to_text() for rdata in self.rdatas]

    @property
    def void(self) -> bool:
        return not self.rdatas

    def texts(self) -> list[str]:
        """TXT records, each one's strings joined as RFC 7208 section 3.3 and others say."""
        return [
            b"".join(rdata.strings).decode("utf-8", "backslashreplace")  # type: ignore[attr-defined]
            for rdata in self.rdatas
        ]


def domain_name(text: str) -> dns.name.Name:
    """An absolute DNS name; ValueError when `text` cannot be one."""
    try:
        name = dns.name.from_text(text.strip(), origin=dns.name.root)
    except dns.exception.DNSException as exc:
        raise ValueError(f"{text!r} is not a valid domain name ({exc})") from None
    if len(name.labels) < 2 or any(not label for label in name.labels[:-1]):
        raise ValueError(f"{text!r} is not a valid domain name")
    return name


def show(name: dns.name.Name | str) -> str:
    text = name.to_text(omit_final_dot=True) if isinstance(name, dns.name.Name) else name
    return printable(text.rstrip(".") or ".")


class Lookup:
    """The DNS look-ups of one probe run, through the scan's resolver, with one deadline for all.

    Each query waits at most the scan's timeout, and all of them together at most `budget`
    times it. Answers are cached, so a name asked twice (an SPF include used twice) costs one
    query. NXDOMAIN and NODATA are answers, not errors; a timeout raises ProbeTimeout, a
    server failure (SERVFAIL, REFUSED) ConnectivityError, a malformed answer ProtocolError.
    """

    def __init__(self, ctx: ProbeContext, *, budget: float = DNS_BUDGET, dnssec: bool = False):
        self._resolver = ctx.resolver.dns()
        if dnssec:
            # DO asks a validating resolver to validate and say so with the AD flag.
            self._resolver.use_edns(0, dns.flags.DO, 1232)
        self._timeout = ctx.timeout
        self._total = budget * ctx.timeout * _DEADLINE_SHARE
        self._deadline = time.monotonic() + self._total
        self._cache: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], DnsAnswer] = {}
        self.queries = 0

    def query(self, name: dns.name.Name | str, rdtype: str) -> DnsAnswer:
        qname = domain_name(name) if isinstance(name, str) else name
        qtype = dns.rdatatype.from_text(rdtype)
        key = (qname, qtype)
        if key not in self._cache:
            self._cache[key] = self._ask(qname, qtype)
        return self._cache[key]

    def _ask(self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> DnsAnswer:
        what = f"{show(qname)} {dns.rdatatype.to_text(qtype)}"
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeTimeout(msg("dns.lookup.deadline", seconds=f"{self._total:.0f}"))
        lifetime = min(self._timeout, remaining)
        self._resolver.lifetime = self._resolver.timeout = lifetime
        self.queries += 1
        try:
            answer = self._resolver.resolve(qname, qtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return DnsAnswer(
                show(qname),
                dns.rdatatype.to_text(qtype),
                DnsStatus.NXDOMAIN,
                (),
                show(qname),
                False,
            )
        except dns.exception.Timeout:
            raise ProbeTimeout(
                msg("dns.lookup.timeout", what=what, seconds=number(lifetime))
            ) from None
        except dns.resolver.NoNameservers as exc:
            raise ConnectivityError(
                msg("dns.lookup.server-failed", what=what, detail=cut(str(exc), 300))
            ) from None
        except dns.exception.DNSException as exc:
            raise ProtocolError(
                msg("dns.lookup.failed", what=what, detail=cut(str(exc), 300))
            ) from None
        rdatas = tuple(answer.rrset) if answer.rrset is not None else ()
        signatures: tuple[dns.rdata.Rdata, ...] = ()
        if answer.rrset is not None:
            found = answer.response.get_rrset(
                answer.response.answer,
                answer.rrset.name,
                dns.rdataclass.IN,
                dns.rdatatype.RRSIG,
                qtype,
            )
            signatures = tuple(found) if found is not None else ()
        return DnsAnswer(
            name=show(qname),
            rdtype=dns.rdatatype.to_text(qtype),
            status=DnsStatus.ANSWER if rdatas else DnsStatus.NODATA,
            rdatas=rdatas,
            canonical_name=show(answer.canonical_name),
            authenticated=bool(answer.response.flags & dns.flags.AD),
            signatures=signatures,
        )

    def addresses(self, name: dns.name.Name | str) -> tuple[list[str], str]:
        """IPv4 then IPv6 addresses of `name`, and its canonical name (after CNAMEs)."""
        found: list[str] = []
        canonical = show(name)
        for rdtype in ("A", "AAAA"):
            answer = self.query(name, rdtype)
            found.extend(answer.records)
            if answer.rdatas:
                canonical = answer.canonical_name
        return found, canonical


def outcome(
    status: FindingStatus, message: Msg, evidence: dict[str, Any], warnings: Sequence[Msg] = ()
) -> ProbeOutcome:
    """The probe's outcome: the verdict, its message, the evidence and any warnings."""
    return ProbeOutcome.said(status, message, evidence, warnings)
