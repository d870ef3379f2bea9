"""Run one ECS task for a CloudFormation custom resource and report how it ended.

Deployed inline as index.py (stack.yml EcsTaskRunner Code.ZipFile); keep both identical.
Standard library + boto3 only (urllib3 comes with botocore): that is what the Lambda runtime provides.

Create and Update run the task once; Delete runs nothing. Every invocation answers CloudFormation
exactly once, before the Lambda times out, so a stack never waits for an answer that cannot come.
SUCCESS needs every container of the task to have exited 0: describe_tasks does not say which
containers are essential, the runner's role may not read task definitions, and a one-off task has
no long-running sidecar that ECS would have to kill.
"""
import hashlib
import json
import time

import boto3
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

# Kept back from the Lambda's timeout to answer: one describe_tasks plus a response with its retries.
SAFETY_MARGIN_SECONDS = 8
POLL_SECONDS = 5
MAX_RESPONSE_BYTES = 4096  # CloudFormation rejects longer responses
TRUNCATED = " [truncated]"
REQUIRED = {"Cluster": "the ECS cluster name or ARN", "TaskDefinition": "the task definition ARN"}

ECS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
# The response is a PUT to a pre-signed S3 URL: idempotent, so retrying after a lost reply is safe.
RESPONSE_RETRY = urllib3.Retry(
    total=2, backoff_factor=0.5, status_forcelist=range(500, 600), allowed_methods={"PUT"},
    respect_retry_after_header=False,  # a long Retry-After would outlast the safety margin
)
RESPONSE_TIMEOUT = urllib3.Timeout(total=2)
HTTP = urllib3.PoolManager()


class Failure(Exception):
    """A reason to answer FAILED, worded for the person reading the stack events."""


def handler(event, context, sleep=time.sleep):
    physical_id = physical_resource_id(event)
    log("received", request_type=event.get("RequestType"), resource=event.get("LogicalResourceId"),
        request_id=event.get("RequestId"), physical_id=physical_id)
    status, data = "FAILED", {}
    try:
        reason, data = outcome(event, context, sleep)
        status = "SUCCESS"
    except Failure as failure:
        reason = str(failure)
    except ClientError as error:
        details = error.response.get("Error", {})
        reason = f"ECS {error.operation_name} failed: {details.get('Code')}: {details.get('Message')}"
    except ParamValidationError as error:
        reason = f"ECS rejected the properties: {error}"
    except Exception as error:  # CloudFormation must hear back, whatever went wrong
        reason = f"unexpected {type(error).__name__}: {error}"
    send(event, status, physical_id, reason, data)


def physical_resource_id(event):
    """The event's own id when it has one; on Create one derived from the stack, so retries agree."""
    if event.get("PhysicalResourceId"):
        return event["PhysicalResourceId"]
    stack = hashlib.sha256(event.get("StackId", "").encode()).hexdigest()[:12]
    return f"{event.get('LogicalResourceId', 'EcsTask')}-{stack}"


def outcome(event, context, sleep):
    """(reason, data) of a request that succeeded; raises for anything else."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        return "Delete runs no task", {}
    if request_type not in ("Create", "Update"):
        raise Failure(f"unknown RequestType {request_type!r}: expected Create, Update or Delete")
    cluster, task_definition, overrides = properties(event.get("ResourceProperties"))
    ecs = boto3.client("ecs", config=ECS_CONFIG)
    task_arn = running_or_started_task(ecs, cluster, task_definition, overrides, started_by(event))
    task = wait_until_stopped(ecs, cluster, task_arn, context, sleep)
    return check_containers(task)


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


def redacted(overrides):
    """Overrides fit for the log: environment values may be secrets."""
    shown = json.loads(json.dumps(overrides))
    for container in _dicts(shown.get("containerOverrides")):
        for variable in _dicts(container.get("environment")):
            variable["value"] = "<redacted>"
    return shown


def _dicts(value):
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def started_by(event):
    """Same request, same value (ECS allows 36 letters, digits, - and _): a retry finds its task."""
    request = "|".join(event.get(key, "") for key in ("StackId", "LogicalResourceId", "RequestId"))
    return "cfn-" + hashlib.sha256(request.encode()).hexdigest()[:32]


def running_or_started_task(ecs, cluster, task_definition, overrides, token):
    for desired_status in ("RUNNING", "STOPPED"):
        found = ecs.list_tasks(cluster=cluster, startedBy=token, desiredStatus=desired_status)["taskArns"]
        if found:
            log("following", task=found[0], started_by=token)
            return found[0]
    response = ecs.run_task(
        cluster=cluster, taskDefinition=task_definition, overrides=overrides, count=1, startedBy=token
    )
    if not response["tasks"]:
        raise Failure(placement_failure(cluster, task_definition, response["failures"]))
    task_arn = response["tasks"][0]["taskArn"]
    log("started", task=task_arn, started_by=token)
    return task_arn


def placement_failure(cluster, task_definition, failures):
    if not failures:
        return (f"ECS started no task of {task_definition} on cluster {cluster} and gave no reason: "
                "check that a container instance has enough free CPU, memory and ports")
    listed = "; ".join(
        " ".join(filter(None, [f.get("reason"), f.get("detail"), f.get("arn") and f"({f['arn']})"]))
        for f in failures
    )
    return f"ECS could not start {task_definition} on cluster {cluster}: {listed}"


def wait_until_stopped(ecs, cluster, task_arn, context, sleep):
    while True:
        task = describe(ecs, cluster, task_arn)
        if task["lastStatus"] == "STOPPED":
            log("stopped", task=task_arn, stopped_reason=task.get("stoppedReason"), containers=[
                {key: c.get(key) for key in ("name", "exitCode", "reason")} for c in task["containers"]
            ])
            return task
        spare = context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS
        if spare <= 0:
            raise Failure(
                f"task {task_arn} is still {task['lastStatus']} and the task runner is about to time out; "
                "the task was left running: follow it in the ECS console and its logs, then deploy again"
            )
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
    try:
        reply = HTTP.request("PUT", event["ResponseURL"], body=body, headers={"Content-Type": ""},
                             retries=RESPONSE_RETRY, timeout=RESPONSE_TIMEOUT)
        if reply.status >= 400:  # a wrong or expired URL: retrying would not help
            raise urllib3.exceptions.HTTPError(f"the response URL answered HTTP {reply.status}")
    except Exception as error:  # the URL is a credential: log why, not where
        log("response_not_delivered", status=status, error=type(error).__name__,
            detail=str(getattr(error, "reason", None) or error))
        raise
    log("responded", status=status, http=reply.status)


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
