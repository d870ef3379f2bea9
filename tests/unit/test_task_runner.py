"""The task-runner handler on moto ECS: every way a request can end, and the one response it sends."""
import hashlib
import re
import time

import pytest
import urllib3
from werkzeug import Response

from tests.support.cloudformation import RESPONSE_PATH, STACK_ID
from tests.support.lambda_runtime import FakeClock, LambdaContext

CREATED_ID = "MigrateTask-" + hashlib.sha256(STACK_ID.encode()).hexdigest()[:12]
STOPPED = "Essential container in task exited"


def expected(event, status, reason, physical_id=CREATED_ID, data=None):
    return {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": "MigrateTask",
        "Data": data or {},
    }


# --- success ---------------------------------------------------------------------------------------

def test_create_runs_the_task_once_and_answers_success(event, invoke, cluster, cloudformation):
    request = event()
    response = invoke(request)
    [task_arn] = cluster.task_arns()
    assert response == expected(request, "SUCCESS", f"every container of task {task_arn} exited 0",
                                data={"TaskArn": task_arn, "ExitCode": 0})
    [put] = cloudformation.requests
    assert put.method == "PUT" and put.headers["Content-Type"] == ""
    assert put.args["X-Amz-Signature"] == "abc123", "the pre-signed query string must reach S3 intact"


def test_each_request_starts_its_task_with_its_own_valid_started_by(event, invoke, cluster):
    invoke(event())
    invoke(event())
    started_by = {cluster.task(arn).started_by for arn in cluster.task_arns()}
    assert len(started_by) == 2
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,36}", value) for value in started_by), "ECS's startedBy limits"


def test_create_id_is_stable_for_the_stack(event, invoke):
    # The context offers a log stream name (the book's id); the id must not depend on it or on the request.
    assert invoke(event())["PhysicalResourceId"] == invoke(event())["PhysicalResourceId"] == CREATED_ID


def test_update_runs_the_task_and_keeps_the_id(event, invoke, cluster):
    response = invoke(event("Update", PhysicalResourceId="MigrateTask-existing"))
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", "MigrateTask-existing")
    assert len(cluster.task_arns()) == 1


@pytest.mark.parametrize("physical_id", ["MigrateTask-existing", None], ids=["with-id", "without-id"])
def test_delete_answers_success_at_once_and_runs_nothing(event, invoke, cluster, physical_id):
    request = event("Delete", PhysicalResourceId=physical_id, ResourceProperties={})
    response = invoke(request)
    assert response == expected(request, "SUCCESS", "Delete runs no task", physical_id or CREATED_ID)
    assert cluster.task_arns() == []


def test_overrides_reach_ecs_and_environment_values_stay_out_of_the_log(event, invoke, cluster, migrate_arn,
                                                                       logged):
    overrides = {"containerOverrides": [{
        "name": "migrate",
        "command": ["python3", "manage.py", "migrate", "--plan"],
        "environment": [{"name": "DJANGO_DEBUG_TOKEN", "value": "s3cr3t-value"}],
    }]}
    request = event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": migrate_arn,
                                        "Overrides": overrides})
    assert invoke(request)["Status"] == "SUCCESS"
    [task_arn] = cluster.task_arns()
    assert cluster.task(task_arn).overrides == overrides
    lines = logged()
    assert "s3cr3t-value" not in str(lines)
    [props] = [line for line in lines if line["step"] == "properties"]
    assert props["overrides"]["containerOverrides"][0]["environment"] == [
        {"name": "DJANGO_DEBUG_TOKEN", "value": "<redacted>"}]


def test_every_container_of_a_multi_container_task_counts(event, invoke, cluster):
    arn = _two_container_definition(cluster)
    cluster.gaps.containers_end({"migrate": 0, "seed": 0})
    assert invoke(event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": arn}))["Status"] == "SUCCESS"


# Every container counts, essential or not (see the handler's docstring).
@pytest.mark.parametrize("essential", [True, False], ids=["essential", "non-essential"])
def test_second_container_failing_fails_the_request(event, invoke, cluster, essential):
    arn = _two_container_definition(cluster, second_essential=essential)
    cluster.gaps.containers_end({"migrate": 0, "seed": 2})
    request = event("Update", PhysicalResourceId="MigrateTask-existing",
                    ResourceProperties={"Cluster": cluster.name, "TaskDefinition": arn})
    response = invoke(request)
    [task_arn] = cluster.task_arns()
    assert response == expected(request, "FAILED", f"container 'seed' exited with code 2 (task {task_arn}; "
                                                   f"stopped: {STOPPED})", "MigrateTask-existing")


def _two_container_definition(cluster, second_essential=True):
    return cluster.register(family="todobackend-migrate", containerDefinitions=[
        {"name": "migrate", "image": "todobackend", "essential": True, "memoryReservation": 5},
        {"name": "seed", "image": "todobackend", "essential": second_essential, "memoryReservation": 5},
    ])


# --- bad requests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("properties, reason", [
    ({"TaskDefinition": "todobackend-migrate:1"},
     "invalid properties: Cluster must be the ECS cluster name or ARN (a non-empty string), got None"),
    ({"Cluster": "todobackend-cluster", "TaskDefinition": "  "},
     "invalid properties: TaskDefinition must be the task definition ARN (a non-empty string), got '  '"),
    ({"Cluster": ["a"], "TaskDefinition": "t", "Overrides": "--plan"},
     "invalid properties: Cluster must be the ECS cluster name or ARN (a non-empty string), got ['a']; "
     "Overrides must be a map of ecs.run_task overrides, got str"),
    (None, "invalid properties: ResourceProperties is missing"),
], ids=["no-cluster", "blank-task-definition", "wrong-types", "no-properties"])
def test_invalid_properties_fail_without_running_anything(event, invoke, cluster, properties, reason):
    request = event(ResourceProperties=properties)
    assert invoke(request) == expected(request, "FAILED", reason)
    assert cluster.task_arns() == []


def test_unknown_request_type_fails(event, invoke, cluster):
    request = event("Upgrade", PhysicalResourceId="MigrateTask-existing")
    assert invoke(request) == expected(
        request, "FAILED", "unknown RequestType 'Upgrade': expected Create, Update or Delete", "MigrateTask-existing")
    assert cluster.task_arns() == []


def test_overrides_ecs_rejects_fail_with_the_validation_message(event, invoke, cluster, migrate_arn):
    # CloudFormation passes numbers as strings: a memory override arrives as "512".
    overrides = {"containerOverrides": [{"name": "migrate", "memory": "512"}]}
    request = event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": migrate_arn,
                                        "Overrides": overrides})
    reason = invoke(request)["Reason"]
    assert reason.startswith("ECS rejected the properties: Parameter validation failed:")
    assert "overrides.containerOverrides[0].memory" in reason


# --- ECS says no -----------------------------------------------------------------------------------

def test_placement_failure_names_the_ecs_reason(event, invoke, cluster, migrate_arn):
    cluster.gaps.placement_fails({"arn": cluster.container_instance_arn, "reason": "RESOURCE:MEMORY"})
    huge = cluster.register(family="todobackend-migrate", containerDefinitions=[
        {"name": "migrate", "image": "todobackend", "essential": True, "memoryReservation": 10**6}])
    request = event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": huge})
    assert invoke(request)["Reason"] == (
        f"ECS could not start {huge} on cluster {cluster.name}: RESOURCE:MEMORY ({cluster.container_instance_arn})")


def test_no_task_and_no_failure_still_fails_with_a_hint(event, invoke, cluster):
    huge = cluster.register(family="todobackend-migrate", containerDefinitions=[
        {"name": "migrate", "image": "todobackend", "essential": True, "memoryReservation": 10**6}])
    request = event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": huge})
    assert invoke(request)["Reason"] == (
        f"ECS started no task of {huge} on cluster {cluster.name} and gave no reason: "
        "check that a container instance has enough free CPU, memory and ports")


@pytest.mark.parametrize("properties, reason", [
    ({"Cluster": "no-such-cluster"}, "ECS ListTasks failed: ClusterNotFoundException: Cluster not found."),
    ({"TaskDefinition": "todobackend-migrate:99"},
     "ECS RunTask failed: ClientException: Unable to describe task definition."),
], ids=["unknown-cluster", "unknown-task-definition"])
def test_ecs_api_errors_fail_with_operation_code_and_message(event, invoke, cluster, migrate_arn, properties,
                                                             reason):
    request = event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": migrate_arn, **properties})
    assert invoke(request) == expected(request, "FAILED", reason)


def test_unexpected_exceptions_still_answer(event, invoke, cluster, migrate_arn):
    cluster.client.create_cluster(clusterName="empty")  # moto raises a plain Exception without instances
    request = event(ResourceProperties={"Cluster": "empty", "TaskDefinition": migrate_arn})
    assert invoke(request)["Reason"] == "unexpected Exception: No instances found in cluster empty"


# --- how the task ended ----------------------------------------------------------------------------

def test_non_zero_exit_names_the_container_and_code(event, invoke, cluster):
    cluster.gaps.containers_end({"migrate": 1})
    request = event()
    response = invoke(request)
    [task_arn] = cluster.task_arns()
    assert response == expected(
        request, "FAILED", f"container 'migrate' exited with code 1 (task {task_arn}; stopped: {STOPPED})")


def test_missing_exit_code_gives_the_container_and_task_reasons(event, invoke, cluster):
    pull_error = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
    cluster.gaps.containers_end({"migrate": None}, {"migrate": pull_error}, stopped_reason="Task failed to start")
    response = invoke(event())
    [task_arn] = cluster.task_arns()
    assert response["Reason"] == (
        f"container 'migrate' has no exit code: {pull_error} (task {task_arn}; stopped: Task failed to start)")


def test_missing_exit_code_without_any_reason_says_so(event, invoke, cluster):
    cluster.gaps.containers_end({"migrate": None}, stopped_reason=None)
    response = invoke(event())
    [task_arn] = cluster.task_arns()
    assert response["Reason"] == (f"container 'migrate' has no exit code: no container reason given "
                                  f"(task {task_arn}; stopped: no stopped reason given)")


def test_task_that_ecs_forgets_while_waiting_fails(event, invoke, cluster, keep_tasks_running):
    clock, forgotten = FakeClock(), []

    def forget_while_sleeping(seconds):
        clock.sleep(seconds)
        [task_arn] = cluster.task_arns()
        cluster.forget(task_arn)
        forgotten.append(task_arn)

    response = invoke(event(), LambdaContext(300, clock), sleep=forget_while_sleeping)
    assert response["Reason"] == f"ECS no longer describes task {forgotten[0]}: no reason given"


# --- the time guard --------------------------------------------------------------------------------

def test_task_still_running_near_the_timeout_fails_before_the_lambda_dies(event, invoke, cluster, task_runner,
                                                                          keep_tasks_running, logged):
    clock = FakeClock()
    response = invoke(event(), LambdaContext(300, clock), sleep=clock.sleep)
    [task_arn] = cluster.task_arns()
    assert response["Reason"] == (
        f"task {task_arn} is still RUNNING and the task runner is about to time out; the task was left "
        "running: follow it in the ECS console and its logs, then deploy again")
    assert max(clock.sleeps) == task_runner.POLL_SECONDS
    assert clock.now == 300 - task_runner.SAFETY_MARGIN_SECONDS, "answered with the margin left, not later"
    assert [line["step"] for line in logged()].count("waiting") == len(clock.sleeps)


def test_time_guard_on_the_real_clock(event, invoke, cluster, task_runner, keep_tasks_running, timings):
    started = time.monotonic()
    response = invoke(event(), LambdaContext(10))
    answered = time.monotonic() - started
    assert response["Status"] == "FAILED" and "is still RUNNING" in response["Reason"]
    timings.append(f"hung task, 10 s of Lambda time left: FAILED sent after {answered:.2f} s "
                   f"(safety margin {task_runner.SAFETY_MARGIN_SECONDS} s)")


def test_retried_invocation_follows_the_task_it_started(event, invoke, task_runner, cluster, cloudformation,
                                                        logged):
    request = event()
    cloudformation.fail_next(500, 500, 500)  # the first invocation cannot answer, so Lambda retries it
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        task_runner.handler(request, LambdaContext(300))
    response = invoke(request)
    [task_arn] = cluster.task_arns()
    assert response["Data"] == {"TaskArn": task_arn, "ExitCode": 0}
    steps = [line["step"] for line in logged()]
    assert (steps.count("started"), steps.count("following")) == (1, 1)


# --- the response ----------------------------------------------------------------------------------

def test_response_put_failing_once_is_retried(event, task_runner, cloudformation):
    cloudformation.fail_next(502)
    task_runner.handler(event(), LambdaContext(300))
    first, second = cloudformation.bodies()
    assert first == second and second["Status"] == "SUCCESS"


def test_retry_after_is_not_obeyed_past_the_safety_margin(event, task_runner, cloudformation, monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)  # urllib3's backoff sleeps through time.sleep
    cloudformation.server.expect_oneshot_request(RESPONSE_PATH, method="PUT").respond_with_data(
        "", status=503, headers={"Retry-After": "120"})
    task_runner.handler(event(), LambdaContext(300))
    assert len(cloudformation.requests) == 2
    assert all(seconds < task_runner.SAFETY_MARGIN_SECONDS for seconds in slept)


def test_response_never_delivered_is_logged_and_raised(event, task_runner, cloudformation, logged):
    cloudformation.fail_always(503)
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        task_runner.handler(event(), LambdaContext(300))
    assert len(cloudformation.requests) == 3
    [failure] = [line for line in logged() if line["step"] == "response_not_delivered"]
    assert failure["status"] == "SUCCESS" and "503" in failure["detail"]


def test_response_rejected_with_4xx_is_not_retried(event, task_runner, cloudformation, logged):
    cloudformation.fail_always(403)
    with pytest.raises(urllib3.exceptions.HTTPError, match="answered HTTP 403"):
        task_runner.handler(event(), LambdaContext(300))
    assert len(cloudformation.requests) == 1


def test_connection_errors_are_retried_then_raised(event, task_runner, dropping_server):
    url, connections = dropping_server
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        task_runner.handler(event(ResponseURL=url), LambdaContext(300))
    assert len(connections) == 3


def test_event_without_response_url_is_logged_and_raised(event, task_runner, logged):
    request = event()
    del request["ResponseURL"]
    with pytest.raises(KeyError):
        task_runner.handler(request, LambdaContext(300))
    [failure] = [line for line in logged() if line["step"] == "response_not_delivered"]
    assert failure["error"] == "KeyError"


def test_long_reason_is_truncated_to_fit_4096_bytes(event, invoke, cloudformation, cluster, task_runner):
    cluster.gaps.containers_end({"migrate": 1}, stopped_reason="é" * 5000)
    response = invoke(event())
    [put] = cloudformation.requests
    # "é" is sent as \u00e9 (6 bytes): the body ends within one character of the limit.
    assert task_runner.MAX_RESPONSE_BYTES - 6 < len(put.get_data()) <= task_runner.MAX_RESPONSE_BYTES
    assert int(put.headers["Content-Length"]) == len(put.get_data())
    assert response["Reason"].startswith("container 'migrate' exited with code 1 (task ")
    assert response["Reason"].endswith("é [truncated]")
    assert response["Status"] == "FAILED" and response["PhysicalResourceId"] == CREATED_ID


# --- timings ---------------------------------------------------------------------------------------

def test_time_from_task_stopped_to_response_sent(event, task_runner, cluster, cloudformation, aws, timings):
    stopped_at, answered_at = [], []

    def on_describe(parsed, **_):
        if parsed["tasks"] and parsed["tasks"][0]["lastStatus"] == "STOPPED":
            stopped_at.append(time.perf_counter())

    aws.events.register("after-call.ecs.DescribeTasks", on_describe)
    cloudformation.server.clear()
    cloudformation.server.expect_request(RESPONSE_PATH, method="PUT").respond_with_handler(
        lambda request: answered_at.append(time.perf_counter()) or Response(""))
    for _ in range(20):
        task_runner.handler(event(), LambdaContext(300))
    assert len(stopped_at) == len(answered_at) == 20
    gaps = sorted((answered - stopped) * 1000 for stopped, answered in zip(stopped_at, answered_at))
    timings.append(f"task STOPPED -> response received: median {gaps[10]:.1f} ms, max {gaps[-1]:.1f} ms "
                   "(20 runs, moto + 127.0.0.1)")

