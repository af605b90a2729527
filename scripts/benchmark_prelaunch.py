"""Benchmark ``python -m auditor prelaunch`` on a generated template of about 100 resources.

    python scripts/benchmark_prelaunch.py [--instances N] [--keep FILE]

The template holds a VPC with public, private (NAT) and isolated subnets, the three interface
endpoints, security groups with separate rules, a role, an instance profile, a launch template,
an auto scaling group over two subnets and N instances (default 70, about 100 resources in
all), spread over the subnets. It prints, as Markdown, the in-process time of each stage (load,
overlay, build, audit) and the wall time of the whole command as a process (median of 5).
Exit status 0 when the in-process audit of the template takes under a second, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 1.0


def template(instances: int) -> dict:
    ref = lambda name: {"Ref": name}  # noqa: E731 - a short local alias
    resources: dict = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16",
                                                        "EnableDnsHostnames": True}},
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "IgwAttachment": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "VpcId": ref("Vpc"), "InternetGatewayId": ref("Igw")}},
        "NatAddress": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {
            "SubnetId": ref("Public"), "AllocationId": {"Fn::GetAtt": ["NatAddress",
                                                                       "AllocationId"]}}},
        "AppSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "app", "VpcId": ref("Vpc"), "SecurityGroupEgress": [
                {"IpProtocol": "icmp", "FromPort": 252, "ToPort": 86,
                 "CidrIp": "255.255.255.255/32"}]}},
        "AppHttps": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
            "GroupId": {"Fn::GetAtt": ["AppSg", "GroupId"]}, "IpProtocol": "tcp",
            "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}},
        "EndpointSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "endpoints", "VpcId": ref("Vpc")}},
        "EndpointHttps": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": ref("EndpointSg"), "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "SourceSecurityGroupId": ref("AppSg")}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                                              "AmazonSSMManagedInstanceCore"}]}},
        "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [ref("Role")]}},
        "LaunchTemplate": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
            "LaunchTemplateData": {"IamInstanceProfile": {"Name": ref("Profile")},
                                   "SecurityGroupIds": [ref("AppSg")],
                                   "MetadataOptions": {"HttpTokens": "required"}}}},
        "Fleet": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
            "MinSize": "1", "MaxSize": "4",
            "VPCZoneIdentifier": [ref("Private0"), ref("Isolated0")],
            "LaunchTemplate": {"LaunchTemplateId": ref("LaunchTemplate"), "Version": "1"}}},
    }
    subnets = ["Public"]
    resources["Public"] = {"Type": "AWS::EC2::Subnet", "Properties": {
        "VpcId": ref("Vpc"), "CidrBlock": "10.0.0.0/24", "MapPublicIpOnLaunch": True}}
    resources["PublicRoutes"] = {"Type": "AWS::EC2::RouteTable", "Properties": {
        "VpcId": ref("Vpc")}}
    resources["PublicDefault"] = {"Type": "AWS::EC2::Route", "Properties": {
        "RouteTableId": ref("PublicRoutes"), "DestinationCidrBlock": "0.0.0.0/0",
        "GatewayId": ref("Igw")}}
    resources["PublicAssociation"] = {"Type": "AWS::EC2::SubnetRouteTableAssociation",
                                      "Properties": {"SubnetId": ref("Public"),
                                                     "RouteTableId": ref("PublicRoutes")}}
    for index, kind in enumerate(("Private", "Isolated") * 2):
        name = f"{kind}{index // 2}"
        subnets.append(name)
        resources[name] = {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "CidrBlock": f"10.0.{index + 1}.0/24"}}
        resources[f"{name}Routes"] = {"Type": "AWS::EC2::RouteTable", "Properties": {
            "VpcId": ref("Vpc")}}
        resources[f"{name}Association"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
                "SubnetId": ref(name), "RouteTableId": ref(f"{name}Routes")}}
        if kind == "Private":
            resources[f"{name}Default"] = {"Type": "AWS::EC2::Route", "Properties": {
                "RouteTableId": ref(f"{name}Routes"), "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": ref("Nat")}}
    for service in ("ssm", "ssmmessages", "ec2messages"):
        resources[f"{service}Endpoint"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": ref("Vpc"), "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
            "ServiceName": {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"},
            "SubnetIds": [ref("Isolated0"), ref("Isolated1")],
            "SecurityGroupIds": [ref("EndpointSg")]}}
    for index in range(instances):
        resources[f"Instance{index}"] = {"Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": "ami-0123456789abcdef0", "SubnetId": ref(subnets[index % len(subnets)]),
            "SecurityGroupIds": [{"Fn::GetAtt": ["AppSg", "GroupId"]}],
            "IamInstanceProfile": ref("Profile"),
            "MetadataOptions": {"HttpTokens": "required"}}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _stages(path: Path) -> dict[str, float]:
    from auditor.audit import run_audit
    from auditor.prelaunch.groups import merge_groups
    from auditor.sources.description import SourceDescription
    from auditor.sources.parse import build_estate
    from auditor.sources.raw import RawRegion
    from auditor.sources.template.load import load_templates
    from auditor.sources.template.overlay import overlay_templates

    times = {}
    start = time.perf_counter()
    templates = load_templates(path)
    times["load"] = time.perf_counter() - start
    mark = time.perf_counter()
    result = overlay_templates(RawRegion(""), templates)
    times["overlay"] = time.perf_counter() - mark
    mark = time.perf_counter()
    estate = build_estate(result.raw, result.planned)
    times["build estate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report = merge_groups(run_audit([estate], result.planned, SourceDescription("template")),
                          result.groups)
    times["audit"] = time.perf_counter() - mark
    times["total in-process"] = time.perf_counter() - start
    times["instances audited"] = len(report.instances)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=70)
    parser.add_argument("--keep", metavar="FILE", help="write the template here")
    args = parser.parse_args()
    body = template(args.instances)
    folder = Path(tempfile.mkdtemp())
    path = Path(args.keep) if args.keep else folder / "template.json"
    path.write_text(json.dumps(body, indent=1))
    stages = _stages(path)
    walls = []
    for _ in range(5):
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "auditor", "prelaunch", str(path),
                              "--format", "json"], cwd=ROOT, capture_output=True, text=True,
                             check=False)
        walls.append(time.perf_counter() - start)
        if run.returncode == 2:
            print(run.stderr, file=sys.stderr)
            return 1
    print(f"Template: {len(body['Resources'])} resources, {args.instances} instances, "
          f"1 auto scaling group over 2 subnets\n")
    print("| stage | seconds |\n|---|---|")
    for stage, value in stages.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"| {stage} | {shown} |")
    print(f"| whole command as a process (median of 5) | {statistics.median(walls):.3f} |")
    met = stages["total in-process"] < TARGET_SECONDS
    print(f"\nTarget: in-process audit under {TARGET_SECONDS} s: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
