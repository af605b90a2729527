"""From an audit to the smallest remediation plan a careful operator would deploy.

Only instances proven ``not_manageable`` are planned for: an ``unknown`` verdict needs a person
to look first (a transit gateway, a condition key, a custom DNS server), and a manageable
instance needs nothing. The planner works in rounds on a copy of the estate: it reads the
blocking hops and findings, proposes changes, lays them over the copy and proves the audit
again, until nothing new is proposed. What is still blocked afterwards is written in the plan,
so a plan never claims more than the model proves.

Choices (each entry carries its reason):
- A path that cannot leave the VPC (no route, blackhole, NAT gateway broken, internet gateway
  without a public address) gets interface endpoints, never a new way to the internet.
- A path that is sound but for a rule (security group, network ACL) gets that rule, as narrow
  as the traffic: TCP 443 out, replies on 1024-65535, the VPC's CIDRs for endpoint traffic.
- No instance profile: a role with ``AmazonSSMManagedInstanceCore`` and its profile, then an
  association the operator runs (CloudFormation cannot attach a profile to an instance it does
  not manage). Missing actions on an existing role: a policy with exactly those actions.
- Explicit denies, boundaries and SCPs are a security decision: listed for review, not changed.
- Beyond the VPC: a public path that dies at a transit gateway or a peering connection gets
  endpoints like any other; a path to a central endpoint or NAT gateway that lacks a route (the
  spoke's route to the hub, the gateway's route to the hub's attachment, a return route in the
  hub or the gateway, the peer's route back) gets exactly that route, for the VPC CIDRs
  concerned (RoutesStack); a central endpoint's group gets a rule for the spoke's CIDR (a
  reference to the instance's group does not hold across a transit gateway by default). What
  belongs to another account (the hub's tables and groups) becomes the command to run there.
"""

from __future__ import annotations

from collections import Counter
from copy import deepcopy
from dataclasses import dataclass, field
from ipaddress import ip_network

from auditor import __version__, aws_facts
from auditor.analysis.graph import EstateGraph
from auditor.analysis.results import BLOCKED, DENY, Finding, ServiceProof
from auditor.audit import AuditReport, InstanceAudit, audit_instances, vpcs_of
from auditor.aws_managed_policies import arn as managed_policy_arn
from auditor.capability_facts import SESSION_ENDPOINT_SERVICES
from auditor.catalogue import CATALOGUE, MANUAL_ACTIONS
from auditor.model import Estate, Instance, NetworkAcl, Vpc
from auditor.remediation import apply
from auditor.remediation.plan import (
    EndpointsEntry,
    FixedFinding,
    InstanceRoleEntry,
    ManualStep,
    NaclEntryEntry,
    Plan,
    PlanInstance,
    RolePolicyEntry,
    RouteEntry,
    SecurityGroupRuleEntry,
)
from auditor.sources.parse import build_estate
from auditor.sources.raw import RawRegion
from auditor.vocabulary import MANAGEABLE, NOT_MANAGEABLE

INSTANCE_ROLE_NAME = "ssm-auditor-instance"
AGENT_POLICY_NAME = "ssm-auditor-agent-access"
CORE_POLICY = "AmazonSSMManagedInstanceCore"
ANYWHERE = "0.0.0.0/0"
REPLY_PORTS = (1024, 65535)  # covers every platform's ephemeral range and NAT gateways
MAX_ROUNDS = 5
MAX_GROUP_REFERENCES = 10  # more instance groups than this: admit the VPC's CIDRs instead
NACL_MAX_RULE = 32766

# Findings that mean the public path cannot work as built: fixed with endpoints.
_NO_WAY_OUT = {"NO_ROUTE_TO_DESTINATION", "BLACKHOLE_ROUTE", "IGW_NO_PUBLIC_IP",
               "NAT_GATEWAY_NO_INTERNET_ROUTE", "NAT_GATEWAY_NOT_AVAILABLE",
               "TGW_ROUTE_MISSING", "TGW_BLACKHOLE_ROUTE", "TGW_ATTACHMENT_NOT_AVAILABLE",
               "TGW_ATTACHMENT_NOT_IN_AZ", "PEERING_NOT_TRANSITIVE"}
# Findings of a path that leaves the VPC, fixed by a route (or the command for another
# account's table) or by their catalogue's manual step.
_ROUTE_CODES = {"NO_ROUTE_TO_DESTINATION", "RETURN_ROUTE_MISSING", "PEERING_ROUTE_MISSING",
                "TGW_ROUTE_MISSING"}
_GATEWAY_STEPS = {"TGW_BLACKHOLE_ROUTE": "transit_gateway_route_table_id",
                  "TGW_ATTACHMENT_NOT_IN_AZ": "transit_gateway_attachment_id",
                  "TGW_ATTACHMENT_NOT_AVAILABLE": "transit_gateway_attachment_id"}
# Findings fixed by their catalogue's manual step alone, on the finding's resource. Denies
# are a security decision: that step is a review, never a change.
_FIXED_BY_STEP_ALONE = {"IMDS_DISABLED", "VPC_DNS_SUPPORT_DISABLED", "ENDPOINT_POLICY_DENIES",
                        "ENDPOINT_NOT_AVAILABLE", "EXPLICIT_DENY", "PERMISSIONS_BOUNDARY_DENIES",
                        "SCP_DENIES", "DNS_FIREWALL_BLOCKS"}


@dataclass
class PlanOptions:
    s3_gateway: bool = False  # add an S3 gateway endpoint where endpoints are added
    capabilities: bool = True  # also plan what Session Manager and patching need


@dataclass
class _Context:
    """One region's planning state: the plan so far and the estate it is laid over."""

    plan: Plan
    estate: Estate
    options: PlanOptions
    endpoint_subnets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    admit_by_group: dict[str, bool] = field(default_factory=dict)
    changed_vpcs: set[str] = field(default_factory=set)  # endpoints changed this round


def make_plan(estates: list[Estate], report: AuditReport, options: PlanOptions | None = None,
              complete: bool = True) -> Plan:
    """``complete``: the estates hold every instance of their VPCs (not a scoped read), so the
    plan can prove it breaks none of the instances it was not asked about."""
    options = options or PlanOptions()
    account = next((estate.account_id for estate in estates if estate.account_id), "")
    plan = Plan(account, [estate.region for estate in estates],
                generated_by=f"ssm-auditor {__version__}")
    for estate in estates:
        known = {audit.instance.instance_id: audit for audit in report.instances
                 if audit.instance.region == estate.region
                 and audit.instance.instance_id in estate.instances}
        targets = sorted(iid for iid, audit in known.items() if audit.verdict == NOT_MANAGEABLE)
        if targets:
            _plan_region(plan, estate, targets, known, options, complete)
        if options.capabilities:
            from auditor.remediation.capability_planner import plan_capabilities

            plan_capabilities(plan, estate, known, options, complete)
    return plan


def plan_with_neighbours(raws: list[RawRegion], estates: list[Estate], report: AuditReport,
                         instance_ids: list[str] | None, neighbours_read: bool,
                         options: PlanOptions | None = None) -> Plan:
    """The plan for an audit, proved against the instances it was not asked about wherever
    the raw answers hold them. ``neighbours_read``: the raw answers hold every instance of
    the audited VPCs even when ``instance_ids`` scoped the audit (a snapshot); a live read
    scoped by instance does not, so that plan cannot prove it breaks no neighbour."""
    complete = not instance_ids
    if instance_ids and neighbours_read:
        estates = [build_estate(raw, None) for raw in raws]
        complete = True
    return make_plan(estates, report, options, complete)


def _plan_region(plan: Plan, estate: Estate, targets: list[str],
                 known: dict[str, InstanceAudit], options: PlanOptions, complete: bool) -> None:
    vpcs = {estate.instances[iid].vpc_id for iid in targets}
    neighbours = sorted(iid for iid, instance in estate.instances.items()
                        if complete and instance.vpc_id in vpcs and iid not in targets
                        and instance.state == "running")
    unknown_yet = [iid for iid in neighbours if iid not in known]
    first = {**known, **{a.instance.instance_id: a for a in _audit(estate, unknown_yet)}}
    before = {iid: audit.verdict for iid, audit in first.items()}
    # Neighbours that work today must keep working. Only endpoints can break them (every
    # other change only adds an allow), so they are proved again where endpoints change.
    protected = sorted(iid for iid in neighbours if before[iid] == MANAGEABLE)
    work = deepcopy(estate)
    apply.apply_plan(work, plan)  # what earlier regions planned for IAM
    context = _Context(plan, work, options)
    _choose_endpoint_placement(context, [work.instances[iid] for iid in targets],
                               [work.instances[iid] for iid in targets + neighbours], complete)
    planned = targets + protected
    latest = {audit.instance.instance_id: audit for audit in _audit(work, targets)}
    # The ways out first: a rule fixed on a path that endpoints then replace would be wasted
    # (or wider than needed).
    for structural_only in (True, False):
        for _ in range(MAX_ROUNDS):
            context.changed_vpcs.clear()
            if not sum(_propose(context, audit, structural_only) for audit in latest.values()):
                break
            again = [iid for iid in planned
                     if (iid in latest and latest[iid].verdict != MANAGEABLE)
                     or work.instances[iid].vpc_id in context.changed_vpcs]
            latest.update((a.instance.instance_id, a) for a in _audit(work, again))
    final = _audit(work, planned)  # one last proof of everything the plan touches
    for audit in final:
        _credit_side_effects(plan, audit, first[audit.instance.instance_id])
    fixing = _entries_fixing(plan)
    for audit in final:
        instance_id = audit.instance.instance_id
        if instance_id in protected and instance_id not in fixing:
            continue  # untouched by the plan
        blocked = [] if audit.verdict == MANAGEABLE else _still_blocking(audit)
        plan.instances.append(PlanInstance(
            instance_id, estate.region, before[instance_id], audit.verdict,
            fixed_by=fixing.get(instance_id, []), still_blocked_by=blocked))


def _credit_side_effects(plan: Plan, after: InstanceAudit, before: InstanceAudit) -> None:
    """An instance fixed by another's endpoints (its traffic now takes them) credits them."""
    instance = after.instance
    if before.verdict != NOT_MANAGEABLE or after.verdict != MANAGEABLE:
        return
    if any(fix.instance_id == instance.instance_id
           for entry in plan.endpoints for fix in entry.fixes):
        return
    network = [f for f in before.findings if f.service and f.severity == "error"]
    for entry in plan.endpoints:
        if entry.vpc_id == instance.vpc_id and entry.region == instance.region:
            _add_fixes(entry, [FixedFinding(instance.instance_id, f.code, f.resource_id)
                               for f in network])


def _still_blocking(audit: InstanceAudit) -> list[str]:
    errors = [f for f in audit.findings if f.severity == "error"]
    if errors:
        return [f"{f.code} {f.resource_id}: {f.message}" for f in errors]
    undecided = sorted({f"{f.code} {f.resource_id}" for f in audit.findings
                        if f.severity == "warning"})
    return [*audit.verdict_reasons, *(f"undecided: {text}" for text in undecided)]


def _audit(estate: Estate, instance_ids: list[str]) -> list[InstanceAudit]:
    instances = [estate.instances[iid] for iid in instance_ids]
    return audit_instances(estate, instances, vpcs_of(instances))


def _entries_fixing(plan: Plan) -> dict[str, list[str]]:
    """Instance id -> the ids of the entries that fix something of it, in plan order."""
    fixing: dict[str, list[str]] = {}
    for entry in [*plan.endpoints, *plan.security_group_rules, *plan.nacl_entries,
                  *plan.routes, *plan.instance_roles, *plan.role_policies, *plan.manual_steps]:
        for instance_id in dict.fromkeys(fix.instance_id for fix in entry.fixes):
            fixing.setdefault(instance_id, []).append(entry.id)
    return fixing


# --- proposing changes ------------------------------------------------------------------


def _propose(context: _Context, audit: InstanceAudit, structural_only: bool) -> int:
    """Changes for what still blocks ``audit``; each is laid over the estate at once."""
    if audit.verdict != NOT_MANAGEABLE:
        return 0
    count = 0
    for proof in audit.services.values():
        if proof.status == BLOCKED:
            count += _propose_network(context, audit.instance, proof, structural_only)
    if structural_only:
        return count
    for finding in audit.findings:
        if finding.severity == "error":
            count += _propose_for_finding(context, audit.instance, finding)
    return count


def _propose_network(context: _Context, instance: Instance, proof: ServiceProof,
                     structural_only: bool) -> int:
    codes = {finding.code for finding in proof.findings}
    zone = next((f for f in proof.findings if f.code == "PRIVATE_HOSTED_ZONE_OVERRIDE"
                 and f.resource_id in context.estate.dns.zones), None)
    if zone is not None and proof.endpoint_id is None:
        # The zone answers for the name: an endpoint's private DNS for it cannot be enabled
        # beside it (AWS refuses a conflicting domain) and would not change its answer.
        return _manual(context, instance, zone, "review_hosted_zone",
                       {"hosted_zone_id": zone.resource_id})
    if proof.endpoint_id is None and codes & _NO_WAY_OUT:
        disabled = [f for f in proof.findings if f.code == "ENDPOINT_PRIVATE_DNS_DISABLED"]
        if disabled:  # an endpoint is there already: let its name answer
            return _manual(context, instance, disabled[0], "enable_endpoint_private_dns",
                           {"vpc_endpoint_id": disabled[0].resource_id})
        hostnames_off = [f for f in proof.findings if f.code == "VPC_DNS_HOSTNAMES_DISABLED"]
        if hostnames_off:
            return _manual(context, instance, hostnames_off[0], "enable_vpc_dns_hostnames",
                           {"vpc_id": hostnames_off[0].resource_id})
        blocking = [f for f in proof.findings if f.code in _NO_WAY_OUT]
        return _add_endpoint(context, instance, proof.service, blocking)
    if structural_only:
        return 0
    count = 0
    for hop in proof.path:
        if hop.decision == DENY:
            count += _propose_for_hop(context, instance, proof, hop.step, hop.resource_id)
    for finding in proof.findings:
        if finding.severity != "error":
            continue
        if finding.code in _ROUTE_CODES:
            count += _propose_route(context, instance, proof, finding)
        elif finding.code in _GATEWAY_STEPS and finding.resource_id.startswith("tgw-"):
            count += _gateway_step(context, instance, finding)
    return count


# --- beyond the VPC: routes ----------------------------------------------------------------


def _propose_route(context: _Context, instance: Instance, proof: ServiceProof,
                   finding: Finding) -> int:
    """The route a path out of the VPC lacks, for the VPC CIDRs concerned."""
    estate = context.estate
    vpc = estate.vpcs.get(instance.vpc_id or "")
    resource, details = finding.resource_id, finding.details
    if vpc is None:
        return 0
    spoke = [str(cidr) for cidr in vpc.cidrs]
    if resource.startswith("tgw-attach-"):  # associated with no gateway route table
        return _manual(context, instance, finding, "review_transit_gateway_attachment",
                       {"transit_gateway_attachment_id": resource})
    if finding.code == "NO_ROUTE_TO_DESTINATION":
        far = estate.vpcs.get(details.get("endpoint_vpc", ""))
        gateway = _gateway_between(estate, vpc.vpc_id, far.vpc_id) if far else None
        if far is None or gateway is None:
            return 0
        return sum(_vpc_route(context, instance, finding, resource, str(cidr), gateway)
                   for cidr in far.cidrs)
    if finding.code == "TGW_ROUTE_MISSING":
        endpoint = estate.vpc_endpoints.get(proof.endpoint_id or "")
        far = estate.vpcs.get(endpoint.vpc_id) if endpoint else None
        target = next((a for a in estate.transit_gateway_attachments.values()
                       if far and a.resource_id == far.vpc_id and a.resource_type == "vpc"
                       and a.transit_gateway_id == details.get("transit_gateway")), None)
        if far is None or target is None:
            return 0  # a public destination: endpoints are the fix (_NO_WAY_OUT)
        return sum(_gateway_route(context, instance, finding, resource, str(cidr),
                                  target.attachment_id) for cidr in far.cidrs)
    if resource.startswith("tgw-rtb-"):  # RETURN_ROUTE_MISSING in the hub's gateway table
        attachment = details.get("attachment")
        return sum(_gateway_route(context, instance, finding, resource, cidr, attachment)
                   for cidr in spoke) if attachment else 0
    kind = "vpc_peering" if finding.code == "PEERING_ROUTE_MISSING" else "transit_gateway"
    gateway_id = details.get("gateway")
    if not gateway_id:
        return 0
    return sum(_vpc_route(context, instance, finding, resource, cidr, (kind, gateway_id))
               for cidr in spoke)


def _gateway_between(estate: Estate, vpc_id: str, far_vpc_id: str) -> tuple[str, str] | None:
    """A transit gateway both VPCs are attached to, else an active peering connection."""
    attached: dict[str, set[str]] = {}
    for attachment in estate.transit_gateway_attachments.values():
        if attachment.resource_type == "vpc" and attachment.state == "available":
            attached.setdefault(attachment.transit_gateway_id, set()).add(attachment.resource_id)
    for tgw_id, vpcs in sorted(attached.items()):
        if {vpc_id, far_vpc_id} <= vpcs:
            return "transit_gateway", tgw_id
    for peering in estate.vpc_peering_connections.values():
        if peering.status == aws_facts.PEERING_ACTIVE and {
                peering.requester_vpc_id, peering.accepter_vpc_id} == {vpc_id, far_vpc_id}:
            return "vpc_peering", peering.peering_id
    return None


def _foreign(estate: Estate, owner: str | None) -> bool:
    return bool(owner) and owner != estate.account_id


def _vpc_route(context: _Context, instance: Instance, finding: Finding, table_id: str,
               cidr: str, gateway: tuple[str, str]) -> int:
    table = context.estate.route_tables.get(table_id)
    if table is None:
        return 0
    kind, gateway_id = gateway
    option = ("--transit-gateway-id" if kind == "transit_gateway"
              else "--vpc-peering-connection-id")
    if _foreign(context.estate, context.estate.owners.get(table.vpc_id)):
        return _manual(context, instance, finding, "create_route",
                       {"route_table_id": table_id, "destination_cidr": cidr,
                        "target_option": f"{option} {gateway_id}"},
                       key=f"{table_id}-{cidr.replace('/', '-')}")
    entry = RouteEntry(
        f"route-{table_id}-{cidr.replace('/', '-')}", context.estate.region, table_id, cidr,
        transit_gateway_id=gateway_id if kind == "transit_gateway" else None,
        vpc_peering_connection_id=gateway_id if kind == "vpc_peering" else None,
        reason=(f"{table_id} has no route for {cidr} through {gateway_id}, which the agent's "
                "traffic (or its replies) needs; this route adds exactly that."))
    return _add_route(context, instance, finding, entry)


def _gateway_route(context: _Context, instance: Instance, finding: Finding, table_id: str,
                   cidr: str, attachment_id: str) -> int:
    estate = context.estate
    table = estate.transit_gateway_route_tables.get(table_id)
    if table is None:
        return 0
    gateway = estate.transit_gateways.get(table.transit_gateway_id)
    owner = estate.owners.get(table_id) or (gateway.owner_id if gateway else "")
    if _foreign(estate, owner):
        return _manual(context, instance, finding, "create_transit_gateway_route",
                       {"transit_gateway_route_table_id": table_id, "destination_cidr": cidr,
                        "transit_gateway_attachment_id": attachment_id},
                       key=f"{table_id}-{cidr.replace('/', '-')}")
    entry = RouteEntry(
        f"tgw-route-{table_id}-{cidr.replace('/', '-')}", estate.region, table_id, cidr,
        transit_gateway_attachment_id=attachment_id,
        reason=(f"Transit gateway route table {table_id} has no route for {cidr} to "
                f"{attachment_id}, which the agent's traffic (or its replies) needs; this "
                "static route adds exactly that."))
    return _add_route(context, instance, finding, entry)


def _add_route(context: _Context, instance: Instance, finding: Finding,
               entry: RouteEntry) -> int:
    fixed = FixedFinding(instance.instance_id, finding.code, finding.resource_id)
    known = next((e for e in context.plan.routes if e.id == entry.id), None)
    if known is not None:
        _add_fixes(known, [fixed])
        return 0
    entry.fixes.append(fixed)
    context.plan.routes.append(entry)
    apply.apply_route(context.estate, entry)
    return 1


def _gateway_step(context: _Context, instance: Instance, finding: Finding) -> int:
    """A transit gateway's blackhole route or attachment: its catalogue's manual step."""
    action = CATALOGUE[finding.code].manual_step or ""
    parameters = {_GATEWAY_STEPS[finding.code]: finding.resource_id}
    if finding.code == "TGW_ATTACHMENT_NOT_IN_AZ":
        parameters["subnet_id"] = instance.subnet_id or ""
    return _manual(context, instance, finding, action, parameters)


def _add_endpoint(context: _Context, instance: Instance, service: str,
                  blocking: list[Finding]) -> int:
    vpc_id = instance.vpc_id or ""
    entry_id = f"endpoints-{vpc_id}"
    entry = next((e for e in context.plan.endpoints if e.id == entry_id), None)
    fixes = [FixedFinding(instance.instance_id, f.code, f.resource_id) for f in blocking]
    if entry is None:
        vpc = context.estate.vpcs[vpc_id]
        placement = context.endpoint_subnets[vpc_id]
        cidrs = [str(cidr) for cidr in vpc.cidrs]
        by_groups = context.admit_by_group[vpc_id]
        entry = EndpointsEntry(
            entry_id, context.estate.region, vpc_id, cidrs, [],
            [subnet for subnet, _ in placement], [zone for _, zone in placement],
            allow_from_cidrs=[] if by_groups else cidrs,
            s3_gateway_route_table_ids=_s3_route_tables(context, placement),
            reason=(f"Instances in {vpc_id} cannot reach Systems Manager through the "
                    "internet as built (see fixes); interface endpoints keep the traffic in "
                    "the VPC instead of opening a way to the internet. One endpoint subnet "
                    "per Availability Zone of the instances, private DNS on, TCP 443 admitted "
                    + ("from the instances' security groups only." if by_groups else
                       f"from {', '.join(cidrs)} only (every instance of the VPC will use "
                       "them, and not all of them are known or their groups are many).")))
        context.plan.endpoints.append(entry)
    if not entry.allow_from_cidrs and instance.group_ids:  # admitted by group: add its own
        entry.allow_from_security_groups = sorted({*entry.allow_from_security_groups,
                                                   instance.group_ids[0]})
    added = service not in entry.services
    if added:
        entry.services = [s for s in (*aws_facts.SERVICES, *SESSION_ENDPOINT_SERVICES)
                          if s in {*entry.services, service}]
    _add_fixes(entry, fixes)
    apply.apply_endpoints(context.estate, entry)
    context.changed_vpcs.add(vpc_id)
    return int(added)


def _choose_endpoint_placement(context: _Context, targets: list[Instance],
                               watched: list[Instance], complete: bool) -> None:
    """Per VPC: the subnet with most planned-for instances in each zone; and whether the
    endpoints can admit by security group (every instance that will use them is known and
    their groups are few) or must admit the VPC's CIDRs."""
    estate = context.estate
    by_vpc: dict[str, list[Instance]] = {}
    for instance in targets:
        if instance.vpc_id and instance.vpc_id in estate.vpcs:
            by_vpc.setdefault(instance.vpc_id, []).append(instance)
    for vpc_id, members in by_vpc.items():
        counts = Counter(i.subnet_id for i in members if i.subnet_id in estate.subnets)
        best: dict[str, str] = {}
        for subnet_id, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            zone = estate.subnets[subnet_id].availability_zone
            best.setdefault(zone, subnet_id)
        context.endpoint_subnets[vpc_id] = sorted((s, z) for z, s in best.items())
        groups = {i.group_ids[0] for i in watched if i.vpc_id == vpc_id and i.group_ids}
        context.admit_by_group[vpc_id] = complete and 0 < len(groups) <= MAX_GROUP_REFERENCES


def _s3_route_tables(context: _Context, placement: list[tuple[str, str]]) -> list[str]:
    if not context.options.s3_gateway:
        return []
    graph = EstateGraph(context.estate)
    tables = {found[0].route_table_id for subnet_id, _ in placement
              if (found := graph.route_table_of(subnet_id)) is not None}
    return sorted(tables)


def _propose_for_hop(context: _Context, instance: Instance, proof: ServiceProof, step: str,
                     resource_id: str) -> int:
    estate = context.estate
    subnet = estate.subnets.get(instance.subnet_id or "")
    vpc = estate.vpcs.get(instance.vpc_id or "")
    if subnet is None or vpc is None:
        return 0
    endpoint = estate.vpc_endpoints.get(proof.endpoint_id or "")
    endpoint_vpc = estate.vpcs.get(endpoint.vpc_id) if endpoint else None
    far = [str(c) for c in endpoint_vpc.cidrs] if endpoint_vpc else [ANYWHERE]
    near = [str(subnet.cidr)]
    https = (aws_facts.HTTPS_PORT, aws_facts.HTTPS_PORT)
    if step == "sg_egress" and instance.group_ids:
        group = instance.group_ids[0]
        fixed = FixedFinding(instance.instance_id, "SG_EGRESS_BLOCKS", group)
        return sum(_security_group_rule(context, group, "egress", cidr, None, fixed)
                   for cidr in far)
    if step == "endpoint_sg_ingress" and instance.group_ids:
        finding = next((f for f in proof.findings if f.code == "ENDPOINT_SG_INGRESS_BLOCKS"),
                       None)
        if finding is None:
            return 0
        fixed = FixedFinding(instance.instance_id, finding.code, finding.resource_id)
        planned = next((e for e in context.plan.endpoints
                        if apply.planned_endpoint_group_id(e) == finding.resource_id), None)
        if planned is not None:  # the plan's own endpoint group: admit this instance there
            return _admit_to_planned_endpoints(context, planned, instance, fixed)
        if endpoint is not None and endpoint.vpc_id != vpc.vpc_id:
            return _central_endpoint_rule(context, instance, finding, vpc, fixed)
        return _security_group_rule(context, finding.resource_id, "ingress", None,
                                    instance.group_ids[0], fixed)
    legs = {  # step -> (egress?, peers, ports)
        "nacl_outbound": (True, far, https),
        "nacl_inbound_return": (False, far, REPLY_PORTS),
        "endpoint_nacl_inbound": (False, near, https),
        "endpoint_nacl_outbound_return": (True, near, REPLY_PORTS),
        "nat_nacl_inbound": (False, near, https),
        "nat_nacl_outbound_return": (True, near, REPLY_PORTS),
        "nat_internet_nacl_outbound": (True, [ANYWHERE], https),
        "nat_internet_nacl_inbound_return": (False, [ANYWHERE], REPLY_PORTS),
        # Beyond the VPC: the attachment subnets (near: the spoke's, far: the hub's).
        "tgw_nacl_outbound": (True, far, https),
        "tgw_nacl_inbound": (False, near, https),
        "tgw_nacl_outbound_return": (True, near, REPLY_PORTS),
        "far_nacl_outbound": (True, far, https),
        "far_nacl_inbound_return": (False, far, REPLY_PORTS),
        "endpoint_reply_nacl_outbound": (True, near, REPLY_PORTS),
        "endpoint_reply_nacl_inbound": (False, far, REPLY_PORTS),
    }
    if step not in legs or resource_id not in estate.network_acls:
        return 0
    if _foreign(estate, estate.owners.get(estate.network_acls[resource_id].vpc_id)):
        return 0  # another account's ACL: not deployable from this plan
    egress, peers, ports = legs[step]
    fixed = FixedFinding(instance.instance_id, "NACL_BLOCKS", resource_id)
    return sum(_nacl_entry(context, instance, estate.network_acls[resource_id], egress, cidr,
                           ports, fixed) for cidr in peers)


def _central_endpoint_rule(context: _Context, instance: Instance, finding: Finding, vpc: Vpc,
                           fixed: FixedFinding) -> int:
    """A central endpoint's group admits the spoke's CIDRs (a reference to the instance's group
    holds across a transit gateway only where referencing is enabled everywhere)."""
    group = context.estate.security_groups.get(finding.resource_id)
    if group is None:
        return 0
    count = 0
    for cidr in (str(c) for c in vpc.cidrs):
        if _foreign(context.estate, context.estate.owners.get(group.vpc_id)):
            count += _manual(context, instance, finding, "authorize_security_group_ingress",
                             {"group_id": group.group_id, "destination_cidr": cidr},
                             key=f"{group.group_id}-{cidr.replace('/', '-')}")
        else:
            count += _security_group_rule(context, group.group_id, "ingress", cidr, None, fixed)
    return count


def _admit_to_planned_endpoints(context: _Context, entry: EndpointsEntry, instance: Instance,
                                fixed: FixedFinding) -> int:
    if entry.allow_from_cidrs or instance.group_ids[0] in entry.allow_from_security_groups:
        return 0
    entry.allow_from_security_groups = sorted({*entry.allow_from_security_groups,
                                               instance.group_ids[0]})
    _add_fixes(entry, [fixed])
    apply.apply_endpoints(context.estate, entry)
    context.changed_vpcs.add(entry.vpc_id)
    return 1


def _security_group_rule(context: _Context, group_id: str, direction: str, cidr: str | None,
                         peer_group: str | None, fixed: FixedFinding) -> int:
    peer = cidr or peer_group or ""
    entry_id = f"sg-rule-{group_id}-{direction}-tcp-443-{peer.replace('/', '-')}"
    entry = next((e for e in context.plan.security_group_rules if e.id == entry_id), None)
    if entry is not None:
        _add_fixes(entry, [fixed])
        return 0
    towards = "to" if direction == "egress" else "from"
    entry = SecurityGroupRuleEntry(
        entry_id, context.estate.region, group_id, direction, aws_facts.TCP,
        aws_facts.HTTPS_PORT, aws_facts.HTTPS_PORT, cidr=cidr, peer_security_group_id=peer_group,
        description=f"ssm-auditor: SSM Agent HTTPS {towards} {peer}",
        reason=(f"{group_id} admits no HTTPS {towards} {peer}, which the agent's connection "
                "needs; this rule admits exactly that."),
        fixes=[fixed])
    context.plan.security_group_rules.append(entry)
    apply.apply_security_group_rule(context.estate, entry)
    return 1


def _nacl_entry(context: _Context, instance: Instance, nacl: NetworkAcl, egress: bool,
                cidr: str, ports: tuple[int, int], fixed: FixedFinding) -> int:
    direction = "egress" if egress else "ingress"
    entry_id = f"nacl-{nacl.nacl_id}-{direction}-tcp-{ports[0]}-{ports[1]}-{cidr.replace('/', '-')}"
    entry = next((e for e in context.plan.nacl_entries if e.id == entry_id), None)
    if entry is not None:
        _add_fixes(entry, [fixed])
        return 0
    number = _free_rule_number(nacl, egress, cidr, ports)
    if number is None:
        return _manual(context, instance, Finding("NACL_BLOCKS", nacl.nacl_id, ""),
                       "renumber_network_acl", {"network_acl_id": nacl.nacl_id})
    what = "the agent's HTTPS" if ports[0] == aws_facts.HTTPS_PORT else "the replies"
    entry = NaclEntryEntry(
        entry_id, context.estate.region, nacl.nacl_id, number, egress, "6", cidr,
        ports[0], ports[1],
        reason=(f"{nacl.nacl_id} drops {what} ({direction}, TCP {ports[0]}-{ports[1]}, {cidr}); "
                f"rule {number} allows it ahead of the rule that denies it."),
        fixes=[fixed])
    context.plan.nacl_entries.append(entry)
    apply.apply_nacl_entry(context.estate, entry)
    return 1


def _free_rule_number(nacl: NetworkAcl, egress: bool, cidr: str,
                      ports: tuple[int, int]) -> int | None:
    """A free number just ahead of the first deny that touches the flow (or after all rules)."""
    flow = ip_network(cidr)
    same_side = [e for e in nacl.entries if e.egress == egress]
    used = {e.rule_number for e in same_side}

    def touches(entry) -> bool:
        if entry.cidr is None or not entry.cidr.overlaps(flow):
            return False
        if entry.protocol not in ("-1", "6"):
            return False
        low = entry.from_port if entry.from_port is not None else 0
        high = entry.to_port if entry.to_port is not None else 65535
        return low <= ports[1] and ports[0] <= high

    first_deny = next((e.rule_number for e in same_side
                       if not e.allow and touches(e) and e.rule_number <= NACL_MAX_RULE), None)
    if first_deny is None:
        highest = max((n for n in used if n <= NACL_MAX_RULE), default=0)
        start = min(highest + 10 - highest % 10, NACL_MAX_RULE)
        return next((n for n in range(start, 0, -1) if n not in used), None)
    return next((n for n in range(first_deny - 1, 0, -1) if n not in used), None)


# --- findings that are not about a hop --------------------------------------------------


def _propose_for_finding(context: _Context, instance: Instance, finding: Finding) -> int:
    code = finding.code
    if code == "PRIVATE_HOSTED_ZONE_OVERRIDE":
        if finding.resource_id not in context.estate.dns.zones:
            return 0  # an endpoint of another service named by a zone: see the finding
        return _manual(context, instance, finding, "review_hosted_zone",
                       {"hosted_zone_id": finding.resource_id})
    if code in _FIXED_BY_STEP_ALONE:
        action = MANUAL_ACTIONS[CATALOGUE[code].manual_step or ""]
        return _manual(context, instance, finding, action.name,
                       {action.target: finding.resource_id})
    if code == "NO_INSTANCE_PROFILE":
        role = _instance_role(context, instance, finding)
        return _manual(context, instance, finding, "associate_instance_profile",
                       {"instance_id": instance.instance_id,
                        "instance_profile_name": role.instance_profile_name})
    if code == "INSTANCE_PROFILE_WITHOUT_ROLE":
        role = _instance_role(context, instance, finding)
        return _manual(context, instance, finding, "add_role_to_instance_profile",
                       {"instance_profile_name": finding.resource_id.rsplit("/", 1)[-1],
                        "role_name": role.role_name,
                        "instance_profile_arn": finding.resource_id})
    if code == "TRUST_POLICY_DENIES_EC2":
        return _manual(context, instance, finding, "update_assume_role_policy",
                       {"role_name": finding.resource_id,
                        "policy_document": _trust_with_ec2(context.estate,
                                                           finding.resource_id)})
    if code == "MISSING_PERMISSIONS":
        return _role_policy(context, instance, finding)
    return 0


def _instance_role(context: _Context, instance: Instance, finding: Finding) -> InstanceRoleEntry:
    plan = context.plan
    entry = next((e for e in plan.instance_roles if e.role_name == INSTANCE_ROLE_NAME), None)
    if entry is None:
        entry = InstanceRoleEntry(
            f"instance-role-{INSTANCE_ROLE_NAME}", INSTANCE_ROLE_NAME, INSTANCE_ROLE_NAME,
            [managed_policy_arn(CORE_POLICY, aws_facts.partition(context.estate.region))],
            reason=("A role trusting ec2.amazonaws.com with AmazonSSMManagedInstanceCore, the "
                    "policy AWS documents as the agent's minimum, and its instance profile. "
                    "(Default Host Management would also work, account-wide; an explicit "
                    "profile is the change that affects only these instances.)"))
        plan.instance_roles.append(entry)
    if instance.instance_id not in entry.for_instances:
        entry.for_instances.append(instance.instance_id)
    _add_fixes(entry, [FixedFinding(instance.instance_id, finding.code, finding.resource_id)])
    apply.apply_instance_role(context.estate, entry)
    return entry


def _trust_with_ec2(estate: Estate, role_name: str) -> dict:
    role = estate.roles.get(role_name)
    document = deepcopy(role.trust_policy) if role and isinstance(role.trust_policy, dict) else {}
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    statements.append(deepcopy(aws_facts.EC2_TRUST_POLICY["Statement"][0]))
    return {"Version": "2012-10-17", **document, "Statement": statements}


def _role_policy(context: _Context, instance: Instance, finding: Finding) -> int:
    actions = [str(a) for a in finding.details.get("actions", [])]
    if not actions or finding.resource_id not in context.estate.roles:
        return 0
    entry_id = f"role-policy-{finding.resource_id}"
    entry = next((e for e in context.plan.role_policies if e.id == entry_id), None)
    fixed = FixedFinding(instance.instance_id, finding.code, finding.resource_id)
    if entry is None:
        entry = RolePolicyEntry(
            entry_id, finding.resource_id, AGENT_POLICY_NAME,
            [{"Sid": "SsmAgentAccess", "Effect": "Allow", "Action": [], "Resource": "*"}],
            reason=(f"Role {finding.resource_id} lacks actions the agent calls; this policy "
                    "grants exactly those (attaching AmazonSSMManagedInstanceCore instead "
                    "would grant AWS's full agent set)."))
        context.plan.role_policies.append(entry)
    statement = entry.statements[0]
    new = sorted(set(statement["Action"]) | set(actions))
    changed = new != statement["Action"]
    statement["Action"] = new
    _add_fixes(entry, [fixed])
    apply.apply_role_policy(context.estate, entry)
    return int(changed)


# --- manual steps -----------------------------------------------------------------------


def _manual(context: _Context, instance: Instance, finding: Finding, action: str,
            parameters: dict, key: str | None = None) -> int:
    """``key``: what makes the step unique (default: its first parameter's value)."""
    resource = key or next(iter(parameters.values()), finding.resource_id)
    step_id = f"manual-{action.replace('_', '-')}-{resource}"
    step = next((s for s in context.plan.manual_steps if s.id == step_id), None)
    fixed = FixedFinding(instance.instance_id, finding.code, finding.resource_id)
    if step is not None:
        _add_fixes(step, [fixed])
        return 0
    manual = MANUAL_ACTIONS[action]
    region = "" if manual.account_wide else context.estate.region
    step = ManualStep(step_id, region, finding.code, finding.resource_id, action, parameters,
                      manual.command_for(parameters, region, finding.message), manual.reason,
                      [fixed])
    context.plan.manual_steps.append(step)
    apply.apply_manual_steps(context.estate, [step])
    if action in _DNS_ACTIONS and instance.vpc_id:  # where neighbours' traffic goes changes
        context.changed_vpcs.add(instance.vpc_id)
    return 1


_DNS_ACTIONS = {"enable_endpoint_private_dns", "enable_vpc_dns_hostnames",
                "enable_vpc_dns_support"}


def _add_fixes(entry, fixes: list[FixedFinding]) -> None:
    for fix in fixes:
        if fix not in entry.fixes:
            entry.fixes.append(fix)
