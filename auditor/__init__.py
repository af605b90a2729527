"""ssm-auditor: prove, from outside, whether SSM Agent on each EC2 instance can work."""

__version__ = "0.1.0"
