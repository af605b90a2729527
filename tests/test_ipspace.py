"""Address and port coverage: the arithmetic every rule evaluator stands on."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from auditor.analysis.ipspace import (
    PUBLIC,
    Coverage,
    cidr_coverage,
    cidrs_coverage,
    describe_peer,
    port_coverage,
)

FULL, PARTIAL, NONE = Coverage.FULL, Coverage.PARTIAL, Coverage.NONE


@pytest.mark.parametrize(("cidr", "peer", "expected"), [
    pytest.param("0.0.0.0/0", PUBLIC, FULL, id="default-route-covers-public"),
    pytest.param("0.0.0.0/1", PUBLIC, PARTIAL, id="lower-half-space-is-partial-for-public"),
    pytest.param("128.0.0.0/1", PUBLIC, PARTIAL, id="upper-half-space-is-partial-for-public"),
    pytest.param("52.94.0.0/16", PUBLIC, PARTIAL, id="public-range-may-hold-service"),
    pytest.param("10.0.0.0/8", PUBLIC, NONE, id="rfc1918-10-never-public"),
    pytest.param("172.16.0.0/12", PUBLIC, NONE, id="rfc1918-172-never-public"),
    pytest.param("192.168.1.0/24", PUBLIC, NONE, id="rfc1918-192-subnet-never-public"),
    pytest.param("100.64.0.0/10", PUBLIC, NONE, id="cgnat-never-public"),
    pytest.param("169.254.0.0/16", PUBLIC, NONE, id="link-local-never-public"),
    pytest.param("8.0.0.0/5", PUBLIC, PARTIAL, id="supernet-of-private-is-partial"),
    pytest.param("10.0.0.0/16", "10.0.5.7/32", FULL, id="vpc-cidr-holds-eni"),
    pytest.param("10.0.5.7/32", "10.0.5.7/32", FULL, id="exact-host"),
    pytest.param("10.0.6.0/24", "10.0.5.7/32", NONE, id="other-subnet-misses-eni"),
    pytest.param("10.0.5.0/25", "10.0.5.0/24", PARTIAL, id="half-of-subnet-is-partial"),
    pytest.param("10.0.0.0/8", "10.0.5.0/24", FULL, id="supernet-holds-subnet"),
])
def test_cidr_coverage(cidr, peer, expected):
    peer = peer if peer == PUBLIC else ip_network(peer)
    assert cidr_coverage(ip_network(cidr), peer) == expected


@pytest.mark.parametrize(("cidrs", "peer", "expected"), [
    pytest.param(["0.0.0.0/1", "128.0.0.0/1"], PUBLIC, FULL, id="two-half-spaces-cover-public"),
    pytest.param(["0.0.0.0/1"], PUBLIC, PARTIAL, id="one-half-space-partial"),
    pytest.param(["10.0.0.0/8", "192.168.0.0/16"], PUBLIC, NONE, id="private-only-list"),
    pytest.param([], PUBLIC, NONE, id="empty-list"),
    pytest.param(["10.0.5.0/25", "10.0.5.128/25"], "10.0.5.0/24", FULL,
                 id="adjacent-halves-cover-subnet"),
    pytest.param(["10.0.5.0/26", "10.0.5.128/25"], "10.0.5.0/24", PARTIAL,
                 id="gap-in-subnet-is-partial"),
    pytest.param(["10.0.5.0/25", "10.0.5.128/26", "10.0.5.192/26", "10.9.0.0/16"],
                 "10.0.5.0/24", FULL, id="pieces-plus-unrelated-cover-subnet"),
    pytest.param(["10.0.6.0/24"], "10.0.5.7/32", NONE, id="list-misses-host"),
])
def test_cidrs_coverage(cidrs, peer, expected):
    peer = peer if peer == PUBLIC else ip_network(peer)
    assert cidrs_coverage([ip_network(c) for c in cidrs], peer) == expected


@pytest.mark.parametrize(("from_port", "to_port", "wanted", "expected"), [
    pytest.param(443, 443, (443, 443), FULL, id="exact-443"),
    pytest.param(0, 65535, (443, 443), FULL, id="all-ports"),
    pytest.param(80, 80, (443, 443), NONE, id="http-only"),
    pytest.param(1024, 65535, (32768, 60999), FULL, id="aws-recommended-covers-linux"),
    pytest.param(1024, 32767, (32768, 60999), NONE, id="low-ephemeral-misses-linux"),
    pytest.param(32768, 60999, (49152, 65535), PARTIAL, id="linux-range-partial-for-windows"),
    pytest.param(32768, 65535, (1024, 65535), PARTIAL, id="high-range-partial-for-nat"),
    pytest.param(60999, 61000, (32768, 60999), PARTIAL, id="touching-upper-edge"),
    pytest.param(61000, 65535, (32768, 60999), NONE, id="just-above-linux-range"),
])
def test_port_coverage(from_port, to_port, wanted, expected):
    assert port_coverage(from_port, to_port, wanted) == expected


@pytest.mark.parametrize(("peer", "expected"), [
    pytest.param(PUBLIC, "the service's public addresses", id="public"),
    pytest.param(ip_network("10.0.5.7/32"), "10.0.5.7", id="host-without-prefix"),
    pytest.param(ip_network("10.0.5.0/24"), "10.0.5.0/24", id="network-with-prefix"),
])
def test_describe_peer(peer, expected):
    assert describe_peer(peer) == expected
