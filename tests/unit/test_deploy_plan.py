"""The plan and the guard on change sets shaped as DescribeChangeSet returns them (checked by botocore's Stubber
against the service model, read through the paginator as tools/deploy.py reads them)."""
import pathlib

import pytest
from botocore.stub import Stubber

from tests.support import change_sets as cs
from tools.deployment import plan
from tools.deployment.changeset import ChangeSet


def read(*pages):
    """`pages` served by a stubbed CloudFormation client and read as the deploy reads them, then planned."""
    cfn = cs.client("cloudformation")
    with Stubber(cfn) as stub:
        for number, page in enumerate(pages):
            expected = {"ChangeSetName": cs.CHANGE_SET} | ({"NextToken": f"page{number}"} if number else {})
            stub.add_response("describe_change_set", page, expected)
        change_set = ChangeSet(cfn, cs.STACK, "UPDATE", stack_existed=True)
        change_set.arn = cs.CHANGE_SET
        changes = plan.from_change_set(change_set.changes())
        stub.assert_no_pending_responses()
    return changes


def test_a_replaced_database_is_refused_naming_the_property_and_what_happens_to_the_data():
    changes = read(cs.described([*cs.NEW_IMAGE, cs.DATABASE_REPLACED]))
    [refusal] = plan.guard(changes)
    text = refusal.explain()
    assert text.startswith("ApplicationDatabase (AWS::RDS::DBInstance) would be replaced because of DBName [Always]")
    assert "DBSubnetGroupName [Always] (ResourceReference ApplicationDatabaseSubnetGroup)" in text
    assert "new, empty database with a new endpoint" in text and "snapshot" in text
    # The narrowest allowance that lets it through names each causing property.
    assert text.endswith("--allow-replacement ApplicationDatabase:DBName ApplicationDatabase:DBSubnetGroupName")


def test_conditional_counts_as_a_replacement():
    [refusal] = plan.guard(read(cs.described([cs.DATABASE_MAYBE_REPLACED])))
    assert "possibly replaced (Conditional) because of DBSubnetGroupName [Conditionally]" in refusal.explain()


def test_a_removed_secret_is_refused_and_says_what_the_database_loses():
    [refusal] = plan.guard(read(cs.described([cs.SECRET_REMOVED])))
    assert refusal.explain().startswith("DatabaseSecret (AWS::SecretsManager::Secret) would be removed: ")
    assert "a password the database was never given" in refusal.explain()


def test_allowing_a_resource_by_name_lets_only_that_one_through():
    changes = read(cs.described([cs.DATABASE_REPLACED, cs.SECRET_REMOVED]))
    assert [r.change.logical_id for r in plan.guard(changes, {"ApplicationDatabase"})] == ["DatabaseSecret"]
    assert plan.guard(changes, {"ApplicationDatabase", "DatabaseSecret"}) == []


# The upgrade the review found refused: AutoMinorVersionUpgrade true -> false, conditionally create-only in the RDS
# schema, which a change set marks Conditional (cloudformation-coverage-roadmap#1788).
MINOR_UPGRADES_OFF = cs.change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "Conditional", [
    cs.detail("AutoMinorVersionUpgrade", "Conditionally")], policy="ReplaceAndSnapshot")
DBNAME_TOO = cs.change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "True", [
    cs.detail("DBName", "Always"), cs.detail("AutoMinorVersionUpgrade", "Conditionally"),
    cs.detail("DBInstanceClass", "Never", "ParameterReference", "DatabaseInstanceClass")], policy="ReplaceAndSnapshot")


def test_a_conditional_cause_is_refused_suggesting_only_that_property_and_what_the_reference_says():
    [refusal] = plan.guard(read(cs.described([MINOR_UPGRADES_OFF])))
    text = refusal.explain()
    assert "possibly replaced (Conditional) because of AutoMinorVersionUpgrade [Conditionally]" in text
    assert 'AutoMinorVersionUpgrade: the AWS::RDS::DBInstance reference gives it no "Update requires" line' in text
    assert text.endswith("To accept this, run again with --allow-replacement ApplicationDatabase:AutoMinorVersionUpgrade")


def test_an_allowance_naming_the_cause_lets_that_replacement_through():
    changes = read(cs.described([*cs.NEW_IMAGE, MINOR_UPGRADES_OFF]))
    assert plan.guard(changes, {"ApplicationDatabase:AutoMinorVersionUpgrade"}) == []
    assert plan.guard(changes, {"*:AutoMinorVersionUpgrade"}) == []  # what fits in a 50-character label
    assert len(plan.guard(changes, {"ApplicationDatabase:MultiAZ"})) == 1
    assert len(plan.guard(changes, {"DatabaseSecret:AutoMinorVersionUpgrade"})) == 1  # another resource's


def test_a_cause_allowance_does_not_cover_a_second_cause():
    changes = read(cs.described([DBNAME_TOO]))
    [refusal] = plan.guard(changes, {"ApplicationDatabase:AutoMinorVersionUpgrade"})
    text = refusal.explain()
    assert "The allowance names AutoMinorVersionUpgrade, not DBName." in text
    assert text.endswith("--allow-replacement ApplicationDatabase:DBName ApplicationDatabase:AutoMinorVersionUpgrade")
    # DBInstanceClass updates in place: it is not a cause to name.
    assert plan.guard(changes, {"ApplicationDatabase:AutoMinorVersionUpgrade", "ApplicationDatabase:DBName"}) == []
    assert plan.guard(changes, {"ApplicationDatabase"}) == []  # the bare id still allows everything


def test_a_removal_needs_the_bare_id():
    changes = read(cs.described([cs.SECRET_REMOVED]))
    [refusal] = plan.guard(changes, {"DatabaseSecret:Name", "*:Name"})
    assert refusal.explain().endswith("--allow-replacement DatabaseSecret")
    assert plan.guard(changes, {"DatabaseSecret"}) == []
    assert plan.guard([plan.Change("Dynamic", "Db", "AWS::RDS::DBInstance")], {"Db:DBName"}) != []


@pytest.mark.parametrize("text", ["", "*", "Db:", ":DBName", "Db:DB Name", "Db:A:B", "$(touch x)", "1Db"])
def test_an_allowance_that_is_neither_an_id_nor_id_property_is_refused(text):
    with pytest.raises(ValueError, match="is not LOGICAL_ID, LOGICAL_ID:PROPERTY or \\*:PROPERTY"):
        plan.Allowance.parse(text)


def test_an_allowance_that_names_nothing_endangered_is_reported_unused():
    changes = read(cs.described([MINOR_UPGRADES_OFF]))
    assert plan.unused(changes, ["ApplicationDatabase:AutoMinorVersionUpgrade", "ApplicationDatabase:MultiAZ",
                                 "ApplicationDatabase", "DatabaseSecret"]) == [
        "ApplicationDatabase:MultiAZ", "DatabaseSecret"]


def test_a_new_image_replaces_the_task_definition_and_nothing_stateful():
    changes = read(cs.described(cs.NEW_IMAGE))
    assert plan.guard(changes) == []
    assert [c.logical_id for c in changes if c.replaces] == ["ApplicationTaskDefinition", "MigrateTaskDefinition"]


def test_stateful_changes_that_keep_the_resource_pass():
    modified = cs.change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "False", [
        cs.detail("DBInstanceClass", "Never", "ParameterReference", "DatabaseInstanceClass")])
    added = cs.change("Add", "ReportsSecret", "AWS::SecretsManager::Secret")
    assert plan.guard(read(cs.described([modified, added]))) == []


def test_every_page_is_read():
    first = cs.described(cs.NEW_IMAGE[:2], next_token="page1")
    second = cs.described([*cs.NEW_IMAGE[2:], cs.DATABASE_MAYBE_REPLACED])
    changes = read(first, second)
    assert [c.logical_id for c in changes] == [
        "ApplicationTaskDefinition", "MigrateTaskDefinition", "ApplicationService", "MigrateTask",
        "ApplicationDatabase"]
    assert len(plan.guard(changes)) == 1


def test_the_plan_has_one_line_per_change_with_replacement_and_cause():
    lines = plan.render(read(cs.described([*cs.NEW_IMAGE, cs.DATABASE_REPLACED]))).splitlines()
    assert lines[0] == "5 change(s): 3 Modify (replace), 2 Modify"
    assert len(lines) == 6
    task, _, service, _, database = lines[1:]
    assert task.split()[:4] == ["Modify", "ApplicationTaskDefinition", "AWS::ECS::TaskDefinition", "replace=True"]
    assert "ContainerDefinitions [Always] (ParameterReference ApplicationImageTag)" in task
    assert service.split()[3] == "replace=False" and "[" not in service  # Never: no recreation mark
    assert database.split()[3] == "replace=True" and database.endswith("policy=ReplaceAndSnapshot")


def test_the_count_groups_actions_and_replacements():
    changes = [plan.Change("Add", "A", "AWS::SNS::Topic"), plan.Change("Modify", "B", "AWS::SNS::Topic", "True"),
               plan.Change("Modify", "C", "AWS::SNS::Topic", "False"), plan.Change("Add", "D", "AWS::SNS::Topic")]
    assert plan.render(changes).splitlines()[0] == "4 change(s): 2 Add, 1 Modify (replace), 1 Modify"


def test_an_empty_change_set_is_no_changes():
    assert plan.render(read(cs.described([]))) == "no changes"


@pytest.mark.parametrize("resource_type", ["AWS::RDS::DBInstance", "AWS::SecretsManager::Secret"])
def test_a_change_decided_only_at_execution_is_refused_on_stateful_types(resource_type):
    [refusal] = plan.guard([plan.Change("Dynamic", "X", resource_type)])
    assert "decided only at execution" in refusal.explain()


DEPLOYING = pathlib.Path(__file__).resolve().parents[2] / "docs" / "deploying.md"


def test_the_documented_plan_and_refusal_are_what_the_deploy_prints():
    docs = DEPLOYING.read_text()
    assert plan.render(plan.from_change_set(cs.NEW_IMAGE)) in docs
    database = cs.change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "True",
                         [cs.detail("DBName", "Always")], policy="ReplaceAndSnapshot")
    [refusal] = plan.guard(plan.from_change_set([database]))
    assert f"REFUSED: {refusal.explain()}" in docs
