"""Hostile and broken templates and cdk.out folders (issue 17): one line and exit 2, or a
bounded answer in which nothing is proved that was not, never a traceback, a hang or an
exhausted memory. The limits are CloudFormation's own where it has them (auditor/limits.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor import limits
from auditor.cli import main
from tests.checks import assert_one_line_error
from tests.prelaunch_helpers import entry, isolated_template, prelaunch, write
from tests.test_bounded_read import ALIAS_BOMB

TEMPLATES = Path(__file__).parent / "templates"


def _fails(capsys, path: Path | str, *words: str) -> str:
    code = main(["prelaunch", str(path)])
    err = capsys.readouterr().err
    assert_one_line_error(code, err, *words)
    assert "internal error" not in err
    return err


# --- the file ----------------------------------------------------------------------------------


def test_an_alias_bomb_in_unread_metadata_is_refused_at_once(tmp_path, capsys):
    # 1.3 KB that expands to 387 million strings: it used to be expanded whole (17 s, 540 MB)
    # to look for a region in the template's text.
    path = tmp_path / "bomb.yaml"
    path.write_text("Metadata:\n" + "".join(f"  {line}\n" for line in ALIAS_BOMB.splitlines())
                    + "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    _fails(capsys, path, "bomb.yaml (line", "values after expansion limit")


@pytest.mark.parametrize("text, words", [
    ('{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": ' + "[" * 5000
     + "]" * 5000 + "}}}", ("nests deeper",)),
    ('{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": ' + "[" * 70
     + "]" * 70 + "}}}", ("Resources.T.Metadata", "nests deeper")),
    ('{"Resources": {"I": {"Type": "AWS::EC2::Instance", "Properties": {"MetadataOptions": '
     '{"HttpPutResponseHopLimit": Infinity}}}}}', ("Infinity is not a JSON number",)),
    ('{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": ' + "7" * 4301 + "}}}",
     ("an integer of 4,301 digits",)),
    ('{"Resources": {"T": {"Type": "AWS::SNS::Topic"}, "T": {"Type": "AWS::EC2::Instance"}}}',
     ("Resources: the key 'T' is written twice",)),
    ('{"Resources": {"I": {"Type": "AWS::EC2::Instance", "Properties": {"SubnetId": null}}}}',
     ("Resources.I.Properties.SubnetId", "'null' values are not allowed")),
])
def test_json_templates_past_a_limit_are_one_line(tmp_path, capsys, text, words):
    path = tmp_path / "template.json"
    path.write_text(text)
    _fails(capsys, path, "template.json", *words)


@pytest.mark.parametrize("text, words", [
    ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n  T:\n    Type: AWS::EC2::Instance\n",
     ("(line 4)", "the key 'T' is written twice in one mapping (lines 2 and 4")),
    ("Resources:\n  I:\n    Type: AWS::EC2::Instance\n    Properties:\n      SubnetId:\n",
     ("(line 5)", "'null' values are not allowed")),
    ("Resources:\n  I:\n    Type: AWS::EC2::Instance\n    Properties:\n      Hop: .nan\n",
     ("(line 5)", "not finite")),
    ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata: &m [1, *m]\n",
     ("an endless value",)),
])
def test_yaml_templates_past_a_limit_are_one_line(tmp_path, capsys, text, words):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    _fails(capsys, path, "template.yaml", *words)


def test_templates_past_cloudformation_s_size_and_resource_quotas_are_refused(tmp_path, capsys):
    resources = {f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(501)}
    _fails(capsys, write(tmp_path, {"Resources": resources}),
           "declares 501 resources", "resources per template limit (500")
    padded = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Metadata": {
        "Padding": "x" * limits.TEMPLATE_BYTES.value}}}}
    _fails(capsys, write(tmp_path, padded), "is larger than the template size limit")


def test_a_template_that_is_a_special_file_is_refused(capsys):
    _fails(capsys, "/dev/zero", "not a regular file")


# --- cdk.out -----------------------------------------------------------------------------------


def _assembly(tmp_path: Path, manifest: object) -> Path:
    folder = tmp_path / "cdk.out"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _stack(template_file: object, **extra) -> dict:
    return {"version": "36.0.0", "artifacts": {"App": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/eu-west-1",
        "properties": {"templateFile": template_file, **extra}}}}


@pytest.mark.parametrize("manifest, where", [
    ([], "manifest.json: the top level: expected a mapping, found a list"),
    ({"artifacts": []}, "manifest.json: artifacts: expected a mapping, found a list"),
    ({"artifacts": {"App": "x"}}, "manifest.json: artifacts.App: expected a mapping, found text"),
    (_stack(7), "artifacts.App.properties.templateFile: expected text, found a number"),
    (_stack("App.template.json", stackName=["a"]),
     "artifacts.App.properties.stackName: expected text, found a list"),
])
def test_a_manifest_of_the_wrong_shape_names_the_file_the_path_and_what_was_expected(
        tmp_path, capsys, manifest, where):
    _fails(capsys, _assembly(tmp_path, manifest), "cdk.out manifest", where)


def test_a_cdk_out_template_that_is_dev_zero_is_refused_not_read(tmp_path, capsys):
    folder = _assembly(tmp_path, _stack("App.template.json"))
    (folder / "App.template.json").symlink_to("/dev/zero")
    _fails(capsys, folder, "App.template.json is not a regular file")
    _fails(capsys, _assembly(tmp_path, _stack("/dev/zero")), "outside the cloud assembly")
    _fails(capsys, _assembly(tmp_path, _stack("../../etc/passwd")), "outside the cloud assembly")


def test_a_manifest_that_is_too_large_or_nested_in_itself_is_bounded(tmp_path, capsys):
    folder = _assembly(tmp_path, {"artifacts": {"Me": {
        "type": "cdk:cloud-assembly", "properties": {"directoryName": "."}}}})
    _fails(capsys, folder, "holds no CloudFormation template")  # not an endless recursion
    (folder / "manifest.json").write_text(" " * (limits.MANIFEST_BYTES.value + 1))
    _fails(capsys, folder, "is larger than the cdk.out manifest size limit")


# --- intrinsics at CloudFormation's limits -----------------------------------------------------


def test_fn_cidr_counts_outside_1_to_256_are_unresolved(tmp_path, capsys):
    template = isolated_template()
    subnet = template["Resources"]["AppSubnet"]["Properties"]
    for count, verdict in ((256, "manageable"), (257, "unknown"), (10**100, "unknown")):
        subnet["CidrBlock"] = {"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", count, 8]}]}
        _, report = prelaunch(capsys, str(write(tmp_path, template)))
        assert entry(report, "App")["verdict"] == verdict, count
    assert "Fn::Cidr count 1000000" in report["unresolved"]["subnet-AppSubnet"]


def _looping(items: int) -> dict:
    return {"Transform": "AWS::LanguageExtensions", "Resources": {
        "Fn::ForEach::Topics": ["Name", [f"T{i}" for i in range(items)],
                                {"Topic${Name}": {"Type": "AWS::SNS::Topic"}}]}}


def test_a_loop_of_another_form_is_one_line(tmp_path, capsys):
    # found by the fuzzer: a line of a public template's loop written twice (four items)
    text = (TEMPLATES / "public" / "foreach_network_test.yaml").read_text().replace(
        "    - SubnetKey\n", "    - SubnetKey\n    - SubnetKey\n", 1)
    path = tmp_path / "loop.yaml"
    path.write_text(text)
    _fails(capsys, path, "Fn::ForEach::EC2Instances is not of the form Fn::ForEach takes")


def test_fn_foreach_makes_at_most_what_cloudformation_accepts(tmp_path, capsys):
    _, report = prelaunch(capsys, str(write(tmp_path, _looping(500))))
    assert report["instances"] == []
    _fails(capsys, write(tmp_path, _looping(501)),
           "Fn::ForEach::Topics makes more copies than the resources per template limit")
    nested = {"Transform": "AWS::LanguageExtensions", "Resources": {
        "Fn::ForEach::Outer": ["A", [f"a{i}" for i in range(30)], {
            "Fn::ForEach::Inner": ["B", [f"b{i}" for i in range(30)],
                                   {"T${A}${B}": {"Type": "AWS::SNS::Topic"}}]}]}}
    _fails(capsys, write(tmp_path, nested), "makes more copies than")


def test_a_chain_of_conditions_deeper_than_the_resolution_limit_is_unknown(tmp_path, capsys):
    template = isolated_template()
    depth = limits.RESOLUTION_DEPTH.value * 3
    template["Conditions"] = {f"C{i}": {"Fn::Not": [{"Condition": f"C{i + 1}"}]}
                              for i in range(depth)}
    template["Conditions"][f"C{depth}"] = {"Fn::Equals": ["a", "a"]}
    template["Resources"]["App"]["Condition"] = "C0"
    status, report = prelaunch(capsys, str(write(tmp_path, template)))
    assert (status, entry(report, "App")["verdict"]) == (3, "unknown")
    assert "past the resolution depth limit" in report["unresolved"]["App"]


def test_a_stack_that_nests_itself_is_read_once(tmp_path, capsys):
    template = isolated_template()
    template["Resources"].update({f"Again{i}": {"Type": "AWS::CloudFormation::Stack",
                                                "Properties": {"TemplateURL": "self.json"}}
                                  for i in range(10)})
    path = write(tmp_path, template, "self.json")
    _, report = prelaunch(capsys, str(path))
    assert [i["instance_id"] for i in report["instances"]] == ["App"]  # not 10**5 of them
    assert all("already being read above it" in report["not_read"][f"Again{i}"]
               for i in range(10))


def test_a_nested_hierarchy_past_cloudformation_s_quota_is_not_read_past_it(tmp_path, capsys):
    # ten children of 400 resources each: CloudFormation deploys at most 2,500 resources of a
    # hierarchy in one operation
    child = {"Resources": {f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(400)}}
    for index in range(10):
        write(tmp_path, child, f"child{index}.json")
    parent = {"Resources": {f"Child{i}": {"Type": "AWS::CloudFormation::Stack",
                                          "Properties": {"TemplateURL": f"child{i}.json"}}
                            for i in range(10)}}
    _, report = prelaunch(capsys, str(write(tmp_path, parent, "parent.json")))
    unread = [key for key, why in report["not_read"].items()
              if "resources in a nested stack hierarchy limit" in why]
    assert unread == [f"Child{i}" for i in range(6, 10)]


# --- garbage is never an all clear ---------------------------------------------------------------


def _deny_policy(resources: dict) -> dict:
    """A separate policy denying the heartbeat to the instance's role."""
    resources["Lockdown"] = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "lockdown", "Roles": [{"Ref": "AppRole"}], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Action": "ssm:UpdateInstanceInformation",
                "Resource": "*"}]}}}
    return resources["Lockdown"]["Properties"]


def _acl_denying_all(resources: dict) -> dict:
    """A network ACL on the instance's subnet: rule 50 denies everything, rule 100 allows it."""
    resources["Acl"] = {"Type": "AWS::EC2::NetworkAcl", "Properties": {"VpcId": {"Ref": "Vpc"}}}
    resources["AclAssociation"] = {"Type": "AWS::EC2::SubnetNetworkAclAssociation", "Properties": {
        "SubnetId": {"Ref": "AppSubnet"}, "NetworkAclId": {"Ref": "Acl"}}}
    for number, action in ((50, "deny"), (100, "allow")):
        for egress in (True, False):
            resources[f"Acl{action}{egress}"] = {
                "Type": "AWS::EC2::NetworkAclEntry", "Properties": {
                    "NetworkAclId": {"Ref": "Acl"}, "RuleNumber": number, "Protocol": -1,
                    "RuleAction": action, "Egress": egress, "CidrBlock": "0.0.0.0/0"}}
    return resources["AcldenyTrue"]["Properties"]


CORRUPTIONS = [
    # (what blocks, how it is corrupted): each used to read as an all clear
    ("private DNS off", lambda r: [r[n]["Properties"].update(PrivateDnsEnabled=[1])
                                   for n in ("SsmEndpoint", "SsmMessagesEndpoint")]),
    ("metadata service off", lambda r: r["App"]["Properties"].update(
        MetadataOptions={"HttpEndpoint": "Disabled", "HttpTokens": "required"})),
    ("a deny, written with another Effect", lambda r: _deny_policy(r)["PolicyDocument"][
        "Statement"][0].update(Effect=5)),
    ("a deny whose Roles is text", lambda r: _deny_policy(r).update(Roles="AppRole")),
    ("a deny whose Properties are an unknown function", lambda r: r.update(Lockdown={
        "Type": "AWS::IAM::Policy",
        "Properties": {"Fn::NotAFunction": _deny_policy(r)}})),
    ("an ACL deny whose CIDR is a number", lambda r: _acl_denying_all(r).update(CidrBlock=0)),
    ("an ACL deny whose protocol is a word", lambda r: _acl_denying_all(r).update(
        Protocol="all-of-them")),
]


@pytest.mark.parametrize("blocked, corrupt", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_a_corrupted_value_never_unblocks_an_instance(tmp_path, capsys, blocked, corrupt):
    template = isolated_template()
    corrupt(template["Resources"])
    code = main(["prelaunch", str(write(tmp_path, template)), "--format", "json"])
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    if code != 2:
        assert entry(json.loads(captured.out), "App")["verdict"] != "manageable", blocked
