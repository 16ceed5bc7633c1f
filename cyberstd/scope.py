"""What an address really reaches, for the scope guard: IPv4 inside IPv6, and what is internal.

An IPv6 address can carry an IPv4 address that the packets end up at: IPv4-mapped
(::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), the NAT64
well-known prefix (64:ff9b::a.b.c.d, RFC 6052), 6to4 (2002:AABB:CCDD::, RFC 3056) and Teredo
(2001::/32, RFC 4380: server and client). The guard judges those IPv4 addresses, never the
wrapper, so `::10.0.0.1` is as internal as `10.0.0.1`. The NAT64 local-use prefix
(64:ff9b:1::/48, RFC 8215) reaches whatever the school's own translator maps it to, which
cannot be told from the address: it is internal. An address is public only when it is global
unicast: multicast, unspecified, reserved, site-local, link-local, loopback and private
addresses all need an authorised range.
"""

from __future__ import annotations

import ipaddress

from cyberstd.messages import Msg, msg

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")

# The widest range a school could own: scope entries wider than these are refused (loopback
# excepted, which is the machine itself).
WIDEST_V4 = 16
WIDEST_V6 = 48
_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")


def _low32(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def reached(address: Address) -> tuple[Address, ...]:
    """The addresses that packets to `address` end up at: the IPv4 addresses it carries, or
    the address itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return (address,)
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in _TRANSLATED or address in _NAT64_WELL_KNOWN:
        return (_low32(address),)
    if address in _COMPATIBLE and int(address) > 1:  # not :: and ::1 themselves
        return (_low32(address),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        server, client = address.teredo
        return (server, client)
    return (address,)


def is_public(address: Address) -> bool:
    """Global unicast and nothing else: the addresses a school may probe without a `scope`."""
    if isinstance(address, ipaddress.IPv6Address) and (
        address in NAT64_LOCAL or address in _SITE_LOCAL
    ):
        return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_private
    )


def too_wide(network: Network) -> bool:
    """Wider than a school could own (/16 for IPv4, /48 for IPv6; loopback excepted)."""
    if isinstance(network, ipaddress.IPv4Network):
        return network.prefixlen < WIDEST_V4 and not network.subnet_of(_LOOPBACK_V4)
    return network.prefixlen < WIDEST_V6


# IPv6 prefixes whose addresses carry IPv4 ones (or reach a translator): never swept as IPv6.
_CARRIERS = (
    _COMPATIBLE,
    ipaddress.IPv6Network("::ffff:0:0/96"),
    _TRANSLATED,
    _NAT64_WELL_KNOWN,
    NAT64_LOCAL,
    ipaddress.IPv6Network("2002::/16"),
    ipaddress.IPv6Network("2001::/32"),
)


def carries_ipv4(network: Network) -> bool:
    """An IPv6 range that overlaps the prefixes carrying IPv4 addresses."""
    return isinstance(network, ipaddress.IPv6Network) and any(
        network.overlaps(prefix) for prefix in _CARRIERS
    )


_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def why_never(address: Address) -> Msg | None:
    """Why no scan may ever go to an address, whatever is authorised, or None: the unspecified
    address and 0.0.0.0/8 (on Linux they reach the machine itself), multicast and broadcast
    (they reach every host that listens)."""
    for one in reached(address):
        if one.is_unspecified or (one.version == 4 and one in _THIS_NETWORK):
            return msg("scope.never.unspecified")
        if one.is_multicast:
            return msg("scope.never.multicast")
        if one == _LIMITED_BROADCAST:
            return msg("scope.never.broadcast")
    return None


never_a_target = why_never  # the name validation uses


def never_scanned(network: Network) -> Msg | None:
    """Why a scope range holds addresses no scan may go to, or None."""
    for probe in (network.network_address, network.broadcast_address):
        why = never_a_target(probe)
        if why:
            return why
    return None
