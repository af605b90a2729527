"""Reports the HTML report's tests render: the demo's, a hostile estate's, one with hop steps
no version of the prover writes yet, and the 10,000-instance fleet of the benchmark."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.analysis.results import Hop
from auditor.audit import AuditReport, audit_raws, run_audit
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from auditor.sources.snapshot import read_snapshot
from builders.estate_builder import EstateBuilder
from builders.fleet_estate import FULL
from builders.fleet_estate import build_estate as build_fleet

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "estate"
# The demo's instances, every region's (what the page lists)
DEMO_INSTANCES = sum(len(reservation["Instances"])
                     for answer in DEMO.glob("*/describe-instances.json")
                     for reservation in json.loads(answer.read_text())["Reservations"])
LOCKED_DOWN = "i-00000000000000017"  # SG_EGRESS_BLOCKS on all three services
IMDS_OFF = "i-0000000000000001a"  # IMDS_DISABLED: a command for this very instance
VIA_TGW = "i-0000000000000006d"  # DATA_UNAVAILABLE (another account's gateway): undecided
CENTRAL_EGRESS = "i-00000000000001027"  # eu-central-1: out by the hub's NAT gateway
PEERED = "i-00000000000001085"  # eu-central-1: PEERING_NOT_TRANSITIVE
HEALTHY = "i-0000000000000000d"
# Markup, a script, an attribute break-out, the end of a <noscript> and of a JSON block, line
# separators: a Name tag (or a role or policy name) may hold anything.
HOSTILE = ("<script>window.__pwned=1</script>\"'&<img src=x onerror=\"window.__pwned=2\">"
           "</noscript></details><b>\u2028\u2029]]>-->")
EXTRA_HOPS = (Hop("transit_gateway_route", "tgw-rtb-0abc", "allow", "10.9.0.0/16 -> tgw-attach"),
              Hop("vpc_peering", "pcx-0abc", "unknown", "the peer's route table is not read"),
              Hop("private_hosted_zone", "Z0123", "allow", "no record for the name"),
              Hop("some_future_step", "thing-1", "deny", "a rule no version knew"))

# Contract section 7, in the shape the JSON report gives it: the capabilities with their own
# findings, reasons, parts, the services they reach (proofs, drawn like the agent's), operators.
CAPABILITIES = {
    "session_manager": {
        "status": "fail", "findings": ["SESSION_KMS_DENIED"],
        "reasons": ["the key policy does not allow kms:Decrypt"],
        "parts": [{"name": "data channel", "status": "ok"}, {"name": "kms", "status": "fail"}],
        "services": {"kms": {
            "status": "blocked", "via": "interface_endpoint",
            "hostname": "kms.eu-west-1.amazonaws.com", "resolves_to": "vpce-0kms",
            "path": [{"step": "sg_egress", "resource_id": "sg-0kms", "decision": "deny",
                      "rule": "no egress rule admits tcp 443"},
                     {"step": "endpoint", "resource_id": "vpce-0kms", "decision": "allow",
                      "rule": "available"}],
            "findings": ["SESSION_KMS_UNREACHABLE"]}},
        "operator": {"arn:aws:iam::1:role/ops": {"principal": "arn:aws:iam::1:role/ops",
                                                  "kind": "role", "status": "ok"}}},
    "patching": {"status": "unknown", "findings": [], "reasons": ["the bucket is not read"]},
}


def demo_audit() -> AuditReport:
    raws = read_snapshot(DEMO)
    estates = [build_estate(raw) for raw in raws]
    return run_audit(estates, None, SourceDescription("snapshot", path=str(DEMO)
                                                      ).describe(estates))


def hostile_estate(directory: Path, hostile: str = HOSTILE) -> Path:
    """An instance whose Name tag, security group, role and policy are markup (or
    ``hostile``), and one named with a URL; written as a snapshot in ``directory``."""
    builder = EstateBuilder()
    vpc = builder.vpc()
    subnet = builder.subnet(vpc, "10.0.0.0/24")
    igw = builder.internet_gateway(vpc)
    builder.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    group = builder.security_group(vpc, hostile)
    role = f"role{hostile}"
    builder.role(role, attached=["AmazonSSMManagedInstanceCore"], inline={
        f"policy{hostile}": {"Version": "2012-10-17", "Statement": [{
            "Sid": "Deny", "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation",
            "Resource": "*"}]}})
    builder.instance_profile("profile", [role])
    instance = builder.instance(subnet, [group], name=hostile, public_ip="198.51.100.1",
                                instance_profile="profile")
    builder.managed_node(instance, "Online")
    other = builder.instance(subnet, [group], name="https://example.invalid/x.js",
                             public_ip="198.51.100.2", instance_profile="profile")
    builder.managed_node(other, "Online")
    return builder.write(directory / "estate")


def with_extra_hops(report: AuditReport, instance_id: str = LOCKED_DOWN) -> AuditReport:
    """``report`` with ``EXTRA_HOPS`` at the end of one instance's ssm path: steps of the
    shared networks (transit gateway, peering, hosted zone) and one no version knows."""
    audit = next(a for a in report.instances if a.instance.instance_id == instance_id)
    proof = audit.services["ssm"]
    audit.services = {**audit.services, "ssm": type(proof)(
        proof.service, proof.status, proof.via, proof.hostname, proof.resolves_to,
        [*proof.path, *EXTRA_HOPS], proof.findings)}
    return report


def fleet_audit() -> AuditReport:
    """The benchmark's 10,000-instance fleet (builders.fleet_estate), audited."""
    builder, _ = build_fleet(FULL)
    report, _ = audit_raws([builder.raw()], None, SourceDescription("snapshot", path="fleet"))
    return report
