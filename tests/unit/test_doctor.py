"""tools/doctor.py on broken deployments, one scenario per known cause, against tests/support/fake_aws.py.

Each scenario breaks a healthy World the way the real failure shows in AWS (stack events, task and
container reasons, service events, target health), then asserts the verdict line, what the report
shows as evidence, and that no secret the World holds (environment values, a pre-signed URL's
signature, a password and a secret key in log lines) is printed, in text and in JSON.
"""
import json
import pathlib

import pytest

from tests.support import fake_aws as aws
from tools import doctor
from tools.diagnosis import render

ROOT = pathlib.Path(__file__).resolve().parents[2]


def leaks_nothing(printed):
    for secret in aws.SECRETS:
        assert secret not in printed, f"secret {secret!r} printed"
    return printed


def report(world):
    code, text = doctor.diagnose(aws.STACK, session=world.session())
    return code, leaks_nothing(text)


def both_formats(world):
    """(exit code, text report) of one reading; its JSON report must agree on the verdict and leak nothing too."""
    evidence, findings, seconds, calls = doctor.examine(aws.STACK, session=world.session())
    text = leaks_nothing(render.as_text(evidence, findings, seconds, calls))
    as_json = json.loads(leaks_nothing(render.as_json(evidence, findings, seconds, calls)))
    assert as_json["verdict"] == text.splitlines()[0]
    return (doctor.PROBLEMS if findings else doctor.OK), text


def verdict(text):
    return text.splitlines()[0]


def problem(world, title):
    """The text report, once it is known to exit 1 with `title` as the most likely cause."""
    code, text = both_formats(world)
    assert code == doctor.PROBLEMS
    assert verdict(text).startswith(f"PROBLEM: {title} ["), verdict(text)
    return text


CASCADE = [("ApplicationService", "AWS::ECS::Service", "UPDATE_FAILED", "Resource update cancelled")]


def failed_update(world, resource, kind, reason, cascade=True):
    world.operation("UPDATE", [(resource, kind, "UPDATE_FAILED", reason), *(CASCADE if cascade else []),
                               (resource, kind, "UPDATE_COMPLETE", None)], "UPDATE_ROLLBACK_COMPLETE")


@pytest.fixture
def world():
    return aws.World()


def test_a_healthy_stack_exits_0_with_an_ok_verdict(world):
    code, text = both_formats(world)
    assert code == doctor.OK
    assert verdict(text) == (f"OK: nothing wrong found [stack {aws.STACK} (us-east-1): UPDATE_COMPLETE; service "
                             f"{aws.SERVICE_NAME} 1/1 running, deployment COMPLETED]")
    # The migrate task was found through the task runner's startedBy, not a reason.
    assert "migrate task 00000000000000000000000000000001 todobackend-migrate:3" in text
    assert "i-0aaa1111bbbb2222c:32768 healthy" in text
    assert text.splitlines()[-1].startswith("read in ")


MIGRATION_TASK = 7


def migration_exits_1(world):
    """The scenario docs/doctor.md's sample report comes from: the migration cannot reach the database."""
    arn = world.add_task(MIGRATION_TASK, aws.MIGRATE_DEFINITION, [("migrate", 1, None)],
                         started_by=aws.MIGRATE_STARTED_BY, stop_code="EssentialContainerExited",
                         stopped_reason="Essential container in task exited",
                         log_lines=[*aws.LEAKY_LOG_LINES, "django.db.utils.OperationalError: (2003, \"Can't connect to "
                                    "MySQL server on 'todobackend.abc.us-east-1.rds.amazonaws.com' (110)\")"])
    failed_update(world, "MigrateTask", "AWS::CloudFormation::CustomResource",
                  f"Received response status [FAILED] from custom resource. Message returned: container 'migrate' "
                  f"exited with code 1 (task {arn}; stopped: Essential container in task exited)")


def test_migration_exiting_non_zero_shows_its_log_tail(world):
    migration_exits_1(world)
    code, text = both_formats(world)
    assert code == doctor.PROBLEMS
    assert verdict(text).startswith("PROBLEM: The database migration task exited non-zero [stack todobackend-dev "
                                    "(us-east-1): UPDATE_ROLLBACK_COMPLETE")
    # The first failure, not the cancellation cascade that followed it.
    assert "first failure: MigrateTask (AWS::CloudFormation::CustomResource) UPDATE_FAILED" in text
    assert f"seen: migrate task {aws.task_id(MIGRATION_TASK)} container 'migrate': exited with code 1" in text
    assert f"log {aws.LOG_GROUP} docker/migrate/{aws.task_id(MIGRATION_TASK)}, last 4 line(s):" in text
    assert "| django.db.utils.OperationalError: (2003, \"Can't connect to MySQL server" in text
    assert "| connecting to mysql://todobackend:<masked>@todobackend" in text


def test_a_rollback_that_failed_too_is_the_second_problem(world):
    """UPDATE_ROLLBACK_FAILED: the migration broke the update, then the service could not be rolled back."""
    migration_exits_1(world)
    stuck = "Resource handler returned message: \"Service was not ACTIVE.\" (HandlerErrorCode: NotFound)"
    world.events.insert(-1, aws.event("ApplicationService", "AWS::ECS::Service", "UPDATE_FAILED", stuck,
                                      world.events[-1]["Timestamp"]))
    world.events[-1] |= {"ResourceStatus": "UPDATE_ROLLBACK_FAILED"}
    world.stack["StackStatus"] = "UPDATE_ROLLBACK_FAILED"
    text = problem(world, "The database migration task exited non-zero")
    assert text.index("1. The database migration task") < text.index("2. The rollback failed too")
    assert f"seen: ApplicationService (AWS::ECS::Service) UPDATE_FAILED: {stuck}" in text
    assert "ContinueUpdateRollback" in text


def test_the_documented_sample_is_this_scenarios_report(world):
    migration_exits_1(world)
    _, text = report(world)
    page = (ROOT / "docs" / "doctor.md").read_text()
    sample = page.split("<!-- doctor sample: begin -->\n```text\n")[1].split("```\n<!-- doctor sample: end -->")[0]
    *body, timing = sample.splitlines()
    assert body == text.splitlines()[:-1], "regenerate docs/doctor.md's sample: python -m tests.unit.test_doctor"
    assert timing.startswith("read in ")


def test_an_earlier_deploys_failed_migration_is_not_a_service_container_exiting(world):
    """ECS keeps stopped tasks for a while: the migration that failed one deploy ago is still listed."""
    world.add_task(0, aws.MIGRATE_DEFINITION, [("migrate", 1, None)], started_by=aws.MIGRATE_STARTED_BY,
                   stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                   log_lines=["django.db.utils.OperationalError: (2003, \"Can't connect to MySQL server\")"])
    code, text = both_formats(world)
    assert code == doctor.OK, verdict(text)
    assert f"migrate task {aws.task_id(1)}" in text


def test_an_image_that_cannot_be_pulled_comes_before_the_rollback_it_caused(world):
    pull = ("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
            f"{aws.IMAGE[:-6]}:nope: {aws.IMAGE[:-6]}:nope: not found")
    for number in (20, 21, 22):
        world.add_task(number, aws.APP_DEFINITION, [("todobackend", None, pull), ("collectstatic", None, pull)],
                       stop_code="TaskFailedToStart", stopped_reason=pull)
    world.service["deployments"] = [
        aws.deployment(2, "PRIMARY", "FAILED", running=0, failed=3,
                       reason="ECS deployment circuit breaker: tasks failed to start."),
        aws.deployment(1, "ACTIVE", "COMPLETED")]
    failed_update(world, "ApplicationService", "AWS::ECS::Service",
                  "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.", cascade=False)
    text = problem(world, "The container image cannot be pulled")
    assert verdict(text).endswith("; 1 more problem(s) below]")
    assert text.index("1. The container image cannot be pulled") < text.index(
        "2. The deployment circuit breaker stopped the deployment and rolled back")
    # One reason seen in six containers of three tasks takes one line, each task named once.
    assert (f"seen: task {aws.task_id(22)} containers 'todobackend' and 'collectstatic', task {aws.task_id(21)} "
            f"containers 'todobackend' and 'collectstatic', task {aws.task_id(20)} containers 'todobackend' and "
            f"'collectstatic': {pull}") in text
    assert "doc:  CannotPull" in text and "task_cannot_pull_image.html" in text
    assert "FAILED after 3 failed task(s): ECS deployment circuit breaker: tasks failed to start." in text


def test_a_container_below_dockers_memory_minimum(world):
    revision_4 = aws.MIGRATE_DEFINITION[:-1] + "4"
    world.definitions[revision_4] = {**aws.migrate_definition(), "taskDefinitionArn": revision_4, "revision": 4}
    world.definitions[revision_4]["containerDefinitions"][0]["memoryReservation"] = 5
    reason = "CannotCreateContainerError: Error response from daemon: Minimum memory reservation allowed is 6MB"
    arn = world.add_task(8, revision_4, [("migrate", None, reason)], started_by=aws.MIGRATE_STARTED_BY,
                         stop_code="TaskFailedToStart", stopped_reason="Essential container in task exited")
    failed_update(world, "MigrateTask", "AWS::CloudFormation::CustomResource",
                  f"Received response status [FAILED] from custom resource. Message returned: container 'migrate' has "
                  f"no exit code: {reason} (task {arn}; stopped: Essential container in task exited)")
    text = problem(world, "A container reserves less memory than Docker's minimum (6 MiB)")
    assert f"seen: migrate task {aws.task_id(8)} container 'migrate': {reason}" in text
    assert "seen: task definition todobackend-migrate:4 container 'migrate': memory_reservation 5 MiB" in text
    assert "migration task exited non-zero" not in text  # no exit code: it never ran


def test_secrets_the_execution_role_cannot_read(world):
    denied = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch "
              f"secret arn:aws:secretsmanager:us-east-1:{aws.ACCOUNT}:secret:db-AbCdEf from secrets manager: "
              "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/todobackend-execution/abc is not "
              "authorized to perform: secretsmanager:GetSecretValue")
    for number in (30, 31):
        world.add_task(number, aws.APP_DEFINITION, [("todobackend", None, None), ("collectstatic", None, None)],
                       stop_code="TaskFailedToStart", stopped_reason=denied)
    world.service["runningCount"] = 0
    text = problem(world, "The task cannot read its secrets")
    assert f"seen: task {aws.task_id(31)}, task {aws.task_id(30)}: ResourceInitializationError" in text
    assert "secret:db-AbCdEf from secrets manager: AccessDeniedException" in text  # the ARN stays readable
    assert "repost.aws/knowledge-center/ecs-unable-to-pull-secrets" in text


@pytest.mark.parametrize("reason", [
    "WaitCondition timed out. Received 0 conditions when expecting 1",
    "WaitCondition received failed message: 'ECS agent did not register with the cluster within 5 minutes' "
    "for uniqueId: ip-10-0-0-1",
])
def test_no_instance_registered_with_the_capacity_provider_on_a_first_deploy(world, reason):
    world.operation("CREATE", [
        ("ApplicationCapacityReady", "AWS::CloudFormation::WaitCondition", "CREATE_IN_PROGRESS", None),
        ("ApplicationCapacityReady", "AWS::CloudFormation::WaitCondition", "CREATE_FAILED", reason),
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_FAILED", "Resource creation cancelled"),
    ], "CREATE_FAILED", "The following resource(s) failed to create: [ApplicationCapacityReady, MigrateTask].")
    del world.resources["ApplicationService"]
    world.tasks, world.instances, world.targets = {}, [], []
    code, text = both_formats(world)
    assert code == doctor.PROBLEMS
    assert verdict(text).startswith("PROBLEM: No container instance joined the cluster")
    assert f"seen: stack: ApplicationCapacityReady CREATE_FAILED: {reason}" in text


def test_no_container_instance_registered_before_the_signal_timeout(world):
    world.operation("CREATE", [
        ("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "CREATE_IN_PROGRESS", None),
        ("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "CREATE_FAILED",
         "Failed to receive 1 resource signal(s) within the specified duration"),
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_FAILED", "Resource creation cancelled"),
    ], "CREATE_FAILED", "The following resource(s) failed to create: [ApplicationAutoscaling, MigrateTask].")
    del world.resources["ApplicationService"]
    world.tasks, world.instances, world.targets = {}, [], []
    world.asg_instances = [aws.asg_instance("i-0ccc3333dddd4444e", health="Healthy")]
    code, text = both_formats(world)
    assert code == doctor.PROBLEMS
    assert verdict(text).startswith("PROBLEM: No container instance joined the cluster [stack todobackend-dev "
                                    "(us-east-1): CREATE_FAILED")
    assert ("first failure: ApplicationAutoscaling (AWS::AutoScaling::AutoScalingGroup) CREATE_FAILED at "
            "2026-11-28T20:03:02+00:00") in text
    assert ("seen: stack: ApplicationAutoscaling CREATE_FAILED: Failed to receive 1 resource signal(s) within the "
            "specified duration") in text
    assert f"seen: cluster {aws.CLUSTER}: 0 container instance(s) registered, 0 active with a connected agent" in text
    assert "container instances: 0 registered" in text
    assert "seen: scaling activity 2026-11-28T20:00:00+00:00: Successful: Launching a new EC2 instance" in text


def test_a_task_that_cannot_be_placed_for_memory(world):
    world.instances = [aws.container_instance("i-0aaa1111bbbb2222c", free_memory=300)]
    world.service["deployments"] = [aws.deployment(2, "PRIMARY", "IN_PROGRESS", running=0),
                                    aws.deployment(1, "ACTIVE", "COMPLETED")]
    world.service |= {"desiredCount": 2}
    world.service_event(f"(service {aws.SERVICE_NAME}) was unable to place a task because no container instance met "
                        "all of its requirements. The closest matching (container-instance 0aaa1111bbbb2222c) has "
                        "insufficient memory available. For more information, see the Troubleshooting section of "
                        "the Amazon ECS Developer Guide.", minutes=5)
    world.operation("UPDATE", [("ApplicationService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", None)],
                    "UPDATE_IN_PROGRESS")
    text = problem(world, "No container instance has room for the task")
    assert "has insufficient memory available" in text
    assert ("seen: instance i-0aaa1111bbbb2222c: 300 MiB memory and 1800 CPU units free; a todobackend:3 task "
            "reserves 401 MiB and 250 CPU units") in text


def test_room_on_a_draining_instance_is_no_room(world):
    """An AMI update drains the old instance (capacity provider managed draining): its free memory places nothing."""
    world.instances = [aws.container_instance("i-0aaa1111bbbb2222c", free_memory=300),
                       {**aws.container_instance("i-0ddd4444eeee5555f", free_memory=1500), "status": "DRAINING"}]
    world.service |= {"desiredCount": 2}
    text = problem(world, "No container instance has room for the task")
    assert "seen: instance i-0aaa1111bbbb2222c: 300 MiB memory" in text
    assert "seen: instance i-0ddd4444eeee5555f" not in text


def test_a_draining_instance_of_a_healthy_service_is_not_a_problem(world):
    world.instances.append({**aws.container_instance("i-0ddd4444eeee5555f"), "status": "DRAINING"})
    assert report(world)[0] == doctor.OK


def unhealthy(world, reason, description, event_reason):
    world.targets = [aws.target("i-0aaa1111bbbb2222c", 32771, "unhealthy", reason, description)]
    world.add_task(40, aws.APP_DEFINITION, [("todobackend", 137, None), ("collectstatic", 0, None)],
                   stop_code="ServiceSchedulerInitiated",
                   stopped_reason=f"Task failed ELB health checks in (target-group {aws.TARGET_GROUP})")
    world.service_event(f"(service {aws.SERVICE_NAME}) (port 32771) is unhealthy in (target-group "
                        f"{aws.TARGET_GROUP}) due to (reason {event_reason}).", minutes=3)


def test_health_checks_failing_with_a_status_code(world):
    unhealthy(world, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]",
              "Health checks failed with these codes: [500]")
    text = problem(world, "Health checks get the wrong HTTP status code")
    assert ("seen: target i-0aaa1111bbbb2222c:32771 unhealthy: Target.ResponseCodeMismatch: Health checks failed "
            "with these codes: [500]") in text
    assert "due to (reason Health checks failed with these codes: [500])." in text
    # A task the scheduler stopped for failing health checks is a consequence, not an exit to explain.
    assert "A service container exits non-zero" not in text


def test_health_check_timeouts(world):
    unhealthy(world, "Target.Timeout", "Request timed out", "Request timed out")
    text = problem(world, "Health checks time out")
    assert "seen: target i-0aaa1111bbbb2222c:32771 unhealthy: Target.Timeout: Request timed out" in text
    assert "Health checks get the wrong HTTP status code" not in text


def test_an_unhealthy_target_with_a_reason_the_doctor_does_not_know_is_shown_raw(world):
    world.targets = [aws.target("i-0aaa1111bbbb2222c", 32768, "unhealthy", "Elb.InternalError",
                                "Health checks failed due to an internal error"),
                     aws.target("i-0aaa1111bbbb2222c", 32769, "draining", "Target.DeregistrationInProgress",
                                "Target deregistration is in progress"),
                     aws.target("i-0aaa1111bbbb2222c", 32770, "unused", "Target.NotInUse",
                                "Target group is not configured to receive traffic from the load balancer")]
    text = problem(world, "A target is unhealthy for a reason the doctor does not know")
    assert ("seen: target i-0aaa1111bbbb2222c:32768 unhealthy: Elb.InternalError: Health checks failed due to an "
            "internal error") in text
    assert "seen: target i-0aaa1111bbbb2222c:32769" not in text and "seen: target i-0aaa1111bbbb2222c:32770" not in text


def test_draining_and_unused_targets_are_not_problems(world):
    world.targets += [aws.target("i-0bbb2222cccc3333d", 32768, "draining", "Target.DeregistrationInProgress",
                                 "Target deregistration is in progress"),
                      aws.target("i-0bbb2222cccc3333d", 32769, "unused", "Target.NotRegistered",
                                 "Target is not registered to the target group")]
    assert report(world)[0] == doctor.OK


def test_a_circuit_breaker_rollback_on_its_own(world):
    world.definitions[aws.APP_DEFINITION[:-1] + "4"] = {**aws.app_definition(), "revision": 4}
    world.service["deployments"] = [
        aws.deployment(1, "PRIMARY", "IN_PROGRESS"),
        aws.deployment(2, "ACTIVE", "FAILED", task_definition=aws.APP_DEFINITION[:-1] + "4", running=0, failed=2,
                       reason="ECS deployment circuit breaker: tasks failed to start.")]
    world.service_event(f"(service {aws.SERVICE_NAME}) (deployment ecs-svc/0000000000000000002) deployment failed: "
                        "tasks failed to start.", minutes=4)
    world.service_event(f"(service {aws.SERVICE_NAME}) rolling back to deployment ecs-svc/0000000000000000001.",
                        minutes=5)
    text = problem(world, "The deployment circuit breaker stopped the deployment and rolled back")
    assert ("seen: deployment ecs-svc/0000000000000000002 (todobackend:4) FAILED after 2 failed task(s): ECS "
            "deployment circuit breaker: tasks failed to start.") in text
    assert "rolling back to deployment ecs-svc/0000000000000000001" in text


def test_a_service_container_exiting_non_zero_shows_its_log(world):
    world.add_task(50, aws.APP_DEFINITION, [("todobackend", 1, None), ("collectstatic", 0, None)],
                   stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                   log_lines=["Traceback (most recent call last):", "django.core.exceptions.ImproperlyConfigured: "
                              "The SECRET_KEY setting must not be empty."])
    text = problem(world, "A service container exits non-zero")
    assert f"log {aws.LOG_GROUP} docker/todobackend/{aws.task_id(50)}, last 2 line(s):" in text
    assert "| django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty." in text


def test_a_log_group_that_no_longer_exists_is_said_so_not_shown_as_an_empty_log(world, monkeypatch):
    def no_group(**_):
        raise aws.FakeError("ResourceNotFoundException", "The specified log group does not exist.")

    monkeypatch.setattr(world, "GetLogEvents", no_group)
    world.add_task(50, aws.APP_DEFINITION, [("todobackend", 1, None)], stop_code="EssentialContainerExited",
                   stopped_reason="Essential container in task exited")
    text = problem(world, "A service container exits non-zero")
    assert f"log {aws.LOG_GROUP} docker/todobackend/{aws.task_id(50)}: not read (see the gaps)" in text
    assert "ResourceNotFoundException: The specified log group does not exist." in text


def test_an_unknown_reason_is_shown_raw(world):
    strange = "CannotStartContainerError: Error response from daemon: a brand new failure nobody has seen"
    world.add_task(60, aws.APP_DEFINITION, [("todobackend", None, strange)], stop_code="TaskFailedToStart",
                   stopped_reason="Essential container in task exited")
    text = problem(world, "A task stopped for a reason the doctor does not know")
    assert f"seen: task {aws.task_id(60)} container 'todobackend': {strange}" in text


def test_an_unknown_stack_failure_is_shown_raw(world):
    failed_update(world, "ApplicationLoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                  "Resource handler returned message: \"A load balancer cannot be attached to multiple subnets in the "
                  "same Availability Zone\"")
    text = problem(world, "The stack failed for a reason the doctor does not know")
    assert ("seen: ApplicationLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) UPDATE_FAILED: Resource "
            "handler returned message:") in text


def twelve_crashing_tasks(world):
    for number in range(100, 112):
        world.add_task(number, aws.APP_DEFINITION, [("todobackend", 1, None), ("collectstatic", 0, None)],
                       stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                       log_lines=[f"crash {number}"])


def test_ten_stopped_tasks_are_read_in_parallel_and_the_time_is_printed(world):
    twelve_crashing_tasks(world)
    world.latency = 0.01  # long enough for calls to overlap, short enough for the unit budget
    code, text = report(world)
    shown = [line for line in text.splitlines() if line.startswith("    task ")]
    assert len(shown) == 10 and f"task {aws.task_id(111)}" in shown[0]  # the ten most recent, newest first
    assert text.count("| crash 1") == 10
    assert world.max_in_flight > 1
    # Logs of the containers that failed (one per task) and of the migration, not of those that exited 0.
    assert len([call for call, _ in world.calls if call == "GetLogEvents"]) == 11
    assert text.splitlines()[-1].startswith("read in ") and "AWS API calls" in text.splitlines()[-1]


def test_an_ok_verdict_says_what_it_could_not_read(world, monkeypatch):
    """A throttled read (after boto3's own retries) must not turn into "no service" in an OK verdict."""
    def throttled(**_):
        raise aws.FakeError("ThrottlingException", "Rate exceeded")

    monkeypatch.setattr(world, "DescribeServices", throttled)
    code, text = both_formats(world)
    assert code == doctor.OK
    assert verdict(text) == (f"OK: nothing wrong found [stack {aws.STACK} (us-east-1): UPDATE_COMPLETE; 1 read "
                             "failed, see 'not read' below]")
    assert "not read: the ECS services: ThrottlingException: Rate exceeded" in text


def test_the_most_recent_stopped_tasks_are_found_past_list_tasks_first_page(world):
    for number in range(200, 340):
        world.add_task(number, aws.APP_DEFINITION, [("todobackend", 143, None)], stop_code="ServiceSchedulerInitiated",
                       stopped_reason="Scaling activity initiated by (deployment ecs-svc/0000000000000000001)")
    world.add_task(340, aws.APP_DEFINITION, [("todobackend", 1, None)], stop_code="EssentialContainerExited",
                   stopped_reason="Essential container in task exited", log_lines=["crash on page two"])
    text = problem(world, "A service container exits non-zero")
    assert "| crash on page two" in text


def test_a_read_that_is_refused_is_reported_and_the_rest_still_read(world, monkeypatch):
    def denied(**_):
        raise aws.FakeError("AccessDeniedException", "User is not authorized to perform: elasticloadbalancing:"
                            "DescribeTargetHealth", 403)

    monkeypatch.setattr(world, "DescribeTargetHealth", denied)
    code, text = report(world)
    assert code == doctor.OK
    assert "not read: target health: AccessDeniedException: User is not authorized" in text
    assert "container instances: 1 registered" in text



def test_a_create_rolled_back_is_explained_from_its_events_alone(world):
    """After a rollback the cluster and the service are gone: only the stack's events are left to read."""
    world.operation("CREATE", [
        ("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "CREATE_FAILED",
         "Failed to receive 1 resource signal(s) within the specified duration"),
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_FAILED", "Resource creation cancelled"),
        ("ApplicationCluster", "AWS::ECS::Cluster", "DELETE_COMPLETE", None),
        ("ApplicationService", "AWS::ECS::Service", "DELETE_COMPLETE", None),
        ("ApplicationServiceTargetGroup", "AWS::ElasticLoadBalancingV2::TargetGroup", "DELETE_COMPLETE", None),
        ("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "DELETE_COMPLETE", None),
    ], "ROLLBACK_COMPLETE")
    text = problem(world, "No container instance joined the cluster")
    assert not {call for call, _ in world.calls} & {"ListTasks", "DescribeServices", "DescribeTargetHealth",
                                                     "DescribeAutoScalingGroups"}
    assert "stopped tasks: no live ECS cluster in the stack to read them from" in text  # a gap, not "none"


def test_a_delete_that_failed_is_explained_by_the_delete_not_by_the_create_before_it(world):
    world.operation("CREATE", [("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "CREATE_FAILED",
                                "Failed to receive 1 resource signal(s) within the specified duration")],
                    "ROLLBACK_COMPLETE")
    world.operation("DELETE", [("ApplicationCluster", "AWS::ECS::Cluster", "DELETE_FAILED",
                                "The Cluster cannot be deleted while Container Instances are active or draining.")],
                    "DELETE_FAILED", "The following resource(s) failed to delete: [ApplicationCluster].")
    text = problem(world, "The stack failed for a reason the doctor does not know")
    assert "first failure: ApplicationCluster (AWS::ECS::Cluster) DELETE_FAILED" in text
    assert "signal" not in text


def test_stack_events_with_only_the_required_fields_read_without_a_traceback(world):
    """StackEvent requires only StackId, EventId, StackName and Timestamp (a hook's event may carry no
    ResourceStatus): such events are read like the others."""
    migration_exits_1(world)
    world.events.insert(-1, {"StackId": aws.STACK_ID, "EventId": "hook-1", "StackName": aws.STACK,
                             "LogicalResourceId": aws.STACK, "ResourceType": "AWS::CloudFormation::Stack",
                             "Timestamp": aws.T0, "HookType": "Private::Guard::Hook", "HookStatus": "HOOK_COMPLETE_SUCCEEDED"})
    world.events.insert(-1, {"StackId": aws.STACK_ID, "EventId": "bare-1", "StackName": aws.STACK, "Timestamp": aws.T0})
    text = problem(world, "The database migration task exited non-zero")
    assert "first failure: MigrateTask (AWS::CloudFormation::CustomResource) UPDATE_FAILED" in text


def test_a_deleted_stack_read_by_its_id_is_explained_by_the_create_that_failed(world):
    """taskcat deletes a stack that failed to create; read by its stack id afterwards, the create is what failed."""
    world.operation("CREATE", [("ApplicationAutoscaling", "AWS::AutoScaling::AutoScalingGroup", "CREATE_FAILED",
                                "Failed to receive 1 resource signal(s) within the specified duration")],
                    "ROLLBACK_COMPLETE")
    world.operation("DELETE", [(logical, kind, "DELETE_COMPLETE", None)
                               for logical, (kind, _) in world.resources.items()], "DELETE_COMPLETE")
    code, text = doctor.diagnose(aws.STACK_ID, session=world.session())
    assert code == doctor.PROBLEMS
    assert verdict(leaks_nothing(text)).startswith("PROBLEM: No container instance joined the cluster [")


def test_the_first_failure_is_found_pages_back(world):
    """A create has well over 100 events: the first failure sits on a later page, before the cascade."""
    world.operation("CREATE", [
        ("ApplicationDatabase", "AWS::RDS::DBInstance", "CREATE_FAILED",
         "Resource handler returned message: \"Cannot find version 8.4.99 for mysql\""),
        *[(f"Resource{n}", "AWS::EC2::SecurityGroupIngress", "CREATE_FAILED", "Resource creation cancelled")
          for n in range(150)]], "ROLLBACK_COMPLETE")
    text = problem(world, "The stack failed for a reason the doctor does not know")
    assert "first failure: ApplicationDatabase (AWS::RDS::DBInstance) CREATE_FAILED" in text
    assert len([call for call, _ in world.calls if call == "DescribeStackEvents"]) == 2


def test_a_stack_of_another_shape_reads_without_errors(world):
    """No MigrateTask, no service, no load balancer: what is there is reported, nothing is invented."""
    world.resources = {"Bucket": ("AWS::S3::Bucket", "my-bucket"), "Queue": ("AWS::SQS::Queue", "https://sqs/q")}
    world.events = []
    world.operation("CREATE", [("Bucket", "AWS::S3::Bucket", "CREATE_COMPLETE", None)], "CREATE_COMPLETE")
    code, text = both_formats(world)
    assert code == doctor.OK
    assert verdict(text) == f"OK: nothing wrong found [stack {aws.STACK} (us-east-1): CREATE_COMPLETE; no service]"
    assert "not read" not in text


def test_every_service_of_a_template_with_two_is_read(world):
    """Another template: a Fargate web service that is fine and a worker service the circuit breaker rolled back."""
    worker_arn = aws.SERVICE_ARN.replace("ApplicationService", "WorkerService")
    world.resources["WorkerService"] = ("AWS::ECS::Service", worker_arn)
    world.other_services = [{**aws.service(), "serviceArn": worker_arn, "serviceName": "worker", "runningCount": 0,
                             "launchType": "FARGATE", "deployments": [aws.deployment(
                                 2, "PRIMARY", "FAILED", running=0, failed=3,
                                 reason="ECS deployment circuit breaker: tasks failed to start.")]}]
    text = problem(world, "The deployment circuit breaker stopped the deployment and rolled back")
    assert "service worker 0/1 running, deployment FAILED" in text
    assert f"service {aws.SERVICE_NAME} 1/1 running, deployment COMPLETED" in text


def test_a_task_without_reasons_or_containers_is_not_a_problem(world):
    world.add_task(70, aws.APP_DEFINITION, [], stop_code="ServiceSchedulerInitiated")
    assert report(world)[0] == doctor.OK


if __name__ == "__main__":  # docs/doctor.md's sample report; with "benchmark": 10 stopped tasks at 100 ms per call
    import sys

    sample_world = aws.World(latency=0.1 if sys.argv[1:] == ["benchmark"] else 0.0)
    (twelve_crashing_tasks if sys.argv[1:] == ["benchmark"] else migration_exits_1)(sample_world)
    print(report(sample_world)[1])
