"""Resources whose effect the auditor does not read, with why: they are listed (``not_read``)
so that "nothing to check" or an all clear never hides them.

Some launch instances the proof does not see (nested stacks not read, EKS Auto Mode, AWS Batch,
EMR, ECS capacity providers without their auto scaling group, Elastic Beanstalk, fleets...): a
template whose only launches are there is not "nothing to check" (``unread_launches``).
Custom resources may change anything their function calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.sources.template.context import Scope
from auditor.sources.template.intrinsics import first_unresolved

Properties = Callable[[str], Any]  # a property's resolved value (Unresolved when unknown)


def nested_stack_not_read(why: str) -> str:
    return (f"nested stack: the instances it launches are not read ({why}; check its template "
            "too, with the parameters this stack passes)")


NESTED_STACK = nested_stack_not_read("its template is not a local file next to this one")
NESTED_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
CUSTOM_RESOURCE = "custom resource: what its function changes is not modelled"
_AFTER = "not proved (audit them once they run: python -m auditor --all)"


@dataclass(frozen=True)
class Launcher:
    """A resource type that may launch EC2 instances the auditor does not read."""

    what: str
    launches: Callable[[Properties, Scope], bool] = lambda properties, scope: True

    def reason(self) -> str:
        return f"{self.what} {_AFTER}"


def _known(value: Any) -> bool:
    return value is not None and first_unresolved(value) is None


def _auto_mode(properties: Properties, scope: Scope) -> bool:
    config = properties("ComputeConfig")
    if config is None:
        return False
    return not _known(config) or (isinstance(config, dict)
                                  and str(config.get("Enabled", False)).lower() == "true")


def _batch_on_ec2(properties: Properties, scope: Scope) -> bool:
    kind, resources = properties("Type"), properties("ComputeResources")
    if not (_known(kind) and _known(resources)):
        return resources is not None  # unknown: it may launch instances
    return str(kind).upper() == "MANAGED" and isinstance(resources, dict) \
        and str(resources.get("Type", "EC2")).upper() in ("EC2", "SPOT")


def _ecs_instances_unread(properties: Properties, scope: Scope) -> bool:
    """ECS Managed Instances, or an auto scaling group that is not in the template."""
    if properties("ManagedInstancesProvider") is not None:
        return True
    provider = properties("AutoScalingGroupProvider")
    group = provider.get("AutoScalingGroupArn") if isinstance(provider, dict) else None
    groups = [scope.resolver.ref(logical_id)
              for logical_id, resource in scope.template.resources.items()
              if resource["Type"] == "AWS::AutoScaling::AutoScalingGroup"]
    return not (isinstance(group, str) and group in groups)


LAUNCHERS: dict[str, Launcher] = {
    "AWS::EKS::Cluster": Launcher("EKS Auto Mode cluster: the nodes EKS launches for its node "
                                  "pools are", _auto_mode),
    "AWS::Batch::ComputeEnvironment": Launcher("AWS Batch compute environment: the instances "
                                               "Batch launches are", _batch_on_ec2),
    "AWS::EMR::Cluster": Launcher("EMR cluster: its nodes are"),
    "AWS::EMR::InstanceGroupConfig": Launcher("EMR instance group: its nodes are"),
    "AWS::EMR::InstanceFleetConfig": Launcher("EMR instance fleet: its nodes are"),
    "AWS::ECS::CapacityProvider": Launcher("ECS capacity provider: the container instances it "
                                           "launches (its auto scaling group is not in the "
                                           "template, or ECS manages them) are",
                                           _ecs_instances_unread),
    "AWS::ElasticBeanstalk::Environment": Launcher("Elastic Beanstalk environment: its "
                                                   "instances are"),
    "AWS::EC2::EC2Fleet": Launcher("EC2 Fleet: the instances it launches are"),
    "AWS::EC2::SpotFleet": Launcher("Spot Fleet: the instances it launches are"),
    "AWS::Cloud9::EnvironmentEC2": Launcher("Cloud9 environment: its instance is"),
    "AWS::OpsWorks::Instance": Launcher("OpsWorks instance: it is"),
    "AWS::ImageBuilder::Image": Launcher("Image Builder image: the build and test instances "
                                         "it launches (driven through SSM) are"),
    "AWS::ImageBuilder::ImagePipeline": Launcher("Image Builder pipeline: the build and test "
                                                 "instances it launches (driven through SSM) "
                                                 "are"),
}


def _properties(scope: Scope, resource: dict) -> Properties:
    raw = resource.get("Properties") or {}

    def value(name: str) -> Any:
        return scope.resolver.resolve(raw[name]) if name in raw else None

    return value


def _why(scope: Scope, logical_id: str, resource: dict) -> str | None:
    kind = resource["Type"]
    if kind in NESTED_TYPES:
        return nested_stack_not_read(scope.unread[logical_id]) if logical_id in scope.unread \
            else NESTED_STACK
    if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
        return CUSTOM_RESOURCE
    launcher = LAUNCHERS.get(kind)
    if launcher is not None and launcher.launches(_properties(scope, resource), scope):
        return launcher.reason()
    return None


def not_read(scopes: list[Scope]) -> tuple[dict[str, str], list[str], list[str]]:
    """What is not read (logical id -> why); which of those may launch instances (nested
    stacks too); which certainly do (``LAUNCHERS``)."""
    found: dict[str, str] = {}
    launches: list[str] = []
    launchers: list[str] = []
    for scope in scopes:
        for logical_id, resource in scope.template.resources.items():
            if logical_id in scope.children:
                continue  # a nested stack read with its template
            condition = resource.get("Condition")
            if isinstance(condition, str) and scope.resolver.condition(condition) is False:
                continue
            why = _why(scope, logical_id, resource)
            if why is None:
                continue
            found[logical_id] = why
            if why != CUSTOM_RESOURCE:
                launches.append(logical_id)
            if resource["Type"] in LAUNCHERS:
                launchers.append(logical_id)
    return found, launches, launchers

