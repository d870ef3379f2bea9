"""Run one ECS task for a CloudFormation custom resource and report how it ended.

Deployed inline as index.py (stack.yml EcsTaskRunner Code.ZipFile); keep both identical.
Standard library + boto3 only: that is what the Lambda runtime provides.
"""
import json
import urllib.request

import boto3

ecs = boto3.client("ecs")


def handler(event, context):
    physical_id = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        if event["RequestType"] == "Delete":
            return send(event, "SUCCESS", physical_id)
        props = event["ResourceProperties"]
        started = ecs.run_task(
            cluster=props["Cluster"],
            taskDefinition=props["TaskDefinition"],
            overrides=props.get("Overrides", {}),
            count=1,
            startedBy=event["RequestId"][:36],
        )
        if not started["tasks"]:
            reasons = [f["reason"] for f in started["failures"]] or ["no capacity"]
            return send(event, "FAILED", physical_id, "run_task placed no task: " + ", ".join(reasons))
        task_arn = started["tasks"][0]["taskArn"]
        ecs.get_waiter("tasks_stopped").wait(cluster=props["Cluster"], tasks=[task_arn])
        task = ecs.describe_tasks(cluster=props["Cluster"], tasks=[task_arn])["tasks"][0]
        exit_code = task["containers"][0].get("exitCode")
        if exit_code != 0:
            return send(event, "FAILED", physical_id, f"task {task_arn} exited with {exit_code}")
        return send(event, "SUCCESS", physical_id, data={"TaskArn": task_arn, "ExitCode": exit_code})
    except Exception as error:  # CloudFormation must hear back, whatever went wrong
        return send(event, "FAILED", physical_id, f"{type(error).__name__}: {error}")


def send(event, status, physical_id, reason="", data=None):
    body = json.dumps({
        "Status": status,
        "Reason": reason or status,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        print(json.dumps({"step": "responded", "status": status, "http": response.status}))
