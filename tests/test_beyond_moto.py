"""Transit gateways and peering connections through a moto server, live and from a snapshot.

A hub-and-spoke network is seeded with boto3 against a ``ThreadedMotoServer`` on 127.0.0.1
(tests/moto_transit.py, which names the moto gaps it corrects), and a spoke instance is audited
through the command line exactly as a user would: read live, then from the snapshot the
``snapshot`` command writes of the same server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from auditor.analysis import prover as prover_module
from auditor.analysis.dns import RESOLVES_ENDPOINT, Resolution
from auditor.analysis.results import ALLOW, Check, Hop
from auditor.cli import main
from tests.moto_estate import REGION, SERVICES, build_iam, stub_ssm
from tests.moto_transit import MotoHubAndSpoke, patch_moto_transit_gateways

EXIT_OK, EXIT_NOT_MANAGEABLE, EXIT_UNKNOWN = 0, 1, 3

pytestmark = pytest.mark.usefixtures("fake_aws", "shared_botocore_loader")


@pytest.fixture
def net(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> MotoHubAndSpoke:
    patch_moto_transit_gateways(monkeypatch)
    stub_ssm(monkeypatch, None, [])
    return MotoHubAndSpoke.create(boto3.client("ec2", region_name=REGION))


def launch(net: MotoHubAndSpoke, subnet: str | None = None) -> str:
    roles = build_iam(boto3.client("iam", region_name=REGION))
    reservation = net.ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1,
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet or net.spoke_app_subnet,
                            "Groups": [net.spoke_sg]}],
        IamInstanceProfile={"Arn": roles.profile_arn})
    return reservation["Instances"][0]["InstanceId"]


def run(capsys: pytest.CaptureFixture, instance_id: str, *extra: str) -> tuple[int, dict]:
    code = main(["--instance", instance_id, "--region", REGION, "--format", "json", *extra])
    report = json.loads(capsys.readouterr().out)
    [instance] = report["instances"]
    return code, instance


def audit_both_ways(capsys, tmp_path: Path, instance_id: str) -> tuple[int, dict]:
    """Live, then from a snapshot of the same server: the same answer."""
    live = run(capsys, instance_id)
    assert main(["snapshot", "--out", str(tmp_path / "snap"), "--region", REGION]) == 0
    capsys.readouterr()
    saved = run(capsys, instance_id, "--snapshot", str(tmp_path / "snap"))
    assert saved[0] == live[0]
    assert saved[1]["services"] == live[1]["services"]
    assert {f["code"] for f in saved[1]["findings"]} == {f["code"] for f in live[1]["findings"]}
    return live


def blocked_by(instance: dict, code: str) -> list[dict]:
    return [f for f in instance["findings"] if f["code"] == code]


def step_ids(instance: dict, service: str = "ssm") -> dict[str, str]:
    return {hop["step"]: hop["resource_id"] for hop in instance["services"][service]["path"]}


def test_central_egress_reachable_both_ways(capsys, tmp_path, net: MotoHubAndSpoke):
    instance_id = launch(net)
    code, instance = audit_both_ways(capsys, tmp_path, instance_id)
    assert code == EXIT_OK, instance["findings"]
    assert instance["verdict"] == "manageable"
    for service in SERVICES:
        assert instance["services"][service]["status"] == "reachable"
        assert instance["services"][service]["via"] == "transit_gateway"
    hops = step_ids(instance)
    assert hops["tgw_table_route"] == net.spoke_table
    assert hops["tgw_table_return_route"] == net.hub_table
    assert hops["far_route"] == net.hub_tgw_route_table
    assert hops["nat_return_route"] == net.hub_public_route_table
    assert hops["nat_gateway"] == net.nat
    assert (tmp_path / "snap" / REGION / "search-transit-gateway-routes.json").is_file()


Change = Callable[[MotoHubAndSpoke], None]


def _no_default_route(net: MotoHubAndSpoke) -> None:
    net.ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=net.spoke_table,
                                         DestinationCidrBlock="0.0.0.0/0")


def _blackhole_default_route(net: MotoHubAndSpoke) -> None:
    _no_default_route(net)
    net.ec2.create_transit_gateway_route(TransitGatewayRouteTableId=net.spoke_table,
                                         DestinationCidrBlock="0.0.0.0/0", Blackhole=True)


def _spoke_not_propagated(net: MotoHubAndSpoke) -> None:
    net.ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=net.hub_table, TransitGatewayAttachmentId=net.spoke_attachment)


def _nat_subnet_without_return_route(net: MotoHubAndSpoke) -> None:
    net.delete_route(net.hub_public_route_table, "10.0.0.0/8")


def _spoke_attachment_acl_refuses_requests(net: MotoHubAndSpoke) -> None:
    net.acl(net.spoke_vpc, net.spoke_tgw_subnet, [(100, False, "6", "0.0.0.0/0", (1024, 65535)),
                                                  (100, True, "-1", "0.0.0.0/0", None)])


def _spoke_attachment_acl_refuses_replies(net: MotoHubAndSpoke) -> None:
    net.acl(net.spoke_vpc, net.spoke_tgw_subnet, [(100, False, "-1", "0.0.0.0/0", None),
                                                  (100, True, "6", "0.0.0.0/0", (443, 443))])


def _hub_attachment_acl_refuses_https_out(net: MotoHubAndSpoke) -> None:
    net.acl(net.hub_vpc, net.hub_tgw_subnet, [(100, False, "-1", "0.0.0.0/0", None),
                                              (100, True, "6", "0.0.0.0/0", (1024, 65535))])


# (change, code, the denied step, the resource that decides)
FAILURES = [
    pytest.param(_no_default_route, "TGW_ROUTE_MISSING", "tgw_table_route", "spoke_table",
                 id="no-default-route-in-the-gateway"),
    pytest.param(_blackhole_default_route, "TGW_BLACKHOLE_ROUTE", "tgw_table_route",
                 "spoke_table", id="blackhole-in-the-gateway"),
    pytest.param(_spoke_not_propagated, "RETURN_ROUTE_MISSING", "tgw_table_return_route",
                 "hub_table", id="spoke-cidr-not-in-the-hub-table"),
    pytest.param(_nat_subnet_without_return_route, "RETURN_ROUTE_MISSING", "nat_return_route",
                 "hub_public_route_table", id="nat-subnet-without-route-back"),
    pytest.param(_spoke_attachment_acl_refuses_requests, "NACL_BLOCKS", "tgw_nacl_inbound",
                 None, id="spoke-attachment-subnet-acl-requests"),
    pytest.param(_spoke_attachment_acl_refuses_replies, "NACL_BLOCKS",
                 "tgw_nacl_outbound_return", None, id="spoke-attachment-subnet-acl-replies"),
    pytest.param(_hub_attachment_acl_refuses_https_out, "NACL_BLOCKS", "far_nacl_outbound", None,
                 id="hub-attachment-subnet-acl"),
]


@pytest.mark.parametrize(("change", "code", "step", "resource"), FAILURES)
def test_central_egress_failures(capsys, tmp_path, net: MotoHubAndSpoke, change: Change,
                                 code: str, step: str, resource: str | None):
    change(net)
    instance_id = launch(net)
    exit_code, instance = audit_both_ways(capsys, tmp_path, instance_id)
    assert (exit_code, instance["verdict"]) == (EXIT_NOT_MANAGEABLE, "not_manageable")
    for service in SERVICES:
        proof = instance["services"][service]
        assert (proof["status"], proof["via"]) == ("blocked", "transit_gateway")
        denied = [hop for hop in proof["path"] if hop["decision"] == "deny"]
        assert step in [hop["step"] for hop in denied]
    found = blocked_by(instance, code)
    assert found and all(f["severity"] == "error" for f in found)
    if resource:
        assert found[0]["resource_id"] == getattr(net, resource)


def test_attachment_without_a_subnet_in_the_instances_zone(capsys, tmp_path,
                                                          net: MotoHubAndSpoke):
    other_zone = net.ec2.create_subnet(VpcId=net.spoke_vpc, CidrBlock="10.1.2.0/24",
                                       AvailabilityZone=f"{REGION}b")["Subnet"]["SubnetId"]
    net.ec2.associate_route_table(RouteTableId=net.spoke_app_route_table, SubnetId=other_zone)
    instance_id = launch(net, other_zone)
    exit_code, instance = audit_both_ways(capsys, tmp_path, instance_id)
    assert exit_code == EXIT_NOT_MANAGEABLE
    [finding, *_] = blocked_by(instance, "TGW_ATTACHMENT_NOT_IN_AZ")
    assert finding["resource_id"] == net.spoke_attachment


def test_relying_on_a_peers_nat_gateway_is_blocked(capsys, tmp_path, net: MotoHubAndSpoke):
    pcx = net.ec2.create_vpc_peering_connection(
        VpcId=net.spoke_vpc, PeerVpcId=net.hub_vpc)["VpcPeeringConnection"]
    net.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    net.delete_route(net.spoke_app_route_table, "0.0.0.0/0")
    net.ec2.create_route(RouteTableId=net.spoke_app_route_table, DestinationCidrBlock="0.0.0.0/0",
                         VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    instance_id = launch(net)
    exit_code, instance = audit_both_ways(capsys, tmp_path, instance_id)
    assert (exit_code, instance["verdict"]) == (EXIT_NOT_MANAGEABLE, "not_manageable")
    assert instance["services"]["ssm"]["via"] == "vpc_peering"
    [finding, *_] = blocked_by(instance, "PEERING_NOT_TRANSITIVE")
    assert finding["resource_id"] == pcx["VpcPeeringConnectionId"]


# --- central endpoints ------------------------------------------------------------------------
# The spoke's names resolve to the hub's endpoints once a private hosted zone says so (the DNS
# half of issue 12); here the resolution is laid on by hand and the path is what is tested.


@pytest.fixture
def central_names(monkeypatch: pytest.MonkeyPatch, net: MotoHubAndSpoke) -> None:
    real = prover_module.resolve

    def resolve(graph, vpc, region, service, hypervisor):
        endpoint = graph.estate.vpc_endpoints.get(net.endpoints.get(service, ""))
        if vpc.vpc_id != net.spoke_vpc or endpoint is None:
            return real(graph, vpc, region, service, hypervisor)
        hop = Hop("dns", endpoint.endpoint_id, ALLOW, f"{service} -> {endpoint.endpoint_id}")
        return Resolution(Check(hop), RESOLVES_ENDPOINT, endpoint)

    monkeypatch.setattr(prover_module, "resolve", resolve)


def test_central_endpoints_through_the_transit_gateway(capsys, tmp_path, net, central_names):
    net.delete_route(net.hub_tgw_route_table, "0.0.0.0/0")  # no central egress: endpoints only
    instance_id = launch(net)
    exit_code, instance = audit_both_ways(capsys, tmp_path, instance_id)
    assert exit_code == EXIT_OK, instance["findings"]
    for service in SERVICES:
        proof = instance["services"][service]
        assert (proof["status"], proof["via"]) == ("reachable", "transit_gateway")
        hops = step_ids(instance, service)
        assert hops["endpoint_return_route"] == net.hub_endpoint_route_table
        assert hops["endpoint_sg_ingress"] == net.endpoint_sg

    net.delete_route(net.hub_endpoint_route_table, "10.0.0.0/8")
    exit_code, instance = run(capsys, instance_id)
    assert exit_code == EXIT_NOT_MANAGEABLE
    [finding, *_] = blocked_by(instance, "RETURN_ROUTE_MISSING")
    assert finding["resource_id"] == net.hub_endpoint_route_table
