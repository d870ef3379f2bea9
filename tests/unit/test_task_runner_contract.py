"""MigrateTask as stack.yml declares it, through the handler on moto.

The event is built from the template, not by hand: a renamed property or a Ref of the wrong shape
fails here instead of twenty minutes into a deploy.
"""
import pytest

from tests.support.intrinsics import custom_resource_properties
from tests.support.template import resource

RUNNER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:todobackend-ecsTasks"


def names(cluster, migrate_arn):
    """What CloudFormation resolves each reference to."""
    return {
        "ApplicationCluster": cluster.name,  # Ref of an AWS::ECS::Cluster: its name
        "ApplicationCluster.Arn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{cluster.name}",
        "MigrateTaskDefinition": migrate_arn,  # Ref of an AWS::ECS::TaskDefinition: its ARN
        "EcsTaskRunner.Arn": RUNNER_ARN,
    }


def test_migrate_task_from_the_template_runs_the_migrate_definition(event, invoke, cluster, migrate_arn):
    properties = custom_resource_properties(resource("MigrateTask")["Properties"], names(cluster, migrate_arn))
    response = invoke(event(ServiceToken=properties["ServiceToken"], ResourceProperties=properties))
    assert response["Status"] == "SUCCESS", response["Reason"]
    [task_arn] = cluster.task_arns()
    task = cluster.task(task_arn)
    assert (task.cluster_name, task.task_definition_arn) == (cluster.name, migrate_arn)
    assert [container.name for container in task.containers] == ["migrate"]
    assert response["Data"] == {"TaskArn": task_arn, "ExitCode": 0}


def test_a_renamed_property_fails_the_request(event, invoke, cluster, migrate_arn):
    template = dict(resource("MigrateTask")["Properties"])
    template["TaskDefinitionArn"] = template.pop("TaskDefinition")
    properties = custom_resource_properties(template, names(cluster, migrate_arn))
    assert invoke(event(ResourceProperties=properties))["Reason"] == (
        "invalid properties: TaskDefinition must be the task definition ARN (a non-empty string), got None")


def test_a_reference_of_the_wrong_shape_is_caught(cluster, migrate_arn):
    template = {**resource("MigrateTask")["Properties"], "Cluster": {"Fn::GetAtt": ["ApplicationCluster", "Name"]}}
    with pytest.raises(AssertionError, match="'ApplicationCluster.Name', which CloudFormation would not resolve"):
        custom_resource_properties(template, names(cluster, migrate_arn))
