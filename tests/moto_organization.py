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
