"""tools/deploy.py from its command line to its exit code, on CloudFormation, S3 and STS answers checked by
botocore's Stubber (every request and every answer against the service model, in the order the deploy sends)."""
import sys
import types

import pytest
from botocore.stub import ANY, Stubber

from tests.support import change_sets as cs
from tests.support.git_repo import commit, new_repository, without_outer_repository
from tools import deploy
from tools.deployment import events, upload

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ApplicationImageTag:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""
BUCKET = upload.BUCKET_NAME.format(account=cs.ACCOUNT, region=cs.REGION)
TOKEN = "deploy-00000000-0000-4000-8000-000000000000"
HORIZON = cs.event(0, cs.STACK, "UPDATE_COMPLETE", "deploy-earlier")
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


class Session:
    """What deploy() asks of a boto3 Session: a region and clients, here with a Stubber each."""

    def __init__(self):
        self.region_name = cs.REGION
        self.clients = {name: cs.client(name) for name in ("sts", "s3", "cloudformation")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def client(self, name, config=None):
        return self.clients[name]

    def answer(self, service, operation, response, expected):
        self.stubs[service].add_response(operation, response, expected)

    def fail(self, service, operation, code, message, expected, status=400):
        self.stubs[service].add_client_error(operation, code, message, status, expected_params=expected)

    # The deploy's calls, in order.
    def identity(self):
        self.answer("sts", "get_caller_identity", {"UserId": "AIDAEXAMPLE", "Account": cs.ACCOUNT,
                                                   "Arn": f"arn:aws:iam::{cs.ACCOUNT}:user/ci"}, {})

    def stack(self, status="UPDATE_COMPLETE", outputs=None, name=cs.STACK):
        stack = {"StackName": cs.STACK, "StackId": cs.STACK_ID, "CreationTime": cs.T0, "StackStatus": status}
        self.answer("cloudformation", "describe_stacks", {"Stacks": [stack | ({"Outputs": outputs} if outputs else {})]},
                    {"StackName": name})

    def no_stack(self):
        self.fail("cloudformation", "describe_stacks", "ValidationError", f"Stack with id {cs.STACK} does not exist",
                  {"StackName": cs.STACK})

    def own_bucket(self, region=None):
        self.answer("s3", "head_bucket", {}, {"Bucket": BUCKET, "ExpectedBucketOwner": cs.ACCOUNT})
        self.answer("s3", "get_bucket_location", {"LocationConstraint": region} if region else {},
                    {"Bucket": BUCKET, "ExpectedBucketOwner": cs.ACCOUNT})

    def uploaded(self):
        self.answer("s3", "put_object", {"ETag": '"0f1e"'},
                    {"Bucket": BUCKET, "Key": ANY, "Body": ANY, "ExpectedBucketOwner": cs.ACCOUNT})

    def change_set(self, changes=(), kind="UPDATE", reason=None):
        self.answer("cloudformation", "create_change_set", {"Id": cs.CHANGE_SET, "StackId": cs.STACK_ID}, {
            "StackName": cs.STACK, "ChangeSetName": ANY, "ChangeSetType": kind, "TemplateURL": ANY,
            "Parameters": [{"ParameterKey": "ApplicationImageTag", "ParameterValue": "1.2.3"}],
            "Capabilities": ["CAPABILITY_IAM"]})
        status = "FAILED" if reason else "CREATE_COMPLETE"
        self.answer("cloudformation", "describe_change_set", cs.described(changes, status=status, reason=reason),
                    {"ChangeSetName": cs.CHANGE_SET})  # the waiter
        if not reason:
            self.answer("cloudformation", "describe_change_set", cs.described(changes),
                        {"ChangeSetName": cs.CHANGE_SET})  # the plan's pages

    def discarded(self):
        self.answer("cloudformation", "delete_change_set", {}, {"ChangeSetName": cs.CHANGE_SET})

    def executed(self, *operation_events):
        self.answer("cloudformation", "describe_stack_events", {"StackEvents": [HORIZON]}, {"StackName": cs.STACK_ID})
        self.answer("cloudformation", "execute_change_set", {},
                    {"ChangeSetName": cs.CHANGE_SET, "ClientRequestToken": TOKEN})
        newest_first = sorted(operation_events, key=lambda e: e["Timestamp"], reverse=True)
        self.answer("cloudformation", "describe_stack_events", {"StackEvents": [*newest_first, HORIZON]},
                    {"StackName": cs.STACK_ID})

    def done(self):
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def update(status):
    return [cs.event(1, cs.STACK, "UPDATE_IN_PROGRESS", TOKEN, "User Initiated"),
            cs.event(95, cs.STACK, status, TOKEN)]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "stack.yml").write_text(TEMPLATE)
    (tmp_path / "dev.cfg").write_text("ApplicationImageTag=1.2.3\n")
    return tmp_path


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """A stubbed session for deploy(); the offline checks pass (their own tests are below); fixed token."""
    session = Session()
    monkeypatch.setattr(deploy.boto3, "Session", lambda region_name=None: session)
    monkeypatch.setattr(deploy.checks, "problems", lambda *_: [])
    monkeypatch.setattr(deploy.uuid, "uuid4", lambda: TOKEN.removeprefix("deploy-"))
    monkeypatch.setattr(deploy, "REPORTS", tmp_path / "reports")
    yield session
    session.done()


def run(project, *args):
    return deploy.main(["--stack-name", cs.STACK, "--template", str(project / "stack.yml"),
                        "--config", str(project / "dev.cfg"), *args])


def one_line(err):
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("deploy: ") and "Traceback" not in err
    return err.strip()


def prepared(aws, changes=(), kind="UPDATE"):
    aws.identity()
    if kind == "UPDATE":
        aws.stack()
    else:
        aws.no_stack()
    aws.own_bucket()
    aws.uploaded()
    aws.change_set(changes, kind)


def test_a_replaced_database_is_refused_with_exit_3_and_the_change_set_deleted(aws, project, capsys):
    prepared(aws, [*cs.NEW_IMAGE, cs.DATABASE_REPLACED])
    aws.discarded()
    assert run(project, "--yes") == deploy.REFUSED
    out, err = capsys.readouterr()
    assert "ApplicationDatabase" in out and "replace=True" in out  # the plan came first
    refused, summary = err.strip().splitlines()
    assert refused.startswith("REFUSED: ApplicationDatabase (AWS::RDS::DBInstance) would be replaced because of DBName")
    assert summary == "deploy: refused (1 stateful resource(s)); the change set was deleted, nothing changed"


def test_allowed_by_name_it_deploys_and_prints_the_outputs(aws, project, capsys):
    prepared(aws, [cs.DATABASE_REPLACED])
    aws.executed(*update("UPDATE_COMPLETE"))
    aws.stack(outputs=[{"OutputKey": "PublicURL", "OutputValue": "http://todob-Appli-1.elb.amazonaws.com"}],
              name=cs.STACK_ID)
    assert run(project, "--yes", "--allow-replacement", "ApplicationDatabase") == deploy.DEPLOYED
    out = capsys.readouterr().out
    assert f"uploaded stack.yml ({len(TEMPLATE):,} bytes) to s3://{BUCKET}/templates/{cs.STACK}/" in out
    assert f"  1:34  {cs.STACK}" in out and "UPDATE_COMPLETE" in out
    assert out.rstrip().endswith("PublicURL: http://todob-Appli-1.elb.amazonaws.com")


def test_a_cause_allowance_lets_a_conditional_database_update_through_and_names_what_it_did_not_need(
        aws, project, capsys):
    """The upgrade from before issue 16: AutoMinorVersionUpgrade true -> false is Conditional in the change set."""
    minor_upgrades_off = cs.change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "Conditional", [
        cs.detail("AutoMinorVersionUpgrade", "Conditionally")], policy="ReplaceAndSnapshot")
    prepared(aws, [minor_upgrades_off])
    aws.executed(*update("UPDATE_COMPLETE"))
    aws.stack(name=cs.STACK_ID)
    assert run(project, "--yes", "--allow-replacement", "ApplicationDatabase:AutoMinorVersionUpgrade",
               "ApplicationDatabase:DBName") == deploy.DEPLOYED
    out = capsys.readouterr().out
    assert ("note: --allow-replacement ApplicationDatabase:DBName: this change set neither replaces nor removes "
            "that") in out
    assert "AutoMinorVersionUpgrade: this change set" not in out


def test_a_cause_allowance_does_not_let_a_dbname_replacement_through(aws, project, capsys):
    prepared(aws, [cs.DATABASE_REPLACED])
    aws.discarded()
    assert run(project, "--yes", "--allow-replacement", "ApplicationDatabase:DBName") == deploy.REFUSED
    refused = capsys.readouterr().err.splitlines()[0]
    assert "The allowance names DBName, not DBSubnetGroupName." in refused


@pytest.mark.parametrize("allowance", ["*", "Db:", "$(touch x)"])
def test_an_allowance_that_is_no_id_or_id_property_is_a_usage_error(allowance, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    with pytest.raises(SystemExit) as exit_:
        deploy.main(["--stack-name", cs.STACK, "--allow-replacement", allowance])
    assert exit_.value.code == 2 and "is not LOGICAL_ID, LOGICAL_ID:PROPERTY or *:PROPERTY" in capsys.readouterr().err


def no_changes(aws):
    """An update whose change set holds nothing: deleted again."""
    aws.identity()
    aws.stack()
    aws.own_bucket()
    aws.uploaded()
    aws.change_set(reason=NO_CHANGES)
    aws.discarded()


def test_an_empty_change_set_is_no_changes_exit_0_and_deleted(aws, project, capsys):
    no_changes(aws)
    assert run(project, "--yes") == deploy.DEPLOYED
    assert capsys.readouterr().out.rstrip().endswith("no changes")


@pytest.mark.parametrize("suite, code", [(0, deploy.DEPLOYED), (1, deploy.FAILED)])
def test_with_smoke_and_no_changes_the_smoke_suite_still_runs(aws, project, capsys, monkeypatch, suite, code):
    """A re-run to verify a deployment is exactly when someone asks for --smoke."""
    no_changes(aws)
    ran = []
    monkeypatch.setattr(deploy.subprocess, "run", lambda command, **kw: ran.append(command) or
                        types.SimpleNamespace(returncode=suite))
    assert run(project, "--yes", "--smoke") == code
    [command] = ran
    assert command[-4:] == ["--stack-name", cs.STACK, "--region", cs.REGION]
    out = capsys.readouterr().out
    assert out.index("no changes") < out.index("smoke suite: ")


def test_a_change_set_that_fails_otherwise_is_one_line_and_exit_2(aws, project, capsys):
    aws.identity()
    aws.stack()
    aws.own_bucket()
    aws.uploaded()
    aws.change_set(reason="Parameter validation failed:\nparameter value vpc-0 for parameter name VpcId does not exist")
    aws.discarded()
    assert run(project, "--yes") == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == (
        "deploy: CloudFormation could not create the change set: Parameter validation failed: "
        "parameter value vpc-0 for parameter name VpcId does not exist")


def test_a_failed_update_prints_the_doctors_report_and_exits_1(aws, project, capsys, monkeypatch, tmp_path):
    prepared(aws, cs.NEW_IMAGE)
    aws.executed(*update("UPDATE_ROLLBACK_COMPLETE"))
    asked = []

    def diagnose(stack_name, region=None, output_format="text", session=None):
        asked.append((stack_name, region, session))
        return 1, "PROBLEM: The migration failed [migration-failed]\n  MigrateTask: exit code 1"

    monkeypatch.setattr(deploy.doctor, "diagnose", diagnose)
    assert run(project, "--yes") == deploy.FAILED
    out, err = capsys.readouterr()
    assert asked == [(cs.STACK, cs.REGION, aws)]  # in process, with the deploy's own session
    assert err == f"deploy: {cs.STACK} ended UPDATE_ROLLBACK_COMPLETE; the doctor's diagnosis follows\n"
    assert "PROBLEM: The migration failed [migration-failed]" in out
    saved = tmp_path / "reports" / f"doctor-{cs.STACK}.txt"
    assert saved.read_text().startswith("PROBLEM: The migration failed")


def test_the_smoke_suites_exit_code_decides(aws, project, monkeypatch):
    prepared(aws, cs.NEW_IMAGE)
    aws.executed(*update("UPDATE_COMPLETE"))
    aws.stack(name=cs.STACK_ID)
    ran = []
    monkeypatch.setattr(deploy.subprocess, "run", lambda command, **kw: ran.append(command) or
                        types.SimpleNamespace(returncode=1))
    assert run(project, "--yes", "--smoke") == deploy.FAILED
    [command] = ran
    assert command[:3] == [sys.executable, "-m", "pytest"]
    assert command[3] == "tests/integration" and command[-4:] == ["--stack-name", cs.STACK, "--region", cs.REGION]


def test_ctrl_c_stops_watching_without_cancelling_and_says_how_to_follow_or_cancel(aws, project, capsys, monkeypatch):
    prepared(aws, cs.NEW_IMAGE)
    aws.answer("cloudformation", "describe_stack_events", {"StackEvents": [HORIZON]}, {"StackName": cs.STACK_ID})
    aws.answer("cloudformation", "execute_change_set", {}, {"ChangeSetName": cs.CHANGE_SET, "ClientRequestToken": TOKEN})

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(events.EventStream, "follow", interrupted)
    assert run(project, "--yes") == deploy.FAILED  # nothing else is sent: the stubs would refuse a cancel
    err = capsys.readouterr().err
    assert "the update goes on in CloudFormation (not cancelled)" in err
    assert f"aws cloudformation describe-stack-events --stack-name {cs.STACK} --region {cs.REGION}" in err
    assert f"aws cloudformation cancel-update-stack --stack-name {cs.STACK} --region {cs.REGION}" in err


def test_without_a_terminal_and_without_yes_nothing_is_executed(aws, project, capsys, monkeypatch):
    prepared(aws, cs.NEW_IMAGE)
    aws.discarded()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: False))
    assert run(project) == deploy.UNUSABLE
    assert "pass --yes" in one_line(capsys.readouterr().err)


def test_a_new_stack_is_created_and_a_declined_create_deletes_the_empty_stack(aws, project, capsys, monkeypatch):
    prepared(aws, [cs.change("Add", "Topic", "AWS::SNS::Topic")], kind="CREATE")
    aws.discarded()
    aws.answer("cloudformation", "delete_stack", {}, {"StackName": cs.STACK_ID})
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert run(project) == deploy.FAILED
    assert "not executed; the change set was deleted" in capsys.readouterr().out


# ---- unusable input: one line on stderr, exit 2, no traceback --------------------------------------------------

def test_a_missing_stack_for_an_update(aws, project, capsys):
    aws.identity()
    aws.no_stack()
    assert run(project, "--update") == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == (
        f"deploy: stack {cs.STACK} does not exist: --update needs a deployed stack (wrong --region or stack name?)")


def test_a_stack_whose_rollback_failed_says_to_continue_it(aws, project, capsys):
    aws.identity()
    aws.stack("UPDATE_ROLLBACK_FAILED")
    assert run(project) == deploy.UNUSABLE
    assert f"continue-update-rollback --stack-name {cs.STACK}" in one_line(capsys.readouterr().err)


def test_interrupted_before_execution_the_change_set_is_deleted(aws, project, capsys, monkeypatch):
    prepared(aws, cs.NEW_IMAGE)
    aws.discarded()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: True))

    def ctrl_c(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", ctrl_c)
    assert run(project) == deploy.FAILED
    assert capsys.readouterr().err.strip() == (
        "deploy: interrupted before execution; the change set was deleted, nothing changed")


def test_a_stack_whose_create_failed(aws, project, capsys):
    aws.identity()
    aws.stack("ROLLBACK_COMPLETE")
    assert run(project) == deploy.UNUSABLE
    assert "is ROLLBACK_COMPLETE and cannot be updated" in one_line(capsys.readouterr().err)


def test_a_bucket_in_another_region(aws, project, capsys):
    aws.identity()
    aws.stack()
    aws.answer("s3", "get_bucket_location", {"LocationConstraint": "eu-west-1"}, {"Bucket": "my-templates"})
    assert run(project, "--bucket", "my-templates") == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == (
        "deploy: bucket my-templates is in eu-west-1, the stack in us-east-1: pass --bucket with a bucket in us-east-1")


def test_a_deploy_bucket_name_taken_by_another_account(aws, project, capsys):
    aws.identity()
    aws.stack()
    aws.fail("s3", "head_bucket", "403", "Forbidden", {"Bucket": BUCKET, "ExpectedBucketOwner": cs.ACCOUNT}, 403)
    assert run(project) == deploy.UNUSABLE
    assert "pass --bucket" in one_line(capsys.readouterr().err)


def test_access_denied(aws, project, capsys):
    aws.identity()
    aws.fail("cloudformation", "describe_stacks", "AccessDenied", "User is not authorized to perform: "
             "cloudformation:DescribeStacks", {"StackName": cs.STACK}, 403)
    assert run(project) == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == (
        f"deploy: preparing stack {cs.STACK} in us-east-1: AccessDenied: User is not authorized to perform: "
        "cloudformation:DescribeStacks")


def test_no_credentials(project, capsys, monkeypatch, tmp_path):
    """A real boto3 Session with nothing to sign with: botocore raises before anything is sent."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", cs.REGION)
    (tmp_path / "empty").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
    monkeypatch.setattr(deploy.checks, "problems", lambda *_: [])
    assert run(project) == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == (
        f"deploy: no AWS credentials for preparing stack {cs.STACK} in us-east-1: configure a profile or AWS_* variables")


def no_aws(*_, **__):
    raise AssertionError("an AWS session was opened")


def test_an_unreadable_config_stops_before_any_aws_call(project, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    assert deploy.main(["--stack-name", cs.STACK, "--template", str(project / "stack.yml"),
                        "--config", str(project / "missing.cfg")]) == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == f"deploy: cannot read {project / 'missing.cfg'}: No such file or directory"


def test_a_config_finding_stops_before_any_aws_call(project, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    (project / "dev.cfg").write_text("ApplicationImageTag=1.2.3\nVpcId=vpc-0\n")
    assert run(project, "--yes") == deploy.UNUSABLE
    finding, summary = capsys.readouterr().err.strip().splitlines()
    assert finding.endswith("dev.cfg:2: VpcId is not a parameter of the template")
    assert summary == "deploy: 1 finding(s) in the offline checks: nothing was sent to AWS"


def test_a_cfn_lint_finding_stops_before_any_aws_call(project, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    (project / "stack.yml").write_text(TEMPLATE + "    Properties:\n      TopicNam: todo\n")
    assert run(project, "--yes") == deploy.UNUSABLE
    err = capsys.readouterr().err
    assert "E3002" in err and "TopicNam" in err
    assert err.strip().splitlines()[-1].endswith("in the offline checks: nothing was sent to AWS")


@pytest.mark.parametrize("allowed, code", [((), deploy.REFUSED), (("--allow-replacement", "Database"), deploy.DEPLOYED)])
def test_plan_offline_predicts_from_the_git_history_of_the_config(tmp_path, capsys, monkeypatch, allowed, code):
    """The command CI runs on pull requests, end to end on a throwaway repository: DBName is create-only."""
    without_outer_repository(monkeypatch)
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    new_repository(tmp_path)
    for name in ("todos", "items"):
        commit(tmp_path, name, {"dev.cfg": "", "stack.yml": (
            "Resources:\n  Database:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
            f"      Engine: mysql\n      DBInstanceClass: db.t4g.micro\n      DBName: {name}\n")})
    assert deploy.main(["--plan-offline", "--base", "HEAD~1", "--config", str(tmp_path / "dev.cfg"), *allowed]) == code
    printed = capsys.readouterr().out
    assert "Database" in printed and "replace=True" in printed and "DBName" in printed
    assert ("REFUSED: Database" in printed) == (not allowed)


@pytest.mark.parametrize("allowed, code", [((), deploy.REFUSED), (("Db:MultiAZ",), deploy.REFUSED),
                                           (("Db:AutoMinorVersionUpgrade",), deploy.DEPLOYED),
                                           (("*:AutoMinorVersionUpgrade",), deploy.DEPLOYED)])
def test_plan_offline_honours_template_and_cause_allowances(tmp_path, capsys, monkeypatch, allowed, code):
    """--template names another template of the checkout, planned at the base and in the working tree."""
    without_outer_repository(monkeypatch)
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    new_repository(tmp_path)
    for upgrades in ("true", "false"):
        commit(tmp_path, upgrades, {"dev.cfg": "", "infra/db.yml": (
            "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: mysql\n"
            f"      DBInstanceClass: db.t4g.micro\n      AutoMinorVersionUpgrade: {upgrades}\n")})
    arguments = ["--plan-offline", "--base", "HEAD~1", "--config", str(tmp_path / "dev.cfg"),
                 "--template", str(tmp_path / "infra" / "db.yml")]
    assert deploy.main([*arguments, *(["--allow-replacement", *allowed] if allowed else [])]) == code
    printed = capsys.readouterr().out
    assert "replace=Conditional" in printed and "AutoMinorVersionUpgrade [Conditionally]" in printed
    if code == deploy.REFUSED:
        assert printed.rstrip().endswith("--allow-replacement Db:AutoMinorVersionUpgrade")


@pytest.mark.parametrize("options", [
    ["--stack-name", "todobackend"], ["--smoke"], ["--yes"], ["--region", "eu-west-1"], ["--update"],
    ["--bucket", "b"], ["--tag", "a=b"], ["--stack-name", "todobackend", "--yes"]])
def test_plan_offline_refuses_the_options_of_a_live_deploy_in_one_line(options, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    assert deploy.main(["--plan-offline", "--base", "HEAD", *options]) == deploy.UNUSABLE
    named = [option for option in options if option.startswith("--")]
    assert one_line(capsys.readouterr().err) == (
        f"deploy: --plan-offline does not use {', '.join(named)} (it predicts from git, without AWS)")


def test_base_without_plan_offline_is_refused(capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    assert deploy.main(["--stack-name", cs.STACK, "--base", "origin/main"]) == deploy.UNUSABLE
    assert "--base is for --plan-offline" in one_line(capsys.readouterr().err)


def test_plan_offline_says_a_config_outside_any_checkout_is_outside(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    outside = tmp_path / "x.cfg"
    outside.write_text("")
    assert deploy.main(["--plan-offline", "--base", "HEAD", "--config", str(outside)]) == deploy.UNUSABLE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"the config {outside} is outside any git checkout, so it has no version at HEAD" in err


def test_plan_offline_needs_a_base(capsys):
    with pytest.raises(SystemExit) as exit_:
        deploy.main(["--plan-offline"])
    assert exit_.value.code == 2 and "--plan-offline needs --base GIT_REF" in capsys.readouterr().err


def test_a_missing_template_stops_before_any_aws_call(project, capsys, monkeypatch):
    monkeypatch.setattr(deploy.boto3, "Session", no_aws)
    (project / "stack.yml").unlink()
    assert run(project) == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == f"deploy: cannot read {project / 'stack.yml'}: no such file"


def test_no_region(project, capsys, monkeypatch):
    monkeypatch.setattr(deploy.checks, "problems", lambda *_: [])
    monkeypatch.setattr(deploy.boto3, "Session", lambda region_name=None: types.SimpleNamespace(region_name=None))
    assert run(project) == deploy.UNUSABLE
    assert one_line(capsys.readouterr().err) == (
        "deploy: no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
