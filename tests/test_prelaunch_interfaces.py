"""Public IPv4 addresses of instances whose interfaces the template makes (issue 18).

EC2 auto-assigns a public IPv4 address only to a primary interface it creates at launch, for an
instance launched with that single interface: an instance on an interface of the template, or
launched with several, is public only through an Elastic IP mapped to its primary address.
"""

from __future__ import annotations

from pathlib import Path

from builders.estate_builder import EstateBuilder
from tests.prelaunch_helpers import codes, entry, isolated_template, prelaunch, write

PUBLIC = Path(__file__).parent / "templates" / "public"


class PublicEstate:
    """A snapshot: a VPC whose public subnet maps public IPs and routes to an internet gateway
    (no endpoint, no NAT), a private subnet, and a role the agent can work with."""

    def __init__(self, tmp_path: Path) -> None:
        b = EstateBuilder(region="eu-west-1")
        self.vpc = b.vpc("10.0.0.0/16")
        self.public = b.subnet(self.vpc, "10.0.0.0/24", public_ip_on_launch=True)
        self.private = b.subnet(self.vpc, "10.0.1.0/24")
        igw = b.internet_gateway(self.vpc)
        b.route_table(self.vpc, [self.public], [("0.0.0.0/0", igw)])
        b.role("gateway-role", attached=["AmazonSSMManagedInstanceCore"])
        b.dhmc_setting(None)
        self.path = b.write(tmp_path / "snapshot")


def _checkpoint(capsys, estate: PublicEstate, allocate: str) -> tuple[int, dict]:
    return prelaunch(capsys, str(PUBLIC / "checkpoint_cluster.yaml"), "--snapshot",
                     str(estate.path), "--parameter", f"VPC={estate.vpc}",
                     "--parameter", f"PublicSubnet={estate.public}",
                     "--parameter", f"PrivateSubnet={estate.private}",
                     "--parameter", "GatewayPredefinedRole=gateway-role",
                     "--parameter", f"AllocatePublicAddress={allocate}")


def test_a_cluster_member_on_its_own_interface_is_public_only_through_an_elastic_ip(
        tmp_path, capsys):
    # Check Point's cluster template: each member is launched from a launch template whose
    # interfaces (device index 0 and 1) are AWS::EC2::NetworkInterface resources in a subnet
    # that maps public IPs. Without the members' Elastic IPs, neither gets a public address:
    # the shared cluster address is mapped to a secondary address of member A. This used to be
    # an all clear through the internet gateway (and the Rules section refused the template).
    estate = PublicEstate(tmp_path)
    status, report = _checkpoint(capsys, estate, "false")
    for member in ("MemberAInstance", "MemberBInstance"):
        instance = entry(report, member)
        assert instance["verdict"] == "not_manageable", (member, instance["verdict_reasons"])
        assert "IGW_NO_PUBLIC_IP" in codes(instance, "error")
        assert not instance["public_ip"]
    assert status == 1
    status, report = _checkpoint(capsys, estate, "true")
    assert status == 0
    for member in ("MemberAInstance", "MemberBInstance"):
        instance = entry(report, member)
        assert (instance["verdict"], instance["services"]["ssm"]["via"]) == (
            "manageable", "internet_gateway")


def _on_interface(template: dict, interface_public: bool = False) -> dict:
    """The isolated template's instance attaching an interface of the template, in a subnet
    that maps public IPs and routes to an internet gateway (the endpoints removed)."""
    resources = template["Resources"]
    for name in ("SsmEndpoint", "SsmMessagesEndpoint", "Ec2MessagesEndpoint"):
        del resources[name]
    resources["AppSubnet"]["Properties"]["MapPublicIpOnLaunch"] = True
    resources["Gateway"] = {"Type": "AWS::EC2::InternetGateway"}
    resources["GatewayAttachment"] = {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "Gateway"}}}
    resources["DefaultRoute"] = {"Type": "AWS::EC2::Route", "Properties": {
        "RouteTableId": {"Ref": "AppRoutes"}, "DestinationCidrBlock": "0.0.0.0/0",
        "GatewayId": {"Ref": "Gateway"}}}
    app = resources["App"]["Properties"]
    resources["AppInterface"] = {"Type": "AWS::EC2::NetworkInterface", "Properties": {
        "SubnetId": app.pop("SubnetId"), "GroupSet": app.pop("SecurityGroupIds")}}
    app["NetworkInterfaces"] = [{"DeviceIndex": "0",
                                 "NetworkInterfaceId": {"Ref": "AppInterface"}}]
    if interface_public:
        app["NetworkInterfaces"][0]["AssociatePublicIpAddress"] = True
    return template


def test_an_interface_of_the_template_gets_no_public_address_from_its_subnet(tmp_path, capsys):
    status, report = prelaunch(capsys, str(write(tmp_path, _on_interface(isolated_template()))))
    app = entry(report, "App")
    assert (status, app["verdict"]) == (1, "not_manageable"), app["verdict_reasons"]
    assert "IGW_NO_PUBLIC_IP" in codes(app, "error")


def test_asking_a_public_address_for_an_existing_interface_is_refused_by_ec2(tmp_path, capsys):
    template = _on_interface(isolated_template(), interface_public=True)
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "EC2 refuses the launch" in report["unresolved"]["App"]


def test_an_instance_launched_with_two_interfaces_gets_no_public_address(tmp_path, capsys):
    template = isolated_template()
    resources = _on_interface(template)["Resources"]
    app = resources["App"]["Properties"]
    interface = resources.pop("AppInterface")["Properties"]
    app["NetworkInterfaces"] = [
        {"DeviceIndex": "0", "SubnetId": interface["SubnetId"], "GroupSet": interface["GroupSet"]},
        {"DeviceIndex": "1", "SubnetId": interface["SubnetId"], "GroupSet": interface["GroupSet"]}]
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert "IGW_NO_PUBLIC_IP" in codes(entry(report, "App"), "error")
    del app["NetworkInterfaces"][1]  # one interface: the subnet's mapping applies
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")


def test_an_elastic_ip_on_a_secondary_address_does_not_make_the_instance_public(
        tmp_path, capsys):
    template = _on_interface(isolated_template())
    resources = template["Resources"]
    resources["Address"] = {"Type": "AWS::EC2::EIP"}
    association = {"NetworkInterfaceId": {"Ref": "AppInterface"},
                   "AllocationId": {"Fn::GetAtt": ["Address", "AllocationId"]}}
    resources["Association"] = {"Type": "AWS::EC2::EIPAssociation", "Properties": {
        **association, "PrivateIpAddress": {"Fn::Select": [0, {"Fn::GetAtt": [
            "AppInterface", "SecondaryPrivateIpAddresses"]}]}}}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert "IGW_NO_PUBLIC_IP" in codes(entry(report, "App"), "error")
    resources["Association"]["Properties"]["PrivateIpAddress"] = {
        "Fn::GetAtt": ["AppInterface", "PrimaryPrivateIpAddress"]}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
    resources["Association"]["Properties"]["PrivateIpAddress"] = {"Ref": "SomeAddress"}
    template["Parameters"] = {"SomeAddress": {"Type": "String"}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "may not be its primary one" in report["unresolved"]["App"]


def test_an_attachment_at_device_index_0_is_refused_by_ec2(tmp_path, capsys):
    # AWS::EC2::NetworkInterfaceAttachment at device index 0: every instance already has its
    # primary interface there (made at launch), so EC2 refuses the attachment and the stack
    # fails. The instance itself used to be proved public through its subnet's mapping.
    template = _on_interface(isolated_template())
    resources = template["Resources"]
    app = resources["App"]["Properties"]
    app.pop("NetworkInterfaces")
    app["SubnetId"] = {"Ref": "AppSubnet"}
    resources["Attachment"] = {"Type": "AWS::EC2::NetworkInterfaceAttachment", "Properties": {
        "InstanceId": {"Ref": "App"}, "NetworkInterfaceId": {"Ref": "AppInterface"},
        "DeviceIndex": "0"}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "EC2 refuses it and the stack fails" in report["unresolved"]["App"]
    resources["Attachment"]["Properties"]["DeviceIndex"] = "1"  # a secondary interface
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (0, "manageable")
