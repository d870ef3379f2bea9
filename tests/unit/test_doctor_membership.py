"""The doctor on the instances' own membership check (stack.yml's user data): the failure signal's reason,
as the wait condition's event quotes it, names the cause instead of "no container instance"."""
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
