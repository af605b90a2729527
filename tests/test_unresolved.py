"""Estate.unresolved: an instance that depends on a value nobody knows yet is never proven."""

from __future__ import annotations

import pytest

from auditor.audit import run_audit
from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder


def _estate(unresolved: dict[str, str], egress_open: bool = True):
    builder = EstateBuilder(region="eu-west-1")
    vpc = builder.vpc("10.0.0.0/16")
    subnet = builder.subnet(vpc, "10.0.1.0/24")
    igw = builder.internet_gateway(vpc)
    table = builder.route_table(vpc, [subnet], [("0.0.0.0/0", igw)])
    other = builder.subnet(vpc, "10.0.2.0/24")
    group = builder.security_group(vpc, "app", egress=None if egress_open else [])
    builder.role("agent", attached=["AmazonSSMManagedInstanceCore"])
    builder.instance_profile("agent", ["agent"])
    instance = builder.instance(subnet, [group], public_ip="203.0.113.7",
                                instance_profile="agent")
    raw = builder.raw()
    names = {"group": group, "table": table, "igw": igw, "other": other, "role": "agent",
             "instance": instance}
    raw.unresolved = {names.get(key, key): reason for key, reason in unresolved.items()}
    return build_estate(raw), instance


@pytest.mark.parametrize("depends_on", ["group", "table", "igw", "role", "instance", "*"])
def test_a_manageable_instance_that_depends_on_an_unresolved_value_is_unknown(depends_on):
    estate, _ = _estate({depends_on: "parameter X has no value"})
    [audit] = run_audit([estate], None, SourceDescription("test")).instances
    assert audit.verdict == "unknown"
    assert any("parameter X has no value" in reason for reason in audit.verdict_reasons)
    assert "TEMPLATE_VALUE_UNRESOLVED" in {f.code for f in audit.findings}


def test_an_unrelated_unresolved_value_changes_nothing():
    estate, _ = _estate({"other": "parameter X has no value"})
    [audit] = run_audit([estate], None, SourceDescription("test")).instances
    assert audit.verdict == "manageable"
    assert "TEMPLATE_VALUE_UNRESOLVED" not in {f.code for f in audit.findings}


def test_a_blocker_resting_only_on_an_unresolved_value_is_unknown_not_a_verdict():
    estate, _ = _estate({"group": "its egress is imported"}, egress_open=False)
    [audit] = run_audit([estate], None, SourceDescription("test")).instances
    assert audit.verdict == "unknown"


def test_a_blocker_elsewhere_still_decides():
    estate, _ = _estate({"role": "its policy is imported"}, egress_open=False)
    [audit] = run_audit([estate], None, SourceDescription("test")).instances
    assert audit.verdict == "not_manageable"
    assert "SG_EGRESS_BLOCKS" in {f.code for f in audit.findings if f.severity == "error"}


def test_a_blocker_on_an_unresolved_resource_is_not_stated_as_a_fact():
    estate, _ = _estate({"group": "its egress is imported"}, egress_open=False)
    [audit] = run_audit([estate], None, SourceDescription("test")).instances
    blockers = [f for f in audit.findings if f.code == "SG_EGRESS_BLOCKS"]
    assert blockers
    assert all(f.severity == "warning" and "may not hold" in f.message for f in blockers)
    assert not [f for f in audit.findings if f.severity == "error"]
