"""The doctor on the cluster's capacity: the instances' own membership check (stack.yml's user data), whose
failure signal's reason the wait condition's event quotes, and the window after an ApplicationInstanceCount
change in which new instances have not registered yet."""
import pytest

from tests.support import fake_aws as aws
from tools import doctor
from tools.diagnosis import render


@pytest.mark.parametrize("reason", [
    "registered but not in capacity provider capacity-todobackend-dev-ApplicationAutoscaling-X1 "
    "(capacityProviderName: None)",
    "capacity provider not attached within 15 minutes (provider None, attachmentsStatus None)",
    "capacity provider capacity-x: cluster attachmentsStatus UPDATE_FAILED",
])
def test_a_membership_failure_signal_is_named_with_its_reason(reason):
    world = aws.World()
    event = f"WaitCondition received failed message: '{reason}' for uniqueId: i-0ccc3333dddd4444e"
    world.operation("CREATE", [
        ("ApplicationCapacityReady", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS", None),
        ("ApplicationCapacityReady", "AWS::CloudFormation::WaitCondition", "CREATE_FAILED", event),
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_FAILED", "Resource creation cancelled"),
    ], "CREATE_FAILED", "The following resource(s) failed to create: [ApplicationCapacityReady, MigrateTask].")
    del world.resources["ApplicationService"]
    world.tasks, world.targets = {}, []
    evidence, findings, seconds, calls = doctor.examine(aws.STACK, session=world.session())
    text = render.as_text(evidence, findings, seconds, calls)
    assert text.splitlines()[0].startswith("PROBLEM: An instance is not in the capacity provider ["), text
    assert f"seen: stack: ApplicationCapacityReady CREATE_FAILED: {event}" in text
    assert "AmazonECSManaged" in text and "asg-capacity-providers.html" in text
    assert "No container instance joined the cluster" not in text, "the instance did join; the provider is the cause"


def test_a_count_raised_with_the_desired_count_is_instances_joining_not_a_lack_of_room():
    """ApplicationInstanceCount 1 -> 2 and ApplicationDesiredCount 1 -> 3 in one deploy: the group completed
    at once, the service asks for tasks the one registered instance cannot hold until the new one joins."""
    world = aws.World()
    world.instances = [aws.container_instance("i-0aaa1111bbbb2222c", free_memory=300)]
    world.asg_instances = [aws.asg_instance("i-0aaa1111bbbb2222c"), aws.asg_instance("i-0fff6666aaaa7777b", "Pending")]
    world.service |= {"desiredCount": 3}
    world.service_event(f"(service {aws.SERVICE_NAME}) was unable to place a task because no container instance met "
                        "all of its requirements. The closest matching (container-instance 0aaa1111bbbb2222c) has "
                        "insufficient memory available. For more information, see the Troubleshooting section of "
                        "the Amazon ECS Developer Guide.", minutes=1)
    world.operation("UPDATE", [("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "UPDATE_COMPLETE", None),
                               ("ApplicationService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", None)],
                    "UPDATE_IN_PROGRESS")
    evidence, findings, seconds, calls = doctor.examine(aws.STACK, session=world.session())
    text = render.as_text(evidence, findings, seconds, calls)
    assert text.splitlines()[0].startswith("PROBLEM: New instances have not joined the cluster yet ["), text
    assert "instance i-0fff6666aaaa7777b Pending, not registered with the cluster" in text
    assert "ApplicationDesiredCount in the next" in text
    # The lack of room is still shown, after it, as what it is in this window: a consequence.
    assert text.index("New instances have not joined") < text.index("No container instance has room for the task")


def test_a_registered_instance_is_not_joining():
    world = aws.World()
    world.service |= {"desiredCount": 2}
    evidence, findings, seconds, calls = doctor.examine(aws.STACK, session=world.session())
    assert "instances-joining" not in [finding["cause"] for finding in findings]
