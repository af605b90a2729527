"""CDK remediation stacks. Imported only by app.py; the auditor never imports aws_cdk."""
