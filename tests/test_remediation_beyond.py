"""Plans for paths that leave the VPC: the route that is missing, where CloudFormation can add
it, and the command to run in the account that owns the table or group otherwise."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy

import pytest

from auditor.analysis import prover as prover_module
from auditor.analysis.dns import RESOLVES_ENDPOINT, Resolution
from auditor.analysis.results import ALLOW, Check, Hop
from auditor.audit import run_audit
from auditor.remediation.apply import apply_plan
from auditor.remediation.planner import make_plan
from auditor.sources.description import SourceDescription
from auditor.sources.far_sides import build_estates
from auditor.sources.parse import build_estate
from auditor.vocabulary import MANAGEABLE, NOT_MANAGEABLE
from builders.estate_builder import EstateBuilder
from builders.hub_and_spoke import Hub, Spoke, add_spoke, build_hub

HUB_ACCOUNT = "444455556666"


def _with_profile(b: EstateBuilder) -> str:
    b.role("app-role", attached=["AmazonSSMManagedInstanceCore"])
    b.instance_profile("app-role", ["app-role"])
    return "app-role"


def _estate(**options) -> tuple[EstateBuilder, Hub, Spoke, str]:
    b = EstateBuilder()
    hub = build_hub(b, **options)
    spoke = add_spoke(b, hub, "10.1.0.0/16")
    instance = b.instance(spoke.app_subnets[0], [b.security_group(spoke.vpc, "app")],
                          instance_profile=_with_profile(b))
    return b, hub, spoke, instance


def _plan(estates):
    report = run_audit(estates, None, SourceDescription("test"))
    return report, make_plan(estates, report)


def _after(estate, plan, instance: str) -> str:
    changed = deepcopy(estate)
    apply_plan(changed, plan)
    report = run_audit([changed], None, SourceDescription("test"))
    return next(a.verdict for a in report.instances if a.instance.instance_id == instance)


def _table(b: EstateBuilder, table_id: str) -> dict:
    return next(t for t in b.route_tables if t["RouteTableId"] == table_id)


def test_return_route_missing_in_the_hubs_gateway_table_gets_a_static_route():
    b, hub, spoke, instance = _estate()
    b.transit_gateway_routes[hub.hub_table] = []  # the spoke's CIDR is not propagated there
    estate = build_estate(b.raw())
    report, plan = _plan([estate])
    assert report.instances[0].verdict == NOT_MANAGEABLE
    [route] = plan.routes
    assert (route.route_table_id, route.destination_cidr, route.transit_gateway_attachment_id) \
        == (hub.hub_table, "10.1.0.0/16", spoke.attachment)
    assert [(f.instance_id, f.code) for f in route.fixes] == [(instance,
                                                               "RETURN_ROUTE_MISSING")]
    assert not plan.endpoints and not plan.manual_steps
    assert plan.instances[0].verdict_after == MANAGEABLE
    assert _after(estate, plan, instance) == MANAGEABLE


def test_nat_subnet_without_a_route_back_gets_the_spokes_cidr_to_the_gateway():
    b, hub, _spoke, _instance = _estate()
    table = _table(b, hub.public_table)
    table["Routes"] = [r for r in table["Routes"] if "TransitGatewayId" not in r]
    estate = build_estate(b.raw())
    _, plan = _plan([estate])
    [route] = plan.routes
    assert (route.route_table_id, route.destination_cidr, route.transit_gateway_id) == (
        hub.public_table, "10.1.0.0/16", hub.tgw)
    assert plan.instances[0].verdict_after == MANAGEABLE


def test_public_path_dying_at_the_gateway_gets_endpoints_not_a_new_way_out():
    b, hub, spoke, _instance = _estate()
    b.transit_gateway_routes[hub.spoke_table] = [
        r for r in b.transit_gateway_routes[hub.spoke_table]
        if r.get("DestinationCidrBlock") != "0.0.0.0/0"]
    estate = build_estate(b.raw())
    _, plan = _plan([estate])
    assert not plan.routes
    [endpoints] = plan.endpoints
    assert endpoints.vpc_id == spoke.vpc
    # The agent's three services, and an S3 gateway endpoint on the spoke's table so that
    # patching can fetch from AWS's buckets (issue 13): nothing leaves through the gateway.
    assert {f.code for f in endpoints.fixes} == {"TGW_ROUTE_MISSING", "PATCH_S3_UNREACHABLE"}
    assert set(endpoints.services) >= {"ssm", "ssmmessages", "ec2messages"}
    assert endpoints.s3_gateway_route_table_ids == [spoke.app_table]
    assert plan.instances[0].verdict_after == MANAGEABLE


def test_attachment_without_a_subnet_in_the_zone_is_a_manual_step_on_the_endpoint_path(
        monkeypatch):
    b = EstateBuilder()
    hub = build_hub(b)
    spoke = add_spoke(b, hub, "10.1.0.0/16", attachment_zones="b")
    b.instance(spoke.app_subnets[0], [b.security_group(spoke.vpc, "app")],
                          instance_profile=_with_profile(b))
    _central_names(monkeypatch, hub.endpoints)
    estate = build_estate(b.raw())
    _, plan = _plan([estate])
    [step] = plan.manual_steps
    assert step.action == "add_attachment_subnet"
    assert step.parameters == {"transit_gateway_attachment_id": spoke.attachment,
                               "subnet_id": spoke.app_subnets[0]}
    assert step.command.startswith("aws ec2 modify-transit-gateway-vpc-attachment")
    assert plan.instances[0].verdict_after == MANAGEABLE


def _central_names(monkeypatch, endpoints: dict[str, str]) -> None:
    # Until the DNS half of issue 12 resolves the spoke's names through a private hosted zone.
    real = prover_module.resolve

    def resolve(graph, vpc, region, service, hypervisor):
        endpoint = graph.estate.vpc_endpoints.get(endpoints.get(service, ""))
        if endpoint is None or endpoint.vpc_id == vpc.vpc_id:
            return real(graph, vpc, region, service, hypervisor)
        hop = Hop("dns", endpoint.endpoint_id, ALLOW, f"{service} -> {endpoint.endpoint_id}")
        return Resolution(Check(hop), RESOLVES_ENDPOINT, endpoint)

    monkeypatch.setattr(prover_module, "resolve", resolve)


def test_central_endpoint_group_gets_a_rule_for_the_spokes_cidr(monkeypatch):
    b = EstateBuilder()
    hub = build_hub(b, endpoints=False)
    spoke = add_spoke(b, hub, "10.1.0.0/16")
    app = b.security_group(spoke.vpc, "app")
    by_reference = b.security_group(hub.vpc, "by-reference", ingress=[("tcp", 443, 443, app)])
    endpoints = {service: b.interface_endpoint(hub.vpc, service, hub.endpoint_subnets,
                                               [by_reference])
                 for service in ("ssm", "ssmmessages", "ec2messages")}
    b.instance(spoke.app_subnets[0], [app], instance_profile=_with_profile(b))
    _central_names(monkeypatch, endpoints)
    estate = build_estate(b.raw())
    report, plan = _plan([estate])
    assert report.instances[0].verdict == NOT_MANAGEABLE
    [rule] = plan.security_group_rules
    assert (rule.group_id, rule.direction, rule.cidr, rule.peer_security_group_id) == (
        by_reference, "ingress", "10.1.0.0/16", None)
    assert plan.instances[0].verdict_after == MANAGEABLE


def test_spoke_without_a_route_to_the_central_endpoints_gets_one(monkeypatch):
    b, hub, spoke, _instance = _estate()
    table = _table(b, spoke.app_table)
    table["Routes"] = [r for r in table["Routes"] if "TransitGatewayId" not in r]
    _central_names(monkeypatch, hub.endpoints)
    estate = build_estate(b.raw())
    _, plan = _plan([estate])
    [route] = plan.routes
    assert (route.route_table_id, route.destination_cidr, route.transit_gateway_id) == (
        spoke.app_table, hub.cidr, hub.tgw)
    assert plan.instances[0].verdict_after == MANAGEABLE


def test_peer_route_back_missing_gets_a_route_through_the_peering_connection(monkeypatch):
    b = EstateBuilder()
    shared = b.vpc("10.9.0.0/16")
    endpoint_subnet = b.subnet(shared, "10.9.1.0/24", "a")
    vpc = b.vpc("10.1.0.0/16")
    app_subnet = b.subnet(vpc, "10.1.1.0/24", "a")
    pcx = b.vpc_peering(vpc, shared)
    b.route_table(vpc, [app_subnet], [("10.9.0.0/16", pcx)])
    shared_table = b.route_table(shared, [endpoint_subnet])  # no route back
    group = b.security_group(shared, "endpoints", ingress=[("tcp", 443, 443, "10.1.0.0/16")])
    endpoints = {service: b.interface_endpoint(shared, service, [endpoint_subnet], [group])
                 for service in ("ssm", "ssmmessages", "ec2messages")}
    instance = b.instance(app_subnet, [b.security_group(vpc)], instance_profile=_with_profile(b))
    _central_names(monkeypatch, endpoints)
    estate = build_estate(b.raw())
    _, plan = _plan([estate])
    [route] = plan.routes
    assert (route.route_table_id, route.destination_cidr, route.vpc_peering_connection_id) == (
        shared_table, "10.1.0.0/16", pcx)
    assert {f.code for f in route.fixes} == {"PEERING_ROUTE_MISSING"}
    assert plan.instances[0].verdict_after == MANAGEABLE
    assert instance


def _two_accounts(break_hub: Callable[[EstateBuilder, Hub], None]):
    """The hub in HUB_ACCOUNT shares its gateway with the spoke's account."""
    hub_builder = EstateBuilder(account_id=HUB_ACCOUNT)
    hub = build_hub(hub_builder)
    break_hub(hub_builder, hub)
    spoke_builder = EstateBuilder()
    spoke_builder._counter = 0x1000
    tgw = spoke_builder.transit_gateway(owner=HUB_ACCOUNT, transit_gateway_id=hub.tgw)
    vpc = spoke_builder.vpc("10.1.0.0/16")
    app = spoke_builder.subnet(vpc, "10.1.1.0/24", "a")
    tgw_subnet = spoke_builder.subnet(vpc, "10.1.255.0/28", "a")
    spoke_builder.route_table(vpc, [app], [("0.0.0.0/0", tgw)])
    attachment = spoke_builder.tgw_attachment(tgw, vpc, [tgw_subnet], route_table=hub.spoke_table)
    hub_builder.tgw_attachment(hub.tgw, vpc, [tgw_subnet], route_table=hub.spoke_table,
                               resource_owner="111122223333", cidrs=["10.1.0.0/16"],
                               attachment_id=attachment)
    instance = spoke_builder.instance(app, [spoke_builder.security_group(vpc)],
                                      instance_profile=_with_profile(spoke_builder))
    return spoke_builder, hub_builder, hub, attachment, instance


@pytest.mark.parametrize("broken", ["gateway-table", "nat-subnet"])
def test_what_belongs_to_the_hub_account_is_the_command_to_run_there(broken: str):
    def break_hub(b: EstateBuilder, hub: Hub) -> None:
        if broken == "nat-subnet":
            table = _table(b, hub.public_table)
            table["Routes"] = [r for r in table["Routes"] if "TransitGatewayId" not in r]

    spoke_builder, hub_builder, hub, attachment, instance = _two_accounts(break_hub)
    estates = build_estates([spoke_builder.raw(), hub_builder.raw()])
    spoke_estate = estates[0]
    report, plan = _plan([spoke_estate])
    verdict = next(a.verdict for a in report.instances if a.instance.instance_id == instance)
    if broken == "gateway-table":  # the spoke's CIDR was never propagated to the hub's table
        assert verdict == NOT_MANAGEABLE
        [step] = plan.manual_steps
        assert step.action == "create_transit_gateway_route"
        assert step.parameters == {"transit_gateway_route_table_id": hub.hub_table,
                                   "destination_cidr": "10.1.0.0/16",
                                   "transit_gateway_attachment_id": attachment}
    else:
        assert verdict == NOT_MANAGEABLE
        steps = {step.action: step for step in plan.manual_steps}
        assert set(steps) == {"create_route", "create_transit_gateway_route"}
        assert steps["create_route"].command == (
            f"aws ec2 create-route --region eu-west-1 --route-table-id {hub.public_table} "
            f"--destination-cidr-block 10.1.0.0/16 --transit-gateway-id {hub.tgw}")
    assert not plan.routes  # nothing for the spoke account's stacks
    [planned] = plan.instances
    assert planned.verdict_after == MANAGEABLE  # once the commands are run
