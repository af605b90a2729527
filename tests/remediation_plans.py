"""Hand-made remediation plans (schema version 1, PLAN_SCHEMA.md) for the CDK tests: one entry
of every kind, built as the JSON the planner writes, so the tests read them through
``auditor.remediation.plan`` like the app does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.remediation.plan import KIND, SCHEMA_VERSION

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CORE_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
# Ids of the shape AWS gives (CloudFormation's validation warns about any other shape).
VPC = "vpc-0123456789abcdef0"
SUBNETS = ("subnet-0123456789abcdef1", "subnet-0123456789abcdef2")
APP_SG = "sg-0123456789abcdef3"
PEER_SG = "sg-0123456789abcdef4"
ACL = "acl-0123456789abcdef5"
ROUTE_TABLE = "rtb-0123456789abcdef6"
TGW = "tgw-0123456789abcdef7"
TGW_TABLE = "tgw-rtb-0123456789abcdef8"
SPOKE_ATTACHMENT = "tgw-attach-0123456789abcdef9"
PEERING = "pcx-0123456789abcdefa"
INSTANCES = ("i-0123456789abcde01", "i-0123456789abcde02", "i-0123456789abcde03",
             "i-0123456789abcde04", "i-0123456789abcde05")


def fix(instance_id: str, code: str, resource_id: str | None = None) -> dict[str, Any]:
    return {"instance_id": instance_id, "code": code, "resource_id": resource_id}


def empty_plan() -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "kind": KIND, "generated_by": "tests",
            "account_id": ACCOUNT, "regions": [REGION], "instances": [], "endpoints": [],
            "security_group_rules": [], "nacl_entries": [], "routes": [], "instance_roles": [],
            "role_policies": [], "manual_steps": []}


def endpoints_entry(vpc_id: str = VPC, **changes: Any) -> dict[str, Any]:
    entry = {
        "id": f"endpoints-{vpc_id}", "region": REGION, "vpc_id": vpc_id,
        "vpc_cidrs": ["10.0.0.0/16"], "services": ["ssm", "ssmmessages", "ec2messages"],
        "subnet_ids": list(SUBNETS),
        "availability_zones": [f"{REGION}a", f"{REGION}b"],
        "allow_from_security_groups": [APP_SG], "allow_from_cidrs": [],
        "s3_gateway_route_table_ids": [],
        "reason": "no route out of the private subnet: the agent needs the SSM endpoints",
        "fixes": [fix(INSTANCES[0], "NO_ROUTE_TO_DESTINATION", ROUTE_TABLE)]}
    entry.update(changes)
    return entry


def sg_rule(direction: str = "egress", **changes: Any) -> dict[str, Any]:
    entry = {
        "id": f"sg-rule-{APP_SG}-{direction}-443-10.0.0.0-16", "region": REGION,
        "group_id": APP_SG, "direction": direction, "protocol": "tcp", "from_port": 443,
        "to_port": 443, "cidr": "10.0.0.0/16", "peer_security_group_id": None,
        "description": "ssm-auditor: HTTPS to the SSM endpoints",
        "reason": "the instances' group allows no HTTPS out",
        "fixes": [fix(INSTANCES[1], "SG_EGRESS_BLOCKS", APP_SG)]}
    entry.update(changes)
    return entry


def nacl_entry(egress: bool = True, **changes: Any) -> dict[str, Any]:
    direction = "egress" if egress else "ingress"
    entry = {
        "id": f"nacl-{ACL}-{direction}-100", "region": REGION, "network_acl_id": ACL,
        "rule_number": 100, "egress": egress, "protocol": "6", "cidr": "10.0.0.0/16",
        "from_port": 443 if egress else 1024, "to_port": 443 if egress else 65535,
        "reason": "the subnet's ACL drops HTTPS",
        "fixes": [fix(INSTANCES[2], "NACL_BLOCKS", ACL)]}
    entry.update(changes)
    return entry


def route(**changes: Any) -> dict[str, Any]:
    """A return route in a hub subnet's table, to the transit gateway."""
    entry = {
        "id": f"route-{ROUTE_TABLE}-10.1.0.0-16", "region": REGION,
        "route_table_id": ROUTE_TABLE, "destination_cidr": "10.1.0.0/16",
        "transit_gateway_id": TGW, "vpc_peering_connection_id": None,
        "transit_gateway_attachment_id": None,
        "reason": "the endpoint subnet has no route back to the spoke",
        "fixes": [fix(INSTANCES[0], "RETURN_ROUTE_MISSING", ROUTE_TABLE)]}
    entry.update(changes)
    return entry


def gateway_route(**changes: Any) -> dict[str, Any]:
    """A route in the hub's transit gateway route table, back to the spoke's attachment."""
    return route(**{
        "id": f"tgw-route-{TGW_TABLE}-10.1.0.0-16", "route_table_id": TGW_TABLE,
        "transit_gateway_id": None, "transit_gateway_attachment_id": SPOKE_ATTACHMENT,
        "reason": "the hub's gateway route table has no route back to the spoke",
        "fixes": [fix(INSTANCES[0], "RETURN_ROUTE_MISSING", TGW_TABLE)], **changes})


def instance_role(**changes: Any) -> dict[str, Any]:
    entry = {
        "id": "instance-role-ssm-auditor-instance", "role_name": "ssm-auditor-instance",
        "instance_profile_name": "ssm-auditor-instance", "managed_policy_arns": [CORE_ARN],
        "for_instances": [INSTANCES[3]], "reason": "the instance has no instance profile",
        "fixes": [fix(INSTANCES[3], "NO_INSTANCE_PROFILE", INSTANCES[3])]}
    entry.update(changes)
    return entry


AGENT_STATEMENT = {"Effect": "Allow", "Action": [
    "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel",
    "ssmmessages:OpenControlChannel"], "Resource": "*"}


def role_policy(**changes: Any) -> dict[str, Any]:
    entry = {
        "id": "role-policy-app-role", "role_name": "app-role",
        "policy_name": "ssm-auditor-agent-access", "statements": [AGENT_STATEMENT],
        "reason": "the role may not send the heartbeat",
        "fixes": [fix(INSTANCES[4], "MISSING_PERMISSIONS", "app-role")]}
    entry.update(changes)
    return entry


def associate_step(instance_id: str = INSTANCES[3], profile: str = "ssm-auditor-instance",
                   region: str = REGION) -> dict[str, Any]:
    return {
        "id": f"manual-associate-{instance_id}", "region": region,
        "code": "NO_INSTANCE_PROFILE", "resource_id": instance_id,
        "action": "associate_instance_profile",
        "parameters": {"instance_id": instance_id, "instance_profile_name": profile},
        "command": f"aws ec2 associate-iam-instance-profile --region {region} --instance-id "
                   f"{instance_id} --iam-instance-profile Name={profile}",
        "reason": "CloudFormation cannot attach a profile to an instance it does not manage",
        "fixes": [fix(instance_id, "NO_INSTANCE_PROFILE", instance_id)]}


def full_plan() -> dict[str, Any]:
    """One entry of every kind."""
    plan = empty_plan()
    plan["endpoints"] = [endpoints_entry()]
    plan["security_group_rules"] = [sg_rule("egress")]
    plan["nacl_entries"] = [nacl_entry(True), nacl_entry(False)]
    plan["routes"] = [route(), gateway_route()]
    plan["instance_roles"] = [instance_role()]
    plan["role_policies"] = [role_policy()]
    plan["manual_steps"] = [associate_step()]
    return plan


def write_plan(path: Path, plan: dict[str, Any]) -> Path:
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path


def https_cdk_out(folder: Path, group_id: str) -> Path:
    """A synthesized app, by hand: one stack that opens ``group_id`` to HTTPS out (no plan
    beside it: a test adds one as ``verify.PLAN_FILE_NAME`` when it needs one)."""
    folder.mkdir()
    (folder / "Fix.template.json").write_text(json.dumps({"Resources": {"Https": {
        "Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
            "GroupId": group_id, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "CidrIp": "0.0.0.0/0"}}}}))
    (folder / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {
        "Fix": {"type": "aws:cloudformation:stack",
                "properties": {"templateFile": "Fix.template.json"}}}}))
    return folder
