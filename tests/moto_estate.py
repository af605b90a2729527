"""Seed estates in moto with boto3, for the scenario tests of tests/test_scenarios_moto.py.

``MotoVpc`` builds the common VPC of every scenario and offers small helpers for the rest. Where
moto cannot produce a state AWS can (a failed NAT gateway, a pending endpoint, an endpoint ENI
inside its subnet) the helpers edit moto's backend objects, and say so in a comment; ``route_of``
hands the test a route object to mark as blackhole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_network
from typing import Any

from moto.ec2.models import ec2_backends

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
AMI = "ami-12c6146b"
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
    - the main route table moto creates with the VPC, untouched (local route only).
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
                  group_id: str | None = None,
                  subnet_ids: list[str] | None = None) -> dict[str, str]:
        """One interface endpoint per service (in the private subnet): {service: vpce id}."""
        group_id = group_id or self.endpoint_sg
        created = {}
        for service in services:
            endpoint = self.ec2.create_vpc_endpoint(
                VpcId=self.vpc_id, ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Interface", SubnetIds=subnet_ids or [self.private_subnet],
                SecurityGroupIds=[group_id], PrivateDnsEnabled=private_dns)["VpcEndpoint"]
            for eni_id in endpoint["NetworkInterfaceIds"]:
                self._place_endpoint_eni(eni_id, group_id)
            created[service] = endpoint["VpcEndpointId"]
        return created

    def _place_endpoint_eni(self, eni_id: str, group_id: str) -> None:
        # moto gap: the ENI of an interface endpoint gets a random 10.x.x.x address, mostly
        # outside its subnet and the VPC (so no local route reaches it), and the VPC's default
        # SG. AWS gives it an address of its subnet and the endpoint's groups: set both, the
        # groups through the API, the address on moto's backend object.
        self.ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group_id])
        eni = backend().get_network_interface(eni_id)
        cidr = ip_network(eni.subnet.cidr_block)
        address = str(cidr.network_address + 200 + len(backend().enis) % 50)
        eni.private_ip_address = address
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]

    # --- Instances ----------------------------------------------------------------------------

    def instance(self, subnet_id: str | None = None, group_id: str | None = None,
                 public_ip: bool = False) -> str:
        """A running instance (in the private subnet, with ``instance_sg`` by default)."""
        interface = {"DeviceIndex": 0, "SubnetId": subnet_id or self.private_subnet,
                     "Groups": [group_id or self.instance_sg],
                     "AssociatePublicIpAddress": public_ip}
        reservation = self.ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1,
                                             MaxCount=1, NetworkInterfaces=[interface])
        return reservation["Instances"][0]["InstanceId"]


# --- States the EC2 API of moto cannot produce -----------------------------------------------


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


# --- The layout of the live-source tests and the benchmark ------------------------------------


@dataclass
class Layout:
    vpc_id: str
    public_subnet: str
    private_subnet: str
    igw_id: str
    nat_id: str
    public_table: str
    private_table: str
    instance_sg: str
    endpoint_sg: str
    prefix_list: str
    nacl_id: str
    dhcp_options: str
    endpoint_id: str
    endpoint_enis: list[str]
    instance_ids: list[str] = field(default_factory=list)


def run_instances(ec2, layout: Layout, count: int) -> list[str]:
    reservation = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=count,
                                    MaxCount=count, SubnetId=layout.private_subnet,
                                    SecurityGroupIds=[layout.instance_sg])
    ids = [instance["InstanceId"] for instance in reservation["Instances"]]
    layout.instance_ids.extend(ids)
    return ids


def build_layout(ec2, cidr: str = "10.0.0.0/16", instances: int = 1,
                 subnet_prefix: int = 24) -> Layout:
    """One VPC: a public subnet (IGW, NAT) and a private one (instances, SSM endpoint)."""
    network = ip_network(cidr)
    subnets = network.subnets(new_prefix=subnet_prefix)
    public_cidr, private_cidr = (str(s) for s in list(subnets)[1:3])
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    dhcp = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]}])
    dhcp_id = dhcp["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dhcp_id, VpcId=vpc_id)

    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock=public_cidr,
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc_id, CidrBlock=private_cidr,
                                AvailabilityZone=f"{REGION}b")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)

    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName=f"corp-{vpc_id}", MaxEntries=5, AddressFamily="IPv4",
        Entries=[{"Cidr": "192.168.0.0/24"}])["PrefixList"]["PrefixListId"]
    endpoint_sg = ec2.create_security_group(GroupName="endpoint", Description="ssm endpoint",
                                            VpcId=vpc_id)["GroupId"]
    instance_sg = ec2.create_security_group(GroupName="instance", Description="instances",
                                            VpcId=vpc_id)["GroupId"]
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    ec2.authorize_security_group_ingress(GroupId=endpoint_sg, IpPermissions=[
        {**https, "UserIdGroupPairs": [{"GroupId": instance_sg}]}])
    ec2.revoke_security_group_egress(GroupId=instance_sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_egress(GroupId=instance_sg, IpPermissions=[
        {**https, "UserIdGroupPairs": [{"GroupId": endpoint_sg}]},
        {**https, "PrefixListIds": [{"PrefixListId": prefix_list}]}])

    public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=public_table, SubnetId=public)
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)
    nat_id = nat["NatGateway"]["NatGatewayId"]
    private_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=private_table, SubnetId=private)
    ec2.create_route(RouteTableId=private_table, DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat_id)
    ec2.create_route(RouteTableId=private_table, DestinationPrefixListId=prefix_list,
                     NatGatewayId=nat_id)

    nacl_id = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
    for egress, ports in ((True, (443, 443)), (False, (1024, 65535))):
        ec2.create_network_acl_entry(NetworkAclId=nacl_id, RuleNumber=100, Protocol="6",
                                     RuleAction="allow", Egress=egress, CidrBlock="0.0.0.0/0",
                                     PortRange={"From": ports[0], "To": ports[1]})
    current = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [private]}])["NetworkAcls"][0]
    association = next(a["NetworkAclAssociationId"] for a in current["Associations"]
                       if a["SubnetId"] == private)
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=nacl_id)

    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName=f"com.amazonaws.{REGION}.ssm", VpcEndpointType="Interface",
        SubnetIds=[private], SecurityGroupIds=[endpoint_sg], PrivateDnsEnabled=True,
    )["VpcEndpoint"]

    layout = Layout(vpc_id, public, private, igw, nat_id, public_table, private_table,
                    instance_sg, endpoint_sg, prefix_list, nacl_id, dhcp_id,
                    endpoint["VpcEndpointId"], endpoint["NetworkInterfaceIds"])
    if instances:
        run_instances(ec2, layout, instances)
    return layout
