"""How much of a set of addresses and ports a rule covers.

A flow's peer is either a concrete network (an ENI's /32, a subnet's CIDR) or ``PUBLIC``: some
public address of an AWS service that the API does not tell us. A rule covers the peer fully,
partly or not at all; partial coverage is what turns a proof into ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from functools import lru_cache
from ipaddress import IPv4Network, collapse_addresses
from typing import Final, Literal

from auditor.aws_facts import NON_PUBLIC_RANGES


class Coverage(IntEnum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


PUBLIC: Final = "public"
Peer = IPv4Network | Literal["public"]


def describe_peer(peer: Peer) -> str:
    if peer == PUBLIC:
        return "the service's public addresses"
    return str(peer.network_address) if peer.prefixlen == 32 else str(peer)


@lru_cache(maxsize=65536)  # pure, and called for every rule of every hop
def cidr_coverage(cidr: IPv4Network, peer: Peer) -> Coverage:
    if peer == PUBLIC:
        if cidr.prefixlen == 0:
            return Coverage.FULL
        if any(cidr.subnet_of(private) for private in NON_PUBLIC_RANGES):
            return Coverage.NONE
        return Coverage.PARTIAL
    if peer.subnet_of(cidr):
        return Coverage.FULL
    return Coverage.PARTIAL if cidr.overlaps(peer) else Coverage.NONE


def cidrs_coverage(cidrs: Iterable[IPv4Network], peer: Peer) -> Coverage:
    """Coverage of the union of several CIDRs (a prefix list, all rules of a kind)."""
    collapsed = list(collapse_addresses(cidrs))
    best = max((cidr_coverage(cidr, peer) for cidr in collapsed), default=Coverage.NONE)
    if best == Coverage.PARTIAL and peer != PUBLIC:
        # Collapsed CIDRs are disjoint, so those inside the peer add up to it or not.
        inside = sum(c.num_addresses for c in collapsed if c.subnet_of(peer))
        if inside >= peer.num_addresses:
            return Coverage.FULL
    return best


def port_coverage(from_port: int, to_port: int, wanted: tuple[int, int]) -> Coverage:
    low, high = wanted
    if from_port <= low and high <= to_port:
        return Coverage.FULL
    if from_port <= high and low <= to_port:
        return Coverage.PARTIAL
    return Coverage.NONE
