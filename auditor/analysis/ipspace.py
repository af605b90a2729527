"""Sets of addresses and ports, and how much of them a rule covers.

A flow's peer is either a concrete network (an ENI's /32, a subnet's CIDR) or ``Addresses``:
some address, unknown which, among a set of intervals. ``PUBLIC`` is the whole public address
space: the service's public addresses, which the API does not tell. A rule covers the peer
fully, partly or not at all; partial coverage is what turns a proof into ``unknown``, unless
the proof is split (``split_public``) into parts that every rule covers fully or not at all.

Network ACLs are decided over (address, port) boxes (``first_match``): rules compose per packet,
so adjacent allows cover a range together and a deny removes only what it covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from typing import Final, Generic, TypeVar

from auditor.aws_facts import NON_PUBLIC_RANGES

LAST_ADDRESS = 2**32 - 1
LAST_PORT = 65535

Interval = tuple[int, int]  # inclusive


class Coverage(IntEnum):
    NONE = 0
    PARTIAL = 1
    FULL = 2


@dataclass(frozen=True)
class Addresses:
    """Some address among ``intervals`` (sorted, disjoint, inclusive), unknown which."""

    intervals: tuple[Interval, ...]

    def cidrs(self) -> list[IPv4Network]:
        return [network for low, high in self.intervals
                for network in summarize_address_range(IPv4Address(low), IPv4Address(high))]


def _complement(intervals: Sequence[Interval]) -> tuple[Interval, ...]:
    result, start = [], 0
    for low, high in intervals:
        if low > start:
            result.append((start, low - 1))
        start = max(start, high + 1)
    if start <= LAST_ADDRESS:
        result.append((start, LAST_ADDRESS))
    return tuple(result)


@lru_cache(maxsize=65536)
def network_interval(network: IPv4Network) -> Interval:
    return int(network.network_address), int(network.broadcast_address)


def union(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


PUBLIC: Final = Addresses(_complement(union(network_interval(n) for n in NON_PUBLIC_RANGES)))
Peer = IPv4Network | Addresses


def _peer_intervals(peer: Peer) -> tuple[Interval, ...]:
    return peer.intervals if isinstance(peer, Addresses) else (network_interval(peer),)


def _covered(cover: Sequence[Interval], wanted: Sequence[Interval]) -> Coverage:
    """How much of ``wanted`` the union ``cover`` (both sorted and disjoint) holds."""
    overlap = outside = False
    for low, high in wanted:
        held = sum(min(high, c_high) - max(low, c_low) + 1 for c_low, c_high in cover
                   if c_low <= high and low <= c_high)
        overlap = overlap or held > 0
        outside = outside or held < high - low + 1
    if not overlap:
        return Coverage.NONE
    return Coverage.PARTIAL if outside else Coverage.FULL


def describe_peer(peer: Peer) -> str:
    if peer == PUBLIC:
        return "the service's public addresses"
    if isinstance(peer, Addresses):
        cidrs = [str(cidr) for cidr in peer.cidrs()]
        listed = ", ".join(cidrs[:3]) + (f" and {len(cidrs) - 3} more ranges"
                                         if len(cidrs) > 3 else "")
        return f"the service's public addresses in {listed}"
    return str(peer.network_address) if peer.prefixlen == 32 else str(peer)


@lru_cache(maxsize=65536)  # pure, and called for every rule of every hop
def cidr_coverage(cidr: IPv4Network, peer: Peer) -> Coverage:
    if isinstance(peer, Addresses):
        return _covered((network_interval(cidr),), peer.intervals)
    if peer.subnet_of(cidr):
        return Coverage.FULL
    return Coverage.PARTIAL if cidr.overlaps(peer) else Coverage.NONE


def cidrs_coverage(cidrs: Iterable[IPv4Network], peer: Peer) -> Coverage:
    """Coverage of the union of several CIDRs (a prefix list, all rules of a kind)."""
    return _cidrs_coverage(tuple(cidrs), peer)


@lru_cache(maxsize=16384)
def _cidrs_coverage(cidrs: tuple[IPv4Network, ...], peer: Peer) -> Coverage:
    return _covered(union(network_interval(cidr) for cidr in cidrs), _peer_intervals(peer))


def port_coverage(from_port: int, to_port: int, wanted: tuple[int, int]) -> Coverage:
    low, high = wanted
    if from_port <= low and high <= to_port:
        return Coverage.FULL
    if from_port <= high and low <= to_port:
        return Coverage.PARTIAL
    return Coverage.NONE


def split_public(peer: Addresses, cidrs: Iterable[IPv4Network],
                 limit: int) -> list[Addresses]:
    """``peer`` cut into parts that each of ``cidrs`` covers fully or not at all.

    Addresses that the same CIDRs cover form one part. More than ``limit`` parts: ``[peer]``
    unsplit (its proof may then be unknown rather than slow).
    """
    cuts = sorted({edge for cidr in set(cidrs)
                   if cidr_coverage(cidr, peer) == Coverage.PARTIAL
                   for edge in (int(cidr.network_address), int(cidr.broadcast_address) + 1)})
    if not cuts:
        return [peer]
    pieces: list[Interval] = []
    for low, high in peer.intervals:
        start = low
        for cut in cuts:
            if start < cut <= high:
                pieces.append((start, cut - 1))
                start = cut
        pieces.append((start, high))
    networks = [network_interval(c) for c in set(cidrs)]
    groups: dict[tuple[bool, ...], list[Interval]] = {}
    for low, high in pieces:
        signature = tuple(c_low <= low and high <= c_high for c_low, c_high in networks)
        groups.setdefault(signature, []).append((low, high))
    if len(groups) > limit:
        return [peer]
    return sorted((Addresses(union(parts)) for parts in groups.values()),
                  key=lambda part: part.intervals)


# --- first match over (address, port) boxes -------------------------------------------------

Rule = TypeVar("Rule")
Box = tuple[int, int, int, int]  # address low, high, port low, high (inclusive)


@dataclass
class Matches(Generic[Rule]):
    matched: list[tuple[Box, Rule]]  # each box with the first rule that contains it
    unmatched: list[Box]  # what no rule contains


def boxes(peer: Peer, ports: tuple[int, int]) -> list[Box]:
    return [(low, high, ports[0], ports[1]) for low, high in _peer_intervals(peer)]


def first_match(rules: Iterable[tuple[Box, Rule]], query: list[Box]) -> Matches[Rule]:
    """Give every point of ``query`` to the first rule (in order) whose box holds it."""
    remaining = list(query)
    matched: list[tuple[Box, Rule]] = []
    for box, rule in rules:
        left: list[Box] = []
        for piece in remaining:
            common = _intersect(piece, box)
            if common is None:
                left.append(piece)
                continue
            matched.append((common, rule))
            left.extend(_subtract(piece, common))
        remaining = left
        if not remaining:
            break
    return Matches(matched, remaining)


def addresses_of(found: Iterable[Box]) -> tuple[Interval, ...]:
    return union((box[0], box[1]) for box in found)


def covers_all(cover: Sequence[Interval], peer: Peer) -> bool:
    return _covered(cover, _peer_intervals(peer)) == Coverage.FULL


def _intersect(a: Box, b: Box) -> Box | None:
    box = (max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] <= box[1] and box[2] <= box[3] else None


def _subtract(box: Box, inner: Box) -> list[Box]:
    """``box`` minus ``inner`` (which it contains), as disjoint boxes."""
    pieces = [(box[0], inner[0] - 1, box[2], box[3]), (inner[1] + 1, box[1], box[2], box[3]),
              (inner[0], inner[1], box[2], inner[2] - 1),
              (inner[0], inner[1], inner[3] + 1, box[3])]
    return [p for p in pieces if p[0] <= p[1] and p[2] <= p[3]]
