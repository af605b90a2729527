"""EKS managed node groups (``AWS::EKS::Nodegroup``) and the cluster security group of
``AWS::EKS::Cluster``, as the auto scaling group EKS makes of a node group.

What EKS gives the nodes (Amazon EKS User Guide, "Customize managed nodes with launch
templates" and "security group requirements"):

- one instance per subnet of ``Subnets``, public only where the subnet maps public IPs (EKS's
  own launch template asks for none) or the launch template says so;
- an instance profile EKS makes for ``NodeRole``; a launch template may not name one (nor a
  subnet), and ``RemoteAccess`` may not be given with a launch template: EKS refuses the node
  group, so those are reasons for ``unknown``;
- the security groups of the launch template when it names any; otherwise the cluster security
  group EKS creates (all traffic in from itself, everything out), to which rules of the template
  (``Fn::GetAtt Cluster.ClusterSecurityGroupId``) are added, plus, with ``RemoteAccess``, a group
  admitting SSH (RDP on Windows) from ``SourceSecurityGroups``, else from anywhere;
- EKS's own launch template sets the metadata hop limit to 2 (containers); a launch template of
  the template's gives its own metadata options;
- Windows when ``AmiType`` says so.
"""

from __future__ import annotations

from typing import Any

from auditor.sources.template import compute, iam, network
from auditor.sources.template.context import Reader, Translation
from auditor.sources.template.intrinsics import first_unresolved

EKS_METADATA = {"HttpEndpoint": "enabled", "HttpTokens": "optional", "HttpPutResponseHopLimit": 2}


def cluster_security_group_id(cluster_name: str) -> str:
    return f"sg-{cluster_name}-cluster"


def _all_traffic_from(group_id: str) -> dict:
    return {"IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
            "UserIdGroupPairs": [{"GroupId": group_id}]}


def _add_cluster_group(t: Translation, cluster_name: str, vpc_id: str) -> str:
    group_id = cluster_security_group_id(cluster_name)
    if t.get("security_groups", group_id) is None:
        t.add("security_groups", {
            "GroupId": group_id, "VpcId": vpc_id, "OwnerId": t.account_id,
            "GroupName": f"eks-cluster-sg-{cluster_name}",
            "IpPermissions": [_all_traffic_from(group_id)],
            "IpPermissionsEgress": [network.ALLOW_ALL_EGRESS]}, group_id)
    t.eks_clusters[cluster_name] = group_id
    return group_id


def cluster(t: Translation, reader: Reader) -> None:
    """AWS::EKS::Cluster: the cluster security group, in the VPC of its subnets."""
    t.eks_clusters[reader.resource_id] = None
    config = reader.properties.get("ResourcesVpcConfig")
    subnets = reader.scope.resolver.resolve(config.get("SubnetIds")) \
        if isinstance(config, dict) else None
    found = first_unresolved(subnets)
    if found or not isinstance(subnets, list):
        reader.fail(f"{reader.logical_id}.ResourcesVpcConfig.SubnetIds: "
                    f"{found.reason if found else 'not a list'}")
        return
    for subnet_id in subnets:
        subnet = t.get("subnets", subnet_id)
        if subnet is not None:
            group_id = _add_cluster_group(t, reader.resource_id, subnet["VpcId"])
            if reader.resource_id in t.logical:  # its findings name the cluster
                t.logical[group_id] = t.logical[reader.resource_id]
            return


def _remote_access_group(t: Translation, reader: Reader, remote: dict, vpc_id: str,
                         platform: str) -> str:
    """The group EKS makes for RemoteAccess: SSH (RDP) from the source groups, else anywhere."""
    group_id = f"sg-{reader.resource_id}-remote-access"
    port = 3389 if platform == "windows" else 22
    sources = remote.get("SourceSecurityGroups") or []
    peers = ({"UserIdGroupPairs": [{"GroupId": g} for g in sources if isinstance(g, str)]}
             if sources else {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    t.add("security_groups", {
        "GroupId": group_id, "VpcId": vpc_id, "OwnerId": t.account_id,
        "GroupName": f"eks-remoteAccess-{reader.resource_id}",
        "IpPermissions": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                           "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                           "UserIdGroupPairs": [], **peers}],
        "IpPermissionsEgress": [network.ALLOW_ALL_EGRESS]}, group_id)
    return group_id


def _node_profile(t: Translation, reader: Reader, role_arn: Any) -> tuple[str | None, str]:
    """The instance profile EKS makes for the node role (its name), or why it is unknown."""
    role_name = iam.role_name_of(role_arn)
    if role_name is None:
        return None, f"{reader.logical_id}.NodeRole {role_arn!r} is not a role ARN"
    if iam.profile_for_role(t, f"eks-{reader.resource_id}", role_name) is None:
        return None, (f"node role {role_name} "
                      f"{t.why_missing('iam_authorization', role_name)}")
    return f"eks-{reader.resource_id}", ""


def nodegroup(t: Translation, reader: Reader) -> None:
    """AWS::EKS::Nodegroup, proved as the auto scaling group EKS makes of it."""
    cluster_name = reader.value("ClusterName", required=True)
    role_arn = reader.value("NodeRole", required=True)
    subnets = reader.value("Subnets", required=True)
    specification = reader.value("LaunchTemplate")
    remote = reader.value("RemoteAccess")
    ami_type = reader.value("AmiType")
    name = reader.value("NodegroupName")
    platform = "windows" if str(ami_type).upper().startswith("WINDOWS") else "linux"
    reasons: list[str] = []
    template = None
    if isinstance(specification, dict):
        template = compute.template_launch(t, reader, {
            "LaunchTemplateId": specification.get("Id"),
            "LaunchTemplateName": specification.get("Name")})
    elif "LaunchTemplate" in reader.properties:
        template = compute.Launch(reasons=[f"{reader.logical_id}: its launch template is "
                                           "unknown"])
    if template is not None:
        launch = compute.Launch(**{**template.__dict__, "reasons": list(template.reasons)})
        refused = [what for what, given in (("an IamInstanceProfile", launch.profile),
                                            ("a subnet", launch.subnet_id)) if given]
        reasons += [f"its launch template names {what}, which EKS refuses in a node group's "
                    "launch template (the node group fails)" for what in refused]
        if remote:
            reasons.append(f"{reader.logical_id} gives RemoteAccess with a launch template, "
                           "which EKS refuses (the node group fails)")
        launch.subnet_id = None
    else:
        launch = compute.Launch(metadata=dict(EKS_METADATA))
    launch.platform = launch.platform or platform
    launch.profile, why = _node_profile(t, reader, role_arn) if role_arn is not None \
        else (None, "")
    reasons += [why] if why else []
    if not launch.group_ids:
        launch.group_ids = _cluster_groups(t, reader, cluster_name, subnets, remote,
                                           launch.platform, reasons)
    launch.reasons = [*launch.reasons, *reasons]
    compute.emit_group(t, reader.resource_id, launch, subnets,
                       name if isinstance(name, str) else "",
                       t.unresolved.get(reader.resource_id)
                       or f"{reader.logical_id}.Subnets are unknown")


def _cluster_groups(t: Translation, reader: Reader, cluster_name: Any, subnets: Any,
                    remote: Any, platform: str, reasons: list[str]) -> list[str]:
    """The groups EKS gives nodes without a launch template's: the cluster security group
    (and the remote-access group)."""
    subnet = next((t.get("subnets", s) for s in subnets or [] if t.get("subnets", s)), None) \
        if isinstance(subnets, list) else None
    groups = []
    group_id = t.eks_clusters.get(cluster_name) if isinstance(cluster_name, str) else None
    if group_id is None and cluster_name in t.eks_clusters and subnet is not None:
        # the cluster's own subnets were not known: its group is in the nodes' VPC
        group_id = _add_cluster_group(t, cluster_name, subnet["VpcId"])
    if group_id is not None:
        groups.append(group_id)
    elif cluster_name is not None:
        reasons.append(f"the security group EKS gives the nodes (the cluster security group of "
                       f"{cluster_name}) is not in the template: the cluster is not in it")
    if isinstance(remote, dict) and subnet is not None:
        groups.append(_remote_access_group(t, reader, remote, subnet["VpcId"], platform))
    return groups
