"""The shape of the properties the proof reads, per resource type: a value of another shape is
one CloudFormation (or EC2, IAM) would refuse, so the resource is unknown, never read as
something else (a list where a boolean is expected is not ``true``; ``"Disabled"`` is not
``disabled``; a number is not a CIDR block).

Only the properties the translation reads are listed; CloudFormation's own resource schemas
say more. Values are given back in one form: booleans as ``bool`` (CloudFormation takes
``true``/``false`` in any case), integers as ``int``, text as ``str`` (numbers are written as
text, as CloudFormation does).
"""

from __future__ import annotations

import re
from typing import Any

from auditor.errors import UsageError
from auditor.sources.bounded_read import describe, parse_json

TEXT = "text"
TEXTS = "a list of text"
TEXT_OR_TEXTS = "text or a list of text"
BOOLEAN = "a boolean"
INTEGER = "an integer"
MAPPING = "a mapping"
MAPPINGS = "a list of mappings"
TEXT_OR_MAPPING = "text or a mapping"
JSON_OBJECT = "a JSON object"

_INTEGER_TEXT = re.compile(r"^\s*-?\d{1,18}\s*$")


class Refused(ValueError):
    """A value of the wrong shape (the message says what was expected and found)."""


_PLAIN: dict[str, Any] = {
    MAPPING: lambda value: isinstance(value, dict),
    MAPPINGS: lambda value: isinstance(value, list)
    and all(isinstance(item, dict) for item in value),
    TEXT_OR_MAPPING: lambda value: isinstance(value, str | dict),
}


def conform(kind: str | tuple[str, ...], value: Any) -> Any:
    """``value`` in its one form for ``kind``; Refused when it is not of that shape. A tuple
    is the set of values allowed (an enumeration, case as written by AWS)."""
    if isinstance(kind, tuple):
        if isinstance(value, str) and value in kind:
            return value
        raise Refused(f"one of {', '.join(kind)}, found {value!r}"[:200])
    if kind in _PLAIN and _PLAIN[kind](value):
        return value
    if kind == TEXT:
        return text(value)
    if kind == BOOLEAN:
        return boolean(value)
    if kind == INTEGER:
        return integer(value)
    if kind in (TEXTS, TEXT_OR_TEXTS):
        if kind == TEXT_OR_TEXTS and isinstance(value, str):
            return value
        if isinstance(value, list):
            return [text(item) for item in value]
    if kind == JSON_OBJECT:
        parsed = _json_object(value)
        if parsed is not None:
            return parsed
    raise Refused(f"{kind}, found {describe(value)}")


def _json_object(value: Any) -> dict | None:
    """A mapping, or text holding a JSON object (CloudFormation's Json type takes both)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_json(value, "the document")  # within the reader's limits
        except UsageError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise Refused(f"{TEXT}, found {describe(value)}")


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Refused(f"{BOOLEAN}, found {describe(value)}")


def integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value):
        return int(value)
    raise Refused(f"{INTEGER}, found {describe(value)}")


# Properties of an instance, of a launch template's LaunchTemplateData and of a launch
# configuration, read alike.
LAUNCH = {
    "SubnetId": TEXT, "PrivateIpAddress": TEXT, "MetadataOptions": MAPPING,
    "SecurityGroupIds": TEXTS, "SecurityGroups": TEXTS, "IamInstanceProfile": TEXT_OR_MAPPING,
    "AssociatePublicIpAddress": BOOLEAN, "NetworkInterfaces": MAPPINGS,
    "LaunchTemplate": MAPPING,
}
_RULE = {"GroupId": TEXT, "IpProtocol": TEXT, "FromPort": INTEGER, "ToPort": INTEGER,
         "CidrIp": TEXT, "CidrIpv6": TEXT, "SourceSecurityGroupId": TEXT,
         "SourcePrefixListId": TEXT, "DestinationSecurityGroupId": TEXT,
         "DestinationPrefixListId": TEXT}
_POLICY = {"Roles": TEXTS, "PolicyName": TEXT, "PolicyDocument": JSON_OBJECT, "RoleName": TEXT,
           "Path": TEXT}

PROPERTIES: dict[str, dict[str, Any]] = {
    "AWS::EC2::VPC": {"CidrBlock": TEXT, "EnableDnsSupport": BOOLEAN,
                      "EnableDnsHostnames": BOOLEAN},
    "AWS::EC2::VPCCidrBlock": {"VpcId": TEXT, "CidrBlock": TEXT},
    "AWS::EC2::DHCPOptions": {"DomainNameServers": TEXTS},
    "AWS::EC2::VPCDHCPOptionsAssociation": {"VpcId": TEXT, "DhcpOptionsId": TEXT},
    "AWS::EC2::Subnet": {"VpcId": TEXT, "CidrBlock": TEXT, "MapPublicIpOnLaunch": BOOLEAN},
    "AWS::EC2::RouteTable": {"VpcId": TEXT},
    "AWS::EC2::Route": {name: TEXT for name in (
        "RouteTableId", "DestinationCidrBlock", "DestinationPrefixListId",
        "DestinationIpv6CidrBlock", "GatewayId", "NatGatewayId", "TransitGatewayId",
        "VpcPeeringConnectionId", "VpcEndpointId", "EgressOnlyInternetGatewayId",
        "CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn", "InstanceId",
        "NetworkInterfaceId")},
    "AWS::EC2::SubnetRouteTableAssociation": {"SubnetId": TEXT, "RouteTableId": TEXT},
    "AWS::EC2::VPCGatewayAttachment": {"VpcId": TEXT, "InternetGatewayId": TEXT},
    "AWS::EC2::NatGateway": {"SubnetId": TEXT, "ConnectivityType": ("public", "private")},
    "AWS::EC2::SecurityGroup": {"VpcId": TEXT, "SecurityGroupIngress": MAPPINGS,
                                "SecurityGroupEgress": MAPPINGS},
    "AWS::EC2::SecurityGroupIngress": _RULE,
    "AWS::EC2::SecurityGroupEgress": _RULE,
    "AWS::EC2::NetworkAcl": {"VpcId": TEXT},
    "AWS::EC2::NetworkAclEntry": {"NetworkAclId": TEXT, "RuleNumber": INTEGER,
                                  "Protocol": TEXT, "RuleAction": ("allow", "deny"),
                                  "Egress": BOOLEAN, "CidrBlock": TEXT, "PortRange": MAPPING,
                                  "Ipv6CidrBlock": TEXT},
    "AWS::EC2::SubnetNetworkAclAssociation": {"SubnetId": TEXT, "NetworkAclId": TEXT},
    "AWS::EC2::VPCEndpoint": {"VpcId": TEXT, "ServiceName": TEXT,
                              "VpcEndpointType": ("Interface", "Gateway", "GatewayLoadBalancer",
                                                  "Resource", "ServiceNetwork"),
                              "SubnetIds": TEXTS, "SecurityGroupIds": TEXTS,
                              "PrivateDnsEnabled": BOOLEAN, "PolicyDocument": JSON_OBJECT},
    "AWS::EC2::NetworkInterface": {"SubnetId": TEXT, "GroupSet": TEXTS,
                                   "PrivateIpAddress": TEXT, "PrivateIpAddresses": MAPPINGS},
    "AWS::EC2::EIP": {"InstanceId": TEXT},
    "AWS::EC2::EIPAssociation": {"InstanceId": TEXT, "NetworkInterfaceId": TEXT},
    "AWS::EC2::NetworkInterfaceAttachment": {"InstanceId": TEXT, "NetworkInterfaceId": TEXT,
                                             "DeviceIndex": INTEGER},
    "AWS::EC2::PrefixList": {"Entries": MAPPINGS, "PrefixListName": TEXT},
    "AWS::EC2::Instance": LAUNCH,
    "AWS::EC2::LaunchTemplate": {"LaunchTemplateName": TEXT, "LaunchTemplateData": MAPPING},
    "AWS::AutoScaling::LaunchConfiguration": LAUNCH,
    "AWS::AutoScaling::AutoScalingGroup": {"LaunchTemplate": MAPPING,
                                           "MixedInstancesPolicy": MAPPING,
                                           "LaunchConfigurationName": TEXT,
                                           "VPCZoneIdentifier": TEXT_OR_TEXTS},
    "AWS::IAM::Role": {"Path": TEXT, "AssumeRolePolicyDocument": JSON_OBJECT,
                       "ManagedPolicyArns": TEXTS, "PermissionsBoundary": TEXT,
                       "RoleName": TEXT, "Policies": MAPPINGS},
    "AWS::IAM::ManagedPolicy": _POLICY,
    "AWS::IAM::Policy": _POLICY,
    "AWS::IAM::RolePolicy": _POLICY,
    "AWS::IAM::InstanceProfile": {"Path": TEXT, "Roles": TEXTS},
    "AWS::EKS::Nodegroup": {"ClusterName": TEXT, "NodeRole": TEXT, "Subnets": TEXTS,
                            "LaunchTemplate": MAPPING, "RemoteAccess": MAPPING,
                            "AmiType": TEXT, "NodegroupName": TEXT},
    # Route 53 and Route 53 Resolver (template/dns.py)
    "AWS::Route53::HostedZone": {"Name": TEXT, "VPCs": MAPPINGS},
    "AWS::Route53::RecordSet": {"HostedZoneId": TEXT, "HostedZoneName": TEXT, "Name": TEXT,
                                "Type": TEXT, "ResourceRecords": TEXTS,
                                "AliasTarget": MAPPING, "SetIdentifier": TEXT},
    "AWS::Route53::RecordSetGroup": {"HostedZoneId": TEXT, "HostedZoneName": TEXT,
                                     "RecordSets": MAPPINGS},
    "AWS::Route53Resolver::ResolverRule": {"DomainName": TEXT, "RuleType": (
        "FORWARD", "SYSTEM", "RECURSIVE", "DELEGATE"), "TargetIps": MAPPINGS},
    "AWS::Route53Resolver::ResolverRuleAssociation": {"ResolverRuleId": TEXT, "VPCId": TEXT},
    "AWS::Route53Resolver::FirewallDomainList": {"Domains": TEXTS, "DomainFileUrl": TEXT},
    "AWS::Route53Resolver::FirewallRuleGroup": {"FirewallRules": MAPPINGS},
    "AWS::Route53Resolver::FirewallRuleGroupAssociation": {
        "FirewallRuleGroupId": TEXT, "VpcId": TEXT, "Priority": INTEGER},
    "AWS::Route53Profiles::ProfileAssociation": {"ResourceId": TEXT, "ProfileId": TEXT},
}
