"""Empty the stack's Auto Scaling group while its capacity provider still drains it: a custom resource's Delete.

Deployed inline as index.py (stack.yml EcsCapacityDrainer Code.ZipFile); keep both identical.
Standard library + boto3 only (urllib3 comes with botocore): that is what the Lambda runtime provides.

Managed draining holds each terminating instance in Terminating:Wait through an ECS lifecycle hook
(ecs-managed-draining-termination-hook, 3600 s heartbeat) that ECS completes once the instance is drained.
Once the capacity provider is deleted nobody completes it, and deleting the group waits an hour per
instance (aws-cdk#18179, #14732). This resource is deleted after the service and before the provider
(stack.yml orders it), so scaling the group to zero here lets ECS drain and release each instance.

CloudFormation sends Delete "when the template developer deletes the stack or removes the custom resource
from the stack" ("Custom resource request types: Delete"), and the cleanup after an update, or after its
rollback, deletes what the update replaced or created. So Delete empties the group only while the whole
stack goes: DELETE_IN_PROGRESS, or ROLLBACK_IN_PROGRESS (a failed first create). In any other status
(UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, ...: "Stack",
StackStatus, in the CloudFormation API Reference) the group serves the site and is left alone; so it is
when the status cannot be read. Nor does Delete touch a group other than the one both the physical id
and the properties name (a resource replaced for another group never empties the live one).

Create and Update only answer; the physical id is the group's name. Delete answers SUCCESS whatever
happened: a failed delete would leave the stack in DELETE_FAILED. What was left is said in the reason;
docs/deploying.md's complete-lifecycle-action is the fallback.
"""
import json
import time

import boto3
import urllib3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

POLL_SECONDS = 10
# Kept free at the end of the invocation: one Auto Scaling call (2 attempts of 2 + 5 s) and the response
# (3 attempts of 3 s, backoff 0.5 + 1 s), with room to spare.
SPARE_SECONDS = 30
# The statuses in which the whole stack goes, not only this resource (see the docstring).
STACK_GOING = {"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"}
API_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
HTTP = urllib3.PoolManager(
    retries=urllib3.Retry(total=2, backoff_factor=0.5, status_forcelist=range(500, 600), allowed_methods={"PUT"},
                          respect_retry_after_header=False),
    timeout=urllib3.Timeout(total=3),
)


def handler(event, context, sleep=time.sleep):
    group = (event.get("ResourceProperties") or {}).get("AutoScalingGroupName")
    physical_id = event.get("PhysicalResourceId") or group or event["LogicalResourceId"]
    deleting = event.get("RequestType") == "Delete"
    try:
        if deleting:
            reason = empty(event["StackId"], group, physical_id, context, sleep)
        elif not isinstance(group, str) or not group:
            raise ValueError("AutoScalingGroupName (the stack's Auto Scaling group) is required")
        else:
            physical_id, reason = group, f"{group} is emptied before its capacity provider is deleted"
        status = "SUCCESS"
    except Exception as error:  # noqa: BLE001 - CloudFormation must hear back, whatever went wrong
        status = "SUCCESS" if deleting else "FAILED"
        reason = f"{type(error).__name__}: {error}"
    log("answer", status=status, reason=reason)
    answer(event, status, reason, physical_id)


def empty(stack_id, group, physical_id, context, sleep):
    """Scale the group to zero and wait, while the Lambda has time, until no instance is left in it."""
    if not group or physical_id != group:
        return f"left alone: this resource's group {physical_id!r} is not the one it names ({group!r})"
    why_not = not_going(stack_id)
    if why_not:
        return f"left alone: {group} keeps its instances: {why_not}"
    autoscaling = boto3.client("autoscaling", config=API_CONFIG)
    if remaining(autoscaling, group) is None:
        return f"{group} no longer exists"
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=group, MinSize=0, DesiredCapacity=0)
    log("scaled to zero", group=group)
    while left := remaining(autoscaling, group):
        if context.get_remaining_time_in_millis() / 1000 < SPARE_SECONDS + POLL_SECONDS:
            states = ", ".join(f"{i['InstanceId']} {i['LifecycleState']}" for i in left)
            return (f"{group} scaled to zero, {len(left)} instance(s) still leaving ({states}); if one stays in "
                    "Terminating:Wait, complete its lifecycle action (docs/deploying.md: Deleting the stack)")
        log("waiting", instances=len(left))
        sleep(POLL_SECONDS)
    return f"{group} emptied while its capacity provider drained it"


def not_going(stack_id):
    """None while the whole stack is deleted or its first create rolls back, else why the group stays."""
    try:
        status = boto3.client("cloudformation", config=API_CONFIG).describe_stacks(
            StackName=stack_id)["Stacks"][0]["StackStatus"]
    except (BotoCoreError, ClientError) as error:
        # The advice first: the reason is cut at 1000 characters and an AccessDenied message is long.
        return ("the stack's status could not be read; if the stack is being deleted, complete each "
                "Terminating:Wait lifecycle action (docs/deploying.md: Deleting the stack). "
                f"{type(error).__name__}: {error}")
    log("stack status", status=status)
    if status in STACK_GOING:
        return None
    return f"the stack is {status}, so CloudFormation removes this resource, not the stack"


def remaining(autoscaling, group):
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
    return groups[0]["Instances"] if groups else None


def answer(event, status, reason, physical_id):
    body = json.dumps({
        "Status": status, "Reason": reason[:1000], "PhysicalResourceId": physical_id,
        "StackId": event["StackId"], "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
    })
    # The URL is pre-signed: a credential, never logged. An empty Content-Type is what it was signed for.
    HTTP.request("PUT", event["ResponseURL"], body=body.encode(), headers={"Content-Type": ""})


def log(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str))
