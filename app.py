"""The CDK app that deploys remediation stacks from an auditor plan.

Usage: npx cdk synth -c plan=plan.json
The remediation stacks arrive with the remediation issue; until then the app synthesizes
no stack, so `cdk synth` succeeds and deploys nothing.
"""

import aws_cdk as cdk

app = cdk.App()
app.synth()
