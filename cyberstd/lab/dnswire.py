"""Answers a lab DNS server gives again without building them again: a cache of wire answers.

A lab zone does not change while its server runs, so the answer to a query depends only on
the question (name, type, class), the RD bit and whether the query carries EDNS with or
without DO. `AnswerCache` keeps the wire answer of such a plain query, keyed by those, and
serves the next one by copying the query's ID and question (its letter case too) into it:
no parsing with dnspython, no rendering. Anything unusual (another opcode, several
questions, EDNS options, compression in the question, an answer that would be truncated)
goes the slow way, through the server's full answer, and is not cached.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass

HEADER = 12
_OPT = 41
_QR = 0x8000
_OPCODE = 0x7800
_RD = 0x0100
_DO = 0x8000
MAX_NAME = 255
# Plain DNS over UDP without EDNS: at most 512 bytes (RFC 1035 section 4.2.1).
UDP_PLAIN_LIMIT = 512

Key = tuple[bytes, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class PlainQuery:
    """A query the cache understands: its key, where its question ends, its UDP size."""

    key: Key
    question_end: int
    udp_limit: int


def _question_end(wire: bytes) -> int | None:
    """The offset after QTYPE/QCLASS of the one question, or None (compression, too long)."""
    pos = HEADER
    while True:
        if pos >= len(wire):
            return None
        length = wire[pos]
        if length == 0:
            pos += 1
            break
        if length > 63:  # a compression pointer or a reserved label type
            return None
        pos += 1 + length
        if pos - HEADER > MAX_NAME:
            return None
    end = pos + 4
    return end if end <= len(wire) else None


def plain_query(wire: bytes) -> PlainQuery | None:
    """Read a query far enough to key its answer; None for anything the cache leaves alone."""
    if len(wire) < HEADER:
        return None
    _, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHHH", wire)
    if flags & (_QR | _OPCODE) or qdcount != 1 or ancount or nscount or arcount > 1:
        return None
    end = _question_end(wire)
    if end is None:
        return None
    qtype, qclass = struct.unpack_from("!HH", wire, end - 4)
    edns = do = 0
    limit = UDP_PLAIN_LIMIT
    if arcount:
        # One OPT record, owner the root, version 0, no options: what resolvers send.
        if len(wire) != end + 11 or wire[end] != 0:
            return None
        rtype, payload, _, version, ednsflags, rdlength = struct.unpack_from(
            "!HHBBHH", wire, end + 1
        )
        if rtype != _OPT or version != 0 or rdlength != 0:
            return None
        edns, do = 1, int(bool(ednsflags & _DO))
        limit = max(UDP_PLAIN_LIMIT, payload)
    elif len(wire) != end:
        return None
    name = wire[HEADER : end - 4].lower()
    return PlainQuery((name, qtype, qclass, int(bool(flags & _RD)), edns, do), end, limit)


class AnswerCache:
    """Wire answers by query key, at most `size` of them (the oldest go first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._answers: dict[Key, bytes] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._answers)

    def answer(self, query: PlainQuery, wire: bytes, transport: str) -> bytes | None:
        """The cached answer to `wire` with its ID and question, or None when not cached or
        when it would not fit a UDP answer (the server then truncates it)."""
        template = self._answers.get(query.key)
        if template is None or (transport == "udp" and len(template) > query.udp_limit):
            self.misses += 1
            return None
        self.hits += 1
        end = query.question_end
        return wire[:2] + template[2:HEADER] + wire[HEADER:end] + template[end:]

    def keep(self, query: PlainQuery, answer: bytes) -> None:
        """Keep the full (untruncated) wire answer to the query."""
        with self._lock:
            if query.key not in self._answers and len(self._answers) >= self.size:
                self._answers.pop(next(iter(self._answers)))
            self._answers[query.key] = answer
