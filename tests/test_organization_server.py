"""Organization mode end to end through HTTP: a moto server on 127.0.0.1 started and stopped by
the test (``moto_server`` in tests/conftest.py), the command line pointed at it with
``AWS_ENDPOINT_URL``, as a user's CI would run it.

The organization is tests/moto_organization.py's ``build_accounts`` (four accounts, an SCP on
the prod OU that denies the heartbeat, a member whose role cannot be assumed); the moto gaps it
patches are patched in the server too (it runs in this process). Systems Manager is stubbed on
the client side (``stub_ssm``).
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from auditor.cli import main
from tests.moto_estate import managed_node, stub_ssm
from tests.moto_organization import build_accounts, require_assumable_roles

REGIONS = ("us-east-1", "eu-west-1")

pytestmark = [pytest.mark.usefixtures("fake_aws"),
              pytest.mark.filterwarnings("ignore:Exception\\(STSClientError\\)",
                                         "ignore:Exception\\(OrganizationsClientError\\)")]


def test_an_organization_through_a_moto_server(moto_server: str, monkeypatch, capsys,
                                               tmp_path: Path) -> None:
    org = build_accounts(boto3.client("organizations", region_name=REGIONS[0]), REGIONS)
    require_assumable_roles(monkeypatch)
    stub_ssm(monkeypatch, None, [managed_node(iid) for estate in org.estates.values()
                                 for ids in estate.healthy.values() for iid in ids])
    selection = ["--regions", ",".join(REGIONS), "--concurrency", "8", "-q"]

    def audit(*argv: str) -> tuple[int, dict]:
        code = main(["--all", *argv, "--format", "json"])
        captured = capsys.readouterr()
        assert captured.err == "", captured.err
        return code, json.loads(captured.out)

    # The whole organization.
    code, whole = audit("--org", *selection)
    instances = {i["instance_id"]: i for i in whole["instances"]}
    locked = org.account("locked")
    assert set(instances) == set(org.all_instances()) - set(org.estates["locked"].instance_ids())
    for iid in org.estates["prod"].instance_ids():
        assert instances[iid]["account_id"] == org.account("prod")
        assert "SCP_DENIES" in {f["code"] for f in instances[iid]["findings"]}
    [management] = org.estates["management"].instance_ids()
    assert instances[management]["verdict"] == "manageable"
    failed = [u for u in whole["units"] if u["status"] == "error"]
    assert {u["account_id"] for u in failed} == {locked}
    assert all("AssumeRole" in u["error"] for u in failed)
    assert len(whole["units"]) == 8
    assert code == 1

    # --accounts: the management account alone is all clear.
    code, report = audit("--org", *selection, "--accounts", org.account("management"))
    assert [i["instance_id"] for i in report["instances"]] == [management]
    assert code == 0

    # --shard: two halves make the whole, without overlap.
    halves = [audit("--org", *selection, "--shard", f"{i}/2")[1] for i in (1, 2)]
    keys = [{(u["account_id"], u["region"]) for u in half["units"]} for half in halves]
    assert len(keys[0]) == len(keys[1]) == 4 and not keys[0] & keys[1]
    assert sorted(i["instance_id"] for half in halves for i in half["instances"]) == \
        sorted(instances)

    # The organization snapshot, captured through the server and audited offline.
    snapshot = tmp_path / "org"
    assert main(["snapshot", "--org", "--out", str(snapshot), *selection]) == 3
    captured = capsys.readouterr()
    assert f"could not read {locked}" in captured.out
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # offline from here on
    code, offline = audit("--snapshot", str(snapshot), "-q")
    assert code == 1
    assert sorted(offline["instances"], key=lambda i: i["instance_id"]) == \
        sorted(instances.values(), key=lambda i: i["instance_id"])
    assert [(u["account_id"], u["region"], u["status"], u["instances"])
            for u in offline["units"]] == [(u["account_id"], u["region"], u["status"],
                                            u["instances"]) for u in whole["units"]]
