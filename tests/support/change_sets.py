"""DescribeChangeSet and DescribeStackEvents answers shaped as CloudFormation sends them, for botocore's Stubber
(which checks each one against the service model)."""
import datetime
import functools

import boto3

ACCOUNT, REGION = "123456789012", "us-east-1"
STACK = "todobackend"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/6c7e0a90-0000-11f0-9b1c-0a1b2c3d4e5f"
CHANGE_SET = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/deploy-20261202/0f1e2d3c-0000-11f0-9b1c-0a1b2c3d"
T0 = datetime.datetime(2026, 12, 2, 18, 0, tzinfo=datetime.timezone.utc)


@functools.cache
def _session():
    return boto3.Session(region_name=REGION)  # one for every test: it caches the service models it loads


def client(service):
    """A fresh client (for a fresh Stubber) from the shared session."""
    return _session().client(service)


def detail(name, recreation, source="DirectModification", entity=None, evaluation="Static"):
    """One ResourceChangeDetail: a property that changes and whether that recreates the resource."""
    found = {"Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation},
             "Evaluation": evaluation, "ChangeSource": source}
    return found | ({"CausingEntity": entity} if entity else {})


def change(action, logical_id, resource_type, replacement=None, details=(), policy=None):
    resource = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource_type,
                "Scope": ["Properties"] if details else [], "Details": list(details)}
    if action != "Add":
        resource["PhysicalResourceId"] = f"{logical_id.lower()}-0a1b2c"
    if replacement:
        resource["Replacement"] = replacement
    if policy:
        resource["PolicyAction"] = policy
    return {"Type": "Resource", "ResourceChange": resource}


def described(changes, next_token=None, status="CREATE_COMPLETE", reason=None):
    """One page of DescribeChangeSet."""
    page = {"ChangeSetId": CHANGE_SET, "ChangeSetName": "deploy-20261202", "StackId": STACK_ID, "StackName": STACK,
            "CreationTime": T0, "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
            "Status": status, "Changes": list(changes)}
    return page | ({"NextToken": next_token} if next_token else {}) | ({"StatusReason": reason} if reason else {})


def event(number, logical_id, status, token, reason=None, resource_type=None, second=None):
    """A StackEvent `second` s (default: `number` s) after T0; the stack's own when logical_id is the stack."""
    own = logical_id == STACK
    found = {"StackId": STACK_ID, "EventId": f"{logical_id}-{status}-{number:04d}", "StackName": STACK,
             "LogicalResourceId": logical_id, "PhysicalResourceId": STACK_ID if own else f"{logical_id.lower()}-1",
             "ResourceType": "AWS::CloudFormation::Stack" if own else (resource_type or "AWS::ECS::Service"),
             "Timestamp": T0 + datetime.timedelta(seconds=number if second is None else second),
             "ResourceStatus": status}
    return found | ({"ClientRequestToken": token} if token else {}) | (
        {"ResourceStatusReason": reason} if reason else {})


# The change that motivated the guard: DBName changed and a renamed subnet group, as CloudFormation reports them.
DATABASE_REPLACED = change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "True", [
    detail("DBName", "Always"),
    detail("DBSubnetGroupName", "Always", "ResourceReference", "ApplicationDatabaseSubnetGroup"),
], policy="ReplaceAndSnapshot")
# A new DB subnet group (renamed logical id): the instance's DBSubnetGroupName refers to a resource being
# created, so CloudFormation only knows at execution whether the value changes (Conditional).
DATABASE_MAYBE_REPLACED = change("Modify", "ApplicationDatabase", "AWS::RDS::DBInstance", "Conditional", [
    detail("DBSubnetGroupName", "Conditionally", "ResourceReference", "ApplicationDatabaseSubnetGroupV2",
           evaluation="Dynamic"),
])
SECRET_REMOVED = change("Remove", "DatabaseSecret", "AWS::SecretsManager::Secret", policy="Delete")
# A new ApplicationImageTag: both task definitions take the image (ContainerDefinitions is create-only: a new
# revision), the service and MigrateTask then point at the new revisions.
NEW_IMAGE = [
    change("Modify", "ApplicationTaskDefinition", "AWS::ECS::TaskDefinition", "True", [
        detail("ContainerDefinitions", "Always", "ParameterReference", "ApplicationImageTag")]),
    change("Modify", "MigrateTaskDefinition", "AWS::ECS::TaskDefinition", "True", [
        detail("ContainerDefinitions", "Always", "ParameterReference", "ApplicationImageTag")]),
    change("Modify", "ApplicationService", "AWS::ECS::Service", "False", [
        detail("TaskDefinition", "Never", "ResourceReference", "ApplicationTaskDefinition", evaluation="Dynamic")]),
    change("Modify", "MigrateTask", "AWS::CloudFormation::CustomResource", "False", [
        detail("TaskDefinition", "Never", "ResourceReference", "MigrateTaskDefinition", evaluation="Dynamic")]),
]
