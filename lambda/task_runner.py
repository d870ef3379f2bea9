"""Run one ECS task for a CloudFormation custom resource and report how it ended.

Deployed inline as index.py (stack.yml EcsTaskRunner Code.ZipFile); keep both identical.
Standard library + boto3 only (urllib3 comes with botocore): that is what the Lambda runtime provides.

Create and Update run the task once; Delete runs nothing. Every invocation answers CloudFormation
exactly once, before the Lambda times out, so a stack never waits for an answer that cannot come.
One migration at a time per resource: a task an earlier request of the resource left running (the
time guard below gives up on slow tasks) is waited for before this request starts its own, and if it
is still running when time is nearly out, the request fails without starting a second task beside it.

SUCCESS needs every container of the task to have exited 0, essential or not. describe_tasks does
not say which containers are essential; only the task definition does, and ecs:DescribeTaskDefinition
has no resource-level permissions: granting it would let the runner read every task definition in
the account, environment values included. A one-off task has no long-running sidecar that ECS would
have to stop, so every container is expected to exit on its own.
"""
import hashlib
import json
import time

import boto3
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

POLL_SECONDS = 5
MAX_RESPONSE_BYTES = 4096  # CloudFormation rejects longer responses
TRUNCATED = " [truncated]"
REQUIRED = {"Cluster": "the ECS cluster name or ARN", "TaskDefinition": "the task definition ARN"}

ECS_CONNECT_SECONDS, ECS_READ_SECONDS, ECS_ATTEMPTS = 2, 3, 2
# botocore's standard mode waits up to 1 s before a second attempt, 5 s more if ECS sends x-amz-retry-after.
ECS_BACKOFF_SECONDS = 6
ECS_CONFIG = Config(connect_timeout=ECS_CONNECT_SECONDS, read_timeout=ECS_READ_SECONDS,
                    retries={"mode": "standard", "max_attempts": ECS_ATTEMPTS})
# The response is a PUT to a pre-signed S3 URL: idempotent, so retrying after a lost reply is safe.
RESPONSE_RETRY = urllib3.Retry(
    total=2, backoff_factor=0.5, status_forcelist=range(500, 600), allowed_methods={"PUT"},
    respect_retry_after_header=False,  # a long Retry-After would outlast the safety margin
)
RESPONSE_TIMEOUT = urllib3.Timeout(total=2)
HTTP = urllib3.PoolManager()


def _response_backoff_seconds(retry):
    """What urllib3 sleeps in all between the response's attempts, by its own schedule."""
    slept = 0.0
    for _ in range(retry.total):
        retry = retry.increment("PUT")
        slept += retry.get_backoff_time()
    return slept


# Worst cases derived from the settings above, so the time guard cannot drift from them. (A read
# timeout bounds each wait for data, not a reply that trickles in; ECS and S3 replies are small.)
ECS_CALL_SECONDS = ECS_ATTEMPTS * (ECS_CONNECT_SECONDS + ECS_READ_SECONDS) + (ECS_ATTEMPTS - 1) * ECS_BACKOFF_SECONDS
RESPONSE_SECONDS = (RESPONSE_RETRY.total + 1) * RESPONSE_TIMEOUT.total + _response_backoff_seconds(RESPONSE_RETRY)
# An ECS call is made only while it and the response still fit in the Lambda's remaining time.
LAST_CALL_SECONDS = ECS_CALL_SECONDS + RESPONSE_SECONDS
# Sleeping keeps a second more back for the runner's own work (logging, a sleep that wakes late).
SAFETY_MARGIN_SECONDS = LAST_CALL_SECONDS + 1


class Failure(Exception):
    """A reason to answer FAILED, worded for the person reading the stack events."""


class ResponseNotDelivered(Exception):
    """CloudFormation never got the answer. Says why without the response URL, which is a credential."""


def handler(event, context, sleep=time.sleep):
    physical_id = physical_resource_id(event)
    log("received", request_type=event.get("RequestType"), resource=event.get("LogicalResourceId"),
        request_id=event.get("RequestId"), physical_id=physical_id)
    status, data = "FAILED", {}
    try:
        reason, data = outcome(event, Deadline(context), sleep)
        status = "SUCCESS"
    except Failure as failure:
        reason = str(failure)
    except ClientError as error:
        details = error.response.get("Error", {})
        reason = f"ECS {error.operation_name} failed: {details.get('Code')}: {details.get('Message')}"
    except ParamValidationError as error:
        reason = f"ECS rejected the properties: {without_values(error.kwargs['report'])}"
    except Exception as error:  # CloudFormation must hear back, whatever went wrong
        reason = f"unexpected {type(error).__name__}: {error}"
    send(event, status, physical_id, reason, data)


def physical_resource_id(event):
    """The event's own id when it has one; on Create one derived from the stack, so retries agree."""
    if event.get("PhysicalResourceId"):
        return event["PhysicalResourceId"]
    stack = hashlib.sha256(event.get("StackId", "").encode()).hexdigest()[:12]
    return f"{event.get('LogicalResourceId', 'EcsTask')}-{stack}"


def outcome(event, deadline, sleep):
    """(reason, data) of a request that succeeded; raises for anything else."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        return "Delete runs no task", {}
    if request_type not in ("Create", "Update"):
        raise Failure(f"unknown RequestType {request_type!r}: expected Create, Update or Delete")
    cluster, task_definition, overrides = properties(event.get("ResourceProperties"))
    ecs = boto3.client("ecs", config=ECS_CONFIG)
    task = own_or_started_task(ecs, cluster, task_definition, overrides, RequestMarks(event), deadline, sleep)
    return check_containers(wait_until_stopped(ecs, cluster, task, deadline, sleep))


def properties(props):
    if not isinstance(props, dict):
        raise Failure("invalid properties: ResourceProperties is missing")
    problems = [
        f"{name} must be {meaning} (a non-empty string), got {props.get(name)!r}"
        for name, meaning in REQUIRED.items()
        if not (isinstance(props.get(name), str) and props[name].strip())
    ]
    overrides = props.get("Overrides", {})
    if not isinstance(overrides, dict):
        problems.append(f"Overrides must be a map of ecs.run_task overrides, got {type(overrides).__name__}")
    if problems:
        raise Failure("invalid properties: " + "; ".join(problems))
    log("properties", cluster=props["Cluster"], task_definition=props["TaskDefinition"],
        overrides=redacted(overrides))
    return props["Cluster"], props["TaskDefinition"], overrides


def redacted(value):
    """A copy fit for the log: every `environment` (any depth, any letter case, any shape) loses its values."""
    if isinstance(value, dict):
        return {key: hidden(item) if key.lower() == "environment" else redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


def hidden(environment):
    """Variable names stay (they help debugging); anything else may be a secret."""
    if isinstance(environment, dict):
        return {name: "<redacted>" for name in environment}
    if isinstance(environment, list):
        return [{key: item if key.lower() == "name" else "<redacted>" for key, item in variable.items()}
                if isinstance(variable, dict) else "<redacted>" for variable in environment]
    return "<redacted>"


def without_values(report):
    """botocore's validation report with the rejected values cut out (an environment map holds secrets).

    One problem per line: "... parameter <path>, value: <value>, type: ..." or "..., valid ...". A value
    ends where the last such part begins, even should it contain the same words; without one, the rest goes.
    """
    problems = []
    for line in report.splitlines():
        head, found, rest = line.partition(", value: ")
        if found:
            end = rest.rfind(", type: ")
            end = end if end >= 0 else rest.rfind(", valid ")
            line = head + (rest[end:] if end >= 0 else "")
        problems.append(line)
    return "; ".join(problems)


class RequestMarks:
    """How this request's task is found again, and how it is told from the resource's other tasks.

    startedBy (ECS: up to 36 letters, digits, - and _ here) is the resource's: every task of this
    resource carries it, so a task left running by an earlier request is found. The group is the
    request's, so a retried invocation follows its own task. The client token makes run_task itself
    idempotent (ECS: up to 64 ASCII characters, kept 24 hours per cluster) for two invocations that
    race past the look-up.
    """

    def __init__(self, event):
        resource = "|".join(event.get(key, "") for key in ("StackId", "LogicalResourceId"))
        request = hashlib.sha256(f"{resource}|{event.get('RequestId', '')}".encode()).hexdigest()
        self.started_by = "cfn-" + hashlib.sha256(resource.encode()).hexdigest()[:32]
        self.group = "cfn-request:" + request[:32]
        self.client_token = request


class Deadline:
    """The Lambda's remaining time, and the checks that keep enough of it back to answer."""

    def __init__(self, context):
        self.context = context

    def remaining(self):
        return self.context.get_remaining_time_in_millis() / 1000

    def spare(self):
        """Time left for sleeping: what remains beyond the safety margin."""
        return self.remaining() - SAFETY_MARGIN_SECONDS

    def allows_a_call(self):
        return self.remaining() >= LAST_CALL_SECONDS


def own_or_started_task(ecs, cluster, task_definition, overrides, marks, deadline, sleep):
    """The task this request started before (a retried invocation), else one started now, as ECS last saw it."""
    tasks = tasks_of_resource(ecs, cluster, marks.started_by, deadline)
    own = [task for task in tasks if task.get("group") == marks.group]
    if own:
        log("following", task=own[0]["taskArn"], group=marks.group)
        return own[0]
    for earlier in (task for task in tasks if task["lastStatus"] != "STOPPED"):
        log("waiting_for_earlier_task", task=earlier["taskArn"], group=earlier.get("group"))
        wait_until_stopped(ecs, cluster, earlier, deadline, sleep, timed_out=earlier_still_running)
    before_ecs_call(deadline, "before starting the task")
    response = ecs.run_task(cluster=cluster, taskDefinition=task_definition, overrides=overrides, count=1,
                            startedBy=marks.started_by, group=marks.group, clientToken=marks.client_token)
    if not response["tasks"]:
        raise Failure(placement_failure(cluster, task_definition, response["failures"]))
    task = response["tasks"][0]
    log("started", task=task["taskArn"], started_by=marks.started_by, group=marks.group)
    return task


def tasks_of_resource(ecs, cluster, started_by, deadline):
    """Every task ECS still knows that this resource started, described (running ones first)."""
    arns = []
    for desired_status in ("RUNNING", "STOPPED"):
        before_ecs_call(deadline, "while looking for earlier tasks")
        arns += ecs.list_tasks(cluster=cluster, startedBy=started_by, desiredStatus=desired_status)["taskArns"]
    if not arns:
        return []
    before_ecs_call(deadline, "while looking for earlier tasks")
    return ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"]  # describe_tasks takes at most 100


def before_ecs_call(deadline, when):
    if not deadline.allows_a_call():
        raise Failure(f"the task runner is about to time out {when}; it started no task: deploy again")


def placement_failure(cluster, task_definition, failures):
    if not failures:
        return (f"ECS started no task of {task_definition} on cluster {cluster} and gave no reason: "
                "check that a container instance has enough free CPU, memory and ports")
    listed = "; ".join(
        " ".join(filter(None, [f.get("reason"), f.get("detail"), f.get("arn") and f"({f['arn']})"]))
        for f in failures
    )
    return f"ECS could not start {task_definition} on cluster {cluster}: {listed}"


def still_running(task_arn, last_status):
    return Failure(
        f"task {task_arn} is still {last_status} and the task runner is about to time out; the task was left "
        "running: follow it in the ECS console and its logs, and deploy again once it has stopped"
    )


def earlier_still_running(task_arn, last_status):
    return Failure(
        f"an earlier task {task_arn} of this resource (started by a previous request) is still {last_status}; "
        "this request waited for it and started no task, so two runs never overlap: deploy again once it has stopped"
    )


def wait_until_stopped(ecs, cluster, task, deadline, sleep, timed_out=still_running):
    """The task once STOPPED; raises timed_out(arn, status) when time is nearly out."""
    task_arn = task["taskArn"]
    while True:
        if not deadline.allows_a_call():
            raise timed_out(task_arn, task["lastStatus"])
        task = describe(ecs, cluster, task_arn)
        if task["lastStatus"] == "STOPPED":
            log("stopped", task=task_arn, stopped_reason=task.get("stoppedReason"), containers=[
                {key: c.get(key) for key in ("name", "exitCode", "reason")} for c in task["containers"]
            ])
            return task
        spare = deadline.spare()
        if spare <= 0:
            raise timed_out(task_arn, task["lastStatus"])
        log("waiting", task=task_arn, last_status=task["lastStatus"], seconds_left=round(spare))
        sleep(min(POLL_SECONDS, spare))


def describe(ecs, cluster, task_arn):
    response = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
    if not response["tasks"]:
        reasons = ", ".join(f.get("reason", "?") for f in response["failures"]) or "no reason given"
        raise Failure(f"ECS no longer describes task {task_arn}: {reasons}")
    return response["tasks"][0]


def check_containers(task):
    task_arn = task["taskArn"]
    stopped = task.get("stoppedReason") or "no stopped reason given"
    problems = []
    for container in task["containers"]:
        name, code = container["name"], container.get("exitCode")
        if code is None:
            problems.append(f"container {name!r} has no exit code: "
                            f"{container.get('reason') or 'no container reason given'}")
        elif code != 0:
            problems.append(f"container {name!r} exited with code {code}")
    if problems:
        raise Failure(f"{'; '.join(problems)} (task {task_arn}; stopped: {stopped})")
    return f"every container of task {task_arn} exited 0", {"TaskArn": task_arn, "ExitCode": 0}


def send(event, status, physical_id, reason, data):
    body = response_body({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Data": data,
    })
    log("responding", status=status, reason=json.loads(body)["Reason"], bytes=len(body))
    problem = deliver(event.get("ResponseURL"), body)
    if problem:
        log("response_not_delivered", status=status, problem=problem)
        raise ResponseNotDelivered(f"CloudFormation's response URL was not reached: {problem}") from None
    log("responded", status=status)


def deliver(url, body):
    """None once the response is delivered, else why not, in words that never quote the URL."""
    if not url:
        return "the event has no ResponseURL"
    try:
        reply = HTTP.request("PUT", url, body=body, headers={"Content-Type": ""},
                             retries=RESPONSE_RETRY, timeout=RESPONSE_TIMEOUT)
    except urllib3.exceptions.MaxRetryError as error:  # its message quotes the URL; its reason's type does not
        cause = error.reason
        if isinstance(cause, urllib3.exceptions.ResponseError):  # "too many 503 error responses"
            return f"{type(error).__name__}: {cause}"
        return f"{type(error).__name__}: {type(cause).__name__}"
    except Exception as error:  # any message may quote the URL: keep only the kind of error
        return type(error).__name__
    if reply.status >= 400:  # a wrong or expired URL: retrying would not help
        return f"HTTP {reply.status}"
    return None


def response_body(response):
    body = json.dumps(response).encode()
    excess = len(body) - MAX_RESPONSE_BYTES
    if excess > 0:  # cut the reason's end, counting each character as json.dumps escapes it
        reason, end, to_cut = response["Reason"], len(response["Reason"]), excess + len(TRUNCATED)
        while end and to_cut > 0:
            end -= 1
            to_cut -= len(json.dumps(reason[end])) - 2
        body = json.dumps({**response, "Reason": reason[:end] + TRUNCATED}).encode()
    return body


def log(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str))
