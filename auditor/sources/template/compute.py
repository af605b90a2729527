"""Instances, launch templates, launch configurations and auto scaling groups of a template,
as the DescribeInstances entries of the instances they would launch.

An instance gets a public IPv4 address from its first network interface's
``AssociatePublicIpAddress``, else from its subnet's ``MapPublicIpOnLaunch`` (or an Elastic IP
the template associates with it); EC2 auto-assigns one only to a primary interface it creates
itself, for an instance launched with that one interface: an instance whose primary interface
is one the template creates (``NetworkInterfaceId`` at device index 0), or that is launched with
several interfaces, is public only through an Elastic IP. Its metadata options come from itself
or its launch template (AWS's defaults otherwise: endpoint enabled, tokens optional); its
security groups, when none is named, are the VPC's default group. An auto scaling group launches
one instance per subnet of ``VPCZoneIdentifier``; each is proved, and the report keeps the worst
under the group's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from auditor.sources.parse import PLANNED_PUBLIC_IP
from auditor.sources.template import iam, network, schema
from auditor.sources.template.context import Reader, Translation

PUBLIC_IP = PLANNED_PUBLIC_IP  # a planned public IPv4 address: known only at launch
NOT_PLACED = "its subnet is decided only where it is launched"


@dataclass
class Launch:
    """What an instance's settings say, wherever they come from (None: not said)."""

    subnet_id: str | None = None
    group_ids: list[str] | None = None
    profile: str | None = None  # a name or an ARN
    public_ip: bool | None = None
    private_ip: str | None = None
    metadata: dict | None = None
    platform: str | None = None  # "windows" when the image says so
    reasons: list[str] = field(default_factory=list)
    instance_type: str | None = None  # e.g. "t3.micro"

    def over(self, base: Launch) -> Launch:
        """These settings, falling back on ``base`` (an instance over its launch template)."""
        def pick(name: str) -> Any:
            mine = getattr(self, name)
            return mine if mine is not None else getattr(base, name)
        return Launch(pick("subnet_id"), pick("group_ids"), pick("profile"), pick("public_ip"),
                      pick("private_ip"), pick("metadata"), pick("platform"),
                      [*base.reasons, *self.reasons], pick("instance_type"))


class _Collecting(Reader):
    """A reader that keeps its reasons (for a launch template, they belong to the instances
    that use it)."""

    def __init__(self, *arguments: Any) -> None:
        super().__init__(*arguments)
        self.reasons: list[str] = []

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)


def _profile_name(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("Arn") or value.get("Name")
    return value if isinstance(value, str) else None


def read_launch(reader: Reader, properties: dict[str, Any]) -> Launch:
    """Settings from instance properties, launch template data or a launch configuration."""
    collecting = _Collecting(reader.translation, reader.scope, reader.logical_id, properties,
                             reader.resource_id, schema.LAUNCH)
    launch = Launch(subnet_id=collecting.value("SubnetId"),
                    private_ip=collecting.value("PrivateIpAddress"),
                    metadata=collecting.value("MetadataOptions"))
    groups = collecting.value("SecurityGroupIds")
    names = collecting.value("SecurityGroups")
    if names is not None:
        ids = [name for name in names if str(name).startswith("sg-")]
        if len(ids) < len(names):
            collecting.fail(f"{reader.logical_id}.SecurityGroups names groups by name, which "
                            "only the default VPC resolves")
        groups = [*(groups or []), *ids]
    launch.group_ids = groups
    launch.profile = _profile_name(collecting.value("IamInstanceProfile"))
    public = collecting.value("AssociatePublicIpAddress")  # a launch configuration
    interfaces = collecting.value("NetworkInterfaces") or []
    existing = False  # the primary interface exists before the launch
    for interface in interfaces:
        if str(interface.get("DeviceIndex", "0")) != "0":
            continue
        if interface.get("NetworkInterfaceId"):
            existing = True
            public = _attach_interface(reader.translation, collecting, launch, interface)
            continue
        launch.subnet_id = launch.subnet_id or interface.get("SubnetId")
        launch.group_ids = launch.group_ids or interface.get("GroupSet") or interface.get(
            "Groups")
        launch.private_ip = launch.private_ip or interface.get("PrivateIpAddress")
        public = interface.get("AssociatePublicIpAddress", public)
    if len(interfaces) > 1 and not existing:
        if public is not None and network.as_bool(public):
            collecting.fail(f"{reader.logical_id} asks for a public IPv4 address with "
                            f"{len(interfaces)} network interfaces: EC2 refuses the launch (it "
                            "auto-assigns one only to an instance with a single interface)")
        public = False  # several interfaces: no auto-assigned address, whatever the subnet
    launch.public_ip = None if public is None else network.as_bool(public)
    launch.platform = _image_platform(reader, properties.get("ImageId"))
    # Read without marking the resource: the type matters only in a VPC without DHCP options,
    # where an unknown one makes the DNS proof unknown.
    instance_type = reader.scope.resolver.resolve(properties.get("InstanceType"))
    launch.instance_type = instance_type if isinstance(instance_type, str) else None
    launch.reasons = collecting.reasons
    return launch


def _attach_interface(t: Translation, reader: Reader, launch: Launch, specification: dict
                      ) -> bool:
    """Settings of an instance whose first interface is one the template creates (its subnet,
    groups and address); whether the instance is public: only when an Elastic IP is associated
    with the interface, as EC2 never auto-assigns a public IPv4 address to an interface it did
    not create at launch (the subnet's MapPublicIpOnLaunch does not apply)."""
    interface_id = specification["NetworkInterfaceId"]
    if network.as_bool(specification.get("AssociatePublicIpAddress", False)):
        reader.fail(f"{reader.logical_id} asks for a public IPv4 address on network interface "
                    f"{interface_id}, which exists before the launch: EC2 refuses the launch "
                    "(associate an Elastic IP with the interface instead)")
    interface = t.interfaces.get(interface_id)
    if interface is None:
        reader.fail(f"{reader.logical_id} attaches network interface {interface_id}, which "
                    + ("could not be resolved (" + t.unresolved[interface_id] + ")"
                       if interface_id in t.unresolved
                       else "is not in the template (existing interfaces are not read)"))
        return False
    launch.subnet_id = launch.subnet_id or interface.subnet_id
    launch.group_ids = launch.group_ids or interface.group_ids
    launch.private_ip = launch.private_ip or interface.private_ip
    if interface_id in t.unclear_elastic_ips and interface_id not in t.elastic_ips:
        reader.fail(t.unclear_elastic_ips[interface_id])
    return interface_id in t.elastic_ips


def network_interface(t: Translation, reader: Reader) -> None:
    """AWS::EC2::NetworkInterface: what an instance attaching it as its first interface gets
    (an interface whose subnet is unknown is marked, and so is the instance using it)."""
    subnet_id = reader.value("SubnetId", required=True)
    groups = reader.value("GroupSet")
    private_ip = reader.value("PrivateIpAddress")
    addresses = reader.value("PrivateIpAddresses")
    for address in addresses or []:
        if isinstance(address, dict) and network.as_bool(address.get("Primary", False)):
            private_ip = private_ip or address.get("PrivateIpAddress")
    if subnet_id is None or reader.resource_id in t.unresolved:
        return
    t.interfaces[reader.resource_id] = Launch(subnet_id=subnet_id, group_ids=groups,
                                              private_ip=private_ip)


def _image_platform(reader: Reader, image: Any) -> str | None:
    """"windows" when the image is read from a Windows AMI parameter (for example
    /aws/service/ami-windows-latest/..., what CDK's MachineImage.latestWindows uses): Windows
    picks its ephemeral ports elsewhere (49152-65535), which network ACLs must admit."""
    if isinstance(image, str) and "{{resolve:ssm:" in image:  # a dynamic reference
        return "windows" if "windows" in image.lower() else None
    if not (isinstance(image, dict) and isinstance(image.get("Ref"), str)):
        return None
    declaration = (reader.scope.template.body.get("Parameters") or {}).get(image["Ref"]) or {}
    value = reader.scope.resolver.parameters.get(image["Ref"], declaration.get("Default"))
    return "windows" if "windows" in str(value).lower() else None


def _profile_arn(t: Translation, value: str) -> tuple[str | None, str | None]:
    """(ARN, reason it is unknown)."""
    if value.startswith("arn:") and ":role/" in value:
        return None, (f"its IamInstanceProfile names role {value.rsplit('/', 1)[-1]}, not an "
                      "instance profile: EC2 refuses the launch (name the role's instance "
                      "profile)")
    if value.startswith("arn:"):
        return value, None
    if value in t.profiles:
        return t.profiles[value], None
    if t.knows("iam_authorization"):
        # IAM lists every profile that holds a role: one it does not list holds none.
        return iam.instance_profile_arn(t, value), None
    return None, (f"instance profile {value} is not in the template, and no snapshot or live "
                  "data was given")


def emit_instance(t: Translation, instance_id: str, launch: Launch, name: str,
                  eip: bool = False, unplaced_reason: str = "", platform: str = "linux") -> None:
    """Write the DescribeInstances entry of a planned instance."""
    reasons = list(launch.reasons)
    platform = launch.platform or platform
    raw: dict[str, Any] = {
        "InstanceId": instance_id, "InstanceType": launch.instance_type or "planned",
        "ImageId": "planned",
        "State": {"Code": 16, "Name": "running"},
        "PlatformDetails": "Windows" if platform == "windows" else "Linux/UNIX",
        "Tags": [{"Key": "Name", "Value": name}] if name else [],
        "MetadataOptions": {"State": "applied", **_metadata_options(launch.metadata, reasons)},
    }
    if launch.profile:
        arn, reason = _profile_arn(t, launch.profile)
        if arn:
            raw["IamInstanceProfile"] = {"Arn": arn, "Id": "AIPAPLANNED"}
        if reason:
            reasons.append(reason)
    subnet = t.get("subnets", launch.subnet_id)
    if launch.subnet_id is None and (unplaced_reason
                                     or not (reasons or instance_id in t.unresolved)):
        # (with other reasons, the subnet was named but could not be resolved: they say why)
        reasons.append(unplaced_reason or "it has no SubnetId: it would launch into a default "
                       "subnet of the account's default VPC")
    elif launch.subnet_id is not None and subnet is None:
        reasons.append(f"subnet {launch.subnet_id} {t.why_missing('subnets', launch.subnet_id)}")
    if subnet is not None:
        groups = launch.group_ids
        if not groups:
            default = network.vpc_default_group(t, subnet["VpcId"])
            groups = [default] if default else []
            if not default:
                reasons.append("it names no security group: it gets the VPC's default group, "
                               "which is not in the data")
        reasons += [f"security group {g} {t.why_missing('security_groups', g)}"
                    for g in groups if t.get("security_groups", g) is None]
        private_ip = launch.private_ip
        if private_ip is not None and not _is_address(private_ip):
            reasons.append(f"private address {private_ip!r} is not an IPv4 address")
            private_ip = None
        private_ip = private_ip or t.next_host(subnet["CidrBlock"])
        public = launch.public_ip if launch.public_ip is not None else bool(
            subnet.get("MapPublicIpOnLaunch"))
        eni: dict[str, Any] = {
            "NetworkInterfaceId": f"eni-{instance_id}", "SubnetId": subnet["SubnetId"],
            "VpcId": subnet["VpcId"], "PrivateIpAddress": private_ip,
            "Groups": [{"GroupId": g} for g in groups], "InterfaceType": "interface",
            "Attachment": {"DeviceIndex": 0, "Status": "attached"}}
        raw.update({"SubnetId": subnet["SubnetId"], "VpcId": subnet["VpcId"],
                    "PrivateIpAddress": private_ip, "NetworkInterfaces": [eni],
                    "SecurityGroups": [{"GroupId": g} for g in groups]})
        if public or eip:
            raw["PublicIpAddress"] = PUBLIC_IP
            eni["Association"] = {"PublicIp": PUBLIC_IP}
    t.reservation.append(raw)
    t.planned.append(instance_id)
    for reason in reasons:
        t.mark(instance_id, reason)


# MetadataOptions the proof reads: AWS's default, and the values EC2 accepts.
_METADATA = {"HttpEndpoint": ("enabled", ("enabled", "disabled")),
             "HttpTokens": ("optional", ("optional", "required"))}


def _metadata_options(given: Any, reasons: list[str]) -> dict[str, Any]:
    """The instance's metadata options, AWS's defaults for what is not said; a value EC2
    refuses is a reason for unknown (never read as the default: "Disabled" is not enabled)."""
    options = given if isinstance(given, dict) else {}
    if given is not None and not isinstance(given, dict):
        reasons.append(f"its MetadataOptions are not a mapping ({given!r})"[:300])
    result: dict[str, Any] = {}
    for name, (default, allowed) in _METADATA.items():
        value = options.get(name, default)
        if value not in allowed:
            reasons.append(f"its MetadataOptions.{name} {value!r} is none of "
                           f"{', '.join(allowed)}, which EC2 refuses"[:300])
            value = default
        result[name] = value
    try:
        hops = schema.integer(options.get("HttpPutResponseHopLimit", 1))
        if not 1 <= hops <= 64:
            raise schema.Refused(f"from 1 to 64, found {hops}")
    except schema.Refused as refused:
        reasons.append(f"its MetadataOptions.HttpPutResponseHopLimit: expected {refused}")
        hops = 1
    result["HttpPutResponseHopLimit"] = hops
    return result


def _is_address(value: Any) -> bool:
    try:
        IPv4Address(str(value))
    except ValueError:
        return False
    return True


def _tag_name(reader: Reader) -> str:
    tags = reader.scope.resolver.resolve(reader.properties.get("Tags") or [])
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("Key") == "Name" and isinstance(tag.get("Value"),
                                                                             str):
            return tag["Value"]
    return ""


def template_launch(t: Translation, reader: Reader, specification: Any) -> Launch | None:
    """The launch template a LaunchTemplate property points at (None: none named)."""
    if specification is None:
        return None
    if not isinstance(specification, dict):
        return Launch(reasons=[f"{reader.logical_id}: its launch template is unknown"])
    key = specification.get("LaunchTemplateId") or specification.get("LaunchTemplateName")
    found = t.launch_templates.get(key)
    if found is None:
        return Launch(reasons=[f"launch template {key} is not in the template (existing launch "
                               "templates are not read)"])
    t.used_launch_templates.add(id(found))
    return found


def launch_template(t: Translation, reader: Reader) -> None:
    data = reader.properties.get("LaunchTemplateData") or {}
    if not isinstance(data, dict):
        data = reader.scope.resolver.resolve(data)
    launch = read_launch(reader, data if isinstance(data, dict) else {})
    if not isinstance(data, dict):
        launch.reasons.append(f"{reader.logical_id}.LaunchTemplateData is unknown")
    t.launch_templates[reader.resource_id] = launch
    name = reader.value("LaunchTemplateName")
    if isinstance(name, str):
        t.launch_templates[name] = launch
    t.launch_template_owner[reader.resource_id] = reader.logical_id


def launch_configuration(t: Translation, reader: Reader) -> None:
    t.launch_templates[reader.resource_id] = read_launch(reader, reader.properties)


def instance(t: Translation, reader: Reader) -> None:
    launch = read_launch(reader, reader.properties)
    template = template_launch(t, reader, reader.value("LaunchTemplate"))
    if template is not None:
        launch = launch.over(template)
    eip = reader.resource_id in t.elastic_ips
    if reader.resource_id in t.unclear_elastic_ips and not eip:
        launch.reasons.append(t.unclear_elastic_ips[reader.resource_id])
    emit_instance(t, reader.resource_id, launch, _tag_name(reader), eip=eip)


def elastic_ip(t: Translation, reader: Reader) -> None:
    """AWS::EC2::EIP with InstanceId, AWS::EC2::EIPAssociation with InstanceId or
    NetworkInterfaceId: the instance (or the one the interface is attached to) is public, when
    the address is mapped to its primary private address. Mapped to a secondary one
    (``PrivateIpAddress``), it does not serve the agent, whose traffic leaves from the primary
    address."""
    private = reader.properties.get("PrivateIpAddress")
    for name in ("InstanceId", "NetworkInterfaceId"):
        attached = reader.value(name)
        if not isinstance(attached, str):
            continue
        mapped = "primary" if private is None else _mapped_address(t, reader, attached, private)
        if mapped == "primary":
            t.elastic_ips.add(attached)
        elif mapped == "unknown":
            t.unclear_elastic_ips[attached] = (
                f"{reader.logical_id} maps an Elastic IP to {attached}'s private address "
                f"{private!r}, which may not be its primary one (the only one the agent's "
                "traffic leaves from)")


_PRIMARY_ATTRIBUTES = ("PrimaryPrivateIpAddress", "PrivateIp")


def _mapped_address(t: Translation, reader: Reader, attached: str, private: Any) -> str:
    """Whether ``PrivateIpAddress`` is the primary address of the interface (or instance):
    "primary", "secondary" or "unknown"."""
    attributes = [part for part in _get_atts(private)]
    if any(attribute == "SecondaryPrivateIpAddresses" for attribute in attributes):
        return "secondary"
    if isinstance(private, dict) and set(private) == {"Fn::GetAtt"} \
            and attributes and attributes[0] in _PRIMARY_ATTRIBUTES:
        return "primary"
    address = reader.scope.resolver.resolve(private)
    interface = t.interfaces.get(attached)
    primary = interface.private_ip if interface is not None else None
    if isinstance(address, str) and isinstance(primary, str):
        return "primary" if address == primary else "secondary"
    return "unknown"


def _get_atts(value: Any) -> list[str]:
    """The attribute names of every Fn::GetAtt inside ``value``."""
    found: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack += node
        elif isinstance(node, dict):
            for key, child in node.items():
                if key == "Fn::GetAtt":
                    parts = child.split(".", 1) if isinstance(child, str) else child
                    if isinstance(parts, list) and len(parts) > 1 and isinstance(parts[1], str):
                        found.append(parts[1])
                else:
                    stack.append(child)
    return found


def auto_scaling_group(t: Translation, reader: Reader) -> None:
    specification = reader.value("LaunchTemplate")
    mixed = reader.value("MixedInstancesPolicy")
    if specification is None and isinstance(mixed, dict):
        specification = (mixed.get("LaunchTemplate") or {}).get("LaunchTemplateSpecification")
    launch = template_launch(t, reader, specification)
    if launch is None:
        configuration = reader.value("LaunchConfigurationName")
        if configuration is not None:
            launch = t.launch_templates.get(configuration) or Launch(reasons=[
                f"launch configuration {configuration} is not in the template"])
    if launch is None:
        launch = Launch(reasons=[f"{reader.logical_id}: its launch settings are unknown"])
    subnets = reader.value("VPCZoneIdentifier")
    if isinstance(subnets, str):
        subnets = [s.strip() for s in subnets.split(",") if s.strip()]
    reason = (t.unresolved.get(reader.resource_id)
              or f"{reader.logical_id}.VPCZoneIdentifier is unknown"
              if "VPCZoneIdentifier" in reader.properties
              else f"{reader.logical_id} has no VPCZoneIdentifier: it launches into the "
                   "default VPC")
    emit_group(t, reader.resource_id, launch, subnets, _tag_name(reader), reason)


def emit_group(t: Translation, group_id: str, launch: Launch, subnets: Any, name: str,
               unplaced_reason: str) -> None:
    """The instances a group launches, one per subnet (``group_id@subnet``), reported under
    the group's id; one unknown instance when the subnets are not known."""
    if not subnets or not isinstance(subnets, list):
        emit_instance(t, group_id, Launch(**{**launch.__dict__, "subnet_id": None}), name,
                      unplaced_reason=unplaced_reason)
        return
    members = []
    # what could not be read in the group itself holds for each of its instances
    inherited = [t.unresolved[group_id]] if group_id in t.unresolved else []
    for subnet_id in subnets:
        member = f"{group_id}@{subnet_id}"
        members.append(member)
        placed = Launch(**{**launch.__dict__, "subnet_id": subnet_id,
                           "reasons": [*launch.reasons, *inherited]})
        emit_instance(t, member, placed, name)
    t.groups[group_id] = members


def interface_attachment(t: Translation, reader: Reader) -> None:
    """AWS::EC2::NetworkInterfaceAttachment. At device index 0 EC2 refuses it: every instance
    already has its primary interface there, made at its launch, so the stack fails and the
    instance is unknown, with why. At another index the interface is a secondary one, which the
    agent's traffic does not leave by."""
    index = reader.value("DeviceIndex")
    instance_id = reader.value("InstanceId")
    interface_id = reader.value("NetworkInterfaceId")
    if index is not None and str(index).strip() != "0":
        return
    what = ("at device index 0, where the instance's primary interface already is (made at its "
            "launch): EC2 refuses it and the stack fails; give the interface in the instance's "
            "NetworkInterfaces with DeviceIndex 0 instead" if index is not None
            else "at a device index that is unknown (at 0, EC2 would refuse it)")
    if isinstance(instance_id, str):
        t.mark(instance_id, f"{reader.logical_id} attaches network interface {interface_id} "
                            f"to {instance_id} {what}")
    else:
        reader.fail_everywhere(f"it attaches a network interface to an unknown instance {what}")


def unused_launch_templates(t: Translation) -> None:
    """A launch template nothing in the templates uses: proved where its own network
    interfaces place it, else unknown (it depends on where it is launched)."""
    for template_id, logical_id in t.launch_template_owner.items():
        launch = t.launch_templates[template_id]
        if id(launch) in t.used_launch_templates:
            continue
        if template_id in t.logical:  # reported under its logical id: say where it comes from
            t.logical[logical_id] = t.logical[template_id]
        emit_instance(t, logical_id, launch, "",
                      unplaced_reason=f"launch template {logical_id} names no subnet: "
                                      f"{NOT_PLACED}")
