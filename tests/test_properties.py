"""Metamorphic properties the proof must obey whatever its internals (issue 16).

Each property builds a random small estate (``tests/estate_strategies.py``), changes it in a
way whose effect AWS documents, and compares the audits. The CI profile is bounded and
deterministic; the long one runs by hand:

    SSM_AUDITOR_HYPOTHESIS=long .venv/bin/python -m pytest tests/test_properties.py
    .venv/bin/python -m pytest tests/test_properties.py --hypothesis-profile=long

Three of the properties are narrower than their naive form, because AWS itself is not monotone
there (the narrowing is the finding, not a shortcut):

- A deleted route lets traffic fall back on a less specific one, so deleting a blackhole route
  that shadows a working route is a fix: only a route that no other route of its table covers
  may not unblock anything.
- Without an interface endpoint the name resolves to public addresses, so deleting a broken
  endpoint beside a working NAT gateway is a fix: deleting an endpoint must give exactly what
  turning its private DNS off gives, and can never unblock a VPC without an internet gateway.
- The agent keeps an instance profile whose role may call the heartbeat, and falls back to
  Default Host Management only when it may not (DESIGN.md): with DHMC configured, an allow can
  strand it on a weaker role and a deny can rescue it. Policy changes are monotone with DHMC off.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import replace
from ipaddress import ip_network

from hypothesis import assume, given
from hypothesis import strategies as st

from auditor.analysis.results import BLOCKED, REACHABLE
from auditor.analysis.verdict import MANAGEABLE, NOT_MANAGEABLE
from auditor.reports import json_report
from auditor.sources.snapshot import read_snapshot, write_snapshot
from tests.estate_strategies import (
    ENDPOINT_GROUP,
    KNOWN_LIST,
    KNOWN_LIST_CIDRS,
    UNREAD_LIST,
    VPC_CIDR,
    EstateSpec,
    NaclRule,
    Outcome,
    SgRule,
    audit,
    build,
    estates,
    free_number,
    nacl_rules,
    outcomes,
    sg_rules,
    statements,
    with_subnet,
)

SERVICES = ("ec2messages", "ssm", "ssmmessages")
OK, FAIL = "ok", "fail"


def observe(spec: EstateSpec) -> list[Outcome]:
    """The outcome of each instance, in the spec's order (ids may move between two builds)."""
    built = build(spec)
    found = outcomes(built.raw)
    return [found[instance_id] for instance_id in built.instance_ids]


def never_worse(before: list[Outcome], after: list[Outcome]) -> None:
    for old, new in zip(before, after, strict=True):
        for service in SERVICES:
            assert not (old.status(service) == REACHABLE and new.status(service) == BLOCKED), (
                service, old, new)
        assert not (old.verdict == MANAGEABLE and new.verdict == NOT_MANAGEABLE), (old, new)
        assert not (old.credentials == OK and new.credentials == FAIL), (old, new)
        assert not (old.permissions == OK and new.permissions == FAIL), (old, new)


def never_better(before: list[Outcome], after: list[Outcome]) -> None:
    for old, new in zip(before, after, strict=True):
        for service in SERVICES:
            assert not (old.status(service) == BLOCKED and new.status(service) == REACHABLE), (
                service, old, new)
        assert not (old.verdict == NOT_MANAGEABLE and new.verdict == MANAGEABLE), (old, new)
        assert not (old.permissions == FAIL and new.permissions == OK), (old, new)


def _subnet_index(spec: EstateSpec, index: int) -> int:
    return index % len(spec.subnets)


def _add_nacl_rule(spec: EstateSpec, index: int, rule: NaclRule, allow: bool) -> EstateSpec:
    index = _subnet_index(spec, index)
    rules = spec.subnets[index].nacl
    rule = replace(rule, allow=allow, number=free_number(rules, rule.egress, rule.number))
    return with_subnet(spec, index, nacl=(*rules, rule))


# --- adding an allow never blocks, adding a deny never unblocks -------------------------------


@given(estates, sg_rules)
def test_a_security_group_egress_allow_never_blocks(spec, rule):
    never_worse(observe(spec), observe(replace(spec, egress=(*spec.egress, rule))))


@given(estates, sg_rules, st.integers(0, 2))
def test_an_endpoint_security_group_allow_never_blocks(spec, rule, which):
    assume(spec.endpoints)
    endpoints = list(spec.endpoints)
    index = which % len(endpoints)
    endpoints[index] = replace(endpoints[index], ingress=(*endpoints[index].ingress, rule))
    never_worse(observe(spec), observe(replace(spec, endpoints=tuple(endpoints))))


@given(estates, nacl_rules, st.integers(0, 2))
def test_a_network_acl_allow_never_blocks(spec, rule, index):
    never_worse(observe(spec), observe(_add_nacl_rule(spec, index, rule, allow=True)))


@given(estates, nacl_rules, st.integers(0, 2))
def test_a_network_acl_deny_never_unblocks(spec, rule, index):
    never_better(observe(spec), observe(_add_nacl_rule(spec, index, rule, allow=False)))


@given(estates, statements)
def test_a_policy_allow_never_fails_and_a_deny_never_passes(spec, statement):
    spec = replace(spec, iam=replace(spec.iam, profile=True, dhmc=False))
    before = observe(spec)
    allowed = replace(spec.iam, statements=(*spec.iam.statements, replace(statement, allow=True)))
    denied = replace(spec.iam, statements=(*spec.iam.statements, replace(statement, allow=False)))
    never_worse(before, observe(replace(spec, iam=allowed)))
    never_better(before, observe(replace(spec, iam=denied)))


# --- removing a way never unblocks ------------------------------------------------------------


@given(estates, st.integers(0, 1))
def test_deleting_a_nat_gateway_never_unblocks(spec, which):
    assume(spec.nats)
    nats = list(spec.nats)
    index = which % len(nats)
    nats[index] = replace(nats[index], deleted=True)
    never_better(observe(spec), observe(replace(spec, nats=tuple(nats))))


def _networks(destination: str) -> list:
    return [ip_network(c) for c in (KNOWN_LIST_CIDRS if destination == KNOWN_LIST
                                    else (destination,))]


def _covered_elsewhere(routes, index: int) -> bool:
    """Whether a route of the table (the VPC's local route included) still covers the
    destination of ``routes[index]`` once it is gone: traffic would fall back on it."""
    others = [n for i, r in enumerate(routes) if i != index for n in _networks(r.destination)]
    return any(network.subnet_of(other)
               for network in _networks(routes[index].destination)
               for other in [*others, ip_network(VPC_CIDR)])


@given(estates, st.integers(0, 2), st.integers(0, 2))
def test_deleting_a_route_nothing_else_covers_never_unblocks(spec, subnet, which):
    index = _subnet_index(spec, subnet)
    routes = spec.subnets[index].routes
    assume(routes)
    which %= len(routes)
    assume(not _covered_elsewhere(routes, which))
    changed = with_subnet(spec, index, routes=routes[:which] + routes[which + 1:])
    never_better(observe(spec), observe(changed))


@given(estates, st.integers(0, 2))
def test_deleting_an_endpoint_is_turning_its_private_dns_off(spec, which):
    assume(spec.endpoints)
    index = which % len(spec.endpoints)
    deleted = spec.endpoints[:index] + spec.endpoints[index + 1:]
    private_dns_off = list(spec.endpoints)
    private_dns_off[index] = replace(private_dns_off[index], private_dns=False)
    assert observe(replace(spec, endpoints=deleted)) == observe(
        replace(spec, endpoints=tuple(private_dns_off)))


@given(estates, st.integers(0, 2))
def test_deleting_an_endpoint_never_unblocks_without_an_internet_gateway(spec, which):
    spec = replace(spec, igw=False)
    assume(spec.endpoints)
    index = which % len(spec.endpoints)
    changed = replace(spec, endpoints=spec.endpoints[:index] + spec.endpoints[index + 1:])
    never_better(observe(spec), observe(changed))


# --- what must not matter ---------------------------------------------------------------------

_ID = re.compile(r"\b(vpc|subnet|rtb|igw|nat|sg|acl|vpce|eni|i|dopt|r)-([0-9a-f]{17})\b")


def _renamed(text: str, key: int) -> tuple[str, dict[str, str]]:
    """Every EC2 id in ``text`` given another one, consistently; and the way back."""
    back: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        new = f"{match.group(1)}-{int(match.group(2), 16) ^ key:017x}"
        back[new] = match.group(0)
        return new

    return _ID.sub(rename, text), back


def _reports(raw) -> dict[str, dict]:
    report = json.loads(json_report.render(audit(raw), indent=True))
    return {entry["instance_id"]: entry for entry in report["instances"]}


@given(estates, st.integers(1, 2**64 - 1))
def test_renaming_ids_changes_nothing(spec, key):
    raw = build(spec).raw
    text, back = _renamed(json.dumps(raw.answers), key)
    renamed = replace(raw, answers=json.loads(text))
    restored = json.loads(_ID.sub(lambda m: back.get(m.group(0), m.group(0)),
                                  json.dumps(_reports(renamed))))
    assert restored == _reports(raw)


def _split_ports(ports: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    low, high = ports
    if low == high:
        return None
    middle = (low + high) // 2
    return (low, middle), (middle + 1, high)


def _split_cidr(cidr: str) -> tuple[str, str] | None:
    if cidr in (KNOWN_LIST, UNREAD_LIST, ENDPOINT_GROUP):
        return None
    network = ip_network(cidr)
    if network.prefixlen >= 32:
        return None
    low, high = network.subnets(prefixlen_diff=1)
    return str(low), str(high)


@given(estates, st.integers(0, 2), st.integers(0, 4), st.booleans())
def test_splitting_a_network_acl_rule_in_two_adjacent_rules_changes_nothing(spec, subnet, which,
                                                                           by_ports):
    index = _subnet_index(spec, subnet)
    rules = spec.subnets[index].nacl
    assume(rules)
    rule = rules[which % len(rules)]
    assume(rule.number + 1 not in {r.number for r in rules if r.egress == rule.egress})
    if by_ports:
        halves = _split_ports(rule.ports) if rule.tcp else None
        assume(halves is not None)
        first, second = (replace(rule, ports=half) for half in halves)
    else:
        halves = _split_cidr(rule.cidr)
        assume(halves is not None)
        first, second = (replace(rule, cidr=half) for half in halves)
    second = replace(second, number=rule.number + 1)
    split = (*tuple(r for r in rules if r != rule), first, second)
    assert observe(with_subnet(spec, index, nacl=split)) == observe(spec)


@given(estates, st.integers(0, 2), st.booleans())
def test_splitting_a_security_group_rule_in_two_adjacent_rules_changes_nothing(spec, which,
                                                                              by_ports):
    assume(spec.egress)
    rule = spec.egress[which % len(spec.egress)]
    halves = _split_ports(rule.ports) if by_ports else _split_cidr(rule.cidr)
    assume(halves is not None)
    parts = tuple(SgRule(rule.cidr, half) if by_ports else SgRule(half, rule.ports)
                  for half in halves)
    split = tuple(r for r in spec.egress if r != rule) + parts
    assert observe(replace(spec, egress=split)) == observe(spec)


@given(estates)
def test_instances_alike_in_every_input_get_the_same_answer(spec):
    twin = spec.instances[0]
    first, second = observe(replace(spec, instances=(twin, twin)))
    assert first == second


@given(estates)
def test_a_snapshot_round_trip_is_stable(spec):
    raw = build(spec).raw
    direct = json_report.render(audit(raw), indent=True)
    assert json_report.render(audit(raw), indent=True) == direct  # rendering is deterministic
    with tempfile.TemporaryDirectory() as folder:
        write_snapshot(folder, [raw])
        (read,) = read_snapshot(folder)
    assert json.loads(json_report.render(audit(read), indent=True))["instances"] == json.loads(
        direct)["instances"]


def test_the_generator_reaches_the_cases_that_matter():
    """The pools are small on purpose, but every kind of answer must be reachable: a guard
    that only ever sees reachable estates proves nothing."""
    seen: set[str] = set()
    verdicts: set[str] = set()

    @given(estates)
    def collect(spec):
        for outcome in observe(spec):
            seen.update(status for _, status in outcome.services)
            verdicts.add(outcome.verdict)

    collect()
    assert seen == {REACHABLE, BLOCKED, "unknown"}
    assert {MANAGEABLE, NOT_MANAGEABLE, "unknown"} <= verdicts

