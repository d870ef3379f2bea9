"""lambda/capacity_drainer.py: the delete-time step that empties the group while its capacity provider exists.

Behaviour on moto's Auto Scaling (a group with instances, scaled to zero); what moto cannot show (an
instance held in Terminating:Wait by the draining hook) through botocore's Stubber, which checks each
request and canned response against the Auto Scaling model. The order it runs in is proved on
cfn-lint's dependency graph of stack.yml.
"""
import datetime
import uuid

import boto3
import networkx
import pytest
from botocore.stub import Stubber
from cfnlint.decode import decode
from cfnlint.template import Template

from tests.support.cloudformation import STACK_ID
from tests.support.lambda_runtime import FakeClock, LambdaContext
from tests.support.template import STACK


@pytest.fixture
def group(aws):
    """A group of two instances in moto, under a name of its own (moto keeps Auto Scaling between tests)."""
    name = f"todobackend-ApplicationAutoscaling-{uuid.uuid4().hex[:12]}"
    ec2, autoscaling = aws.client("ec2"), aws.client("autoscaling")
    template = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "t3.small"})["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
        MinSize=2, MaxSize=4, DesiredCapacity=2, AvailabilityZones=["us-east-1a"])
    return name


def described(aws, name):
    [found] = aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return found


@pytest.fixture
def drain(capacity_drainer, cloudformation):
    """Run the handler once for an event of ApplicationCapacityDrain; return the one response it sent."""

    def run(request_type, group_name, physical_id=None, context=None, sleep=None, **extra):
        event = {"RequestType": request_type, "ResponseURL": cloudformation.url, "StackId": STACK_ID,
                 "RequestId": str(uuid.uuid4()), "LogicalResourceId": "ApplicationCapacityDrain",
                 "ResourceType": "AWS::CloudFormation::CustomResource",
                 "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:d",
                                        **({"AutoScalingGroupName": group_name} if group_name else {})}, **extra}
        if physical_id:
            event["PhysicalResourceId"] = physical_id
        before = len(cloudformation.requests)
        clock = FakeClock()  # unless told: 600 s of Lambda time that passes only while the handler sleeps
        capacity_drainer.handler(event, context or LambdaContext(600, clock), sleep=sleep or clock.sleep)
        [sent] = cloudformation.bodies()[before:]
        assert cloudformation.requests[-1].headers.get("Content-Type", "") == ""
        assert (sent["StackId"], sent["RequestId"]) == (STACK_ID, event["RequestId"])
        return sent

    return run


def test_delete_scales_the_group_to_zero_and_answers_once_it_is_empty(aws, group, drain):
    assert len(described(aws, group)["Instances"]) == 2
    sent = drain("Delete", group, physical_id=group)
    assert (sent["Status"], sent["PhysicalResourceId"]) == ("SUCCESS", group)
    assert sent["Reason"] == f"{group} emptied while its capacity provider drained it"
    after = described(aws, group)
    assert (after["MinSize"], after["DesiredCapacity"], after["Instances"]) == (0, 0, [])


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_only_answer_with_the_group_as_id(aws, group, drain, request_type):
    sent = drain(request_type, group, physical_id=group if request_type == "Update" else None)
    assert (sent["Status"], sent["PhysicalResourceId"]) == ("SUCCESS", group)
    assert described(aws, group)["DesiredCapacity"] == 2


def test_a_delete_for_a_group_the_resource_does_not_own_leaves_it_alone(aws, group, drain):
    # A replaced resource's old id: the properties name the live group, which must keep its instances.
    sent = drain("Delete", group, physical_id="todobackend-ApplicationAutoscaling-OLD")
    assert sent["Status"] == "SUCCESS" and sent["Reason"].startswith("left alone")
    assert len(described(aws, group)["Instances"]) == 2


def test_a_delete_after_a_create_that_failed_touches_nothing(aws, group, drain):
    failed = drain("Create", None)
    assert failed["Status"] == "FAILED" and "AutoScalingGroupName" in failed["Reason"]
    assert failed["PhysicalResourceId"] == "ApplicationCapacityDrain"
    sent = drain("Delete", group, physical_id=failed["PhysicalResourceId"])
    assert sent["Status"] == "SUCCESS" and sent["Reason"].startswith("left alone")
    assert described(aws, group)["DesiredCapacity"] == 2


def test_a_group_already_deleted_is_success(aws, drain):
    sent = drain("Delete", "todobackend-gone", physical_id="todobackend-gone")
    assert (sent["Status"], sent["Reason"]) == ("SUCCESS", "todobackend-gone no longer exists")


def instance(state):
    return {"InstanceId": "i-0aaa1111bbbb2222c", "AvailabilityZone": "us-east-1a", "LifecycleState": state,
            "HealthStatus": "Healthy", "ProtectedFromScaleIn": False}


def group_answer(name, *states):
    return {"AutoScalingGroups": [{
        "AutoScalingGroupName": name, "MinSize": 0, "MaxSize": 4, "DesiredCapacity": 0, "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1a"], "HealthCheckType": "EC2",
        "CreatedTime": datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc),
        "Instances": [instance(state) for state in states]}]}


@pytest.fixture
def stubbed(monkeypatch):
    """The handler's Auto Scaling client, answering from a Stubber (requests and answers checked on the model)."""
    client = boto3.client("autoscaling", region_name="us-east-1")
    stubber = Stubber(client)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def expect_drain(stubbed, name, held):
    group = {"AutoScalingGroupNames": [name]}
    stubbed.add_response("describe_auto_scaling_groups", group_answer(name, "InService"), group)
    stubbed.add_response("update_auto_scaling_group", {},
                         {"AutoScalingGroupName": name, "MinSize": 0, "DesiredCapacity": 0})
    for _ in range(held):
        stubbed.add_response("describe_auto_scaling_groups", group_answer(name, "Terminating:Wait"), group)


def test_an_instance_the_hook_holds_is_waited_for_until_ecs_releases_it(stubbed, drain):
    expect_drain(stubbed, "g", held=3)
    stubbed.add_response("describe_auto_scaling_groups", group_answer("g"), {"AutoScalingGroupNames": ["g"]})
    clock = FakeClock()
    sent = drain("Delete", "g", physical_id="g", context=LambdaContext(600, clock), sleep=clock.sleep)
    assert sent["Reason"] == "g emptied while its capacity provider drained it"
    assert clock.sleeps == [10, 10, 10]


def test_an_instance_still_held_near_the_timeout_is_named_and_the_delete_goes_on(stubbed, drain):
    # 600 s of Lambda, 10 s polls, an answer once under 30 + 10 s are left: 57 sleeps (570 s), 58 looks.
    expect_drain(stubbed, "g", held=58)
    clock = FakeClock()
    sent = drain("Delete", "g", physical_id="g", context=LambdaContext(600, clock), sleep=clock.sleep)
    assert sent["Status"] == "SUCCESS"
    assert sent["Reason"].startswith("g scaled to zero, 1 instance(s) still leaving (i-0aaa1111bbbb2222c "
                                     "Terminating:Wait); if one stays in Terminating:Wait, complete its lifecycle")
    assert len(clock.sleeps) == 57 and clock.now == 570


def test_an_auto_scaling_error_on_delete_is_reported_but_never_fails_the_delete(stubbed, drain):
    stubbed.add_client_error("describe_auto_scaling_groups", "AccessDenied", "not authorized to perform: "
                             "autoscaling:DescribeAutoScalingGroups", http_status_code=403)
    sent = drain("Delete", "g", physical_id="g")
    assert sent["Status"] == "SUCCESS" and "AccessDenied" in sent["Reason"]


# --- the order on the stack's dependency graph ------------------------------------------------------

@pytest.fixture(scope="module")
def graph():
    """cfn-lint's graph of stack.yml: an edge A -> B when A references or DependsOn B (B is created first,
    deleted last)."""
    template, errors = decode(str(STACK))
    assert not errors
    return Template(str(STACK), template, ["us-east-1"]).graph.graph


@pytest.mark.parametrize("deleted_first, then", [
    # The service's tasks are gone before the instances are emptied.
    ("ApplicationService", "ApplicationCapacityDrain"),
    # A failed migration rolls back with the drain step already created.
    ("MigrateTask", "ApplicationCapacityDrain"),
    # The drain runs while the association and the provider (and its draining hook's owner) still exist.
    ("ApplicationCapacityDrain", "ApplicationClusterCapacityProviders"),
    ("ApplicationCapacityDrain", "ApplicationCapacityProvider"),
    ("ApplicationCapacityDrain", "ApplicationAutoscaling"),
    # Its function, role and log group outlive it.
    ("ApplicationCapacityDrain", "EcsCapacityDrainer"),
    ("ApplicationCapacityDrain", "EcsCapacityDrainerRole"),
    ("ApplicationCapacityDrain", "EcsCapacityDrainerLogGroup"),
])
def test_delete_order_runs_the_drain_while_the_provider_exists(graph, deleted_first, then):
    assert networkx.has_path(graph, deleted_first, then), f"{deleted_first} must be deleted before {then}"
    assert not networkx.has_path(graph, then, deleted_first)

