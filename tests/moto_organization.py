"""Seed an AWS Organizations organization in moto, for the service control policy tests.

moto gap: its Organizations data lives in the backend of the account that created the
organization, and only that account can read it (ListParents, ListPoliciesForTarget and
DescribePolicy from any other account find nothing). That is the management account, to which
SCPs do not apply, so the auditor would rightly read none. ``build_organization`` therefore
creates the organization from moto's account and then, unless told otherwise, names another
account its management account (one attribute of moto's backend): moto's account becomes a
member that may read the organization, as a delegated administrator may in AWS. Every answer the
auditor gets is still moto's own.

moto attaches FullAWSAccess (p-FullAWSAccess) to the root, to every OU it creates and to the
accounts, as AWS does; its RCPFullAWSAccess (a resource control policy) is not an SCP and is
left out by the ``SERVICE_CONTROL_POLICY`` filter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"  # moto's account: the audited one
MANAGEMENT_ACCOUNT = "999988887777"  # the management account named by build_organization
FULL_AWS_ACCESS_ID = "p-FullAWSAccess"


@dataclass
class MotoOrganization:
    root_id: str
    ou_ids: list[str]  # from the root down to the account's OU
    policy_ids: dict[str, str] = field(default_factory=dict)  # by name: the SCPs created

    @property
    def targets(self) -> list[str]:
        """Every level, from the root down to the account."""
        return [self.root_id, *self.ou_ids, ACCOUNT]


def build_organization(organizations: Any, scps: Sequence[Sequence[tuple[str, dict]]] = (),
                       *, ous: int = 1, member: bool = True) -> MotoOrganization:
    """An organization (all features) holding moto's account in ``ous`` nested OUs.

    ``scps``: per level from the root down to the account (``ous + 2`` levels, or fewer: the
    rest get none), the (name, document) SCPs to create and attach beside FullAWSAccess.
    ``member``: moto's account is a member (another account manages the organization); False
    leaves it the management account. Call inside ``mock_aws``.
    """
    organizations.create_organization(FeatureSet="ALL")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    ou_ids: list[str] = []
    for depth in range(1, ous + 1):
        ou_ids.append(organizations.create_organizational_unit(
            ParentId=ou_ids[-1] if ou_ids else root_id,
            Name=f"level-{depth}")["OrganizationalUnit"]["Id"])
    if ou_ids:
        organizations.move_account(AccountId=ACCOUNT, SourceParentId=root_id,
                                   DestinationParentId=ou_ids[-1])
    organization = MotoOrganization(root_id, ou_ids)
    for target, level in zip(organization.targets, scps, strict=False):
        for name, document in level:
            policy_id = organizations.create_policy(
                Content=json.dumps(document), Description=name, Name=name,
                Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
            organizations.attach_policy(PolicyId=policy_id, TargetId=target)
            organization.policy_ids[name] = policy_id
    if member:
        from moto.organizations.models import organizations_backends

        organizations_backends[ACCOUNT]["aws"].org.master_account_id = MANAGEMENT_ACCOUNT
    return organization


# --- An organization of several accounts, each with its own estate (organization mode) -------
#
# moto gaps met here, and what is done about them:
# - STS AssumeRole succeeds for any role ARN, existing or not, trusted or not (moto switches to
#   the ARN's account). ``require_assumable_roles`` makes it refuse, as AWS does, a role that
#   does not exist in the target account or whose trust policy names an external id the
#   request lacks (AccessDenied).
# - Organizations answers ListAccounts from a member account with an empty list; AWS refuses it
#   (AccessDeniedException). ``require_assumable_roles`` makes moto refuse it too.
# Everything else the auditor reads is moto's own answer, through the assumed roles.

READ_ROLE = "ssm-auditor-readonly"
AGENT_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
AGENT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*"], "Resource": "*"}]}
HEARTBEAT_DENIED = {"Version": "2012-10-17", "Statement": [
    {"Sid": "NoHeartbeat", "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation",
     "Resource": "*"}]}


@dataclass
class AccountEstate:
    """What one account holds: its healthy instances (public subnet, internet gateway, a
    profile whose role allows the agent) and its instances without an instance profile."""

    account_id: str
    healthy: dict[str, list[str]] = field(default_factory=dict)  # region -> instance ids
    no_profile: dict[str, list[str]] = field(default_factory=dict)

    def instance_ids(self) -> list[str]:
        return sorted(iid for ids in (*self.healthy.values(), *self.no_profile.values())
                      for iid in ids)


@dataclass
class Organization:
    """The organization ``build_accounts`` makes (moto's account manages it)."""

    root_id: str
    ou_ids: dict[str, str]
    estates: dict[str, AccountEstate]  # by name: management, prod, dev, locked
    heartbeat_scp: str

    def account(self, name: str) -> str:
        return self.estates[name].account_id

    def all_instances(self) -> list[str]:
        return sorted(iid for estate in self.estates.values() for iid in estate.instance_ids())


def member_clients(account_id: str) -> Any:
    """boto3 clients of ``account_id`` (its role assumed the lenient moto way, for seeding)."""
    import boto3

    if account_id == ACCOUNT:
        return lambda service, region: boto3.client(service, region_name=region)
    keys = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="seed")["Credentials"]
    return lambda service, region: boto3.client(
        service, region_name=region, aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"], aws_session_token=keys["SessionToken"])


def seed_estate(clients: Any, estate: AccountEstate, region: str, healthy: int,
                no_profile: int) -> None:
    """One VPC in ``region``: a public subnet routed to an internet gateway, the default
    security group (all egress), ``healthy`` instances with a public IP and the agent's role,
    ``no_profile`` instances without a profile."""
    ec2, iam = clients("ec2", region), clients("iam", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    profile_name = f"agent-{region}"
    iam.create_role(RoleName=profile_name, AssumeRolePolicyDocument=json.dumps(AGENT_TRUST))
    iam.put_role_policy(RoleName=profile_name, PolicyName="agent",
                        PolicyDocument=json.dumps(AGENT_POLICY))
    profile = iam.create_instance_profile(InstanceProfileName=profile_name)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=profile_name, RoleName=profile_name)
    interface = {"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": True}
    # One instance a call: moto associates the instance profile with the first instance of a
    # RunInstances call only.
    for count, extra, into in ((healthy, {"IamInstanceProfile": {"Arn": profile["Arn"]}},
                                estate.healthy), (no_profile, {}, estate.no_profile)):
        for _ in range(count):
            reservation = ec2.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro",
                                            MinCount=1, MaxCount=1,
                                            NetworkInterfaces=[interface], **extra)
            into.setdefault(region, []).append(reservation["Instances"][0]["InstanceId"])


def build_accounts(organizations: Any, regions: Sequence[str] = ("us-east-1", "eu-west-1")
                   ) -> Organization:
    """An organization managed by moto's account, with three members, each its own estate:

    - ``management`` (moto's account, read with the caller's credentials): 1 healthy instance
      in the first region;
    - ``prod`` in OU prod, whose SCP denies the heartbeat (ssm:UpdateInstanceInformation):
      2 healthy instances in the first region, 1 in the second;
    - ``dev`` in OU dev: 1 healthy and 1 without a profile in the first region;
    - ``locked`` in OU dev, without the auditor's role (its assumption fails once
      ``require_assumable_roles`` is on): 1 healthy instance.

    Every member but ``locked`` gets the read-only role ``READ_ROLE``; ``dev`` also
    ``EXTERNAL_ROLE``, whose trust requires ``EXTERNAL_ID``. Call inside
    ``mock_aws`` (or with a moto server), before ``require_assumable_roles``.
    """
    organizations.create_organization(FeatureSet="ALL")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    ou_ids = {name: organizations.create_organizational_unit(
        ParentId=root_id, Name=name)["OrganizationalUnit"]["Id"] for name in ("prod", "dev")}
    estates = {"management": AccountEstate(ACCOUNT)}
    for name, ou in (("prod", "prod"), ("dev", "dev"), ("locked", "dev")):
        status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
        account_id = status["CreateAccountStatus"]["AccountId"]
        organizations.move_account(AccountId=account_id, SourceParentId=root_id,
                                   DestinationParentId=ou_ids[ou])
        estates[name] = AccountEstate(account_id)
    heartbeat = organizations.create_policy(
        Content=json.dumps(HEARTBEAT_DENIED), Description="no heartbeat", Name="no-heartbeat",
        Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=heartbeat, TargetId=ou_ids["prod"])
    first, second = regions[0], regions[1]
    layout = {"management": [(first, 1, 0)], "prod": [(first, 2, 0), (second, 1, 0)],
              "dev": [(first, 1, 1)], "locked": [(first, 1, 0)]}
    for name, estate in estates.items():
        clients = member_clients(estate.account_id)
        for region, healthy, no_profile in layout[name]:
            seed_estate(clients, estate, region, healthy, no_profile)
        if name not in ("management", "locked"):
            clients("iam", first).create_role(RoleName=READ_ROLE,
                                              AssumeRolePolicyDocument=json.dumps(_trust()))
        if name == "dev":  # a second role, whose trust requires an external id
            clients("iam", first).create_role(
                RoleName=EXTERNAL_ROLE,
                AssumeRolePolicyDocument=json.dumps(_trust(EXTERNAL_ID)))
    return Organization(root_id, ou_ids, estates, heartbeat)


EXTERNAL_ROLE = "ssm-auditor-external"
EXTERNAL_ID = "s3cret-4-audit"


def _trust(external_id: str | None = None) -> dict:
    """Trusted by moto's account (the caller), with an external id when given."""
    statement: dict[str, Any] = {"Effect": "Allow",
                                 "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                 "Action": "sts:AssumeRole"}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def require_assumable_roles(monkeypatch: Any) -> None:
    """AssumeRole refused (AccessDenied) for a role the target account does not hold or whose
    trust policy requires an external id the request lacks; ListAccounts refused to accounts
    that do not manage an organization. ``monkeypatch`` undoes both."""
    from moto.iam.models import iam_backends
    from moto.organizations.exceptions import OrganizationsClientError
    from moto.organizations.models import OrganizationsBackend
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    lenient_assume = STSBackend.assume_role
    lenient_accounts = OrganizationsBackend.list_accounts

    def assume_role(self: Any, region_name: str, role_session_name: str, role_arn: str,
                    policy: str, duration: int, external_id: str) -> Any:
        account_id, _, role_name = role_arn.split(":", 4)[4].partition(":role/")
        backend = iam_backends[account_id]["aws"]
        role = next((r for r in backend.roles.values() if r.name == role_name), None)
        expected = _external_id(role.assume_role_policy_document) if role else None
        if role is None or (expected is not None and expected != external_id):
            raise STSClientError("AccessDenied", f"User: arn:aws:iam::{self.account_id}:user/"
                                 f"moto is not authorized to perform: sts:AssumeRole on "
                                 f"resource: {role_arn}")
        return lenient_assume(self, region_name, role_session_name, role_arn, policy,
                              duration, external_id)

    def list_accounts(self: Any, **kwargs: Any) -> Any:
        if self.org is None:
            raise OrganizationsClientError("AccessDeniedException",
                                           "You don't have permissions to access this resource.")
        return lenient_accounts(self, **kwargs)

    monkeypatch.setattr(STSBackend, "assume_role", assume_role)
    monkeypatch.setattr(OrganizationsBackend, "list_accounts", list_accounts)


def _external_id(trust_policy: Any) -> str | None:
    document = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
    for statement in document.get("Statement") or []:
        condition = (statement.get("Condition") or {}).get("StringEquals") or {}
        if "sts:ExternalId" in condition:
            return str(condition["sts:ExternalId"])
    return None
