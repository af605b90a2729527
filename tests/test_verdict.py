"""One verdict per instance: blockers win, undecided parts make it unknown."""

from __future__ import annotations

import pytest

from auditor.analysis.results import BLOCKED, REACHABLE, UNKNOWN, ServiceProof
from auditor.analysis.verdict import (
    MANAGEABLE,
    NOT_APPLICABLE,
    NOT_MANAGEABLE,
    channel_status,
    decide,
)
from auditor.audit import run_audit
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder

R, B, U = REACHABLE, BLOCKED, UNKNOWN
OK = {"imds": "ok", "credentials": "ok", "permissions": "ok"}
AS_AUDITED = {"imds": "ok", "credentials": "unknown", "permissions": "unknown"}


def services(ssm: str, ssmmessages: str, ec2messages: str) -> dict[str, ServiceProof]:
    return {name: ServiceProof(name, status, "test", f"{name}.eu-west-1.amazonaws.com", "x")
            for name, status in (("ssm", ssm), ("ssmmessages", ssmmessages),
                                 ("ec2messages", ec2messages))}


@pytest.mark.parametrize(("ssmmessages", "ec2messages", "expected"), [
    pytest.param(R, R, R, id="both-reachable"),
    pytest.param(B, R, R, id="ssmmessages-blocked-ec2messages-reachable"),
    pytest.param(R, B, R, id="ec2messages-blocked-ssmmessages-reachable"),
    pytest.param(U, R, R, id="one-reachable-one-unknown"),
    pytest.param(B, B, B, id="both-blocked"),
    pytest.param(B, U, U, id="one-blocked-one-unknown"),
    pytest.param(U, U, U, id="both-unknown"),
])
def test_channel_status(ssmmessages, ec2messages, expected):
    assert channel_status(services(R, ssmmessages, ec2messages)) == expected


# (state, (ssm, ssmmessages, ec2messages), parts, verdict, reasons)
DECIDE_CASES = [
    pytest.param("running", (R, R, R), OK, MANAGEABLE, [], id="all-proven"),
    pytest.param("running", (R, B, R), OK, MANAGEABLE, [],
                 id="ssmmessages-blocked-ec2messages-carries-channel"),
    pytest.param("running", (B, R, R), OK, NOT_MANAGEABLE,
                 ["ssm (heartbeat) is blocked or refused"], id="ssm-blocked"),
    pytest.param("running", (R, B, B), OK, NOT_MANAGEABLE,
                 ["no message channel (ssmmessages, ec2messages) is both reachable and allowed"],
                 id="both-channels-blocked"),
    pytest.param("running", (U, B, B), OK, NOT_MANAGEABLE,
                 ["no message channel (ssmmessages, ec2messages) is both reachable and allowed"],
                 id="blocked-channel-beats-unknown-heartbeat"),
    pytest.param("running", (B, U, U), AS_AUDITED, NOT_MANAGEABLE,
                 ["ssm (heartbeat) is blocked or refused"], id="blocked-beats-every-unknown"),
    pytest.param("running", (R, R, R), {**OK, "imds": "fail"}, NOT_MANAGEABLE,
                 ["imds check failed"], id="imds-disabled"),
    pytest.param("running", (U, R, R), OK, UNKNOWN, ["ssm (heartbeat) is not proven usable"],
                 id="heartbeat-unknown"),
    pytest.param("running", (R, U, B), OK, UNKNOWN,
                 ["no message channel is proven usable"], id="channel-unknown"),
    pytest.param("running", (R, R, R), AS_AUDITED, UNKNOWN,
                 ["credentials not proven", "permissions not proven"],
                 id="credentials-permissions-unknown-never-manageable"),
    pytest.param("running", (R, R, R), {**OK, "imds": "unknown"}, UNKNOWN,
                 ["imds not proven"], id="imds-unknown"),
    pytest.param("stopped", (R, R, R), OK, NOT_APPLICABLE, ["instance is stopped"],
                 id="stopped"),
    pytest.param("stopped", (B, B, B), OK, NOT_APPLICABLE,
                 ["instance is stopped", "ssm (heartbeat) is blocked or refused",
                  "no message channel (ssmmessages, ec2messages) is both reachable and allowed"],
                 id="stopped-and-blocked-is-not-applicable"),
    pytest.param("terminated", (U, U, U), AS_AUDITED, NOT_APPLICABLE,
                 ["instance is terminated", "ssm (heartbeat) is not proven usable",
                  "no message channel is proven usable", "credentials not proven",
                  "permissions not proven"], id="terminated"),
]


@pytest.mark.parametrize(("state", "statuses", "parts", "verdict", "reasons"), DECIDE_CASES)
def test_decide(state, statuses, parts, verdict, reasons):
    assert decide(state, services(*statuses), parts) == (verdict, reasons)


# --- through run_audit ----------------------------------------------------------------------


def audited_estate():
    b = EstateBuilder()
    vpc = b.vpc("10.0.0.0/16")
    public = b.subnet(vpc, "10.0.0.0/24")
    private = b.subnet(vpc, "10.0.10.0/24")
    endpoints = b.subnet(vpc, "10.0.20.0/24", "b")
    b.route_table(vpc, [public], [("0.0.0.0/0", b.internet_gateway(vpc))])
    b.route_table(vpc, [private], [("0.0.0.0/0", b.nat_gateway(public))])
    b.role("agent", attached=["AmazonSSMManagedInstanceCore"])
    b.instance_profile("role", ["agent"])
    open_group = b.security_group(vpc, "open")
    locked = b.security_group(vpc, "locked", egress=[("tcp", 5432, 5432, "10.0.0.0/16")])
    names = {
        "healthy": b.instance(private, [open_group], instance_profile="role"),
        "stopped": b.instance(private, [open_group], state="stopped", instance_profile="role"),
        "imds-disabled": b.instance(private, [open_group], http_endpoint="disabled",
                                    instance_profile="role"),
        "locked-egress": b.instance(private, [locked], instance_profile="role"),
        "no-public-ip": b.instance(public, [open_group], instance_profile="role"),
        "no-profile": b.instance(private, [open_group]),
    }
    # ssmmessages by an endpoint that refuses the agent; ec2messages still via the NAT.
    closed = b.security_group(vpc, "closed")
    b.interface_endpoint(vpc, "ssmmessages", [endpoints], [closed])
    return build_estate(b.raw()), names


@pytest.mark.parametrize(("name", "verdict", "reason", "credentials"), [
    pytest.param("healthy", MANAGEABLE, None, "ok", id="fully-proven-is-manageable"),
    pytest.param("stopped", NOT_APPLICABLE, "instance is stopped", "ok", id="stopped"),
    pytest.param("imds-disabled", NOT_MANAGEABLE, "imds check failed", "fail",
                 id="imds-disabled"),
    pytest.param("locked-egress", NOT_MANAGEABLE, "ssm (heartbeat) is blocked or refused", "ok",
                 id="custom-egress-blocks-everything"),
    pytest.param("no-public-ip", NOT_MANAGEABLE, "ssm (heartbeat) is blocked or refused", "ok",
                 id="igw-without-public-ip"),
    pytest.param("no-profile", NOT_MANAGEABLE, "credentials check failed", "fail",
                 id="no-profile-and-no-dhmc"),
])
def test_run_audit_verdicts(name, verdict, reason, credentials):
    estate, names = audited_estate()
    report = run_audit([estate], [names[name]], SourceDescription("test"))
    [audit] = report.instances
    assert audit.verdict == verdict
    assert reason in audit.verdict_reasons if reason else audit.verdict_reasons == []
    assert audit.credentials.status == credentials


def test_healthy_instance_channel_carried_by_ec2messages():
    estate, names = audited_estate()
    [audit] = run_audit([estate], [names["healthy"]], SourceDescription("test")).instances
    statuses = {s: (p.status, p.via) for s, p in audit.services.items()}
    assert statuses == {"ssm": (R, "nat_gateway"),
                        "ssmmessages": (B, "interface_endpoint"),
                        "ec2messages": (R, "nat_gateway")}
    assert audit.verdict == MANAGEABLE
    assert "ENDPOINT_SG_INGRESS_BLOCKS" in {f.code for f in audit.findings}


def test_a_channel_counts_only_when_reachable_and_allowed():
    services_ = services(R, B, R)  # ssmmessages unreachable, ec2messages reachable
    permitted = {"ssm": "ok", "ssmmessages": "ok", "ec2messages": "fail"}
    assert decide("running", services_, OK, permitted) == (
        NOT_MANAGEABLE, ["no message channel (ssmmessages, ec2messages) is both reachable and "
                         "allowed"])


def test_an_old_agent_knows_only_ec2messages():
    services_ = services(R, R, B)
    assert decide("running", services_, OK, None, ("ec2messages",))[0] == NOT_MANAGEABLE
    assert decide("running", services_, OK)[0] == MANAGEABLE


def test_whole_report_exits_one_when_one_instance_is_not_manageable():
    estate, _ = audited_estate()
    report = run_audit([estate], None, SourceDescription("test"))
    assert MANAGEABLE in {audit.verdict for audit in report.instances}
    assert report.exit_code() == 1


def test_report_of_manageable_and_not_applicable_exits_zero():
    estate, names = audited_estate()
    report = run_audit([estate], [names["healthy"], names["stopped"]], SourceDescription("test"))
    assert [audit.verdict for audit in report.instances] == [MANAGEABLE, NOT_APPLICABLE]
    assert report.exit_code() == 0
