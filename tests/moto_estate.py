"""Seed estates in moto with boto3, for the scenario tests of tests/test_scenarios_moto.py.

``MotoVpc`` builds the common VPC of every scenario and offers small helpers for the rest. Where
moto cannot produce a state AWS can (a failed NAT gateway, a pending endpoint, an endpoint ENI
inside its subnet) the helpers edit moto's backend objects, and say so in a comment; ``route_of``
hands the test a route object to mark as blackhole.

IAM and Systems Manager: ``build_iam`` makes a role for the agent (seeding the AWS managed policy
moto lacks, see ``seed_aws_managed_policy``), and ``stub_ssm`` answers the two Systems Manager
calls moto does not implement (``GetServiceSetting``, ``DescribeInstanceInformation``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_network
from typing import Any

import boto3
from moto.ec2.models import ec2_backends

from auditor import aws_managed_policies
from builders.moto_layout import ACCOUNT, AMI, REGION
from builders.sessions import sessions_with

SERVICES = ("ssm", "ssmmessages", "ec2messages")
HTTPS = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}


def backend() -> Any:
    """moto's EC2 backend for the region: where the tests seed states the API cannot create."""
    return ec2_backends[ACCOUNT][REGION]


@dataclass
class MotoVpc:
    """The common VPC, created through the EC2 API.

    - 10.0.0.0/16 with enableDnsSupport and enableDnsHostnames on, the Amazon DNS (moto's
      DhcpOptionsId "default"), the VPC's default network ACL (allow all) on every subnet;
    - an internet gateway, attached;
    - ``public_subnet`` 10.0.1.0/24, explicitly associated with ``public_table`` (0.0.0.0/0 to
      the internet gateway);
    - ``private_subnet`` 10.0.2.0/24, explicitly associated with ``private_table`` (local only);
    - ``instance_sg`` (the default egress: all traffic anywhere) and ``endpoint_sg`` (ingress
      TCP 443 from ``instance_sg``);
    - the main route table moto creates with the VPC, untouched (local route only);
    - ``iam``: the agent's role (trusts EC2, AmazonSSMManagedInstanceCore) in an instance
      profile that ``instance()`` gives every instance unless told otherwise.
    """

    ec2: Any
    vpc_id: str
    igw_id: str
    main_table: str
    default_nacl: str
    public_subnet: str
    private_subnet: str
    public_table: str
    private_table: str
    instance_sg: str
    endpoint_sg: str
    iam: IamLayout | None = None  # the agent's role and instance profile (see build_iam)

    @classmethod
    def create(cls, ec2: Any) -> MotoVpc:
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
        in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        main_table = ec2.describe_route_tables(
            Filters=[*in_vpc, {"Name": "association.main", "Values": ["true"]}],
        )["RouteTables"][0]["RouteTableId"]
        default_nacl = ec2.describe_network_acls(
            Filters=[*in_vpc, {"Name": "default", "Values": ["true"]}],
        )["NetworkAcls"][0]["NetworkAclId"]
        public_subnet = cls._subnet(ec2, vpc_id, "10.0.1.0/24", "a")
        private_subnet = cls._subnet(ec2, vpc_id, "10.0.2.0/24", "b")
        instance_sg = ec2.create_security_group(
            GroupName="instances", Description="SSM-managed instances", VpcId=vpc_id)["GroupId"]
        endpoint_sg = ec2.create_security_group(
            GroupName="endpoints", Description="interface endpoints", VpcId=vpc_id)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoint_sg, IpPermissions=[
            {**HTTPS, "UserIdGroupPairs": [{"GroupId": instance_sg}]}])
        vpc = cls(ec2, vpc_id, igw_id, main_table, default_nacl, public_subnet, private_subnet,
                  "", "", instance_sg, endpoint_sg)
        vpc.public_table = vpc.route_table(public_subnet, GatewayId=igw_id)
        vpc.private_table = vpc.route_table(private_subnet)
        vpc.iam = build_iam(boto3.client("iam", region_name=REGION))
        return vpc

    @staticmethod
    def _subnet(ec2: Any, vpc_id: str, cidr: str, zone: str) -> str:
        return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr,
                                 AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]

    # --- Subnets and routes ------------------------------------------------------------------

    def subnet(self, cidr: str, zone: str = "c") -> str:
        """A further subnet without an explicit route table association."""
        return self._subnet(self.ec2, self.vpc_id, cidr, zone)

    def route_table(self, subnet_id: str | None = None, **default_route: str) -> str:
        """A new table, associated with ``subnet_id``; ``default_route`` targets 0.0.0.0/0."""
        table = self.ec2.create_route_table(VpcId=self.vpc_id)["RouteTable"]["RouteTableId"]
        if subnet_id:
            self.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
        if default_route:
            self.default_route(table, **default_route)
        return table

    def default_route(self, table: str, **target: str) -> None:
        """0.0.0.0/0 -> target (GatewayId=, NatGatewayId=, TransitGatewayId=, ...)."""
        self.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **target)

    def nat_gateway(self, subnet_id: str | None = None, connectivity: str = "public") -> str:
        """A NAT gateway, in the public subnet unless told otherwise."""
        request: dict[str, Any] = {"SubnetId": subnet_id or self.public_subnet}
        if connectivity == "public":
            request["AllocationId"] = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        else:
            request["ConnectivityType"] = connectivity
        return self.ec2.create_nat_gateway(**request)["NatGateway"]["NatGatewayId"]

    def private_subnet_via_nat(self) -> str:
        """The usual private subnet: 0.0.0.0/0 to a NAT gateway in the public subnet."""
        nat_id = self.nat_gateway()
        self.default_route(self.private_table, NatGatewayId=nat_id)
        return nat_id

    # --- Security groups and network ACLs -----------------------------------------------------

    def security_group(self, name: str, egress: list[dict] | None = None) -> str:
        """A new group; with ``egress``, its egress rules are exactly those (see restrict)."""
        group = self.ec2.create_security_group(GroupName=name, Description=name,
                                               VpcId=self.vpc_id)["GroupId"]
        if egress is not None:
            self.restrict_egress(group, egress)
        return group

    def restrict_egress(self, group_id: str, egress: list[dict]) -> None:
        """Replace the default egress (all traffic anywhere) of ``group_id`` with ``egress``."""
        self.ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        if egress:
            self.ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=egress)

    def network_acl(self, subnet_id: str, entries: list[tuple[int, bool, str, str, tuple]]
                    ) -> str:
        """A new ACL for ``subnet_id`` with entries (number, egress, action, cidr, ports).

        ``ports`` is (from, to) for TCP, or () for all traffic. Entries are created in the
        order given, which need not be rule-number order.
        """
        nacl_id = self.ec2.create_network_acl(VpcId=self.vpc_id)["NetworkAcl"]["NetworkAclId"]
        for number, egress, action, cidr, ports in entries:
            entry = {"NetworkAclId": nacl_id, "RuleNumber": number, "Egress": egress,
                     "RuleAction": action, "CidrBlock": cidr, "Protocol": "6" if ports else "-1"}
            if ports:
                entry["PortRange"] = {"From": ports[0], "To": ports[1]}
            self.ec2.create_network_acl_entry(**entry)
        current = self.ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["NetworkAcls"][0]
        association = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                           if a["SubnetId"] == subnet_id)
        self.ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=nacl_id)
        return nacl_id

    # --- Interface endpoints ------------------------------------------------------------------

    def endpoints(self, services: tuple[str, ...] = SERVICES, private_dns: bool = True,
                  group_id: str | None = None, subnet_ids: list[str] | None = None,
                  policy: dict | None = None) -> dict[str, str]:
        """One interface endpoint per service (in the private subnet): {service: vpce id}.

        ``policy``: the endpoints' policy document (default: AWS's full-access policy)."""
        group_id = group_id or self.endpoint_sg
        created = {}
        extra: dict[str, Any] = {"PolicyDocument": json.dumps(policy)} if policy else {}
        for service in services:
            endpoint = self.ec2.create_vpc_endpoint(
                VpcId=self.vpc_id, ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Interface", SubnetIds=subnet_ids or [self.private_subnet],
                SecurityGroupIds=[group_id], PrivateDnsEnabled=private_dns,
                **extra)["VpcEndpoint"]
            for eni_id in endpoint["NetworkInterfaceIds"]:
                place_endpoint_eni(self.ec2, eni_id, group_id)
            created[service] = endpoint["VpcEndpointId"]
        return created

    # --- Instances ----------------------------------------------------------------------------

    def instance(self, subnet_id: str | None = None, group_id: str | None = None,
                 public_ip: bool = False, profile: bool = True,
                 profile_arn: str | None = None) -> str:
        """A running instance (in the private subnet, with ``instance_sg`` by default) whose
        instance profile holds the agent's role (``profile=False``: no profile;
        ``profile_arn``: that instance profile instead)."""
        interface = {"DeviceIndex": 0, "SubnetId": subnet_id or self.private_subnet,
                     "Groups": [group_id or self.instance_sg],
                     "AssociatePublicIpAddress": public_ip}
        request: dict[str, Any] = {}
        if profile and (profile_arn or self.iam):
            request["IamInstanceProfile"] = {"Arn": profile_arn or self.iam.profile_arn}
        reservation = self.ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1,
                                             MaxCount=1, NetworkInterfaces=[interface],
                                             **request)
        return reservation["Instances"][0]["InstanceId"]


# --- States the EC2 API of moto cannot produce -----------------------------------------------


def place_endpoint_eni(ec2: Any, eni_id: str, group_id: str) -> None:
    # moto gap: the ENI of an interface endpoint gets a random 10.x.x.x address, mostly
    # outside its subnet and the VPC (so no local route reaches it), and the VPC's default
    # SG. AWS gives it an address of its subnet and the endpoint's groups: set both, the
    # groups through the API, the address on moto's backend object.
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group_id])
    eni = backend().get_network_interface(eni_id)
    cidr = ip_network(eni.subnet.cidr_block)
    address = str(cidr.network_address + 200 + len(backend().enis) % 50)
    eni.private_ip_address = address
    eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]


def seed_nat_gateway_state(nat_id: str, state: str) -> None:
    # moto gap: a NAT gateway is "available" from its creation and only turns "deleted";
    # AWS also reports "pending", "failed" and "deleting".
    backend().nat_gateways[nat_id].state = state


def seed_endpoint_state(endpoint_id: str, state: str) -> None:
    # moto gap: an interface endpoint is "available" from its creation; AWS also reports
    # "pendingAcceptance", "pending", "rejected", "failed" and "deleting".
    backend().vpc_end_points[endpoint_id].state = state


def route_of(table_id: str, cidr: str) -> Any:
    """moto's backend object for the route to ``cidr`` in ``table_id``."""
    table = backend().route_tables[table_id]
    return next(route for route in table.routes if route.destination_cidr_block == cidr)


def create_vpc(ec2: Any, cidr: str) -> tuple[str, str]:
    """A VPC as AWS's CreateVpc makes it: with a DHCP option set handing out the Amazon DNS
    server (moto associates none, which AWS reads as "no DHCP option set": Xen-based or
    unknown instance types would then get no DNS server). Returns (VPC id, options id)."""
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    dhcp = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]}])
    dhcp_id = dhcp["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dhcp_id, VpcId=vpc_id)
    return vpc_id, dhcp_id


# --- IAM ----------------------------------------------------------------------------------------

EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
CORE = "AmazonSSMManagedInstanceCore"


def seed_aws_managed_policy(name: str = CORE) -> str:
    """Put one AWS managed policy into moto's IAM; returns its ARN.

    moto gap: AWS managed policies exist only with MOTO_IAM_LOAD_MANAGED_POLICIES=true, which
    loads all ~1,500 of them (about a second per IAM backend; GetAccountAuthorizationDetails then
    lists every one, attached or not, where AWS lists the attached ones). Seed just the one
    needed, with the document of ``auditor.aws_managed_policies``. Call inside ``mock_aws``.
    """
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[ACCOUNT]["aws"]
    policy = AWSManagedPolicy.from_data(name, ACCOUNT, backend.region_name, {
        "DefaultVersionId": "v2", "Path": "/",
        "Document": aws_managed_policies.AWS_MANAGED_POLICIES[name],
        "CreateDate": "2019-03-15T17:22:12+00:00", "UpdateDate": "2019-05-23T16:54:21+00:00"})
    backend.managed_policies[policy.arn] = policy
    return policy.arn


@dataclass
class IamLayout:
    role_name: str
    role_arn: str
    profile_arn: str
    empty_profile_arn: str  # an instance profile that holds no role
    core_arn: str  # AmazonSSMManagedInstanceCore, attached
    local_policy_arn: str  # a customer managed policy, attached
    boundary_arn: str  # a customer managed policy, the role's permissions boundary


def build_iam(iam: Any, role_name: str = "agent-role") -> IamLayout:
    """The agent's role: trusts EC2, Core and a customer policy attached, an inline deny, a
    permissions boundary, tags; its instance profile; and a profile without a role."""
    core = seed_aws_managed_policy(CORE)
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                               Tags=[{"Key": "team", "Value": "platform"}])["Role"]["Arn"]
    local = iam.create_policy(PolicyName=f"{role_name}-logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    boundary = iam.create_policy(PolicyName=f"{role_name}-boundary", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "ssm:*", "ssmmessages:*", "ec2messages:*", "logs:*"], "Resource": "*"}]}),
    )["Policy"]["Arn"]
    for policy_arn in (core, local):
        iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    iam.put_role_permissions_boundary(RoleName=role_name, PermissionsBoundary=boundary)
    iam.put_role_policy(RoleName=role_name, PolicyName="no-s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*",
                                                "Resource": "*"}]}))
    profile = iam.create_instance_profile(
        InstanceProfileName=f"{role_name}-profile")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"{role_name}-profile",
                                     RoleName=role_name)
    empty = iam.create_instance_profile(
        InstanceProfileName=f"{role_name}-empty")["InstanceProfile"]["Arn"]
    return IamLayout(role_name, role_arn, profile, empty, core, local, boundary)


def trusting(*services: str) -> dict:
    """A trust policy that lets these service principals call sts:AssumeRole."""
    principal = services[0] if len(services) == 1 else list(services)
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}


@dataclass
class AgentRole:
    name: str
    arn: str
    profile_arn: str | None  # the instance profile holding it, if asked for


def agent_role(iam: Any, name: str, trust: dict | None = None, *,
               inline: dict[str, dict] | None = None, managed: Sequence[str] = (),
               boundary: dict | None = None, path: str = "/",
               profile: bool = True) -> AgentRole:
    """One role built through the IAM API: ``trust`` (default: EC2), inline policies by name,
    managed policies by ARN (seed AWS managed ones with ``seed_aws_managed_policy`` first), a
    permissions boundary made from the ``boundary`` document; with ``profile``, an instance
    profile ``<name>-profile`` holding it."""
    arn = iam.create_role(RoleName=name, Path=path,
                          AssumeRolePolicyDocument=json.dumps(trust or EC2_TRUST))["Role"]["Arn"]
    for policy_name, document in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name,
                            PolicyDocument=json.dumps(document))
    for policy_arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    if boundary is not None:
        boundary_arn = iam.create_policy(PolicyName=f"{name}-boundary",
                                         PolicyDocument=json.dumps(boundary))["Policy"]["Arn"]
        iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary_arn)
    profile_arn = None
    if profile:
        profile_arn = iam.create_instance_profile(
            InstanceProfileName=f"{name}-profile")["InstanceProfile"]["Arn"]
        iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-profile", RoleName=name)
    return AgentRole(name, arn, profile_arn)


# --- Systems Manager ----------------------------------------------------------------------------


def managed_node(instance_id: str, ping_status: str = "Online", agent_version: str = "3.3.1142.0",
                 is_latest: bool = True) -> dict:
    """One entry of DescribeInstanceInformation, as boto3 returns it (the time a datetime)."""
    return {"InstanceId": instance_id, "PingStatus": ping_status,
            "LastPingDateTime": datetime(2026, 11, 26, 8, 59, 30, tzinfo=UTC),
            "AgentVersion": agent_version, "IsLatestVersion": is_latest,
            "PlatformType": "Linux", "PlatformName": "Amazon Linux", "PlatformVersion": "2023",
            "ResourceType": "EC2Instance"}


def stub_ssm(monkeypatch: Any, setting: dict | None = None, nodes: Sequence[dict] = (),
             requests: list[dict] | None = None) -> None:
    """Answer GetServiceSetting and DescribeInstanceInformation for every boto3 session opened
    from now on (``monkeypatch`` undoes it).

    moto gap: neither operation is implemented (in-process moto raises NotImplementedError, a
    moto server answers HTTP 500). A ``before-call`` handler that returns (response, parsed)
    answers in place of the endpoint. ``setting`` is the ServiceSetting to answer, or None for
    the error ServiceSettingNotFound. ``nodes`` are filtered by the request's InstanceIds filter,
    as AWS does; each request's parameters are appended to ``requests``.
    """
    import boto3
    from botocore.awsrequest import AWSResponse

    def answer(status: int, parsed: dict) -> tuple[AWSResponse, dict]:
        parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
        return AWSResponse("https://ssm.test", status, {}, None), parsed

    def get_service_setting(**_kwargs: Any) -> tuple[AWSResponse, dict]:
        if setting is None:
            return answer(400, {"Error": {"Code": "ServiceSettingNotFound",
                                          "Message": "setting not found"}})
        return answer(200, {"ServiceSetting": dict(setting)})

    def describe_instance_information(params: dict, **_kwargs: Any) -> tuple[AWSResponse, dict]:
        request = json.loads(params.get("body") or b"{}")
        if requests is not None:
            requests.append(request)
        wanted = {value for item in request.get("Filters") or []
                  if item["Key"] == "InstanceIds" for value in item["Values"]}
        return answer(200, {"InstanceInformationList": [
            dict(node) for node in nodes if not wanted or node["InstanceId"] in wanted]})

    handlers: dict[str, Callable] = {
        "before-call.ssm.GetServiceSetting": get_service_setting,
        "before-call.ssm.DescribeInstanceInformation": describe_instance_information,
    }
    monkeypatch.setattr(boto3, "Session", sessions_with(handlers))


def dhmc_setting(role: str) -> dict:
    """A ServiceSetting naming the Default Host Management role."""
    return {"SettingId": "/ssm/managed-instance/default-ec2-instance-management-role",
            "SettingValue": role, "Status": "Customized",
            "LastModifiedDate": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
            "ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:servicesetting/ssm/managed-instance/"
                   "default-ec2-instance-management-role"}


def record_operations(monkeypatch: Any) -> list[str]:
    """Every API operation any botocore client makes from now on, in order."""
    import botocore.client

    operations: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        operations.append(operation_name)
        return original(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return operations


def audit(capsys: Any, instance_id: str) -> tuple[int, dict]:
    """Audit one instance of moto's account through the command line: the exit status and the
    instance's entry of the JSON report."""
    import json

    from auditor.cli import main

    code = main(["--instance", instance_id, "--region", REGION, "--format", "json"])
    captured = capsys.readouterr()
    assert captured.err == ""
    report = json.loads(captured.out)
    assert report["source"]["kind"] == "aws"
    [instance] = report["instances"]
    assert instance["instance_id"] == instance_id
    return code, agent_only(instance)


def agent_only(instance: dict) -> dict:
    """The instance with the agent's findings only: these scenarios are about the agent (the
    role denies S3, which patching's own finding reports; tests/test_capabilities_moto.py
    covers the capabilities)."""
    return {**instance, "findings": [f for f in instance["findings"] if "capability" not in f]}


@dataclass
class SessionLayout:
    key_arn: str
    bucket: str
    log_group: str


def build_session_preferences(region: str = REGION, *, bucket: str = "session-logs-bucket",
                              log_group: str = "/ssm/sessions", key_alias: str = "alias/sessions",
                              bucket_policy: dict | None = None,
                              inputs: dict | None = None) -> SessionLayout:
    """Session Manager preferences in moto: the SSM-SessionManagerRunShell document naming a
    KMS key (by alias), a bucket (SSE-KMS with that key) and a log group, all created;
    ``inputs`` adds to or overrides the document's inputs."""
    import boto3

    kms = boto3.client("kms", region_name=region)
    key = kms.create_key(Description="sessions")["KeyMetadata"]
    kms.create_alias(AliasName=key_alias, TargetKeyId=key["KeyId"])
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}))
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": key["Arn"]}}]})
    if bucket_policy is not None:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy))
    boto3.client("logs", region_name=region).create_log_group(logGroupName=log_group)
    boto3.client("ssm", region_name=region).create_document(
        Name="SSM-SessionManagerRunShell", DocumentType="Session", DocumentFormat="JSON",
        Content=json.dumps({"schemaVersion": "1.0", "description": "preferences",
                            "sessionType": "Standard_Stream", "inputs": {
                                "kmsKeyId": key_alias, "s3BucketName": bucket,
                                "s3KeyPrefix": "sessions", "s3EncryptionEnabled": True,
                                "cloudWatchLogGroupName": log_group, **(inputs or {})}}))
    return SessionLayout(key["Arn"], bucket, log_group)
