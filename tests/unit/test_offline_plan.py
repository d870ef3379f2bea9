"""The offline plan for pull requests (tools/deployment/offline.py): stack.yml and dev.cfg at a git ref against the
working tree, predicted from cfn-lint's resource schemas, printed as the live plan is and guarded the same way.

Each case builds a throwaway git repository with two commits (the base, then the change) and plans HEAD~1 against
the working tree. The real cases start from the project's own stack.yml and dev.cfg; each also checks the fact it
relies on in the schema, so a schema update that changes the answer shows up here first.
"""
import io
import re
import json

import pytest

from tests.support.template import DEV_CFG, STACK
from tests.support.git_repo import commit, git, new_repository, without_outer_repository
from tools.deployment import offline
from tools.deployment.evaluate import Evaluated
from tools.deployment.plan import Cause, guard, render
from tools.deployment.predict import predict
from tools.deployment.schemas import update_behaviour

DB = "AWS::RDS::DBInstance"
REAL_STACK = STACK.read_text()
REAL_DEV_CFG = DEV_CFG.read_text()


@pytest.fixture(autouse=True)
def _no_outer_repository(monkeypatch):
    without_outer_repository(monkeypatch)


def plan(tmp_path, capsys, before: dict, after: dict, allowed=(), base="HEAD~1"):
    """Exit code, plan lines by logical id, the whole output, and stderr of the offline plan from before to after,
    in a new repository under tmp_path."""
    repo = new_repository(tmp_path / f"repo-{len(list(tmp_path.iterdir()))}")
    for files in (before, after):
        commit(repo, files=files)
    out = io.StringIO()
    code = offline.run(base, repo / "dev.cfg", frozenset(allowed), out=out)
    printed = out.getvalue()
    lines = {line.split()[1]: line for line in printed.splitlines()
             if line.split()[:1] in (["Modify"], ["Add"], ["Remove"])}
    return code, lines, printed, capsys.readouterr().err


def cause(name, recreation, source="DirectModification", entity=""):
    """A cause as the plan prints it (plan.py owns the format)."""
    return Cause(name, recreation, source, entity).describe()


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the real stack changed: {old!r} is not there exactly once"
    return text.replace(old, new)


def real(tmp_path, capsys, stack=REAL_STACK, dev_cfg=REAL_DEV_CFG, allowed=()):
    return plan(tmp_path, capsys, {"stack.yml": REAL_STACK, "dev.cfg": REAL_DEV_CFG},
                {"stack.yml": stack, "dev.cfg": dev_cfg}, allowed)


@pytest.mark.parametrize("old, new, prop", [
    ("      DBName: todobackend\n", "      DBName: todos\n", "DBName"),
    ("      MasterUsername: todobackend\n", "      MasterUsername: admin\n", "MasterUsername"),
    ("      StorageEncrypted: true\n", "      StorageEncrypted: false\n", "StorageEncrypted"),
])
def test_a_create_only_database_property_replaces_the_database_and_is_refused(tmp_path, capsys, old, new, prop):
    assert (prop,) in update_behaviour(DB).create_only
    code, lines, printed, _ = real(tmp_path, capsys, stack=edited(REAL_STACK, old, new))
    assert code == offline.REFUSED
    assert "replace=True" in lines["ApplicationDatabase"] and cause(prop, "Always") in lines["ApplicationDatabase"]
    assert f"REFUSED: ApplicationDatabase ({DB}) would be replaced because of {cause(prop, 'Always')}" in printed
    assert "--allow-replacement ApplicationDatabase" in printed


@pytest.mark.parametrize("stack, dev_cfg, prop, cause", [
    (None, REAL_DEV_CFG + "DatabaseInstanceClass=db.t4g.small\n", "DBInstanceClass",
     cause("DBInstanceClass", "Never", "ParameterReference", "DatabaseInstanceClass")),
    (edited(REAL_STACK, 'AllocatedStorage: "20"', 'AllocatedStorage: "30"'), None,
     "AllocatedStorage", cause("AllocatedStorage", "Never")),
    (edited(REAL_STACK, "EngineVersion: 8.4.8", "EngineVersion: 8.4.9"), None, "EngineVersion", cause("EngineVersion", "Never")),
])
def test_a_database_property_that_updates_in_place_is_not_a_replacement(tmp_path, capsys, stack, dev_cfg, prop, cause):
    behaviour = update_behaviour(DB)
    assert (prop,) not in behaviour.create_only and (prop,) not in behaviour.conditional
    code, lines, printed, _ = real(tmp_path, capsys, stack=stack or REAL_STACK, dev_cfg=dev_cfg or REAL_DEV_CFG)
    assert code == offline.OK, printed
    assert "replace=False" in lines["ApplicationDatabase"] and cause in lines["ApplicationDatabase"]
    assert "REFUSED" not in printed


def test_multi_az_is_conditional_as_the_schema_and_change_sets_say(tmp_path, capsys):
    """MultiAZ is conditionally create-only in the RDS schema (with AvailabilityZone: aws-cloudformation-resource-
    providers-rds#268), and change sets mark such properties Conditional (cloudformation-coverage-roadmap#1788):
    the live guard would refuse it, so the offline one does too, and says why."""
    assert ("MultiAZ",) in update_behaviour(DB).conditional
    code, lines, printed, _ = real(tmp_path, capsys, dev_cfg=REAL_DEV_CFG + "DatabaseMultiAZ=true\n")
    assert code == offline.REFUSED
    assert "replace=Conditional" in lines["ApplicationDatabase"]
    assert cause("MultiAZ", "Conditionally", "ParameterReference", "DatabaseMultiAZ") in lines["ApplicationDatabase"]
    assert real(tmp_path, capsys, dev_cfg=REAL_DEV_CFG + "DatabaseMultiAZ=true\n",
                allowed=["ApplicationDatabase"])[0] == offline.OK


def test_the_upgrade_past_issue_16_passes_with_a_cause_allowance_that_a_dbname_change_does_not(tmp_path, capsys):
    """AutoMinorVersionUpgrade true -> false (the pre-session stack to main): Conditional, allowed by naming the
    cause; the same allowance does not let a DBName change in the same update through."""
    assert ("AutoMinorVersionUpgrade",) in update_behaviour(DB).conditional
    allowance = ["ApplicationDatabase:AutoMinorVersionUpgrade"]
    before = {"stack.yml": edited(REAL_STACK, "AutoMinorVersionUpgrade: false", "AutoMinorVersionUpgrade: true"),
              "dev.cfg": REAL_DEV_CFG}
    code, lines, printed, _ = plan(tmp_path, capsys, before, {"stack.yml": REAL_STACK, "dev.cfg": REAL_DEV_CFG})
    assert code == offline.REFUSED and "replace=Conditional" in lines["ApplicationDatabase"]
    assert printed.rstrip().endswith("--allow-replacement ApplicationDatabase:AutoMinorVersionUpgrade")
    code, _, printed, _ = plan(tmp_path, capsys, before, {"stack.yml": REAL_STACK, "dev.cfg": REAL_DEV_CFG}, allowance)
    assert code == offline.OK and "REFUSED" not in printed
    renamed = edited(REAL_STACK, "      DBName: todobackend\n", "      DBName: todos\n")
    code, _, printed, _ = plan(tmp_path, capsys, before, {"stack.yml": renamed, "dev.cfg": REAL_DEV_CFG}, allowance)
    assert code == offline.REFUSED
    assert "The allowance names AutoMinorVersionUpgrade, not DBName." in printed


def test_a_renamed_db_subnet_group_replaces_the_database(tmp_path, capsys):
    assert ("DBSubnetGroupName",) in update_behaviour(DB).create_only
    stack = REAL_STACK.replace("ApplicationDatabaseSubnetGroup", "DatabaseSubnetGroupInTwoZones")
    code, lines, printed, _ = real(tmp_path, capsys, stack=stack)
    assert code == offline.REFUSED
    assert lines["ApplicationDatabaseSubnetGroup"].split()[0] == "Remove"
    assert lines["DatabaseSubnetGroupInTwoZones"].split()[0] == "Add"
    # The new group is a new resource with a new generated name: the database's subnet group certainly changes.
    assert "replace=True" in lines["ApplicationDatabase"]
    assert f"because of {cause('DBSubnetGroupName', 'Always')}" in printed


def test_a_new_image_tag_is_a_new_task_definition_revision_and_no_stateful_replacement(tmp_path, capsys):
    definition = update_behaviour("AWS::ECS::TaskDefinition")
    assert ("ContainerDefinitions",) in definition.create_only
    code, lines, printed, _ = real(tmp_path, capsys, dev_cfg=edited(REAL_DEV_CFG, "ApplicationImageTag=97e4abf",
                                                                     "ApplicationImageTag=abc1234"))
    assert code == offline.OK, printed
    for task_definition in ("ApplicationTaskDefinition", "MigrateTaskDefinition"):
        assert "replace=True" in lines[task_definition]
        assert cause("ContainerDefinitions", "Always", "ParameterReference", "ApplicationImageTag") \
            in lines[task_definition]
    # The service and the migration follow the new revisions in place.
    assert "replace=False" in lines["ApplicationService"]
    assert cause("TaskDefinition", "Never", "ResourceReference", "ApplicationTaskDefinition") \
        in lines["ApplicationService"]
    assert cause("TaskDefinition", "Never", "ResourceReference", "MigrateTaskDefinition") in lines["MigrateTask"]
    assert set(lines) == {"ApplicationTaskDefinition", "MigrateTaskDefinition", "ApplicationService", "MigrateTask"}


def test_no_change_prints_no_changes(tmp_path, capsys):
    code, lines, printed, err = real(tmp_path, capsys)
    assert (code, lines, err) == (offline.OK, {}, "")
    assert printed.splitlines()[1] == "no changes"
    assert printed.splitlines()[0].startswith("Offline plan: HEAD~1 (")


# Small templates for the rules themselves.

def template(resources: dict, parameters=None, conditions=None) -> str:
    return json.dumps({"Parameters": parameters or {}, "Conditions": conditions or {}, "Resources": resources})


def subnet_group(name="db-subnets", **extra):
    return {"Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {"DBSubnetGroupName": name, "DBSubnetGroupDescription": "db",
                           "SubnetIds": ["subnet-0123abcd", "subnet-4567abcd"], **extra}}


def database(**properties):
    return {"Type": DB, "Properties": {"Engine": "mysql", "DBInstanceClass": "db.t4g.micro", **properties}}


def small(tmp_path, capsys, before, after, dev_before="", dev_after="", allowed=()):
    return plan(tmp_path, capsys, {"stack.yml": before, "dev.cfg": dev_before},
                {"stack.yml": after, "dev.cfg": dev_after}, allowed)


def test_a_reference_to_a_replaced_resource_makes_a_create_only_property_conditional(tmp_path, capsys):
    db = database(DBSubnetGroupName={"Ref": "Subnets"})
    code, lines, printed, _ = small(tmp_path, capsys, template({"Subnets": subnet_group(), "Db": db}),
                                    template({"Subnets": subnet_group("db-subnets-2"), "Db": db}))
    assert "replace=True" in lines["Subnets"]
    assert "replace=Conditional" in lines["Db"]
    assert cause("DBSubnetGroupName", "Conditionally", "ResourceReference", "Subnets") in lines["Db"]
    assert code == offline.REFUSED and "possibly replaced (Conditional)" in printed


def test_an_attribute_of_a_modified_resource_may_change_a_property_that_refers_to_it(tmp_path, capsys):
    key = {"Type": "AWS::KMS::Key", "Properties": {"Description": "old"}}
    changed_key = {"Type": "AWS::KMS::Key", "Properties": {"Description": "new"}}
    db = database(KmsKeyId={"Fn::GetAtt": ["Key", "Arn"]}, StorageEncrypted=True,
                  Tags=[{"Key": "key", "Value": {"Fn::GetAtt": ["Key", "KeyId"]}}])
    _, lines, _, _ = small(tmp_path, capsys, template({"Key": key, "Db": db}), template({"Key": changed_key, "Db": db}))
    assert "replace=False" in lines["Key"]
    assert "replace=Conditional" in lines["Db"]
    assert cause("KmsKeyId", "Conditionally", "ResourceReference", "Key.Arn") in lines["Db"]
    assert cause("Tags", "Never", "ResourceReference", "Key.KeyId") in lines["Db"]


def test_a_ref_to_a_resource_modified_in_place_is_no_change(tmp_path, capsys):
    db = database(DBSubnetGroupName={"Ref": "Subnets"})
    code, lines, _, _ = small(tmp_path, capsys, template({"Subnets": subnet_group(), "Db": db}),
                              template({"Subnets": subnet_group(DBSubnetGroupDescription="two zones"), "Db": db}))
    assert (code, set(lines)) == (offline.OK, {"Subnets"})


def test_a_value_known_only_at_deploy_time_is_conditional_with_the_reason(tmp_path, capsys):
    def stack(ssm_default):
        return template({"Db": database(DBName={"Ref": "Name"})},
                        {"Name": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": ssm_default}})
    code, lines, printed, _ = small(tmp_path, capsys, stack("/app/db-name"), stack("/app/other-db-name"))
    assert code == offline.REFUSED and "replace=Conditional" in lines["Db"]
    assert "note: Db.DBName: Name is read from the SSM parameter /app/other-db-name at deploy time" in printed


def test_the_same_ssm_parameter_in_both_versions_is_no_change(tmp_path, capsys):
    stack = template({"Db": database(DBName={"Ref": "Name"})},
                     {"Name": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/db-name"}})
    code, lines, _, _ = small(tmp_path, capsys, stack, stack + "\n")
    assert (code, lines) == (offline.OK, {})


def test_a_nested_create_only_path_replaces_only_when_that_path_changes(tmp_path, capsys):
    compute = "AWS::Batch::ComputeEnvironment"
    create_only = update_behaviour(compute).create_only
    assert ("ComputeResources", "SpotIamFleetRole") in create_only and ("ComputeResources",) not in create_only

    def stack(**resources):
        return template({"Compute": {"Type": compute, "Properties": {"Type": "MANAGED", "ComputeResources": {
            "Type": "SPOT", "MaxvCpus": 4, "Subnets": ["subnet-0123abcd"], "SpotIamFleetRole": "arn:role/a",
            **resources}}}})
    _, lines, _, _ = small(tmp_path, capsys, stack(), stack(MaxvCpus=8))
    assert "replace=False" in lines["Compute"]
    _, lines, _, _ = small(tmp_path, capsys, stack(), stack(SpotIamFleetRole="arn:role/b"))
    assert "replace=True" in lines["Compute"]


def test_conditions_and_fn_if_follow_each_versions_parameters(tmp_path, capsys):
    stack = template(
        {"Secret": {"Type": "AWS::SecretsManager::Secret", "Condition": "WithSecret", "Properties": {}},
         "Db": database(DBName={"Fn::If": ["WithSecret", "withsecret", "plain"]})},
        {"Mode": {"Type": "String", "Default": "secret"}},
        {"WithSecret": {"Fn::Equals": [{"Ref": "Mode"}, "secret"]}})
    code, lines, printed, _ = small(tmp_path, capsys, stack, stack, dev_after="Mode=plain\n")
    assert lines["Secret"].split()[0] == "Remove"
    assert cause("DBName", "Always", "ParameterReference", "Mode") in lines["Db"] and "replace=True" in lines["Db"]
    assert code == offline.REFUSED and printed.count("REFUSED") == 2


def test_a_removed_stateful_resource_is_refused_unless_allowed_by_name(tmp_path, capsys):
    before = template({"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}}})
    code, lines, printed, _ = small(tmp_path, capsys, before, template({}))
    assert code == offline.REFUSED and "Secret (AWS::SecretsManager::Secret) would be removed" in printed
    code, _, printed, _ = small(tmp_path, capsys, before, template({}), allowed=["Secret"])
    assert code == offline.OK and "REFUSED" not in printed


def test_a_stack_the_base_does_not_have_yet_is_all_new(tmp_path, capsys):
    code, lines, _, _ = plan(tmp_path, capsys, {"README": "x"}, {"stack.yml": REAL_STACK, "dev.cfg": REAL_DEV_CFG})
    assert code == offline.OK
    assert {line.split()[0] for line in lines.values()} == {"Add"} and "ApplicationDatabase" in lines


# Unusable input: one line on stderr, exit 2, nothing on stdout.

def unusable(code, err):
    assert code == offline.UNUSABLE
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_an_unknown_ref_is_unusable(tmp_path, capsys):
    code, _, printed, err = plan(tmp_path, capsys, {"stack.yml": REAL_STACK, "dev.cfg": REAL_DEV_CFG}, {},
                                 base="origin/main")
    assert printed == "" and "origin/main is not a commit" in unusable(code, err)


def test_outside_a_git_checkout_is_unusable(tmp_path, capsys):
    (tmp_path / "dev.cfg").write_text(REAL_DEV_CFG)
    out = io.StringIO()
    code = offline.run("HEAD", tmp_path / "dev.cfg", frozenset(), out=out)
    err = unusable(code, capsys.readouterr().err)
    assert out.getvalue() == "" and f"the config {tmp_path / 'dev.cfg'} is outside any git checkout" in err


def test_a_template_outside_the_configs_checkout_is_unusable(tmp_path, capsys):
    (tmp_path / "elsewhere.yml").write_text(REAL_STACK)
    repo = new_repository(tmp_path / "repo")
    commit(repo, "config", {"dev.cfg": REAL_DEV_CFG})
    out = io.StringIO()
    code = offline.run("HEAD", repo / "dev.cfg", frozenset(), out=out, template=tmp_path / "elsewhere.yml")
    err = unusable(code, capsys.readouterr().err)
    assert out.getvalue() == "" and f"the template {tmp_path / 'elsewhere.yml'} is outside the git checkout" in err


def test_a_missing_dev_cfg_is_unusable(tmp_path, capsys):
    code, _, printed, err = plan(tmp_path, capsys, {"stack.yml": REAL_STACK, "dev.cfg": REAL_DEV_CFG},
                                 {"dev.cfg": None})
    assert printed == "" and "cannot read" in unusable(code, err)


@pytest.mark.parametrize("dev_cfg, message", [
    ("# the dev environment\n" + REAL_DEV_CFG, "dev.cfg in the working tree:1: comments are not allowed"),
    (REAL_DEV_CFG + "DatabaseMultiAZ=yes\n", "DatabaseMultiAZ: 'yes' is not one of true, false"),
])
def test_an_invalid_dev_cfg_is_unusable(tmp_path, capsys, dev_cfg, message):
    code, _, printed, err = real(tmp_path, capsys, dev_cfg=dev_cfg)
    assert printed == "" and message in unusable(code, err)


def test_a_template_that_does_not_parse_is_unusable(tmp_path, capsys):
    code, _, printed, err = real(tmp_path, capsys, stack="Resources: [unclosed\n")
    assert printed == "" and "stack.yml in the working tree does not parse" in unusable(code, err)


# The shape of public templates that share a network stack: the subnet group imported by environment name, the
# class from a mapping, Multi-AZ by condition, an identifier with the environment in it.
SHARED_NETWORK = """
Parameters:
  Environment: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Mappings:
  EnvironmentMap:
    dev: {DatabaseClass: db.t4g.micro}
    prod: {DatabaseClass: db.r6g.large}
Conditions:
  IsProduction: !Equals [!Ref Environment, prod]
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceIdentifier: !Sub '${Environment}-app-db'
      DBInstanceClass: !FindInMap [EnvironmentMap, !Ref Environment, DatabaseClass]
      Engine: mysql
      DBSubnetGroupName: !ImportValue {'Fn::Sub': '${Environment}-db-subnet-group'}
      MultiAZ: !If [IsProduction, true, false]
      Tags: [{Key: team, Value: TEAM}]
"""


def test_an_imported_subnet_group_is_compared_by_export_name(tmp_path, capsys):
    code, lines, printed, _ = small(tmp_path, capsys, SHARED_NETWORK, SHARED_NETWORK.replace("TEAM", "payments"))
    assert code == offline.OK and "replace=False" in lines["Database"]
    assert cause("Tags", "Never") in lines["Database"] and "DBSubnetGroupName" not in lines["Database"]

    code, lines, printed, _ = small(tmp_path, capsys, SHARED_NETWORK, SHARED_NETWORK, dev_after="Environment=prod\n")
    assert code == offline.REFUSED and "replace=True" in lines["Database"]
    for prop, recreation in [("DBInstanceIdentifier", "Always"), ("DBSubnetGroupName", "Conditionally"),
                             ("MultiAZ", "Conditionally"), ("DBInstanceClass", "Never")]:
        assert cause(prop, recreation, "ParameterReference", "Environment") in lines["Database"]
    assert ("note: Database.DBSubnetGroupName: Fn::ImportValue \"prod-db-subnet-group\" is another stack's export, "
            "read at deploy time; counted as a possible replacement") in printed

# Shapes nobody should write but a template may hold: the prediction never raises, and says what it cannot decide.

ODD_VALUES = [None, 1, [], {}, {"Ref": None}, {"Ref": ["a"]}, {"Fn::GetAtt": "NoDot"}, {"Fn::GetAtt": ["A"]},
              {"Fn::Sub": 5}, {"Fn::Sub": ["${A}", "not a map"]}, {"Fn::Join": "x"}, {"Fn::Select": ["a", [1]]},
              {"Fn::Select": [5, [1]]}, {"Fn::If": "x"}, {"Fn::FindInMap": ["M", "a", "b"]}, {"Fn::Split": [",", 5]},
              {"Fn::GetAZs": ""}, {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-x"}}, {"Condition": "Loop"},
              {"Fn::Length": [1, 2]}, {"Ref": "AWS::NoValue"}, {"Fn::Sub": "${Db.Endpoint.Address}"}]


def test_odd_shapes_never_raise():
    def stack(value):
        return {"Parameters": {"P": {"Type": "String", "Default": ["a"]}, "Q": "not a map"},
                "Conditions": {"Loop": {"Condition": "Loop"}, "Odd": {"Fn::Not": "x"}},
                "Mappings": {"M": {"a": "not a map"}},
                "Resources": {"Db": database(DBName=value, Tags=[value]), "Odd": value, "Typeless": {"Type": value},
                              "Whole": {"Type": "AWS::SNS::Topic", "Properties": value if isinstance(value, dict)
                                        else {"TopicName": value}, "Condition": "Odd"}}}
    for before in ODD_VALUES:
        for after in ODD_VALUES:
            changes = predict(Evaluated(stack(before), {}), Evaluated(stack(after), {"P": "x"})).changes
            render(changes), [refusal.explain() for refusal in guard(changes)]


def test_a_type_without_a_schema_may_be_replaced_by_any_change(tmp_path, capsys):
    def stack(value):
        return template({"Thing": {"Type": "Vendor::Made::Up", "Properties": {"Size": value}}})
    code, lines, printed, _ = small(tmp_path, capsys, stack(1), stack(2))
    assert "replace=Conditional" in lines["Thing"]
    assert "note: Thing: cfn-lint has no schema for Vendor::Made::Up; any change may replace it" in printed


# The sample in docs/deploying.md ("Plan a pull request offline") is this run's output: a pull request that changes
# DBName and the image tag, planned against origin/main.
DEPLOYING = STACK.parent / "docs" / "deploying.md"


def documented_run(tmp_path, capsys):
    repo = new_repository(tmp_path / "documented")
    for stack, dev_cfg in ((REAL_STACK, REAL_DEV_CFG),
                           (edited(REAL_STACK, "      DBName: todobackend\n", "      DBName: todos\n"),
                            edited(REAL_DEV_CFG, "ApplicationImageTag=97e4abf", "ApplicationImageTag=abc1234"))):
        commit(repo, files={"stack.yml": stack, "dev.cfg": dev_cfg})
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD~1")
    out = io.StringIO()
    code = offline.run("origin/main", repo / "dev.cfg", frozenset(), out=out)
    assert capsys.readouterr().err == ""
    return code, out.getvalue()


def test_the_documented_offline_plan_is_what_the_offline_plan_prints(tmp_path, capsys):
    code, printed = documented_run(tmp_path, capsys)
    assert code == offline.REFUSED
    docs = DEPLOYING.read_text()
    # The base commit's id differs in every repository: take the documented one.
    documented_commit = re.search(r"Offline plan: origin/main \(([0-9a-f]{12})\)", docs)
    assert documented_commit, "docs/deploying.md has no offline plan sample"
    printed = re.sub(r"(?<=origin/main \()[0-9a-f]{12}", documented_commit[1], printed)
    assert f"```text\n{printed}```" in docs
