"""What CloudFormation, ECS, the load balancer, Auto Scaling and CloudWatch Logs say about one stack.

Every reader returns plain, JSON-ready dicts holding only what the diagnosis uses: environment values
of task definitions and task overrides are never kept. A reader that fails records a gap (what could not
be read and why) instead of stopping the others. Reads that do not depend on each other run together
in a small thread pool, in four rounds: stack -> events and resources -> ECS, ELB and Auto Scaling ->
task definitions -> log tails.
"""
import concurrent.futures
import datetime
import hashlib
import re

import botocore.exceptions

from tools.diagnosis.aws import unreadable

EVENT_PAGES = 10          # describe_stack_events pages (100 events each) to look back for the operation's start
SERVICE_EVENTS = 10       # latest service events kept
STOPPED_TASKS = 10        # most recently stopped tasks kept
LISTED_TASKS = 500        # stopped tasks looked through for them (list_tasks pages of 100, in no documented order)
LOG_LINES = 15            # lines of each container's log tail
SCALING_ACTIVITIES = 5
WORKERS = 8
# CloudFormation marks every resource it stops creating after the first failure with these reasons.
CASCADE = ("Resource creation cancelled", "Resource update cancelled")
# The stack's own event that starts an operation. A rollback is part of the operation it undoes. A delete that
# failed is the operation to explain (its DELETE_FAILED is not explained by the create before it); a delete that
# completed or is running is not (a stack deleted after a failed create, read by its id, is explained by the create).
OPERATION_STARTS = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "IMPORT_IN_PROGRESS")
FAILED_DELETE_STARTS = OPERATION_STARTS + ("DELETE_IN_PROGRESS",)
CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
MIGRATE_LOGICAL_ID = "MigrateTask"
TASK_ARN = re.compile(r"arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task/(?:[\w-]+/)?[0-9a-f-]{32,36}")


def read(clients, stack_name: str) -> dict:
    """The evidence about `stack_name`; raises StackUnreadable when the stack itself cannot be read."""
    try:
        [stack] = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise unreadable(error, stack_name, clients.region) from None
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        return Reading(clients, pool).evidence(stack)


class Reading:
    def __init__(self, clients, pool):
        self.aws, self.pool, self.gaps = clients, pool, []

    def attempt(self, what, function, *args):
        """function(*args), or None with a gap recorded when AWS refuses or cannot be reached."""
        try:
            return function(*args)
        except botocore.exceptions.ClientError as error:
            problem = error.response.get("Error", {})
            self.gaps.append(f"{what}: {problem.get('Code')}: {problem.get('Message')}")
        except botocore.exceptions.BotoCoreError as error:
            self.gaps.append(f"{what}: {error}")
        return None

    def together(self, **calls):
        """Run {name: (what, function, *args)} in the pool; {name: result or None}."""
        futures = {name: self.pool.submit(self.attempt, *call) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}

    def evidence(self, stack) -> dict:
        name = stack["StackName"]
        starts = FAILED_DELETE_STARTS if stack["StackStatus"] == "DELETE_FAILED" else OPERATION_STARTS
        found = self.together(events=("stack events", self.operation_events, stack["StackId"], name, starts),
                              resources=("stack resources", self.resources, name))
        events, resources = found["events"] or [], found["resources"] or {}
        live = {logical: r for logical, r in resources.items() if r["status"] != "DELETE_COMPLETE" and r["physical"]}
        cluster = _physical_of_type(live, "AWS::ECS::Cluster")
        migrate_id = _migrate_logical_id(resources)
        migrate_reason = _latest_reason(events, migrate_id)
        migrate_failure = _latest_failure(events, migrate_id)

        asg_name = _physical_of_type(live, "AWS::AutoScaling::AutoScalingGroup")
        ecs_reads = {}
        if cluster:
            ecs_reads = dict(
                services=("the ECS services", self.services, cluster, _physicals_of_type(live, "AWS::ECS::Service")),
                stopped=("stopped tasks", self.stopped_tasks, cluster),
                instances=("container instances", self.container_instances, cluster))
        if cluster and migrate_id:
            ecs_reads["migrate"] = ("the migrate task", self.migrate_task, cluster, migrate_reason, stack["StackId"],
                                    migrate_id)
        found = self.together(
            **ecs_reads,
            targets=("target health", self.target_health, _physical_of_type(live, "AWS::ElasticLoadBalancingV2::TargetGroup")),
            asg=("the Auto Scaling group", self.auto_scaling_group, asg_name),
            activities=("scaling activities", self.scaling_activities, asg_name))
        migrate, services = found.get("migrate"), found.get("services") or []
        # Every run of MigrateTask carries its startedBy: only the latest says anything about this deploy.
        migrate_runs = started_by(stack["StackId"], migrate_id) if migrate_id else None
        # None, not [], when the tasks could not be listed (no live cluster, or the read failed): a gap is not "none".
        stopped = None if found.get("stopped") is None else [
            task for task in found["stopped"]
            if task["started_by"] != migrate_runs and (not migrate or task["arn"] != migrate["arn"])]

        definitions = self.task_definitions([migrate, *(stopped or [])], services)
        self.log_tails(migrate, stopped or [], definitions)
        failed = _failures(events)
        return {
            "stack": {"name": name, "id": stack["StackId"], "status": stack["StackStatus"],
                      "reason": stack.get("StackStatusReason"), "region": self.aws.region,
                      "operation_started": _operation_start(events, name)},
            "first_failure": failed[0] if failed else None,
            "failures": failed,
            "migrate": {"logical_id": migrate_id, "status": (resources.get(migrate_id) or {}).get("status"),
                        "reason": migrate_reason, "failure": migrate_failure, "task": migrate} if migrate_id else None,
            "cluster": cluster,
            "services": services,
            "stopped_tasks": stopped,
            "task_definitions": definitions,
            "targets": found["targets"],
            "instances": found.get("instances"),
            "asg": found["asg"] and {**found["asg"], "activities": found["activities"] or []},
            "gaps": self.gaps,
        }

    # --- CloudFormation -------------------------------------------------------------------------------

    def operation_events(self, stack_id, stack_name, starts):
        """The events of the stack's latest operation, oldest first (events come newest first)."""
        events, token = [], None
        for _ in range(EVENT_PAGES):
            page = self.aws.cloudformation.describe_stack_events(StackName=stack_id, **_token(token))
            for event in page["StackEvents"]:
                events.append(_event(event))
                if (events[-1]["resource"] == stack_name and events[-1]["type"] == "AWS::CloudFormation::Stack"
                        and events[-1]["status"] in starts):
                    return events[::-1]
            token = page.get("NextToken")
            if not token:
                break
        return events[::-1]

    def resources(self, stack_name):
        found, token = {}, None
        while True:
            page = self.aws.cloudformation.list_stack_resources(StackName=stack_name, **_token(token))
            for summary in page["StackResourceSummaries"]:
                found[summary["LogicalResourceId"]] = {"type": summary["ResourceType"],
                                                       "physical": summary.get("PhysicalResourceId"),
                                                       "status": summary["ResourceStatus"]}
            token = page.get("NextToken")
            if not token:
                return found

    # --- ECS ------------------------------------------------------------------------------------------

    def migrate_task(self, cluster, reason, stack_id, logical_id):
        """The task named in the custom resource's reason, else the latest one the task runner started for it.

        lambda/task_runner.py marks every task of a resource with startedBy = "cfn-" + the first 32 hex
        digits of sha256("<StackId>|<LogicalResourceId>").
        """
        arn = TASK_ARN.search(reason or "")
        if arn:
            tasks = self.aws.ecs.describe_tasks(cluster=cluster, tasks=[arn[0]])["tasks"]
        else:
            tasks = self.tasks_started_by(cluster, started_by(stack_id, logical_id))
        tasks.sort(key=lambda task: task.get("createdAt") or datetime.datetime.min, reverse=True)
        return _task(tasks[0]) if tasks else None

    def tasks_started_by(self, cluster, marker):
        arns = []
        for status in ("RUNNING", "STOPPED"):
            arns += self.task_arns(cluster, startedBy=marker, desiredStatus=status)
        return self.described_tasks(cluster, arns)

    def services(self, cluster, service_arns):
        """Every service of the stack (a template may hold several), in the stack's order."""
        described = []
        for start in range(0, len(service_arns), 10):  # describe_services takes at most 10 services
            described += self.aws.ecs.describe_services(cluster=cluster,
                                                        services=service_arns[start:start + 10])["services"]
        return [self.service(service) for service in described]

    @staticmethod
    def service(service):
        breaker = service.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
        return {
            "name": service["serviceName"], "status": service["status"],
            "desired": service["desiredCount"], "running": service["runningCount"],
            "pending": service["pendingCount"], "task_definition": service.get("taskDefinition"),
            "circuit_breaker": {"enable": breaker.get("enable", False), "rollback": breaker.get("rollback", False)},
            "deployments": [{
                "id": d["id"], "status": d["status"], "rollout_state": d.get("rolloutState"),
                "rollout_reason": d.get("rolloutStateReason"), "failed_tasks": d.get("failedTasks", 0),
                "desired": d["desiredCount"], "running": d["runningCount"], "task_definition": d["taskDefinition"],
                "updated_at": _when(d.get("updatedAt")),
            } for d in service.get("deployments", [])],
            "events": [{"at": _when(e["createdAt"]), "message": e["message"]}
                       for e in service.get("events", [])[:SERVICE_EVENTS]],
        }

    def stopped_tasks(self, cluster):
        """The most recently stopped tasks of the cluster (ECS keeps a stopped task for about an hour)."""
        tasks = self.described_tasks(cluster, self.task_arns(cluster, desiredStatus="STOPPED"))
        tasks.sort(key=lambda task: task.get("stoppedAt") or task.get("createdAt") or datetime.datetime.min,
                   reverse=True)
        return [_task(task) for task in tasks[:STOPPED_TASKS]]

    def task_arns(self, cluster, **filters):
        pages = self.aws.ecs.get_paginator("list_tasks").paginate(
            cluster=cluster, **filters, PaginationConfig={"MaxItems": LISTED_TASKS})
        return [arn for page in pages for arn in page["taskArns"]]

    def described_tasks(self, cluster, arns):
        """describe_tasks takes at most 100 tasks a call."""
        return [task for start in range(0, len(arns), 100)
                for task in self.aws.ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100])["tasks"]]

    def container_instances(self, cluster):
        arns = self.aws.ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
        described = self.aws.ecs.describe_container_instances(
            cluster=cluster, containerInstances=arns[:100])["containerInstances"] if arns else []
        return [{
            "ec2_instance": instance.get("ec2InstanceId"), "status": instance["status"],
            "agent_connected": instance["agentConnected"],
            "free": _resources(instance.get("remainingResources", [])),
            "registered": _resources(instance.get("registeredResources", [])),
            "running_tasks": instance.get("runningTasksCount", 0),
        } for instance in described]

    def task_definitions(self, tasks, services):
        """What each task definition reserves and where its containers log (never the environment)."""
        arns = {task["definition"] for task in tasks if task}
        arns |= {d["task_definition"] for service in services for d in service["deployments"]}
        found = self.together(**{arn: (f"task definition {arn}", self.task_definition, arn) for arn in sorted(arns)})
        return {arn: definition for arn, definition in found.items() if definition}

    def task_definition(self, arn):
        definition = self.aws.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        containers = {}
        for container in definition["containerDefinitions"]:
            logging = container.get("logConfiguration") or {}
            options = logging.get("options") or {}
            containers[container["name"]] = {
                "memory": container.get("memory"), "memory_reservation": container.get("memoryReservation"),
                "cpu": container.get("cpu", 0), "essential": container.get("essential", True),
                "image": container.get("image"),
                "log": {"group": options.get("awslogs-group"), "prefix": options.get("awslogs-stream-prefix"),
                        "region": options.get("awslogs-region")} if logging.get("logDriver") == "awslogs" else None,
            }
        return {"family": f"{definition['family']}:{definition['revision']}", "memory": definition.get("memory"),
                "cpu": definition.get("cpu"), "containers": containers}

    # --- CloudWatch Logs --------------------------------------------------------------------------------

    def log_tails(self, migrate, stopped, definitions):
        """Fill container["log"] of the migration's containers and of every other container that exited
        non-zero (those that exited 0 say nothing about a failure): stream <prefix>/<container>/<task id>.

        The stream name is prefix-name/container-name/ecs-task-id ("Send Amazon ECS logs to CloudWatch",
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html).
        """
        wanted = {}
        for task in filter(None, [migrate, *stopped]):
            definition = definitions.get(task["definition"]) or {"containers": {}}
            for container in task["containers"]:
                log = (definition["containers"].get(container["name"]) or {}).get("log")
                code = container.get("exit_code")
                telling = code is not None and (task is migrate or code != 0)
                if not telling or not log or not log["group"] or not log["prefix"]:
                    continue
                stream = f"{log['prefix']}/{container['name']}/{task['id']}"
                container["log"] = {"group": log["group"], "stream": stream, "lines": []}
                if log["region"] and log["region"] != self.aws.region:
                    container["log"]["note"] = f"in {log['region']}, not read"
                    continue
                wanted[f"{task['id']}/{container['name']}"] = (container["log"], log["group"], stream)
        found = self.together(**{key: (f"log stream {stream}", self.tail, group, stream)
                                 for key, (_, group, stream) in wanted.items()})
        for key, (log, _, _) in wanted.items():
            lines = found[key]
            if lines is None:
                log["note"] = "not read (see the gaps)"
            else:
                log["lines"] = lines

    def tail(self, group, stream):
        try:
            events = self.aws.logs.get_log_events(logGroupName=group, logStreamName=stream, limit=LOG_LINES,
                                                  startFromHead=False)["events"]
        except botocore.exceptions.ClientError as error:
            problem = error.response.get("Error", {})
            if problem.get("Code") == "ResourceNotFoundException" and "log group" not in problem.get("Message", ""):
                # No stream: the container never wrote a line. A missing group ("The specified log group does not
                # exist.", e.g. jorgebastida/awslogs#144) is a gap worth saying: the group was deleted or is wrong.
                return []
            raise
        return [event["message"].rstrip("\n") for event in events]

    # --- Load balancer and Auto Scaling -------------------------------------------------------------------

    def target_health(self, target_group_arn):
        if not target_group_arn:
            return None
        descriptions = self.aws.elbv2.describe_target_health(TargetGroupArn=target_group_arn)
        return [{
            "id": d["Target"]["Id"], "port": d["Target"].get("Port"),
            "state": d["TargetHealth"].get("State"), "reason": d["TargetHealth"].get("Reason"),
            "description": d["TargetHealth"].get("Description"),
        } for d in descriptions["TargetHealthDescriptions"]]

    def auto_scaling_group(self, name):
        if not name:
            return None
        groups = self.aws.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
        group = groups[0] if groups else {}
        return {"name": name, "desired": group.get("DesiredCapacity"),
                "instances": [{"id": i["InstanceId"], "state": i["LifecycleState"], "health": i["HealthStatus"]}
                              for i in group.get("Instances", [])]}

    def scaling_activities(self, name):
        """The group's last activities: a launch that failed, or an instance that never signalled, shows here."""
        if not name:
            return None
        activities = self.aws.autoscaling.describe_scaling_activities(
            AutoScalingGroupName=name, MaxRecords=SCALING_ACTIVITIES)["Activities"]
        return [{"at": _when(a.get("StartTime")), "status": a["StatusCode"], "description": a.get("Description"),
                 "cause": a.get("Cause"), "message": a.get("StatusMessage")} for a in activities]


def started_by(stack_id: str, logical_id: str) -> str:
    """The startedBy lambda/task_runner.py (RequestMarks) puts on every task of a custom resource."""
    return "cfn-" + hashlib.sha256(f"{stack_id}|{logical_id}".encode()).hexdigest()[:32]


def _token(token):
    return {"NextToken": token} if token else {}


def _when(value):
    """A time as the report shows it: UTC, to the second (botocore gives ECS times in the local zone, with
    microseconds; CloudFormation's in UTC)."""
    if not isinstance(value, datetime.datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.isoformat(timespec="seconds")


def _event(event):
    """StackEvent requires only StackId, EventId, StackName and Timestamp ("StackEvent", CloudFormation API
    Reference): a hook's event, for one, may come without a resource status."""
    return {"resource": event.get("LogicalResourceId"), "type": event.get("ResourceType"),
            "status": event.get("ResourceStatus"), "reason": event.get("ResourceStatusReason"),
            "at": _when(event["Timestamp"])}


def _failures(events):
    """The operation's failed events, oldest first, without the stack's own and the cancellation cascade."""
    return [event for event in events
            if (event["status"] or "").endswith("_FAILED") and event["type"] != "AWS::CloudFormation::Stack"
            and not (event["reason"] or "").startswith(CASCADE)]


def _latest_reason(events, logical_id):
    reasons = [event["reason"] for event in events if event["resource"] == logical_id and event["reason"]]
    return reasons[-1] if reasons else None


def _latest_failure(events, logical_id):
    """The resource's latest failed event of the operation (status, reason, time), kept apart from its current
    status: after a rollback the resource is *_COMPLETE again and the failure is what happened before."""
    failed = [event for event in events
              if event["resource"] == logical_id and (event["status"] or "").endswith("_FAILED")]
    return {key: failed[-1][key] for key in ("status", "reason", "at")} if failed else None


def _operation_start(events, stack_name):
    """When the operation being explained started (its first event is the stack's own *_IN_PROGRESS)."""
    first = events[0] if events else None
    return first["at"] if first and first["resource"] == stack_name and first["type"] == "AWS::CloudFormation::Stack" \
        else None


def _physical_of_type(resources, resource_type):
    return next(iter(_physicals_of_type(resources, resource_type)), None)


def _physicals_of_type(resources, resource_type):
    return [r["physical"] for r in resources.values() if r["type"] == resource_type]


def _migrate_logical_id(resources):
    if MIGRATE_LOGICAL_ID in resources:
        return MIGRATE_LOGICAL_ID
    return next((logical for logical, r in resources.items()
                 if r["type"] == CUSTOM_RESOURCE or r["type"].startswith("Custom::")), None)


def _resources(listed):
    return {r["name"]: r.get("integerValue") for r in listed if r["name"] in ("CPU", "MEMORY")}


def _task(task):
    """A task as the diagnosis needs it: no overrides (they may hold environment values)."""
    arn = task["taskArn"]
    return {
        "arn": arn, "id": arn.rsplit("/", 1)[-1], "definition": task["taskDefinitionArn"],
        "group": task.get("group"), "started_by": task.get("startedBy"),
        "last_status": task.get("lastStatus"), "stop_code": task.get("stopCode"),
        "stopped_reason": task.get("stoppedReason"), "stopped_at": _when(task.get("stoppedAt")),
        "containers": [{"name": c["name"], "exit_code": c.get("exitCode"), "reason": c.get("reason"),
                        "last_status": c.get("lastStatus")} for c in task.get("containers", [])],
    }
