"""The doctor on shapes it did not write: the real task runner fails a migration on moto's ECS, and the doctor
reads moto's task, task definition, container instance and CloudWatch Logs stream to explain it.

moto cannot run CloudFormation with custom resources nor produce target health reasons (TOOL-FACTS.md), so
the stack's side (events with the runner's own reason, resources, target health, the Auto Scaling group)
comes from tests/support/fake_aws.py; ECS and CloudWatch Logs are moto's.
"""
import time

from tests.support import fake_aws
from tests.support.moto_ecs import MIGRATE_DEFINITION_NAMES
from tools import doctor

LOG_GROUP = MIGRATE_DEFINITION_NAMES["ApplicationLogGroup"]


def test_a_migration_the_task_runner_failed_on_moto(event, invoke, cluster, aws):
    cluster.gaps.containers_end({"migrate": 1})
    response = invoke(event())
    assert response["Status"] == "FAILED"
    [task_arn] = cluster.task_arns()
    stream = f"docker/migrate/{task_arn.rsplit('/', 1)[-1]}"
    logs = aws.client("logs")
    now = int(time.time() * 1000)  # CloudWatch Logs (and moto) refuse events older than 14 days
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=[
        {"timestamp": now + i, "message": line} for i, line in enumerate(
            [*fake_aws.LEAKY_LOG_LINES, "django.db.utils.ProgrammingError: (1146, \"Table 'todobackend.todo' "
                                        "doesn't exist\")"])])

    world = fake_aws.World(services={"cloudformation", "elasticloadbalancing", "autoscaling"})
    world.resources["ApplicationCluster"] = ("AWS::ECS::Cluster", cluster.name)
    del world.resources["ApplicationService"]  # moto holds no service here
    world.operation("UPDATE", [("MigrateTask", "AWS::CloudFormation::CustomResource", "UPDATE_FAILED",
                                f"Received response status [FAILED] from custom resource. Message returned: "
                                f"{response['Reason']}")], "UPDATE_ROLLBACK_COMPLETE")
    code, text = doctor.diagnose(fake_aws.STACK, session=world.session())

    for secret in fake_aws.SECRETS:
        assert secret not in text
    assert code == doctor.PROBLEMS
    assert text.startswith("PROBLEM: The database migration task exited non-zero [")
    assert f"seen: migrate task {task_arn.rsplit('/', 1)[-1]} container 'migrate': exited with code 1" in text
    assert f"log {LOG_GROUP} {stream}, last 4 line(s):" in text
    assert "| django.db.utils.ProgrammingError: (1146, \"Table 'todobackend.todo' doesn't exist\")" in text
    assert "container instances: 1 registered" in text and "not read" not in text
    # ECS and Logs were moto's: the fake answered none of their calls.
    assert {call for call, _ in world.calls} <= {"DescribeStacks", "DescribeStackEvents", "ListStackResources",
                                                 "DescribeTargetHealth", "DescribeAutoScalingGroups",
                                                 "DescribeScalingActivities"}
