"""Crossing out of the VPC: through a transit gateway or a VPC peering connection, both ways.

A route table sends traffic for a destination to a transit gateway or a peering connection.
``Beyond.cross`` proves what it takes for the traffic to land in the far VPC and for the
replies to come back, and returns the landings: places in the far VPC from which the caller
goes on as it would from the agent's own subnet (to an endpoint's interfaces, or out by a
central NAT gateway). A landing keeps the agent's address (nothing is translated on the way),
and its ``back`` names the gateway every reply route of the far VPC must use.

Transit gateway (Transit Gateways guide: VPC attachments, network ACLs, route tables):

- the source VPC's attachment must be available and have a subnet in the agent's Availability
  Zone (resources of a zone without one cannot reach the gateway); traffic enters the gateway
  by that subnet's interface: the subnet's ACL applies inbound rules to what comes from the
  VPC's resources and outbound rules to what the gateway sends into the VPC (in one subnet
  with the resource: outbound and inbound rules to what goes to the gateway, nothing to what
  comes from it), and its route table delivers the replies;
- the gateway route table associated with the attachment routes the destination (longest
  prefix, static and propagated routes, blackholes) to the far attachment;
- the far VPC's attachment delivers by its subnet in the same zone when it has one (else by
  one of its subnets, any of which may be used), whose route table routes the traffic on;
- the replies: the far side's route table must send them to the gateway, and the gateway
  route table associated with the far attachment must route the agent's address to the
  source attachment.

Security group references across a transit gateway hold in inbound rules only, and only when
the gateway and both attachments enable them. The reply is assumed to re-enter the gateway by
the attachment subnet the request left it by.

Peering connection (VPC Peering guide): the connection must be active; it delivers only to
addresses of the peer VPC (no transitive routing: a peer's NAT or internet gateway is never
reached, which is blocked, not unknown); the peer's subnet ACL and its reply route through the
same connection apply; security group references to the peer's groups hold in the same region.

A far side that is not in the data (another account's VPC or route table, another region) is
``DATA_UNAVAILABLE`` naming the account and the resource; VPN, Direct Connect, peerings between
transit gateways and other attachment kinds are ``UNMODELED_HOP``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from auditor import aws_facts
from auditor.analysis.hops import HopEvaluator, Place, unknown_data
from auditor.analysis.ipspace import Coverage, Peer, cidrs_coverage, describe_peer
from auditor.analysis.results import ALLOW, DENY, UNKNOWN, Check, Finding, Hop
from auditor.analysis.routes import describe_route, select_route
from auditor.model import Route, TransitGatewayAttachment

TRANSIT_GATEWAY = "transit_gateway"
VPC_PEERING = "vpc_peering"


@dataclass(frozen=True)
class Landing:
    """Where the traffic enters the far VPC."""

    place: Place  # subnet None for a peering connection (no interface of its own)
    vpc_id: str
    via: str  # TRANSIT_GATEWAY | VPC_PEERING
    # Whether inbound rules naming the agent's security groups hold in the far VPC.
    references_groups: bool


@dataclass
class Crossing:
    via: str
    checks: list[Check] = field(default_factory=list)  # both ways, up to the landings
    landings: list[Landing] = field(default_factory=list)  # none when a check decides


def _stop(via: str, checks: list[Check], check: Check) -> Crossing:
    return Crossing(via, [*checks, check])


def owner_unreadable(step: str, resource: str, what: str, owner: str, reason: str,
                     service: str | None = None) -> Check:
    """DATA_UNAVAILABLE for a far side: names the resource and the account that holds it."""
    account = f" (account {owner})" if owner else ""
    message = (f"Cannot read {what} {resource}{account}: {reason}. Audit that account too "
               "(--org, or its snapshot beside this one) to prove the path.")
    return Check(Hop(step, resource, UNKNOWN, reason),
                 Finding("DATA_UNAVAILABLE", resource, message, service, "warning",
                         {"account_id": owner, "resource": resource}))


class Beyond:
    def __init__(self, hops: HopEvaluator) -> None:
        self.hops = hops
        self.graph = hops.graph
        self.estate = hops.estate
        self._crossings: dict[tuple, Crossing] = {}

    def cross(self, near: Place, vpc_id: str, route: Route, destination: Peer, port: int,
              purpose: str) -> Crossing:
        """From ``near`` (in ``vpc_id``, whose route table chose ``route``) to the far VPC."""
        key = (near, vpc_id, route, destination, port)
        if key not in self._crossings:
            if route.target_kind == "transit_gateway":
                crossing = self._transit(near, vpc_id, route, destination, port, purpose)
            else:
                crossing = self._peering(near, vpc_id, route, destination, port, purpose)
            self._crossings[key] = crossing
        return self._crossings[key]

    # --- transit gateway -----------------------------------------------------------------

    def _transit(self, near: Place, vpc_id: str, route: Route, destination: Peer, port: int,
                 purpose: str) -> Crossing:
        estate = self.estate
        tgw_id = route.target_id
        gateway = estate.transit_gateways.get(tgw_id)
        if gateway is None:
            reason = estate.unavailable.get(
                "transit_gateways", "not in the data (deleted, or not shared with this account)")
            return _stop(TRANSIT_GATEWAY, [], unknown_data("transit_gateway", tgw_id, reason,
                                                           None))
        if gateway.state not in aws_facts.TRANSIT_GATEWAY_STATES:
            return _stop(TRANSIT_GATEWAY, [], _state_unknown(
                f"Transit gateway {tgw_id}", tgw_id, gateway.state))
        if gateway.state != aws_facts.TRANSIT_GATEWAY_AVAILABLE:
            message = f"Transit gateway {tgw_id} is {gateway.state}: it carries no traffic."
            return _stop(TRANSIT_GATEWAY, [], Check(
                Hop("transit_gateway", tgw_id, DENY, f"state {gateway.state}"),
                Finding("BLACKHOLE_ROUTE", tgw_id, message, None, details={"target": tgw_id})))
        source = self._source_attachment(vpc_id, tgw_id)
        if isinstance(source, Check):
            return _stop(TRANSIT_GATEWAY, [], source)
        entry = self._entry_subnet(near, source)
        if isinstance(entry, Check):
            return _stop(TRANSIT_GATEWAY, [], entry)
        checks = [Check(Hop("transit_gateway", source.attachment_id, ALLOW,
                            f"{source.attachment_id} of {vpc_id} on {tgw_id}, by {entry}"))]
        checks += self._into_gateway(near, entry, source, destination, port, purpose)
        far = self._gateway_route(source, destination, near)
        if isinstance(far, Check):
            return _stop(TRANSIT_GATEWAY, checks, far)
        checks.append(far[1])
        target = far[0]
        back = self._gateway_return(target, source, near)
        checks.append(back)
        landings = self._far_landings(near, target, tgw_id)
        if isinstance(landings, Check):
            return _stop(TRANSIT_GATEWAY, checks, landings)
        references = (gateway.security_group_referencing and source.security_group_referencing
                      and target.security_group_referencing)
        return Crossing(TRANSIT_GATEWAY, checks,
                        [Landing(place, target.resource_id, TRANSIT_GATEWAY, references)
                         for place in landings])

    def _source_attachment(self, vpc_id: str, tgw_id: str) -> TransitGatewayAttachment | Check:
        attachment = self.graph.vpc_attachment(vpc_id, tgw_id)
        unreadable = (self.estate.unavailable.get("transit_gateway_attachments")
                      or self.estate.unavailable.get("transit_gateway_vpc_attachments"))
        if attachment is None:
            if unreadable:
                return unknown_data("transit_gateway", tgw_id, unreadable, None)
            message = (f"{vpc_id} routes to transit gateway {tgw_id} but has no attachment to "
                       "it: the traffic is dropped.")
            return Check(Hop("transit_gateway", tgw_id, DENY, f"no attachment of {vpc_id}"),
                         Finding("TGW_ATTACHMENT_NOT_AVAILABLE", tgw_id, message, None,
                                 details={"vpc_id": vpc_id, "transit_gateway": tgw_id}))
        if attachment.state != aws_facts.ATTACHMENT_AVAILABLE:
            return _attachment_down(attachment)
        if attachment.subnet_ids is None:
            return unknown_data("transit_gateway", attachment.attachment_id,
                                unreadable or "its subnets are not in the data", None)
        return attachment

    def _entry_subnet(self, near: Place, attachment: TransitGatewayAttachment) -> str | Check:
        """The attachment's subnet in the Availability Zone of the place the traffic leaves."""
        here = self.graph.subnet(near.subnet_id or "")
        zone = here.availability_zone if here else ""
        for subnet_id in attachment.subnet_ids or ():
            subnet = self.graph.subnet(subnet_id)
            if subnet is None:
                reason = self.estate.unavailable.get("subnets", "not in the collected data")
                return unknown_data("transit_gateway", subnet_id, reason, None)
            if subnet.availability_zone == zone:
                return subnet_id
        message = (f"Attachment {attachment.attachment_id} of transit gateway "
                   f"{attachment.transit_gateway_id} has no subnet in {zone or 'the zone'} of "
                   f"{near.subnet_id}: resources of an Availability Zone without an attachment "
                   "subnet cannot reach the transit gateway.")
        return Check(Hop("transit_gateway", attachment.attachment_id, DENY,
                         f"no attachment subnet in {zone}"),
                     Finding("TGW_ATTACHMENT_NOT_IN_AZ", attachment.attachment_id, message,
                             None, details={"availability_zone": zone,
                                            "subnet_id": near.subnet_id}))

    def _into_gateway(self, near: Place, entry: str, attachment: TransitGatewayAttachment,
                      destination: Peer, port: int, purpose: str) -> list[Check]:
        """From the place to the attachment's interface in ``entry``, and the replies back."""
        if entry == near.subnet_id:
            return self.hops.to_gateway_in_subnet(entry, near.address, destination, (port, port),
                                                  purpose, "tgw_")
        subnet = self.graph.subnet(entry)
        interface = Place(attachment.attachment_id, entry, subnet.cidr if subnet else destination,
                          (port, port), f"the interface of {attachment.attachment_id} in {entry}")
        return [*self.hops.leaves(near, entry, destination, port, purpose),
                *self.hops.arrives(near, interface, port, f"{attachment.transit_gateway_id}",
                                   "tgw_")]

    def _table(self, attachment: TransitGatewayAttachment, step: str, code: str,
               towards: str):
        """The gateway route table associated with the attachment, or the check that stops."""
        tgw_id = attachment.transit_gateway_id
        if attachment.route_table_id is None:
            message = (f"Attachment {attachment.attachment_id} of {attachment.resource_id} is "
                       f"associated with no route table of {tgw_id}: the gateway drops "
                       f"{towards}.")
            return Check(Hop(step, attachment.attachment_id, DENY, "no associated route table"),
                         Finding(code, attachment.attachment_id, message, None,
                                 details={"transit_gateway": tgw_id}))
        table = self.estate.transit_gateway_route_tables.get(attachment.route_table_id)
        gateway = self.estate.transit_gateways.get(tgw_id)
        owner = (gateway.owner_id if gateway else "") or attachment.transit_gateway_owner_id
        if table is None:
            reason = self.estate.unavailable.get("transit_gateway_route_tables") or (
                "a transit gateway's route tables are visible to its owner only"
                if owner and owner != self.estate.account_id else "not in the collected data")
            return owner_unreadable(step, attachment.route_table_id,
                                    f"transit gateway {tgw_id}'s route table", owner, reason)
        if table.routes is None:
            reason = self.estate.unavailable.get("transit_gateway_routes",
                                                 "its routes are not in the collected data")
            return owner_unreadable(step, table.route_table_id,
                                    f"the routes of transit gateway {tgw_id}'s route table",
                                    owner, reason)
        return table

    def _gateway_route(self, source: TransitGatewayAttachment, destination: Peer, near: Place
                       ) -> tuple[TransitGatewayAttachment, Check] | Check:
        table = self._table(source, "tgw_table_route", "TGW_ROUTE_MISSING",
                            f"the traffic for {describe_peer(destination)}")
        if isinstance(table, Check):
            return table
        choice = select_route(self.estate, table, destination)
        route = choice.route
        where = (f"Transit gateway route table {table.route_table_id} (associated with "
                 f"{source.attachment_id})")
        step = "tgw_table_route"
        if choice.uncertain:
            routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
            return Check(Hop(step, table.route_table_id, UNKNOWN, routes),
                         Finding("DESTINATION_UNCERTAIN", table.route_table_id,
                                 f"{where} sends part of {describe_peer(destination)} elsewhere "
                                 f"({routes}).", None, "warning"))
        if route is None:
            message = (f"{where} has no route for {describe_peer(destination)}: the gateway "
                       "drops it.")
            return Check(Hop(step, table.route_table_id, DENY, "no matching route"),
                         Finding("TGW_ROUTE_MISSING", table.route_table_id, message, None,
                                 details={"transit_gateway": table.transit_gateway_id,
                                          "destination": describe_peer(destination),
                                          "attachment": source.attachment_id}))
        text = describe_route(table, route)
        if route.state == "blackhole":
            message = (f"{where} sends {route.destination()} to a blackhole route: the gateway "
                       "drops the traffic.")
            return Check(Hop(step, table.route_table_id, DENY, text),
                         Finding("TGW_BLACKHOLE_ROUTE", table.route_table_id, message, None,
                                 details={"transit_gateway": table.transit_gateway_id,
                                          "destination": route.destination()}))
        if route.target_kind != "transit_gateway_attachment":
            message = (f"{where} spreads {route.destination()} over several attachments "
                       f"({route.target_id}): which one carries a flow is not known."
                       if route.target_kind == "transit_gateway_ecmp" else
                       f"{where} routes {route.destination()} in state {route.state!r}, "
                       "which EC2 does not report: the hop is not proved.")
            return Check(Hop(step, table.route_table_id, UNKNOWN, text),
                         Finding("UNMODELED_HOP", table.route_table_id, message, None, "warning",
                                 {"route_table": table.route_table_id,
                                  "target_kind": route.target_kind}))
        target = self.estate.transit_gateway_attachments.get(route.target_id)
        if target is None:
            reason = self.estate.unavailable.get("transit_gateway_attachments",
                                                 "not in the collected data")
            return unknown_data(step, route.target_id, reason, None)
        if target.resource_type != "vpc":
            message = (f"{where} sends {route.destination()} to {target.attachment_id}, a "
                       f"{target.resource_type} attachment ({target.resource_id}): what lies "
                       "beyond it (VPN, Direct Connect, another transit gateway) is outside "
                       "what the API proves.")
            return Check(Hop(step, table.route_table_id, UNKNOWN, text),
                         Finding("UNMODELED_HOP", target.attachment_id, message, None,
                                 "warning", {"route_table": table.route_table_id,
                                             "target_kind": target.resource_type}))
        if target.state != aws_facts.ATTACHMENT_AVAILABLE:
            return _attachment_down(target)
        if target.attachment_id == source.attachment_id:
            message = f"{where} sends {route.destination()} back into {source.resource_id}."
            return Check(Hop(step, table.route_table_id, UNKNOWN, text),
                         Finding("UNMODELED_HOP", table.route_table_id, message, None, "warning",
                                 {"route_table": table.route_table_id}))
        return target, Check(Hop(step, table.route_table_id, ALLOW, f"{text} ({route.origin})"))

    def _gateway_return(self, target: TransitGatewayAttachment, source: TransitGatewayAttachment,
                        near: Place) -> Check:
        """The replies enter the gateway by the far attachment: its table must route the
        agent's address to the source attachment."""
        step = "tgw_table_return_route"
        towards = describe_peer(near.address)
        table = self._table(target, step, "RETURN_ROUTE_MISSING", f"the replies to {towards}")
        if isinstance(table, Check):
            return table
        choice = select_route(self.estate, table, near.address)
        route = choice.route
        where = (f"Transit gateway route table {table.route_table_id} (associated with "
                 f"{target.attachment_id} of {target.resource_id})")
        if choice.uncertain:
            routes = "; ".join(describe_route(table, r) for r in choice.uncertain)
            return Check(Hop(step, table.route_table_id, UNKNOWN, routes),
                         Finding("ASYMMETRIC_RETURN_ROUTE", table.route_table_id,
                                 f"{where} sends part of the replies to {towards} elsewhere "
                                 f"({routes}).", None, "warning",
                                 {"route_table": table.route_table_id}))
        details = {"transit_gateway": table.transit_gateway_id, "destination": towards,
                   "attachment": source.attachment_id}
        if route is None:
            message = (f"{where} has no route back to {towards}: the replies are dropped (the "
                       f"spoke's CIDR must be routed to {source.attachment_id}).")
            return Check(Hop(step, table.route_table_id, DENY, "no matching route"),
                         Finding("RETURN_ROUTE_MISSING", table.route_table_id, message, None,
                                 details=details))
        text = describe_route(table, route)
        if route.state == "blackhole":
            message = f"{where} sends the replies to {towards} to a blackhole route."
            return Check(Hop(step, table.route_table_id, DENY, text),
                         Finding("TGW_BLACKHOLE_ROUTE", table.route_table_id, message, None,
                                 details=details))
        if route.target_id != source.attachment_id:
            message = (f"{where} sends the replies to {towards} to {route.target_id}, not to "
                       f"{source.attachment_id}: whether they come back is not known.")
            return Check(Hop(step, table.route_table_id, UNKNOWN, text),
                         Finding("ASYMMETRIC_RETURN_ROUTE", table.route_table_id, message, None,
                                 "warning", {"route_table": table.route_table_id,
                                             "target": route.target_id}))
        return Check(Hop(step, table.route_table_id, ALLOW, f"replies: {text} ({route.origin})"))

    def _far_landings(self, near: Place, target: TransitGatewayAttachment, tgw_id: str
                      ) -> list[Place] | Check:
        vpc_id = target.resource_id
        if self.graph.vpc(vpc_id) is None:
            reason = self.estate.unavailable.get("vpcs") or (
                "another account's VPC" if target.resource_owner_id
                and target.resource_owner_id != self.estate.account_id
                else "not in the collected data")
            return owner_unreadable("far_vpc", vpc_id, "VPC", target.resource_owner_id, reason)
        if not target.subnet_ids:
            reason = self.estate.unavailable.get("transit_gateway_vpc_attachments",
                                                 "its subnets are not in the collected data")
            return unknown_data("far_vpc", target.attachment_id, reason, None)
        here = self.graph.subnet(near.subnet_id or "")
        zone = here.availability_zone if here else ""
        subnets = [self.graph.subnet(s) for s in target.subnet_ids]
        if any(subnet is None for subnet in subnets):
            reason = self.estate.unavailable.get("subnets", "not in the collected data")
            return unknown_data("far_vpc", target.attachment_id, reason, None)
        same_zone = [s.subnet_id for s in subnets if s and s.availability_zone == zone]
        return [Place(target.attachment_id, subnet_id, near.address, near.reply_ports,
                      f"{tgw_id} by {target.attachment_id} in {subnet_id}",
                      back=("transit_gateway", tgw_id))
                for subnet_id in same_zone or list(target.subnet_ids)]

    # --- peering connection --------------------------------------------------------------

    def _peering(self, near: Place, vpc_id: str, route: Route, destination: Peer, port: int,
                 purpose: str) -> Crossing:
        estate = self.estate
        peering = estate.vpc_peering_connections.get(route.target_id)
        step = "vpc_peering"
        if peering is None:  # the route is active, so it exists: the data lacks it
            reason = estate.unavailable.get("vpc_peering_connections",
                                            "not in the collected data")
            return _stop(VPC_PEERING, [], unknown_data(step, route.target_id, reason, None))
        if peering.status != aws_facts.PEERING_ACTIVE:
            message = (f"Peering connection {peering.peering_id} is {peering.status}, not "
                       "active: it carries no traffic.")
            return _stop(VPC_PEERING, [], Check(
                Hop(step, peering.peering_id, DENY, f"status {peering.status}"),
                Finding("BLACKHOLE_ROUTE", peering.peering_id, message, None,
                        details={"target": peering.peering_id})))
        far_vpc, owner, region, cidrs = peering.other_side(vpc_id)
        coverage = cidrs_coverage(cidrs, destination) if cidrs else Coverage.NONE
        if coverage == Coverage.NONE:
            message = (f"{peering.peering_id} leads to {far_vpc}, which does not hold "
                       f"{describe_peer(destination)}: a peering connection delivers only to "
                       "addresses of the peer VPC, never onward to its NAT gateway, internet "
                       "gateway or other connections (no transitive routing).")
            return _stop(VPC_PEERING, [], Check(
                Hop(step, peering.peering_id, DENY, "not transitive"),
                Finding("PEERING_NOT_TRANSITIVE", peering.peering_id, message, None,
                        details={"peer_vpc": far_vpc})))
        if coverage == Coverage.PARTIAL:
            message = (f"{peering.peering_id} leads to {far_vpc}, which holds only part of "
                       f"{describe_peer(destination)}.")
            return _stop(VPC_PEERING, [], Check(
                Hop(step, peering.peering_id, UNKNOWN, "part of the destination"),
                Finding("DESTINATION_UNCERTAIN", peering.peering_id, message, None, "warning")))
        checks = [Check(Hop(step, peering.peering_id, ALLOW,
                            f"{peering.peering_id} active, to {far_vpc}")),
                  *self.hops.leaves(near, None, destination, port, purpose)]
        if region and region != estate.region:
            return _stop(VPC_PEERING, checks, owner_unreadable(
                "far_vpc", far_vpc, "VPC", owner,
                f"it is in {region}, and this estate is {estate.region}'s"))
        if self.graph.vpc(far_vpc) is None:
            reason = estate.unavailable.get("vpcs") or (
                "another account's VPC" if owner and owner != estate.account_id
                else "not in the collected data")
            return _stop(VPC_PEERING, checks,
                         owner_unreadable("far_vpc", far_vpc, "VPC", owner, reason))
        landing = replace(near, resource_id=peering.peering_id, subnet_id=None,
                          describe=f"{peering.peering_id} into {far_vpc}",
                          back=("vpc_peering", peering.peering_id))
        return Crossing(VPC_PEERING, checks, [Landing(landing, far_vpc, VPC_PEERING, True)])

    # --- from a landing to a place of the far VPC ------------------------------------------

    def deliver(self, landing: Landing, far: Place, port: int, purpose: str,
                side: str) -> list[Check]:
        """From where the traffic landed to ``far`` (in the far VPC), both ways."""
        near = landing.place
        if landing.via == VPC_PEERING:
            return self.hops.arrives(near, far, port, purpose, side)
        return [self.local_route(near, far),
                *self.hops.leaves(near, far.subnet_id, far.address, port, purpose, "far_"),
                *self.hops.arrives(near, far, port, purpose, side)]

    def local_route(self, near: Place, far: Place) -> Check:
        """The landing subnet's route table must deliver ``far`` inside the VPC."""
        step = "far_route"
        table_and_kind = self.graph.route_table_of(near.subnet_id or "")
        if table_and_kind is None:
            return self.hops.no_route_table(near.subnet_id or "", None, step)
        table, association = table_and_kind
        choice = select_route(self.estate, table, far.address)
        route = choice.route
        where = f"{table.route_table_id} ({association} route table of {near.subnet_id})"
        if route is not None and route.target_kind == "local" and not choice.uncertain:
            return Check(Hop(step, table.route_table_id, ALLOW, describe_route(table, route)))
        if route is None:
            message = (f"{where}, where {near.name} delivers, has no route to "
                       f"{far.name}.")
            return Check(Hop(step, table.route_table_id, DENY, "no matching route"),
                         Finding("NO_ROUTE_TO_DESTINATION", table.route_table_id, message, None))
        return self.hops.unmodeled(table.route_table_id, route, None,
                                   describe_route(table, route), step)


def _state_unknown(what: str, resource: str, state: str) -> Check:
    """A state EC2 does not report, or none: the hop is not proved either way."""
    said = f"in state {state!r}, which EC2 does not report" if state else "without a state"
    message = f"{what} is {said}: whether it carries traffic is not proved."
    return Check(Hop("transit_gateway", resource, UNKNOWN, f"state {state!r}"),
                 Finding("UNMODELED_HOP", resource, message, None, "warning",
                         {"state": state}))


def _attachment_down(attachment: TransitGatewayAttachment) -> Check:
    if attachment.state not in aws_facts.ATTACHMENT_STATES:
        return _state_unknown(f"Attachment {attachment.attachment_id} of "
                              f"{attachment.resource_id} to transit gateway "
                              f"{attachment.transit_gateway_id}", attachment.attachment_id,
                              attachment.state)
    message = (f"Attachment {attachment.attachment_id} of {attachment.resource_id} to transit "
               f"gateway {attachment.transit_gateway_id} is {attachment.state}, not available: "
               "it carries no traffic.")
    return Check(Hop("transit_gateway", attachment.attachment_id, DENY,
                     f"state {attachment.state}"),
                 Finding("TGW_ATTACHMENT_NOT_AVAILABLE", attachment.attachment_id, message, None,
                         details={"transit_gateway": attachment.transit_gateway_id}))


def join(outcomes: list[tuple[str, list[Check]]]) -> tuple[str, list[Check]]:
    """The landings of one crossing, each proved on: any of them may carry a flow, so the
    path is reachable when all are, blocked when all are, unknown otherwise."""
    if len(outcomes) == 1:
        return outcomes[0]
    statuses = {status for status, _ in outcomes}
    checks = list(dict.fromkeys(check for _, found in outcomes for check in found))
    if len(statuses) == 1:
        return statuses.pop(), checks
    # What blocks one landing decides nothing alone: a warning.
    undecided = [Check(c.hop, Finding(c.finding.code, c.finding.resource_id,
                                      c.finding.message, None, "warning", c.finding.details))
                 if c.finding and c.finding.severity == "error" else c for c in checks]
    message = ("The transit gateway may deliver by any subnet of the far attachment (none is "
               "in the agent's Availability Zone), and they do not all lead there.")
    note = Check(Hop("transit_gateway", "landing", UNKNOWN, "landings differ"),
                 Finding("DESTINATION_UNCERTAIN", "landing", message, None, "warning"))
    return UNKNOWN, [*undecided, note]
