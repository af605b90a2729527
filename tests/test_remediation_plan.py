"""The plan file: what the planner writes, the CDK app and the verifier read back."""

import json

import pytest

from auditor.errors import UsageError
from auditor.remediation.plan import (
    EndpointsEntry,
    FixedFinding,
    ManualStep,
    NaclEntryEntry,
    Plan,
    dump,
    load_plan,
    plan_from_dict,
)


def _plan() -> Plan:
    return Plan(
        account_id="123456789012", regions=["eu-west-1"],
        endpoints=[EndpointsEntry("endpoints-vpc-1", "eu-west-1", "vpc-1", ["10.0.0.0/16"],
                                  ["ssm", "ssmmessages"], ["subnet-1"], ["eu-west-1a"],
                                  allow_from_security_groups=["sg-1"],
                                  fixes=[FixedFinding("i-1", "NO_ROUTE_TO_DESTINATION", "rtb-1")])],
        nacl_entries=[NaclEntryEntry("nacl-acl-1-egress-100", "eu-west-1", "acl-1", 100, True,
                                     "6", "10.0.0.0/16", 443, 443)],
        manual_steps=[ManualStep("manual-1", "eu-west-1", "NO_INSTANCE_PROFILE", "i-1",
                                 "associate_instance_profile", {"instance_id": "i-1"},
                                 "aws ec2 associate-iam-instance-profile ...")])


def test_a_plan_written_reads_back_equal(tmp_path):
    path = tmp_path / "plan.json"
    dump(_plan(), path)
    assert load_plan(path) == _plan()
    assert json.loads(path.read_text())["kind"] == "ssm-auditor-remediation-plan"


def test_an_empty_plan_says_so():
    assert Plan("1", ["eu-west-1"]).is_empty()
    assert not _plan().is_empty()


def _broken(change) -> dict:
    data = _plan().to_dict()
    change(data)
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("kind"), "not an ssm-auditor remediation plan"),
    (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
    (lambda d: d.pop("account_id"), '"account_id" is missing'),
    (lambda d: d["endpoints"][0].pop("vpc_id"), 'endpoints[0]: "vpc_id" is missing'),
    (lambda d: d["nacl_entries"][0].update(rule_number="100"), '"rule_number" should be int'),
    (lambda d: d["nacl_entries"][0].update(from_port=True), '"from_port" should be int'),
    (lambda d: d["nacl_entries"][0].update(egress=1), '"egress" should be bool'),
    (lambda d: d["endpoints"][0].update(colour="red"), 'unknown field "colour"'),
    (lambda d: d["endpoints"][0]["fixes"][0].pop("code"), 'fixes[0]: "code" is missing'),
    (lambda d: d["manual_steps"][0].update(id="endpoints-vpc-1"), "used twice"),
])
def test_a_bad_plan_is_named_in_one_line(change, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_from_dict(_broken(change))


def test_an_unreadable_plan_file_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load_plan(tmp_path / "missing.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe{not json")
    with pytest.raises(UsageError, match="not a readable JSON file"):
        load_plan(garbage)
