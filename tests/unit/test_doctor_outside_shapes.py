"""The doctor on the shapes a run against seeded failures nobody here wrote showed it getting wrong (issue 18).

Each scenario changes a healthy tests/support/fake_aws.World the way AWS answers: ECS service events in ECS's own
words ("(service x) has reached a steady state.", "... is unhealthy in (target-group ...) due to (reason ...)"),
deployments with their rolloutState, target health, and CloudFormation events of a rolled-back update.
"""
import datetime

import pytest

from tests.support import fake_aws as aws
from tests.unit.test_doctor import MIGRATION_TASK, both_formats, failed_update, problem, verdict
from tools import doctor

SERVICE = f"(service {aws.SERVICE_NAME})"
STEADY = f"{SERVICE} has reached a steady state."
UNHEALTHY_502 = (f"{SERVICE} (port 32771) is unhealthy in (target-group {aws.TARGET_GROUP}) due to (reason Health "
                 "checks failed with these codes: [502]).")
# Earlier failures of each kind a cause reads from the service's events.
EARLIER_FAILURES = {
    "health checks": UNHEALTHY_502,
    "placement": f"{SERVICE} was unable to place a task because no container instance met all of its requirements. "
                 "The closest matching (container-instance 0aaa1111bbbb2222c) has insufficient memory available. For "
                 "more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
    "no instance": f"{SERVICE} was unable to place a task because no container instance met all of its requirements. "
                   "Reason: No Container Instances were found in your cluster. For more information, see the "
                   "Troubleshooting section of the Amazon ECS Developer Guide.",
    "circuit breaker": f"{SERVICE} rolling back to deployment ecs-svc/0000000000000000001.",
}


def two_of_two_running(world):
    world.service |= {"desiredCount": 2, "runningCount": 2}
    world.service["deployments"] = [{**aws.deployment(3, "PRIMARY", "COMPLETED", running=2), "desiredCount": 2}]
    world.targets = [aws.target("i-0aaa1111bbbb2222c", 32772, "healthy"),
                     aws.target("i-0aaa1111bbbb2222c", 32773, "healthy")]


@pytest.mark.parametrize("kind", EARLIER_FAILURES)
def test_a_service_that_recovered_since_an_event_is_healthy_and_the_event_is_history(kind):
    """Deployment COMPLETED, 2/2 running, both targets healthy, a steady state newer than the failure."""
    world = aws.World()
    two_of_two_running(world)
    world.service_event(EARLIER_FAILURES[kind], minutes=3)
    world.service_event(f"{SERVICE} (deployment ecs-svc/0000000000000000003) deployment completed.", minutes=8)
    world.service_event(STEADY, minutes=9)
    code, text = both_formats(world)
    assert code == doctor.OK, verdict(text)
    assert f"history 2026-11-28T20:03:00+00:00: {EARLIER_FAILURES[kind]}" in text
    assert f"event 2026-11-28T20:09:00+00:00: {STEADY}" in text


def test_a_task_that_crashed_before_the_service_recovered_is_history():
    world = aws.World()
    world.add_task(50, aws.APP_DEFINITION, [("todobackend", 1, None)], stop_code="EssentialContainerExited",
                   stopped_reason="Essential container in task exited", log_lines=["boom"])
    world.service_event(STEADY, minutes=5)  # the task stopped at 20:01:20
    assert both_formats(world)[0] == doctor.OK


def test_a_service_failing_again_after_its_steady_state_is_still_reported():
    world = aws.World()
    world.service_event(UNHEALTHY_502, minutes=3)
    world.service_event(STEADY, minutes=9)
    world.service_event(UNHEALTHY_502.replace("32771", "32774"), minutes=12)
    text = problem(world, "Health checks get the wrong HTTP status code")
    assert "seen: service event 2026-11-28T20:12:00+00:00: " in text
    assert "2026-11-28T20:03:00+00:00" not in text.split("Evidence")[0]  # the recovered-from event is not evidence


def test_targets_unhealthy_now_are_reported_whatever_the_events_say():
    world = aws.World()
    world.service_event(UNHEALTHY_502, minutes=3)
    world.service_event(STEADY, minutes=9)
    world.targets = [aws.target("i-0aaa1111bbbb2222c", 32771, "unhealthy", "Target.ResponseCodeMismatch",
                                "Health checks failed with these codes: [502]")]
    problem(world, "Health checks get the wrong HTTP status code")


def test_a_deploy_rolled_back_is_explained_by_its_events_though_the_service_is_steady_again():
    """The circuit breaker rolled back: the service ends steady, the stack UPDATE_ROLLBACK_COMPLETE; the health
    checks that failed during the update are why."""
    world = aws.World()
    failed_update(world, "ApplicationService", "AWS::ECS::Service",
                  "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.", cascade=False)
    started = world.events[-4]["Timestamp"]  # the update's start, 20:01:00
    minutes = (started - aws.T0).total_seconds() / 60
    world.service_event(UNHEALTHY_502, minutes=minutes + 2)
    world.service_event(EARLIER_FAILURES["circuit breaker"], minutes=minutes + 5)
    world.service_event(STEADY, minutes=minutes + 8)
    text = problem(world, "Health checks get the wrong HTTP status code")
    assert "2. The deployment circuit breaker stopped the deployment and rolled back" in text


@pytest.mark.parametrize("codes, says, never", [
    ("[400]", ["400", "ALLOWED_HOSTS", "private IP address"], ["5xx", "500"]),
    ("[502]", ["5xx", "read the container log"], ["ALLOWED_HOSTS", "400"]),
    ("[301]", ["3xx", "APPEND_SLASH", "SECURE_SSL_REDIRECT"], ["ALLOWED_HOSTS", "5xx"]),
    ("[404]", ["404", "HealthCheckPath"], ["ALLOWED_HOSTS", "5xx"]),
])
def test_health_check_advice_fits_the_status_codes_seen(codes, says, never):
    world = aws.World()
    world.targets = [aws.target("i-0aaa1111bbbb2222c", 32771, "unhealthy", "Target.ResponseCodeMismatch",
                                f"Health checks failed with these codes: {codes}")]
    text = problem(world, "Health checks get the wrong HTTP status code")
    [advice] = [line for line in text.splitlines() if line.startswith("   do:   ")]
    assert advice.startswith(f"   do:   The targets answered {codes[1:-1]} to the health check.")
    assert all(word in advice for word in says), advice
    assert not any(word in advice for word in never), advice


def test_a_rolled_back_custom_resource_shows_its_status_and_its_failure_apart():
    world = aws.World()
    failed_update(world, "MigrateTask", "AWS::CloudFormation::CustomResource",
                  "Received response status [FAILED] from custom resource. Message returned: container 'migrate' "
                  "exited with code 1")
    _, text = both_formats(world)
    assert ("MigrateTask: UPDATE_COMPLETE, after UPDATE_FAILED at 2026-11-28T20:03:01+00:00: Received response status "
            "[FAILED]") in text
    assert "MigrateTask: UPDATE_COMPLETE: Received" not in text


def test_a_created_custom_resource_is_not_shown_beside_its_in_progress_reason():
    world = aws.World()
    world.operation("CREATE", [
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_IN_PROGRESS", None),
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("MigrateTask", "AWS::CloudFormation::CustomResource", "CREATE_COMPLETE", None)], "CREATE_COMPLETE")
    code, text = both_formats(world)
    assert code == doctor.OK
    assert "  MigrateTask: CREATE_COMPLETE\n" in text


def test_stopped_tasks_of_a_cluster_already_deleted_are_a_gap_not_none(monkeypatch):
    world = aws.World()

    def cluster_gone(**_):
        raise aws.FakeError("ClusterNotFoundException", "Cluster not found.")

    monkeypatch.setattr(world, "ListTasks", cluster_gone)
    _, text = both_formats(world)
    assert "stopped tasks: not read (see below)" in text
    assert "not read: stopped tasks: ClusterNotFoundException: Cluster not found." in text
    assert "stopped tasks: none" not in text


def test_one_task_whose_containers_exit_alike_takes_one_seen_line():
    world = aws.World()
    world.add_task(50, aws.APP_DEFINITION, [("todobackend", 1, None), ("collectstatic", 1, None)],
                   stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited")
    text = problem(world, "A service container exits non-zero")
    seen = [line for line in text.splitlines() if line.startswith("   seen: ")]
    assert seen == [f"   seen: task {aws.task_id(50)} containers 'todobackend' and 'collectstatic': exited with code 1"]


def test_times_are_shown_in_utc_to_the_second():
    """botocore gives ECS times in the local zone with microseconds."""
    world = aws.World()
    local = datetime.timezone(datetime.timedelta(hours=1))
    world.service["events"][0]["createdAt"] = datetime.datetime(2026, 11, 28, 21, 0, 5, 123456, tzinfo=local)
    _, text = both_formats(world)
    assert f"event 2026-11-28T20:00:05+00:00: {STEADY}" in text
    assert ".123456" not in text


def test_masking_keeps_iam_actions_and_mysqls_yes_while_the_planted_secrets_stay_hidden():
    denied = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch "
              f"secret arn:aws:secretsmanager:us-east-1:{aws.ACCOUNT}:secret:db-AbCdEf from secrets manager: "
              "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/todobackend-execution/abc is not "
              "authorized to perform: secretsmanager:GetSecretValue on resource: "
              f"arn:aws:secretsmanager:us-east-1:{aws.ACCOUNT}:secret:db-AbCdEf because no identity-based policy "
              "allows the secretsmanager:GetSecretValue action")
    world = aws.World()
    world.add_task(30, aws.APP_DEFINITION, [("todobackend", None, None)], stop_code="TaskFailedToStart",
                   stopped_reason=denied)
    world.add_task(MIGRATION_TASK, aws.MIGRATE_DEFINITION, [("migrate", 1, None)], started_by=aws.MIGRATE_STARTED_BY,
                   stop_code="EssentialContainerExited", stopped_reason="Essential container in task exited",
                   log_lines=[*aws.LEAKY_LOG_LINES, "django.db.utils.OperationalError: (1045, \"Access denied for "
                              "user 'todobackend'@'10.0.1.5' (using password: YES)\")"])
    text = problem(world, "The task cannot read its secrets")  # leaks none of the World's secrets
    assert "is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:" in text
    assert "do:   Check the execution role allows secretsmanager:GetSecretValue on each ValueFrom ARN" in text
    assert "| django.db.utils.OperationalError: (1045, \"Access denied for user 'todobackend'@'10.0.1.5' (using " \
           "password: YES)\")" in text
    assert "| connecting to mysql://todobackend:<masked>@todobackend" in text
