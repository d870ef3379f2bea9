"""lambda/capacity_drainer.py: the delete-time step that empties the group while its capacity provider exists.

Behaviour on moto's Auto Scaling (a group with instances, scaled to zero); what moto cannot show (an
instance held in Terminating:Wait by the draining hook, the stack's status during a delete or an
update's cleanup) through botocore's Stubber, which checks each request and canned response against
the service's model. The order it runs in is proved on cfn-lint's dependency graph of stack.yml.
"""
import datetime
import re
import uuid

import boto3
import networkx
import pytest
from botocore.stub import Stubber
from cfnlint.decode import decode
from cfnlint.template import Template

from tests.support.cloudformation import STACK_ID
from tests.support.lambda_runtime import FakeClock, LambdaContext
from tests.support.template import STACK, load


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


# The whole stack goes: deleted, or a failed first create rolling back.
@pytest.mark.parametrize("status", ["DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_delete_scales_the_group_to_zero_and_answers_once_it_is_empty(aws, group, stack, drain, status):
    assert len(described(aws, group)["Instances"]) == 2
    stack.status(status)
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


# Only this resource goes: removed from the template (the cleanup after an update), or created by an
# update that rolled back (the cleanup after the rollback). Physical id and property both name the
# live group, as they do on a stack deletion.
@pytest.mark.parametrize("status", ["UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                                    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_a_delete_in_an_update_cleanup_leaves_the_live_group_alone(aws, group, stack, drain, status):
    stack.status(status)
    sent = drain("Delete", group, physical_id=group)
    assert (sent["Status"], sent["PhysicalResourceId"]) == ("SUCCESS", group)
    assert sent["Reason"] == (f"left alone: {group} keeps its instances: the stack is {status}, "
                              "so CloudFormation removes this resource, not the stack")
    after = described(aws, group)
    assert (after["MinSize"], after["DesiredCapacity"], len(after["Instances"])) == (2, 2, 2)


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


def test_a_group_already_deleted_is_success(aws, stack, drain):
    stack.status("DELETE_IN_PROGRESS")
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
def stub(monkeypatch):
    """stub(service): the handler's client for that service answers from a Stubber (requests and answers
    checked on the model); any other service is boto3's as usual (moto under the aws fixture)."""
    clients, stubbers, real = {}, [], boto3.client
    monkeypatch.setattr(boto3, "client", lambda service, *args, **kwargs:
                        clients.get(service) or real(service, *args, **kwargs))

    def make(service):
        clients[service] = real(service, region_name="us-east-1")
        stubbers.append(Stubber(clients[service]))
        stubbers[-1].activate()
        return stubbers[-1]

    yield make
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


@pytest.fixture
def stubbed(stub):
    """The handler's Auto Scaling client, answering from a Stubber."""
    return stub("autoscaling")


@pytest.fixture
def stack(stub):
    """The handler's CloudFormation client: stack.status(s) is what the next DescribeStacks says."""
    return StackStub(stub("cloudformation"))


class StackStub:
    def __init__(self, stubber):
        self.stubber = stubber

    def status(self, status):
        self.stubber.add_response("describe_stacks", {"Stacks": [{
            "StackId": STACK_ID, "StackName": "todobackend", "StackStatus": status,
            "CreationTime": datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)}]},
            {"StackName": STACK_ID})

    def fails(self, code, message, http_status_code):
        self.stubber.add_client_error("describe_stacks", code, message, http_status_code,
                                      expected_params={"StackName": STACK_ID})


def expect_drain(stubbed, name, held):
    group = {"AutoScalingGroupNames": [name]}
    stubbed.add_response("describe_auto_scaling_groups", group_answer(name, "InService"), group)
    stubbed.add_response("update_auto_scaling_group", {},
                         {"AutoScalingGroupName": name, "MinSize": 0, "DesiredCapacity": 0})
    for _ in range(held):
        stubbed.add_response("describe_auto_scaling_groups", group_answer(name, "Terminating:Wait"), group)


def test_an_instance_the_hook_holds_is_waited_for_until_ecs_releases_it(stubbed, stack, drain):
    stack.status("DELETE_IN_PROGRESS")
    expect_drain(stubbed, "g", held=3)
    stubbed.add_response("describe_auto_scaling_groups", group_answer("g"), {"AutoScalingGroupNames": ["g"]})
    clock = FakeClock()
    sent = drain("Delete", "g", physical_id="g", context=LambdaContext(600, clock), sleep=clock.sleep)
    assert sent["Reason"] == "g emptied while its capacity provider drained it"
    assert clock.sleeps == [10, 10, 10]


def test_an_instance_still_held_near_the_timeout_is_named_and_the_delete_goes_on(stubbed, stack, drain):
    stack.status("DELETE_IN_PROGRESS")
    # 600 s of Lambda, 10 s polls, an answer once under 30 + 10 s are left: 57 sleeps (570 s), 58 looks.
    expect_drain(stubbed, "g", held=58)
    clock = FakeClock()
    sent = drain("Delete", "g", physical_id="g", context=LambdaContext(600, clock), sleep=clock.sleep)
    assert sent["Status"] == "SUCCESS"
    assert sent["Reason"].startswith("g scaled to zero, 1 instance(s) still leaving (i-0aaa1111bbbb2222c "
                                     "Terminating:Wait); if one stays in Terminating:Wait, complete its lifecycle")
    assert len(clock.sleeps) == 57 and clock.now == 570


def test_an_auto_scaling_error_on_delete_is_reported_but_never_fails_the_delete(stubbed, stack, drain):
    stack.status("DELETE_IN_PROGRESS")
    stubbed.add_client_error("describe_auto_scaling_groups", "AccessDenied", "not authorized to perform: "
                             "autoscaling:DescribeAutoScalingGroups", http_status_code=403)
    sent = drain("Delete", "g", physical_id="g")
    assert sent["Status"] == "SUCCESS" and "AccessDenied" in sent["Reason"]


@pytest.mark.parametrize("code, message, http_status_code", [
    # The role without cloudformation:DescribeStacks on this stack (IAM's wording).
    ("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/todobackend-EcsCapacityDrainerRole-1ABC/"
     "todobackend-EcsCapacityDrainer-2DEF is not authorized to perform: cloudformation:DescribeStacks on resource: "
     f"{STACK_ID} because no identity-based policy allows the cloudformation:DescribeStacks action", 403),
    ("Throttling", "Rate exceeded", 400),
])
def test_a_stack_status_it_cannot_read_leaves_the_group_alone(stubbed, stack, drain, code, message,
                                                               http_status_code):
    # stubbed has no Auto Scaling answer queued: any Auto Scaling call would fail this test.
    stack.fails(code, message, http_status_code)
    sent = drain("Delete", "g", physical_id="g")
    assert sent["Status"] == "SUCCESS"
    assert sent["Reason"].startswith(
        "left alone: g keeps its instances: the stack's status could not be read; if the stack is being deleted, "
        "complete each Terminating:Wait lifecycle action (docs/deploying.md: Deleting the stack). ClientError: ")
    assert f"({code})" in sent["Reason"]


def test_the_deploying_page_names_the_statuses_it_acts_in(capacity_drainer):
    page = " ".join((STACK.parent / "docs" / "deploying.md").read_text().split())
    acts = re.search(r"When the step acts: (.*?) CloudFormation also deletes", page)[1]
    assert set(re.findall(r"`([A-Z_]+)`", acts)) == capacity_drainer.STACK_GOING


def test_the_role_reads_the_status_of_this_stack_only():
    [policy] = load()["Resources"]["EcsCapacityDrainerRole"]["Properties"]["Policies"]
    reading = [s for s in policy["PolicyDocument"]["Statement"] if "cloudformation" in str(s["Action"])]
    assert reading == [{"Sid": "ReadThisStackStatus", "Effect": "Allow", "Action": "cloudformation:DescribeStacks",
                        "Resource": {"Ref": "AWS::StackId"}}]


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

