"""The organization audit on AWS: the Lambda functions the Step Functions state machine of
``stacks/org_audit.py`` runs. Each handler is an entrance like a command: it reads its event and
the environment, calls the organization pipeline (``auditor.sources.organization``,
``auditor.organization.unit.audit_unit``, the ASFF report), and writes what it found to the
audit bucket (``store``) or Security Hub (``security_hub``); no audit logic lives here.

- ``list_units.handler``: the organization's answers and its units -> S3 (the map's items);
- ``audit_unit.handler``: one unit -> its report and findings in S3, a small entry back;
- ``summarize.handler``: every unit's entry (never one dropped) -> the summary in S3, the
  findings -> Security Hub, 100 a call.
"""
