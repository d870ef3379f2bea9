"""The task-runner handler on moto ECS: every way a request can end, and the one response it sends."""
import hashlib
import json
import re
import time
import traceback

import pytest
from moto.moto_api import state_manager
from werkzeug import Response

from tests.support.cloudformation import RESPONSE_PATH, SIGNATURE, STACK_ID
from tests.support.lambda_runtime import RESPONSE_SCALE, FakeClock, LambdaContext

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
    assert put.args["X-Amz-Signature"] == SIGNATURE, "the pre-signed query string must reach S3 intact"


def test_requests_of_a_resource_share_started_by_and_each_marks_its_own_group(event, invoke, cluster):
    # The first task has stopped, so it does not stand in the second request's way.
    assert invoke(event())["Status"] == invoke(event())["Status"] == "SUCCESS"
    tasks = [cluster.task(arn) for arn in cluster.task_arns()]
    [started_by] = {task.started_by for task in tasks}
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,36}", started_by), "ECS's startedBy limits"
    groups = {task.group for task in tasks}
    assert len(groups) == 2 and all(re.fullmatch(r"cfn-request:[0-9a-f]{32}", group) for group in groups)


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


@pytest.mark.parametrize("container, problem", [
    # CloudFormation passes numbers as strings: a memory override arrives as "512".
    ({"memory": "512"}, "Invalid type for parameter overrides.containerOverrides[0].memory, type: <class 'str'>, "
                        "valid types: <class 'int'>"),
    ({"environment": {"DB_PASSWORD": "hunter2, type: <class 'int'>"}},
     "Invalid type for parameter overrides.containerOverrides[0].environment, type: <class 'dict'>, "
     "valid types: <class 'list'>, <class 'tuple'>"),
    ({"resourceRequirements": [{"type": "GPU", "value": "1", "sharingStrategy": {"nvidiaMps": {"memory": 0}}}]},
     "Invalid value for parameter overrides.containerOverrides[0].resourceRequirements[0].sharingStrategy."
     "nvidiaMps.memory, valid min value: 1"),
], ids=["string-for-number", "environment-map", "below-minimum"])
def test_overrides_ecs_rejects_fail_with_the_parameter_and_problem_but_no_value(event, invoke, cluster, migrate_arn,
                                                                               container, problem, capsys):
    overrides = {"containerOverrides": [{"name": "migrate", **container}]}
    request = event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": migrate_arn,
                                        "Overrides": overrides})
    assert invoke(request)["Reason"] == f"ECS rejected the properties: {problem}"
    assert "hunter2" not in capsys.readouterr().out
    assert cluster.task_arns() == []


@pytest.mark.parametrize("environment, shown", [
    ({"DB_PASSWORD": "hunter2"}, {"DB_PASSWORD": "<redacted>"}),
    ([{"Name": "DB_PASSWORD", "Value": "hunter2"}], [{"Name": "DB_PASSWORD", "Value": "<redacted>"}]),
    (["DB_PASSWORD=hunter2"], ["<redacted>"]),
    ("DB_PASSWORD=hunter2", "<redacted>"),
], ids=["map", "pascal-case-list", "list-of-strings", "string"])
def test_environment_values_stay_out_of_the_log_whatever_its_shape(event, invoke, cluster, migrate_arn, logged,
                                                                   environment, shown):
    overrides = {"containerOverrides": [{"name": "migrate", "Environment": environment}]}
    invoke(event(ResourceProperties={"Cluster": cluster.name, "TaskDefinition": migrate_arn,
                                     "Overrides": overrides}))
    lines = logged()
    assert "hunter2" not in str(lines)
    [props] = [line for line in lines if line["step"] == "properties"]
    assert props["overrides"]["containerOverrides"][0]["Environment"] == shown


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

def still_running(task_arn):
    return (f"task {task_arn} is still RUNNING and the task runner is about to time out; the task was left "
            "running: follow it in the ECS console and its logs, and deploy again once it has stopped")


def test_task_still_running_near_the_timeout_fails_before_the_lambda_dies(event, invoke, cluster, task_runner,
                                                                          keep_tasks_running, logged):
    clock = FakeClock()
    response = invoke(event(), LambdaContext(300, clock), sleep=clock.sleep)
    [task_arn] = cluster.task_arns()
    assert response["Reason"] == still_running(task_arn)
    assert max(clock.sleeps) == task_runner.POLL_SECONDS
    assert clock.now == 300 - task_runner.SAFETY_MARGIN_SECONDS, "answered with the margin left, not later"
    assert [line["step"] for line in logged()].count("waiting") == len(clock.sleeps)


class SlowEcs(FakeClock):
    """A fake clock on which every ECS call takes the handler's worst case for one call."""

    def __init__(self, seconds_per_call):
        super().__init__()
        self.seconds_per_call, self.calls = seconds_per_call, []

    def before_call(self, model, **_):
        self.calls.append(model.name)
        self.now += self.seconds_per_call


@pytest.fixture
def slow_ecs(aws, task_runner):
    clock = SlowEcs(task_runner.ECS_CALL_SECONDS)
    aws.events.register("before-call.ecs", clock.before_call)
    return clock


@pytest.mark.parametrize("calls_that_fit, reason", [
    (0, "the task runner is about to time out while looking for earlier tasks; it started no task: deploy again"),
    (1, "the task runner is about to time out while looking for earlier tasks; it started no task: deploy again"),
    (2, "the task runner is about to time out before starting the task; it started no task: deploy again"),
    (3, "task {task} is still RUNNING and the task runner is about to time out; the task was left running: "
        "follow it in the ECS console and its logs, and deploy again once it has stopped"),
], ids=["no-call", "one-call", "two-calls", "three-calls"])
def test_no_ecs_call_is_made_that_could_outlast_the_lambda(event, invoke, cluster, task_runner, keep_tasks_running,
                                                           slow_ecs, calls_that_fit, reason):
    seconds = task_runner.LAST_CALL_SECONDS + calls_that_fit * task_runner.ECS_CALL_SECONDS - 1
    response = invoke(event(), LambdaContext(seconds, slow_ecs), sleep=slow_ecs.sleep)
    assert len(slow_ecs.calls) == calls_that_fit
    assert response["Reason"] == reason.format(task=(cluster.task_arns() or [None])[0])
    assert seconds - slow_ecs.now >= task_runner.RESPONSE_SECONDS, "the response itself must still fit"


def test_slow_ecs_calls_while_waiting_still_leave_time_to_answer(event, invoke, cluster, task_runner,
                                                                 keep_tasks_running, slow_ecs):
    response = invoke(event(), LambdaContext(300, slow_ecs), sleep=slow_ecs.sleep)
    [task_arn] = cluster.task_arns()
    assert response["Reason"] == still_running(task_arn)
    assert slow_ecs.calls.count("DescribeTasks") > 5 and slow_ecs.sleeps, "it waited before giving up"
    assert 300 - slow_ecs.now >= task_runner.RESPONSE_SECONDS, "the response itself must still fit"


@pytest.mark.parametrize("spare, outcome", [(None, "it started no task"), (2, "is still RUNNING")],
                         ids=["10s-context", "margin-plus-2s-context"])
def test_time_guard_on_the_real_clock(event, invoke, cluster, task_runner, keep_tasks_running, timings, spare,
                                      outcome):
    seconds = 10 if spare is None else task_runner.SAFETY_MARGIN_SECONDS + spare
    started = time.monotonic()
    response = invoke(event(), LambdaContext(seconds))
    answered = time.monotonic() - started
    assert response["Status"] == "FAILED" and outcome in response["Reason"]
    # A correctness bound, not a speed target: at least half the response's own worst case was left.
    assert answered < seconds - task_runner.RESPONSE_SECONDS / 2
    timings.append(f"hung task, {seconds:g} s of Lambda time left: FAILED ({outcome}) sent after {answered:.2f} s "
                   f"(safety margin {task_runner.SAFETY_MARGIN_SECONDS:g} s)")


# --- one migration at a time ---------------------------------------------------------------------------

def test_retried_invocation_follows_the_task_it_started(event, invoke, fast_response_task_runner, cluster,
                                                        cloudformation, logged):
    request = event()
    cloudformation.fail_next(500, 500, 500)  # the first invocation cannot answer, so Lambda retries it
    # (A quarter of the production backoff between its attempts: how long it waits is not the point here.)
    with pytest.raises(fast_response_task_runner.ResponseNotDelivered):
        fast_response_task_runner.handler(request, LambdaContext(300))
    response = invoke(request)
    [task_arn] = cluster.task_arns()
    assert response["Data"] == {"TaskArn": task_arn, "ExitCode": 0}
    steps = [line["step"] for line in logged()]
    assert (steps.count("started"), steps.count("following")) == (1, 1)


def test_task_an_earlier_request_left_running_blocks_a_second_migration(event, invoke, cluster, task_runner,
                                                                        keep_tasks_running, logged):
    clock = FakeClock()
    first = invoke(event("Update", PhysicalResourceId=CREATED_ID), LambdaContext(300, clock), sleep=clock.sleep)
    [task_arn] = cluster.task_arns()
    assert first["Reason"] == still_running(task_arn)
    # CloudFormation rolls back with another Update, another RequestId: it waits for the earlier task, and
    # when that outlasts its time too, fails without starting the old migration beside it.
    rollback, clock = event("Update", PhysicalResourceId=CREATED_ID), FakeClock()
    assert invoke(rollback, LambdaContext(300, clock), sleep=clock.sleep) == expected(
        rollback, "FAILED", f"an earlier task {task_arn} of this resource (started by a previous request) is still "
                            "RUNNING; this request waited for it and started no task, so two runs never overlap: "
                            "deploy again once it has stopped")
    assert clock.now == 300 - task_runner.SAFETY_MARGIN_SECONDS, "it waited as long as it could"
    assert cluster.task_arns() == [task_arn]
    assert "waiting_for_earlier_task" in [line["step"] for line in logged()]


def test_task_an_earlier_request_left_running_is_waited_for_then_this_one_runs(event, invoke, cluster,
                                                                             keep_tasks_running):
    clock = FakeClock()
    invoke(event("Update", PhysicalResourceId=CREATED_ID), LambdaContext(300, clock), sleep=clock.sleep)
    [earlier] = cluster.task_arns()

    def earlier_stops_while_waiting(seconds):
        clock.sleep(seconds)
        state_manager.set_transition("ecs::task", {"progression": "immediate"})

    rollback, clock = event("Update", PhysicalResourceId=CREATED_ID), FakeClock()
    response = invoke(rollback, LambdaContext(300, clock), sleep=earlier_stops_while_waiting)
    [started] = [arn for arn in cluster.task_arns() if arn != earlier]
    assert response == expected(rollback, "SUCCESS", f"every container of task {started} exited 0",
                                data={"TaskArn": started, "ExitCode": 0})
    assert clock.sleeps, "the earlier task was waited for before this one started"


def test_task_of_another_resource_does_not_block(event, invoke, cluster, keep_tasks_running):
    clock = FakeClock()
    other = invoke(event(LogicalResourceId="SeedTask"), LambdaContext(300, clock), sleep=clock.sleep)
    assert "is still RUNNING" in other["Reason"]
    state_manager.set_transition("ecs::task", {"progression": "immediate"})
    assert invoke(event())["Status"] == "SUCCESS"
    assert len(cluster.task_arns()) == 2


def test_duplicate_invocations_racing_past_the_look_up_share_one_client_token(event, invoke, aws, task_runner):
    tokens = []
    aws.events.register("after-call.ecs.ListTasks", lambda parsed, **_: parsed.update(taskArns=[]))
    aws.events.register("before-call.ecs.RunTask",
                        lambda params, **_: tokens.append(json.loads(params["body"])["clientToken"]))
    request = event()
    invoke(request)
    invoke(request)
    invoke(event())
    # ECS answers a repeated token with the task it already started (moto does not model that).
    assert tokens[0] == tokens[1] != tokens[2]
    assert all(len(token) <= 64 and all(33 <= ord(char) <= 126 for char in token) for token in tokens)


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


def undelivered(task_runner, request, capsys):
    """The handler's ResponseNotDelivered and its log lines, once checked that nothing Lambda logs shows the URL.

    The runtime logs the log lines and an uncaught exception's message, type and traceback.
    """
    with pytest.raises(task_runner.ResponseNotDelivered) as raised:
        task_runner.handler(request, LambdaContext(300))
    out = capsys.readouterr().out
    shown = out + repr(raised.value) + "".join(traceback.format_exception(raised.value))
    assert "X-Amz-Signature" not in shown and SIGNATURE not in shown and RESPONSE_PATH not in shown
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [failure] = [line for line in lines if line["step"] == "response_not_delivered"]
    assert f"CloudFormation's response URL was not reached: {failure['problem']}" == str(raised.value)
    return failure


def test_response_never_delivered_is_logged_and_raised_without_the_url(event, fast_response_task_runner,
                                                                      cloudformation, capsys):
    cloudformation.fail_always(503)
    failure = undelivered(fast_response_task_runner, event(), capsys)  # a quarter of the backoff, same attempts
    assert failure == {"step": "response_not_delivered", "status": "SUCCESS",
                       "problem": "MaxRetryError: too many 503 error responses"}
    assert len(cloudformation.requests) == 3


def test_response_rejected_with_4xx_is_not_retried(event, task_runner, cloudformation, capsys):
    cloudformation.fail_always(403)
    assert undelivered(task_runner, event(), capsys)["problem"] == "HTTP 403"
    assert len(cloudformation.requests) == 1


def test_connection_errors_are_retried_then_raised(event, fast_response_task_runner, dropping_server, capsys):
    url, connections = dropping_server
    # A quarter of the backoff, the same attempts.
    assert undelivered(fast_response_task_runner, event(ResponseURL=url), capsys)["problem"] == (
        "MaxRetryError: ProtocolError")
    assert len(connections) == 3


def test_unusable_response_url_is_raised_without_quoting_it(event, task_runner, capsys):
    # urllib3's own message would quote the whole URL.
    url = f"http://127.0.0.1:99999{RESPONSE_PATH}?X-Amz-Signature={SIGNATURE}"
    assert undelivered(task_runner, event(ResponseURL=url), capsys)["problem"] == "LocationParseError"


def test_event_without_response_url_is_logged_and_raised(event, task_runner, capsys):
    request = event()
    del request["ResponseURL"]
    assert undelivered(task_runner, request, capsys)["problem"] == "the event has no ResponseURL"


def test_silent_response_url_gives_up_within_the_derived_worst_case(event, task_runner, fast_response_task_runner,
                                                                   silent_server, capsys, timings, monkeypatch):
    # Production settings wait 7 s here; the same code with every setting a quarter as long, a quarter of that.
    fast = fast_response_task_runner
    assert fast.RESPONSE_SECONDS == task_runner.RESPONSE_SECONDS / RESPONSE_SCALE
    delivering, deliver = [], fast.deliver
    monkeypatch.setattr(fast, "deliver", lambda *args: delivering.append(time.monotonic()) or deliver(*args))
    assert undelivered(fast, event(ResponseURL=silent_server), capsys)["problem"] == (
        "MaxRetryError: ReadTimeoutError")
    waited = time.monotonic() - delivering[0]
    # Every attempt waited its whole timeout, so the shorter settings were the ones in use.
    assert waited >= (fast.RESPONSE_RETRY.total + 1) * fast.RESPONSE_TIMEOUT.total
    # A correctness bound, not a speed target: the time guard keeps RESPONSE_SECONDS back for this.
    assert waited <= fast.RESPONSE_SECONDS + 1 / RESPONSE_SCALE
    timings.append(f"response URL that never answers, settings / {RESPONSE_SCALE}: gave up after {waited:.2f} s "
                   f"(derived worst case {fast.RESPONSE_SECONDS:g} s; {task_runner.RESPONSE_SECONDS:g} s in production)")


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
    for run in range(20):  # a resource each, so no earlier task is described
        task_runner.handler(event(LogicalResourceId=f"MigrateTask{run}"), LambdaContext(300))
    assert len(stopped_at) == len(answered_at) == 20
    gaps = sorted((answered - stopped) * 1000 for stopped, answered in zip(stopped_at, answered_at))
    timings.append(f"task STOPPED -> response received: median {gaps[10]:.1f} ms, max {gaps[-1]:.1f} ms "
                   "(20 runs, moto + 127.0.0.1)")

