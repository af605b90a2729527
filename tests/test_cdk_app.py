"""app.py as `cdk` runs it: no plan, a bad plan, a good plan; and the pinned CDK CLI itself
(node_modules/.bin/cdk, installed by scripts/setup_cdk_cli.sh) synthesizing a plan offline,
listing, checking and bootstrapping (against a moto server) with no plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import remediation_plans as plans
from tests.checks import assert_one_line_error

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def offline_environment(tmp_path: Path) -> dict[str, str]:
    """No credentials, no profile, no metadata service, AWS unreachable: synth must need none."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "CDK_"))}
    env.update({
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # the discard port: any call is refused
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "NODE_NO_WARNINGS": "1",
    })
    return env


def run_app(tmp_path: Path, context: dict[str, str]) -> subprocess.CompletedProcess:
    """app.py as the CLI starts it: context and output folder in CDK_* variables."""
    env = offline_environment(tmp_path)
    env.update({"CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path / "out")})
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def templates_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.template.json"))


def test_no_plan_nothing_to_deploy_and_says_how_to_give_one(tmp_path: Path) -> None:
    """Only the placeholder, without a resource: the CLI's commands that need a stack work
    (bootstrap, ls), and deploy skips it."""
    result = run_app(tmp_path, {})

    assert result.returncode == 0, result.stderr
    assert "no plan given, no stack to deploy" in result.stderr
    assert "-c plan=plan.json" in result.stderr
    assert templates_in(tmp_path / "out") == ["SsmAuditor-NoPlan.template.json"]
    placeholder = json.loads((tmp_path / "out" / "SsmAuditor-NoPlan.template.json").read_text())
    assert not placeholder.get("Resources")
    assert "no remediation plan given" in placeholder["Description"]


def test_pinned_cdk_cli_lists_and_doctors_without_a_plan(tmp_path: Path) -> None:
    env = offline_environment(tmp_path)
    listed = subprocess.run([str(CDK), "ls", "-o", str(tmp_path / "cdk.out")], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600, check=False)
    doctor = subprocess.run([str(CDK), "doctor"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600, check=False)

    assert (listed.returncode, listed.stdout) == (0, "SsmAuditor-NoPlan\n"), listed.stderr
    assert doctor.returncode == 0, doctor.stderr
    assert "CDK CLI Version" in doctor.stdout + doctor.stderr


@pytest.mark.usefixtures("fake_aws")
# moto's CloudFormation skips the staging bucket's policy, which it does not implement; nothing
# here needs it, and nothing else had to be patched for the bootstrap stack.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS.+S3.+BucketPolicy")
def test_pinned_cdk_cli_bootstraps_without_a_plan_and_deploys_nothing(
        moto_server: str, tmp_path: Path) -> None:
    """`cdk bootstrap aws://ACCOUNT/REGION`, the first command of every CDK user, in the
    project directory and against a moto server; then `cdk deploy --all` with no plan creates
    no stack."""
    import boto3

    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
           "NODE_NO_WARNINGS": "1"}
    account, region = "123456789012", "us-east-1"  # moto's account
    bootstrap = subprocess.run(
        [str(CDK), "bootstrap", f"aws://{account}/{region}", "-o", str(tmp_path / "cdk.out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    # The CLI logs to stdout when CI=true and to stderr otherwise.
    logged = bootstrap.stdout + bootstrap.stderr
    assert f"Environment aws://{account}/{region} bootstrapped" in logged
    cloudformation = boto3.client("cloudformation", region_name=region)
    [toolkit] = cloudformation.describe_stacks(StackName="CDKToolkit")["Stacks"]
    assert toolkit["StackStatus"] == "CREATE_COMPLETE"
    version = boto3.client("ssm", region_name=region).get_parameter(
        Name="/cdk-bootstrap/hnb659fds/version")["Parameter"]["Value"]
    assert int(version) > 0

    deploy = subprocess.run(
        [str(CDK), "deploy", "--all", "--require-approval", "never",
         "-o", str(tmp_path / "cdk.out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "has no resources, skipping deployment" in deploy.stdout + deploy.stderr
    stacks = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert stacks == {"CDKToolkit"}


@pytest.mark.parametrize(("content", "words"), [
    (None, ("no such file",)),
    ("{not json", ("not a readable JSON file",)),
    (json.dumps({"kind": "something else"}), ("not an ssm-auditor remediation plan",)),
    (json.dumps({**plans.empty_plan(), "endpoints": [plans.endpoints_entry(
        allow_from_security_groups=[], allow_from_cidrs=["0.0.0.0/0"])]}),
     ("refuses 0.0.0.0/0",)),
    # Read by the auditor's bounded reader: the CDK app printed a traceback for these.
    (json.dumps({**plans.empty_plan(), "role_policies": [{
        "id": "p", "role_name": "r", "policy_name": "p",
        "statements": [json.loads("[" * 900 + "]" * 900)]}]}), ("nests deeper",)),
    (json.dumps({**plans.empty_plan(), "security_group_rules": [{
        "id": "r", "region": "eu-west-1", "group_id": "sg-1", "direction": "egress",
        "protocol": "tcp", "from_port": 10**4000, "to_port": 443}]}), ("out of range",)),
    ('{"kind": 1' + "1" * 5000 + "}", ("integer",)),
    ("", ("not a readable JSON file",)),
], ids=["missing", "not-json", "not-a-plan", "refused-entry", "deep", "huge-port",
        "huge-integer", "empty-file"])
def test_bad_plan_is_one_line_and_exit_2(tmp_path: Path, content: str | None,
                                        words: tuple[str, ...]) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    result = run_app(tmp_path, {"plan": str(path)})

    assert_one_line_error(result.returncode, result.stderr, "ssm-auditor cdk app: ", *words)
    assert templates_in(tmp_path / "out") == []


def test_an_empty_plan_value_is_one_line(tmp_path: Path) -> None:
    result = run_app(tmp_path, {"plan": ""})

    assert_one_line_error(result.returncode, result.stderr, "empty value")


def test_good_plan_synthesizes_and_prints_the_manual_steps(tmp_path: Path) -> None:
    plan = plans.write_plan(tmp_path / "plan.json", plans.full_plan())

    result = run_app(tmp_path, {"plan": str(plan)})

    assert result.returncode == 0, result.stderr
    assert templates_in(tmp_path / "out") == sorted(
        f"{name}.template.json" for name in (
            f"SsmAuditor-Endpoints-{plans.VPC}", "SsmAuditor-InstanceRole",
            "SsmAuditor-NaclEntries-eu-west-1", "SsmAuditor-Routes-eu-west-1",
            "SsmAuditor-SecurityGroupRules-eu-west-1"))
    assert "after `cdk deploy`, run these steps" in result.stderr
    assert plans.associate_step()["command"] in result.stderr
    # The plan travels with the stacks, for `python -m auditor --verify-plan cdk.out`.
    assert (tmp_path / "out" / "ssm-auditor-plan.json").read_bytes() == plan.read_bytes()


def test_plan_with_only_manual_steps_deploys_nothing_and_says_so(tmp_path: Path) -> None:
    plan = plans.empty_plan()
    plan["manual_steps"] = [plans.associate_step()]
    path = plans.write_plan(tmp_path / "plan.json", plan)

    result = run_app(tmp_path, {"plan": str(path)})

    assert result.returncode == 0, result.stderr
    assert "has nothing for CloudFormation to deploy" in result.stderr
    assert plans.associate_step()["command"] in result.stderr
    assert templates_in(tmp_path / "out") == []


def test_unknown_synthesizer_is_one_line(tmp_path: Path) -> None:
    plan = plans.write_plan(tmp_path / "plan.json", plans.full_plan())

    result = run_app(tmp_path, {"plan": str(plan), "synthesizer": "fancy"})

    assert_one_line_error(result.returncode, result.stderr, "synthesizer 'fancy'",
                          "default, bootstrapless")


def test_pinned_cdk_cli_synthesizes_a_plan_offline(tmp_path: Path) -> None:
    assert CDK.exists(), "node_modules/.bin/cdk missing: run bash scripts/setup_cdk_cli.sh"
    plan = plans.write_plan(tmp_path / "plan.json", plans.full_plan())
    out = tmp_path / "cdk.out"

    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "-c", f"plan={plan}", "-o", str(out)],
        cwd=ROOT, env=offline_environment(tmp_path), capture_output=True, text=True,
        timeout=600, check=False)

    assert result.returncode == 0, result.stderr
    assert "Successfully synthesized" in result.stderr + result.stdout
    assert len(templates_in(out)) == 5
    template = json.loads((out / "SsmAuditor-InstanceRole.template.json").read_text())
    assert template["Resources"] and template["Metadata"]["SsmAuditor"]["instances_fixed"]
    version = subprocess.run([str(CDK), "--version"], env=offline_environment(tmp_path),
                             capture_output=True, text=True, check=True, timeout=120)
    assert version.stdout.startswith(json.loads((ROOT / "package.json").read_text())
                                     ["devDependencies"]["aws-cdk"])


def test_the_auditor_audits_and_plans_without_loading_cdk(tmp_path: Path) -> None:
    """The auditor runs where there is no Node: planning must not import the CDK app's stack."""
    plan = str(tmp_path / "p.json")
    code = ("import sys\n"
            "from auditor.cli import main\n"
            f"main(['--all', '--snapshot', 'demo/estate', '--plan', {plan!r}])\n"
            "loaded = {m.split('.')[0] for m in sys.modules}\n"
            "cdk = loaded & {'aws_cdk', 'constructs', 'cdk_nag', 'jsii', 'stacks'}\n"
            "print('cdk modules loaded:', sorted(cdk), file=sys.stderr)\n"
            "sys.exit(1 if cdk else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr[-500:]
    assert "cdk modules loaded: []" in result.stderr
    assert Path(plan).is_file()
