"""Name resolution through the resolver the scan is configured with (split-horizon, the lab)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import dns.exception
import dns.rdatatype
import dns.resolver

from cyberstd.errors import ConnectivityError, ProbeTimeout

# Answers kept for the look-ups of one cache scope (a group run), by scope and nameserver.
# Enough for the records schools share (mail and hosting providers); each school's own are
# asked for within seconds and then make room: the memory of a run stays flat in its size.
CACHE_SIZE = 4_096
_CACHES: dict[tuple[str, str | None, int], dns.resolver.LRUCache] = {}
_CACHES_LOCK = threading.Lock()


def shared_cache(scope: str, nameserver: str | None, port: int) -> dns.resolver.LRUCache:
    """The answer cache of a scope and nameserver (dnspython's, thread-safe, TTLs kept)."""
    with _CACHES_LOCK:
        return _CACHES.setdefault((scope, nameserver, port), dns.resolver.LRUCache(CACHE_SIZE))


def drop_caches(scope: str) -> None:
    """Forget the answers of a scope (its run has ended)."""
    with _CACHES_LOCK:
        for key in [k for k in _CACHES if k[0] == scope]:
            del _CACHES[key]


@dataclass(frozen=True)
class Resolver:
    """A DNS resolver: the given nameserver and port, or the system's when none is given.

    With a `cache_scope` (a group run's id), every look-up of that scope shares one answer
    cache: the schools of a group that use the same mail or hosting provider ask for its
    records once. Without one (a school's own scan), every look-up asks afresh."""

    nameserver: str | None = None
    port: int = 53
    timeout: float = 5.0
    cache_scope: str | None = None

    def dns(self) -> dns.resolver.Resolver:
        """A dnspython resolver configured like this one (a new one: they are not thread-safe)."""
        if self.nameserver is None:
            res = dns.resolver.Resolver()
        else:
            res = dns.resolver.Resolver(configure=False)
            res.nameservers = [self.nameserver]
            res.port = self.port
        res.timeout = self.timeout
        res.lifetime = self.timeout
        if self.cache_scope is not None:
            res.cache = shared_cache(self.cache_scope, self.nameserver, self.port)
        return res

    def reverse(self, address: str, timeout: float | None = None) -> str | None:
        """The name a PTR record gives `address` (without the final dot), or None when there
        is none or the look-up fails or takes longer than `timeout` seconds."""
        res = self.dns()
        if timeout is not None:
            res.timeout = res.lifetime = min(res.lifetime or timeout, timeout)
        try:
            answer = res.resolve_address(address)
        except (dns.exception.DNSException, ValueError, OSError):
            return None
        names = [str(r).rstrip(".") for r in answer]
        return names[0] if names else None

    def addresses(self, name: str) -> list[str]:
        """IPv4 then IPv6 addresses of `name`; raises ConnectivityError when there are none."""
        if self.nameserver is None:
            try:
                infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
            except OSError as exc:
                raise ConnectivityError(f"cannot resolve {name}: {exc}") from None
            return list(dict.fromkeys(str(info[4][0]) for info in infos))
        found: list[str] = []
        res = self.dns()
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                answer = res.resolve(name, rdtype, raise_on_no_answer=False)
            except dns.resolver.NXDOMAIN:
                raise ConnectivityError(f"{name} does not exist (NXDOMAIN)") from None
            except dns.exception.Timeout:
                raise ProbeTimeout(f"DNS look-up of {name} timed out") from None
            except dns.exception.DNSException as exc:
                raise ConnectivityError(f"DNS look-up of {name} failed: {exc}") from None
            found.extend(str(r) for r in answer)
        if not found:
            raise ConnectivityError(f"{name} has no address records")
        return found
