"""CDK remediation stacks built from an auditor plan (plan.json). Imported only by app.py and the
tests; the auditor never imports aws_cdk.

One module per stack (endpoints, instance_role, security_group_rules, nacl_entries, routes), the
common parts (names, environment, reviewer metadata) in common, the cdk-nag checks in nag, and the
assembly of a plan into stacks in remediation_app.
"""
