"""A VPC in moto for the live-source tests and the benchmark, seeded with boto3.

``build_layout`` creates one VPC through the EC2 API: a public subnet (internet gateway, NAT
gateway) and a private one (instances, an SSM interface endpoint), security groups that
reference each other and a prefix list, a custom network ACL and DHCP options. Shared by
tests/ and scripts/benchmark.py, so it lives in neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_network

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
AMI = "ami-12c6146b"


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
                 subnet_prefix: int = 24, region: str = REGION) -> Layout:
    """One VPC: a public subnet (IGW, NAT) and a private one (instances, SSM endpoint);
    ``region``: the client's."""
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
                               AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc_id, CidrBlock=private_cidr,
                                AvailabilityZone=f"{region}b")["Subnet"]["SubnetId"]
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
        VpcId=vpc_id, ServiceName=f"com.amazonaws.{region}.ssm", VpcEndpointType="Interface",
        SubnetIds=[private], SecurityGroupIds=[endpoint_sg], PrivateDnsEnabled=True,
    )["VpcEndpoint"]

    layout = Layout(vpc_id, public, private, igw, nat_id, public_table, private_table,
                    instance_sg, endpoint_sg, prefix_list, nacl_id, dhcp_id,
                    endpoint["VpcEndpointId"], endpoint["NetworkInterfaceIds"])
    if instances:
        run_instances(ec2, layout, instances)
    return layout
