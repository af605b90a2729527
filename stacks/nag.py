"""cdk-nag on every remediation stack.

cdk-nag 3 is a CDK policy-validation plugin: ``Validations.of(app).add_plugins(...)`` runs it
when the app synthesizes, and an unacknowledged finding fails the synthesis (and so the
deploy). A finding the fix cannot avoid is acknowledged on its resource with
``Validations.of(resource).acknowledge``, one finding id at a time, with the reason.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag_checks(app: cdk.App) -> AwsSolutionsChecks:
    # The acknowledgements are also written into the templates (Metadata cdk_nag), so a
    # reviewer of cdk.out sees every one with its reason.
    checks = AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    cdk.Validations.of(app).add_plugins(checks)
    return checks


def acknowledge(construct: IConstruct, finding_id: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))
