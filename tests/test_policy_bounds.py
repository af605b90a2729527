"""Policy evaluation is bounded (issue 17): a policy with more patterns than IAM stores is not
evaluated (``limits.POLICY_PATTERNS``: unknown, never allowed), and the patterns of one
statement are matched as a set (``policy_patterns.GlobSet``: exact texts and ``prefix*`` by
lookup), which must decide exactly as the patterns one by one did. Its cost on 20,000
wildcard actions is measured by scripts/benchmark_policy.py, not timed here."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.analysis.iam_policy import (
    ALLOWED,
    UNKNOWN,
    RequestContext,
    evaluate_action,
    parse_policy,
)
from auditor.cli import main
from auditor.limits import POLICY_PATTERNS
from auditor.policy_patterns import GlobSet, compile_pieces
from tests.test_cli import healthy_estate

HEARTBEAT = "ssm:UpdateInstanceInformation"
CONTEXT_FREE = {"Version": "2012-10-17"}


def _many_actions(count: int, last: str = HEARTBEAT) -> dict:
    actions = [f"s{index}:Get*" for index in range(count - 1)] + [last]
    return {**CONTEXT_FREE, "Statement": [{"Effect": "Allow", "Action": actions,
                                           "Resource": "*"}]}


def test_a_policy_at_the_limit_is_evaluated() -> None:
    policy = parse_policy(_many_actions(POLICY_PATTERNS.value - 1), "big", "inline")
    decision = evaluate_action(HEARTBEAT, "*", RequestContext(region="eu-west-1"), [policy])
    assert decision.outcome == ALLOWED


@pytest.mark.parametrize("part", ["Action", "NotResource", "Condition"])
def test_a_policy_past_the_limit_is_refused_in_one_line(part: str) -> None:
    values = [f"s{index}:Get*" for index in range(POLICY_PATTERNS.value + 1)]
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    if part == "NotResource":
        del statement["Resource"]
        statement["NotResource"] = values
    elif part == "Condition":
        statement["Condition"] = {"StringLike": {"aws:PrincipalTag/x": values}}
    else:
        statement["Action"] = values
    with pytest.raises(ValueError, match="past the patterns per policy limit") as raised:
        parse_policy({**CONTEXT_FREE, "Statement": [statement]}, "huge", "inline")
    assert "\n" not in str(raised.value) and "policy huge" in str(raised.value)


def test_an_instance_whose_role_holds_such_a_policy_is_unknown_not_manageable(capsys,
                                                                             tmp_path) -> None:
    folder, _ = healthy_estate(tmp_path, inline={
        "huge": _many_actions(POLICY_PATTERNS.value + 5, "s3:GetObject")})

    code = main(["--all", "--snapshot", str(folder), "--format", "json"])

    [audited] = json.loads(capsys.readouterr().out)["instances"]
    assert code == 3 and audited["verdict"] == UNKNOWN
    [finding] = [f for f in audited["findings"] if f["code"] == "DATA_UNAVAILABLE"]
    assert "patterns per policy" in finding["message"] and "huge" in finding["message"]


# Letters of either case, the separators of actions and ARNs, and both wildcards.
_PATTERN = st.text(alphabet="aAbB:/*?", max_size=6)
_TEXT = st.text(alphabet="aAbB:/", max_size=6)


@given(st.lists(_PATTERN, max_size=6), _TEXT, st.booleans())
@settings(max_examples=400, derandomize=True, database=None)
def test_a_glob_set_decides_as_its_patterns_one_by_one(patterns, text, ignore_case) -> None:
    one_by_one = any(compile_pieces([(pattern, True)], wildcards=True, ignore_case=ignore_case,
                                    arn_parts=False).fullmatch(text) for pattern in patterns)
    assert GlobSet(tuple(patterns), ignore_case).matches(text) == one_by_one
