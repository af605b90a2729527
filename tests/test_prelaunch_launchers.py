"""What launches instances besides instances and auto scaling groups (issue 18): EKS managed
node groups are proved as the auto scaling group they become; the launchers the auditor does
not read are listed under ``not_read`` with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.estate_builder import EstateBuilder
from tests.prelaunch_helpers import codes, entry, isolated_template, prelaunch, write

PUBLIC = Path(__file__).parent / "templates" / "public"


# The node role's other AWS managed policies, as the account's IAM answer lists them (their
# statements abridged: none names an action of the agent).
EKS_NODE_POLICIES = {
    "AmazonEKSWorkerNodePolicy": ["ec2:DescribeInstances", "eks:DescribeCluster"],
    "AmazonEKS_CNI_Policy": ["ec2:AssignPrivateIpAddresses", "ec2:DescribeInstances"],
    "AmazonEC2ContainerRegistryReadOnly": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"],
}


class NatEstate:
    """A snapshot: a VPC with two private subnets routed through a working NAT gateway."""

    def __init__(self, tmp_path: Path) -> None:
        b = EstateBuilder(region="eu-west-1")
        for name, actions in EKS_NODE_POLICIES.items():
            b.managed_policy(name, {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": "*"}]}, aws_managed=True)
        self.vpc = b.vpc("10.0.0.0/16")
        public = b.subnet(self.vpc, "10.0.0.0/24")
        self.private = [b.subnet(self.vpc, "10.0.1.0/24"), b.subnet(self.vpc, "10.0.2.0/24", "b")]
        igw = b.internet_gateway(self.vpc)
        b.route_table(self.vpc, [public], [("0.0.0.0/0", igw)])
        b.route_table(self.vpc, self.private, [("0.0.0.0/0", b.nat_gateway(public))])
        b.dhmc_setting(None)
        self.path = b.write(tmp_path / "snapshot")


def test_a_managed_node_group_is_proved_in_each_subnet_with_the_node_role(tmp_path, capsys):
    # A public EKS template: the node group's launch template names no security group, no
    # subnet and no instance profile. It used to be reported alone, as an unused launch
    # template with NO_INSTANCE_PROFILE and without logical_id, resource_type or template.
    estate = NatEstate(tmp_path)
    path = str(PUBLIC / "eks_spot_nodegroup.yaml")
    status, report = prelaunch(capsys, path, "--snapshot", str(estate.path),
                               "--parameter", f"VpcId={estate.vpc}", "--parameter",
                               f"PrivateSubnetIds={','.join(estate.private)}")
    assert [i["instance_id"] for i in report["instances"]] == ["EKSNodeGroup"]
    nodes = entry(report, "EKSNodeGroup")
    assert (status, nodes["verdict"]) == (0, "manageable"), nodes["verdict_reasons"]
    assert (nodes["logical_id"], nodes["resource_type"]) == ("EKSNodeGroup", "AWS::EKS::Nodegroup")
    assert nodes["template"]["path"] == path and nodes["template"]["line"] > 1
    assert nodes["services"]["ssm"]["via"] == "nat_gateway"
    assert nodes["credentials"]["source"] == "instance_profile"
    assert "NO_INSTANCE_PROFILE" not in codes(nodes)


def _node_group(template: dict, **properties) -> dict:
    """The isolated template with its instance replaced by an EKS cluster and a node group in
    the instance's subnet, with the instance's role as node role."""
    resources = template["Resources"]
    del resources["App"], resources["AppProfile"]
    resources["Cluster"] = {"Type": "AWS::EKS::Cluster", "Properties": {
        "RoleArn": "arn:aws:iam::123456789012:role/eks", "ResourcesVpcConfig": {
            "SubnetIds": [{"Ref": "AppSubnet"}, {"Ref": "EndpointSubnet"}]}}}
    resources["Nodes"] = {"Type": "AWS::EKS::Nodegroup", "Properties": {
        "ClusterName": {"Ref": "Cluster"}, "NodeRole": {"Fn::GetAtt": ["AppRole", "Arn"]},
        "Subnets": [{"Ref": "AppSubnet"}], **properties}}
    return template


def _endpoints_admit(template: dict, source: dict) -> dict:
    template["Resources"]["EndpointSg"]["Properties"]["SecurityGroupIngress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "SourceSecurityGroupId": source}]
    return template


def test_the_cluster_security_group_decides_where_rules_name_it(tmp_path, capsys):
    cluster_group = {"Fn::GetAtt": ["Cluster", "ClusterSecurityGroupId"]}
    template = _endpoints_admit(_node_group(isolated_template()), cluster_group)
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    nodes = entry(report, "Nodes")
    assert (status, nodes["verdict"]) == (0, "manageable"), nodes["verdict_reasons"]
    assert nodes["services"]["ssm"]["via"] == "interface_endpoint"
    # endpoints admitting another group only: the nodes carry the cluster group, not it
    template = _endpoints_admit(_node_group(isolated_template()),
                                {"Fn::GetAtt": ["AppSg", "GroupId"]})
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    nodes = entry(report, "Nodes")
    assert nodes["verdict"] == "not_manageable"
    assert "ENDPOINT_SG_INGRESS_BLOCKS" in codes(nodes, "error")


def test_a_launch_template_with_security_groups_replaces_the_cluster_group(tmp_path, capsys):
    template = _node_group(isolated_template(), LaunchTemplate={"Id": {"Ref": "NodeTemplate"}})
    template["Resources"]["AppSg"]["Properties"]["SecurityGroupEgress"] = []  # nothing out
    template["Resources"]["NodeTemplate"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "LaunchTemplateData": {"SecurityGroupIds": [{"Fn::GetAtt": ["AppSg", "GroupId"]}],
                               "MetadataOptions": {"HttpTokens": "required"}}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    nodes = entry(report, "Nodes")
    assert (status, nodes["verdict"]) == (1, "not_manageable")
    assert "SG_EGRESS_BLOCKS" in codes(nodes, "error")
    assert [i["instance_id"] for i in report["instances"]] == ["Nodes"]  # not the template
    del template["Resources"]["NodeTemplate"]["Properties"]["LaunchTemplateData"][
        "SecurityGroupIds"]  # none named: EKS adds the cluster group, which lets all out
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "Nodes")["verdict"]) == (0, "manageable")


@pytest.mark.parametrize("properties, why", [
    ({"LaunchTemplate": {"Id": {"Ref": "NodeTemplate"}},
      "RemoteAccess": {"Ec2SshKey": "key"}}, "RemoteAccess with a launch template"),
    ({"LaunchTemplate": {"Id": {"Ref": "ProfiledTemplate"}}}, "names an IamInstanceProfile"),
    ({"NodeRole": {"Ref": "RoleArn"}}, "parameter RoleArn has no default"),
    ({"ClusterName": "somebody-elses"}, "the cluster is not in it"),
])
def test_what_eks_refuses_or_the_template_leaves_open_is_unknown(tmp_path, capsys, properties,
                                                                  why):
    template = _node_group(isolated_template(), **properties)
    template["Parameters"] = {"RoleArn": {"Type": "String"}}
    template["Resources"]["NodeTemplate"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}}}
    template["Resources"]["Profile"] = {"Type": "AWS::IAM::InstanceProfile", "Properties": {
        "Roles": [{"Ref": "AppRole"}]}}
    template["Resources"]["ProfiledTemplate"] = {
        "Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "IamInstanceProfile": {"Name": {"Ref": "Profile"}}}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    nodes = entry(report, "Nodes")
    assert (status, nodes["verdict"]) == (3, "unknown"), nodes["verdict_reasons"]
    assert why in " ".join(report["unresolved"].values())


def test_remote_access_adds_a_group_admitting_ssh_from_its_sources(tmp_path, capsys):
    template = _node_group(isolated_template(), RemoteAccess={
        "Ec2SshKey": "key", "SourceSecurityGroups": [{"Fn::GetAtt": ["AppSg", "GroupId"]}]})
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    nodes = entry(report, "Nodes")
    assert (status, nodes["verdict"]) == (0, "manageable")
    assert nodes["security_groups"] == ["sg-Cluster-cluster", "sg-Nodes-remote-access"]


LAUNCHERS = [
    ("AWS::EKS::Cluster", {"RoleArn": "arn:aws:iam::123456789012:role/eks",
                           "ResourcesVpcConfig": {"SubnetIds": ["subnet-1"]},
                           "ComputeConfig": {"Enabled": True}}, "EKS Auto Mode"),
    ("AWS::Batch::ComputeEnvironment", {"Type": "MANAGED", "ComputeResources": {
        "Type": "SPOT", "Subnets": ["subnet-1"], "MaxvCpus": 4}}, "AWS Batch"),
    ("AWS::EMR::Cluster", {"Name": "x"}, "EMR cluster"),
    ("AWS::ECS::CapacityProvider", {"AutoScalingGroupProvider": {
        "AutoScalingGroupArn": "arn:aws:autoscaling:eu-west-1:1:autoScalingGroup:x"}},
     "ECS capacity provider"),
    ("AWS::ElasticBeanstalk::Environment", {"ApplicationName": "x"}, "Elastic Beanstalk"),
    ("AWS::EC2::SpotFleet", {}, "Spot Fleet"),
    ("AWS::ImageBuilder::Image", {}, "Image Builder"),
]


@pytest.mark.parametrize("kind, properties, what", LAUNCHERS)
def test_a_launcher_not_read_is_listed_and_is_not_nothing_to_check(tmp_path, capsys, kind,
                                                                    properties, what):
    template = {"Resources": {"Launcher": {"Type": kind, "Properties": properties}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert what in report["not_read"]["Launcher"]
    assert "not proved" in report["not_read"]["Launcher"]
    assert status == 3  # nothing proved is not all clear


@pytest.mark.parametrize("kind, properties", [
    ("AWS::EKS::Cluster", {"RoleArn": "arn:aws:iam::123456789012:role/eks",
                           "ResourcesVpcConfig": {"SubnetIds": ["subnet-1"]}}),
    ("AWS::Batch::ComputeEnvironment", {"Type": "MANAGED", "ComputeResources": {
        "Type": "FARGATE", "Subnets": ["subnet-1"], "MaxvCpus": 4}}),
    ("AWS::Batch::ComputeEnvironment", {"Type": "UNMANAGED"}),
])
def test_what_launches_no_instance_is_not_listed(tmp_path, capsys, kind, properties):
    template = {"Resources": {"Thing": {"Type": kind, "Properties": properties}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, report["not_read"]) == (0, {})


def test_an_ecs_capacity_provider_whose_group_is_in_the_template_is_proved_through_it(
        tmp_path, capsys):
    template = isolated_template()
    resources = template["Resources"]
    resources["Lt"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "LaunchTemplateData": {"IamInstanceProfile": {"Name": {"Ref": "AppProfile"}},
                               "SecurityGroupIds": [{"Fn::GetAtt": ["AppSg", "GroupId"]}]}}}
    resources["Group"] = {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
        "MinSize": "1", "MaxSize": "1", "VPCZoneIdentifier": [{"Ref": "AppSubnet"}],
        "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Lt"}, "Version": "1"}}}
    resources["Capacity"] = {"Type": "AWS::ECS::CapacityProvider", "Properties": {
        "AutoScalingGroupProvider": {"AutoScalingGroupArn": {"Ref": "Group"}}}}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert "Capacity" not in report["not_read"]
    assert (status, entry(report, "Group")["verdict"]) == (0, "manageable")


def test_every_entry_says_where_it_comes_from(tmp_path, capsys):
    # A launch template nothing uses is reported under its logical id: it used to lack the
    # logical_id, resource_type and template fields the README promises on every entry.
    template = isolated_template()
    template["Resources"]["Spare"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
        "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}}}
    _, report = prelaunch(capsys, str(write(tmp_path, template)))
    for instance in report["instances"]:
        assert {"logical_id", "resource_type", "template"} <= set(instance), instance
    spare = entry(report, "Spare")
    assert (spare["logical_id"], spare["resource_type"]) == ("Spare", "AWS::EC2::LaunchTemplate")


def test_instances_a_launcher_makes_unproved_are_never_an_all_clear(tmp_path, capsys):
    # Beside a manageable instance, EKS Auto Mode nodes (not proved) keep the exit status at 3.
    template = isolated_template()
    kind, properties, _ = LAUNCHERS[0]
    template["Resources"]["Auto"] = {"Type": kind, "Properties": properties}
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert entry(report, "App")["verdict"] == "manageable"
    assert "EKS Auto Mode" in report["not_read"]["Auto"]
    assert status == 3
