"""The estate as a networkx graph: which resource governs which, as the traffic meets them.

Nodes are resource ids carrying their model object under ``obj``. Edges carry ``kind``:

- ``in_subnet``       instance / NAT gateway / endpoint ENI -> subnet
- ``in_vpc``          subnet -> VPC
- ``routes_via``      subnet -> route table (``association`` = "explicit" | "main")
- ``ingress_routes``  gateway -> the route table of its edge association (ingress routing)
- ``filtered_by``     subnet -> network ACL
- ``route``           route table -> route target (``routes`` = the routes that lead there)
- ``attached``        internet gateway -> VPC
- ``dhcp``            VPC -> DHCP options
- ``endpoint_of``     VPC -> interface endpoint
- ``interface_of``    endpoint -> ENI

Transit gateway attachments and peering connections join VPCs: a graph scoped to some VPCs
also holds the VPCs joined to them (``model.joined_vpcs``), where their traffic may land.

The prover asks the graph the questions AWS answers per packet: which table routes this
subnet, which ACL filters it, where a route leads.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from auditor.model import (
    DhcpOptions,
    Estate,
    NetworkAcl,
    NetworkInterface,
    RouteTable,
    Subnet,
    TransitGatewayAttachment,
    Vpc,
    VpcEndpoint,
    joined_vpcs,
)


class EstateGraph:
    def __init__(self, estate: Estate, vpc_ids: Iterable[str] | None = None) -> None:
        self.estate = estate
        self.graph = nx.DiGraph()
        self._neighbour_cache: dict[tuple[str, str], list[str]] = {}
        wanted = (joined_vpcs(set(vpc_ids), estate.transit_gateway_attachments,
                              estate.vpc_peering_connections)
                  if vpc_ids is not None else None)
        # (VPC, transit gateway) -> its attachment, an available one first.
        self._vpc_attachments: dict[tuple[str, str], TransitGatewayAttachment] = {}
        for attachment in sorted(estate.transit_gateway_attachments.values(),
                                 key=lambda a: a.state != "available"):
            if attachment.resource_type == "vpc":
                self._vpc_attachments.setdefault(
                    (attachment.resource_id, attachment.transit_gateway_id), attachment)
        self._build(wanted)
        self._neighbour_cache.clear()  # lookups made while building saw a partial graph

    def _in_scope(self, wanted: set[str] | None, vpc_id: str) -> bool:
        return wanted is None or vpc_id in wanted

    def _build(self, wanted: set[str] | None) -> None:
        estate, graph = self.estate, self.graph
        for vpc in estate.vpcs.values():
            if self._in_scope(wanted, vpc.vpc_id):
                graph.add_node(vpc.vpc_id, obj=vpc)
                if vpc.dhcp_options_id in estate.dhcp_options:
                    options = estate.dhcp_options[vpc.dhcp_options_id]
                    graph.add_edge(vpc.vpc_id, options.dhcp_options_id, kind="dhcp")
                    graph.nodes[options.dhcp_options_id]["obj"] = options
        for subnet in estate.subnets.values():
            if self._in_scope(wanted, subnet.vpc_id):
                graph.add_node(subnet.subnet_id, obj=subnet)
                graph.add_edge(subnet.subnet_id, subnet.vpc_id, kind="in_vpc")
        self._add_route_tables(wanted)
        self._add_nacls(wanted)
        for igw in estate.internet_gateways.values():
            graph.add_node(igw.igw_id, obj=igw)
            for vpc_id in igw.attached_vpc_ids:
                graph.add_edge(igw.igw_id, vpc_id, kind="attached")
        for nat in estate.nat_gateways.values():
            if self._in_scope(wanted, nat.vpc_id):
                graph.add_node(nat.nat_gateway_id, obj=nat)
                graph.add_edge(nat.nat_gateway_id, nat.subnet_id, kind="in_subnet")
        for endpoint in estate.vpc_endpoints.values():
            if self._in_scope(wanted, endpoint.vpc_id):
                graph.add_node(endpoint.endpoint_id, obj=endpoint)
                graph.add_edge(endpoint.vpc_id, endpoint.endpoint_id, kind="endpoint_of")
                for eni_id in endpoint.network_interface_ids:
                    eni = estate.network_interfaces.get(eni_id)
                    if eni is not None:
                        graph.add_node(eni_id, obj=eni)
                        graph.add_edge(endpoint.endpoint_id, eni_id, kind="interface_of")
                        graph.add_edge(eni_id, eni.subnet_id, kind="in_subnet")

    def _add_route_tables(self, wanted: set[str] | None) -> None:
        graph = self.graph
        main_by_vpc: dict[str, str] = {}
        for table in self.estate.route_tables.values():
            if not self._in_scope(wanted, table.vpc_id):
                continue
            graph.add_node(table.route_table_id, obj=table)
            if table.is_main:
                main_by_vpc[table.vpc_id] = table.route_table_id
            for subnet_id in table.subnet_ids:
                graph.add_edge(subnet_id, table.route_table_id, kind="routes_via",
                               association="explicit")
            for gateway_id in table.gateway_ids:
                graph.add_edge(gateway_id, table.route_table_id, kind="ingress_routes")
            for route in table.routes:
                target = route.target_id or f"unknown-target:{route.destination()}"
                if graph.has_edge(table.route_table_id, target):
                    graph.edges[table.route_table_id, target]["routes"].append(route)
                else:
                    graph.add_edge(table.route_table_id, target, kind="route", routes=[route])
        # A subnet without an explicit association uses its VPC's main route table.
        for subnet in self.estate.subnets.values():
            if not self._in_scope(wanted, subnet.vpc_id):
                continue
            if self._route_table_edge(subnet.subnet_id) is None and subnet.vpc_id in main_by_vpc:
                graph.add_edge(subnet.subnet_id, main_by_vpc[subnet.vpc_id], kind="routes_via",
                               association="main")

    def _add_nacls(self, wanted: set[str] | None) -> None:
        default_by_vpc: dict[str, str] = {}
        for nacl in self.estate.network_acls.values():
            if not self._in_scope(wanted, nacl.vpc_id):
                continue
            self.graph.add_node(nacl.nacl_id, obj=nacl)
            if nacl.is_default:
                default_by_vpc[nacl.vpc_id] = nacl.nacl_id
            for subnet_id in nacl.subnet_ids:
                self.graph.add_edge(subnet_id, nacl.nacl_id, kind="filtered_by")
        # Every subnet has exactly one ACL; a hand-built snapshot may omit the association of
        # subnets that use the VPC's default ACL.
        for subnet in self.estate.subnets.values():
            if (self._in_scope(wanted, subnet.vpc_id) and self.nacl_of(subnet.subnet_id) is None
                    and subnet.vpc_id in default_by_vpc):
                self.graph.add_edge(subnet.subnet_id, default_by_vpc[subnet.vpc_id],
                                    kind="filtered_by")

    def _neighbours(self, node: str, kind: str) -> list[str]:
        key = (node, kind)
        if key not in self._neighbour_cache:  # the graph is not changed once built
            self._neighbour_cache[key] = [] if node not in self.graph else [
                target for target, data in self.graph.adj[node].items() if data["kind"] == kind]
        return self._neighbour_cache[key]

    def _route_table_edge(self, subnet_id: str) -> tuple[str, str] | None:
        for target in self._neighbours(subnet_id, "routes_via"):
            return target, self.graph.edges[subnet_id, target]["association"]
        return None

    def obj(self, node: str) -> object | None:
        return self.graph.nodes[node].get("obj") if node in self.graph else None

    def subnet(self, subnet_id: str) -> Subnet | None:
        return self.estate.subnets.get(subnet_id)

    def vpc(self, vpc_id: str) -> Vpc | None:
        return self.estate.vpcs.get(vpc_id)

    def route_table_of(self, subnet_id: str) -> tuple[RouteTable, str] | None:
        """The table that routes the subnet, and whether it is "explicit" or the "main" one."""
        edge = self._route_table_edge(subnet_id)
        return (self.estate.route_tables[edge[0]], edge[1]) if edge else None

    def ingress_route_table_of(self, gateway_id: str) -> RouteTable | None:
        """The table that routes what a gateway lets into the VPC (its edge association)."""
        for table_id in self._neighbours(gateway_id, "ingress_routes"):
            return self.estate.route_tables[table_id]
        return None

    def nacl_of(self, subnet_id: str) -> NetworkAcl | None:
        nacl_ids = self._neighbours(subnet_id, "filtered_by")
        return self.estate.network_acls[nacl_ids[0]] if nacl_ids else None

    def dhcp_options_of(self, vpc: Vpc) -> DhcpOptions | None:
        for options_id in self._neighbours(vpc.vpc_id, "dhcp"):
            return self.estate.dhcp_options[options_id]
        return None

    def endpoints_in(self, vpc_id: str) -> list[VpcEndpoint]:
        return [self.estate.vpc_endpoints[e] for e in self._neighbours(vpc_id, "endpoint_of")]

    def interfaces_of(self, endpoint: VpcEndpoint) -> list[NetworkInterface]:
        return [self.estate.network_interfaces[eni]
                for eni in self._neighbours(endpoint.endpoint_id, "interface_of")]

    def igw_attached_to(self, igw_id: str, vpc_id: str) -> bool:
        return self.graph.has_edge(igw_id, vpc_id)

    def vpc_attachment(self, vpc_id: str, transit_gateway_id: str
                       ) -> TransitGatewayAttachment | None:
        """The VPC's attachment to the transit gateway (an available one when there are
        several), None when the VPC is not attached to it."""
        return self._vpc_attachments.get((vpc_id, transit_gateway_id))
