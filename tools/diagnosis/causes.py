"""What the evidence means: the known causes of a failed deploy, most likely root cause first.

KNOWN is the knowledge table, in rank order: a cause earlier in the table explains the ones after it
(no instance -> nothing can be placed -> the service never turns healthy -> the circuit breaker rolls
back). Each entry says why it happens and what to do, with the AWS page that documents it. Whatever
looks wrong but matches no entry is reported raw ("unrecognised"), never dropped.
"""
import dataclasses
import datetime
import re

DOCKER_MIN_MIB = 6  # "The Docker 20.10.0 or later daemon reserves a minimum of 6 MiB of memory for a container"


@dataclasses.dataclass(frozen=True)
class Cause:
    key: str
    title: str
    why: str
    todo: str
    doc: str  # "<page title> - <url>"


KNOWN = [
    Cause("no-container-instance", "No container instance joined the cluster",
          "Tasks run only on registered EC2 container instances. The Auto Scaling group's CreationPolicy waits "
          "for each instance's cfn-signal, sent once the ECS agent has registered (on a first deploy the "
          "ApplicationCapacityReady wait condition gets it, once the agent registered with the capacity provider "
          "in place); no signal within the timeout fails the deploy, and without instances no task (migration or "
          "service) can be placed.",
          "Read the scaling activities below (launch failures, capacity); on an instance, "
          "/var/log/todobackend-ready.log and /var/log/ecs/ecs-agent.log say why the agent did not register "
          "(ECS_CLUSTER in /etc/ecs/ecs.config, no route to the ECS endpoint, the instance role).",
          "CreationPolicy attribute - "
          "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-creationpolicy.html"),
    Cause("not-in-capacity-provider", "An instance is not in the capacity provider",
          "Tasks (the migration's too) are placed through the cluster's capacity provider strategy, so an instance "
          "counts only once ECS lists it under the provider (its capacityProviderName). The instance checks that "
          "itself after registering and signals failure with the reason when the provider was not attached to the "
          "cluster in time or it registered outside the provider.",
          "Check that the Auto Scaling group and its instances carry the AmazonECSManaged tag, that the cluster's "
          "capacity provider is ACTIVE and attached (aws ecs describe-clusters --include ATTACHMENTS: "
          "attachmentsStatus UPDATE_COMPLETE), then deploy again; /var/log/todobackend-ready.log on an instance "
          "shows each check.",
          "Amazon ECS capacity providers for EC2 workloads - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/asg-capacity-providers.html"),
    Cause("image-not-found", "The container image cannot be pulled",
          "The ECS agent could not pull the task definition's image: the repository or tag does not exist, the "
          "execution role may not read it, or the instance has no route to ECR.",
          "Check that the tag exists (aws ecr describe-images --repository-name REPO --image-ids imageTag=TAG), "
          "push it or deploy an existing ApplicationImageTag.",
          "CannotPullContainer task errors in Amazon ECS - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html"),
    Cause("memory-below-docker-minimum", "A container reserves less memory than Docker's minimum (6 MiB)",
          "Docker 20.10 and later refuses a container whose memory or memoryReservation is under 6 MiB; the "
          "ECS agent passes the value through, so the container is never created (CannotCreateContainerError).",
          f"Set Memory/MemoryReservation to at least {DOCKER_MIN_MIB} MiB for every container of the task definition.",
          "ContainerDefinition (memory, memoryReservation) - "
          "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"),
    Cause("secrets-unreadable", "The task cannot read its secrets",
          "Before starting the containers the ECS agent fetches every Secrets ValueFrom with the task execution "
          "role; a denied or missing secret (or no route to Secrets Manager) stops the task with "
          "ResourceInitializationError.",
          "Check the execution role allows secretsmanager:GetSecretValue on each ValueFrom ARN (and kms:Decrypt "
          "for a customer key), that the secret and its JSON key exist, and that the instance reaches Secrets Manager.",
          "Troubleshoot ResourceInitializationError when pulling secrets (AWS re:Post Knowledge Center) - "
          "https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets"),
    Cause("migration-failed", "The database migration task exited non-zero",
          "MigrateTask runs `manage.py migrate` as a one-off ECS task and fails the deploy unless every container "
          "exits 0; the container's own log says why (database unreachable, wrong credentials, a failing migration).",
          "Read the log tail below; fix the cause (security group to the database, the secret, the migration) "
          "and deploy again: the task runner starts a fresh task per deploy.",
          "Amazon ECS stopped task errors - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html"),
    Cause("instances-joining", "New instances have not joined the cluster yet",
          "An ApplicationInstanceCount change is no rolling update: CloudFormation completes the group at once, "
          "without waiting for the instances' signals, and a higher ApplicationDesiredCount in the same deploy "
          "asks for tasks before the new instances registered. ECS keeps trying to place them; the placement "
          "messages of this window are its consequence, not a lack of room.",
          "Wait until the instances below registered (a few minutes; run the doctor again). Next time change "
          "ApplicationInstanceCount in one deploy and ApplicationDesiredCount in the next (the reverse order "
          "when lowering both).",
          "UpdatePolicy attribute (AutoScalingRollingUpdate) - "
          "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatepolicy.html"),
    Cause("task-cannot-be-placed", "No container instance has room for the task",
          "The scheduler places a task only on an instance with enough free memory, CPU and ports for what the task "
          "definition reserves; a rolling deploy at 200% needs room for the old and the new task at once.",
          "Lower the task's reservations, use a larger ApplicationInstanceType, or raise ApplicationInstanceCount.",
          "Amazon ECS service event messages - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html"),
    Cause("container-exited", "A service container exits non-zero",
          "The essential container stopped by itself, so ECS stopped the task and the service keeps replacing it; "
          "its log says why (configuration, database, a crash at start).",
          "Read the log tail below and fix the application's configuration or code.",
          "Amazon ECS stopped task errors - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html"),
    Cause("unrecognised-task-stop", "A task stopped for a reason the doctor does not know",
          "Shown raw: the reason is not in the doctor's knowledge table.",
          "Read the stopped reason and container reasons below.",
          "Amazon ECS stopped task errors - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html"),
    Cause("health-check-status-code", "Health checks get the wrong HTTP status code",
          "The load balancer's health check reaches the container but the answer is not the matcher's code "
          "(200 here), so ECS replaces the task as unhealthy.",
          "Request the health-check path on the task yourself and read the container log; the code says where to "
          "look (3xx: the path or an HTTPS redirect, 400: ALLOWED_HOSTS, 404: HealthCheckPath, 5xx: the application).",
          "Health checks for Application Load Balancer target groups - "
          "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"),
    Cause("health-check-timeout", "Health checks time out",
          "The target did not answer the health check within HealthCheckTimeoutSeconds: the app is still starting, "
          "overloaded, or the security group does not let the load balancer reach the host port.",
          "Check the ingress from the load balancer's group to the instances' ephemeral ports (32768-60999), "
          "the grace period, and the container's start time in its log.",
          "Health checks for Application Load Balancer target groups - "
          "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"),
    Cause("health-check-connection", "Health checks cannot connect",
          "The load balancer could not open a connection to the target, or the answer was malformed: nothing "
          "listens on the port, or the container closed the connection.",
          "Check that the container listens on its containerPort on 0.0.0.0 and that the security groups allow "
          "the load balancer to reach the host port.",
          "Health checks for Application Load Balancer target groups - "
          "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"),
    Cause("unrecognised-target-health", "A target is unhealthy for a reason the doctor does not know",
          "Shown raw: the load balancer marks the target unhealthy with a reason code not in the doctor's table "
          "(Elb.InternalError, or a code added since).",
          "Read the target's reason and description below; an internal error usually clears on its own, "
          "otherwise ask AWS Support with the target group ARN.",
          "TargetHealth (Elastic Load Balancing API Reference) - "
          "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html"),
    Cause("circuit-breaker-rollback", "The deployment circuit breaker stopped the deployment and rolled back",
          "ECS counts tasks of the new deployment that fail to start or to turn healthy; past the threshold it "
          "marks the deployment FAILED and returns to the last COMPLETED one. This is the consequence: the "
          "causes above say why the tasks failed.",
          "Fix the cause listed before this one and deploy again.",
          "How the Amazon ECS deployment circuit breaker detects failures - "
          "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html"),
    Cause("rollback-failed", "The rollback failed too: the stack is stuck until it is rolled back or deleted",
          "After the failure above CloudFormation could not return a resource to its previous state (for example it "
          "was changed or deleted outside the stack), so the stack stays in *_ROLLBACK_FAILED and takes no update.",
          "Fix the resource named here by hand if you can, then continue the rollback (aws cloudformation "
          "continue-update-rollback, with --resources-to-skip for one that cannot be fixed); a stack whose create "
          "rollback failed can only be deleted.",
          "ContinueUpdateRollback (CloudFormation API Reference) - "
          "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html"),
    Cause("unrecognised-stack-failure", "The stack failed for a reason the doctor does not know",
          "Shown raw: the first failure's reason is not in the doctor's knowledge table.",
          "Read the first failure above: its resource and reason are where the deploy broke.",
          "Troubleshooting CloudFormation - "
          "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html"),
]
RANK = {cause.key: rank for rank, cause in enumerate(KNOWN)}
BY_KEY = {cause.key: cause for cause in KNOWN}
FAILED_STACK = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
SCHEDULER_STOPS = ("ServiceSchedulerInitiated", "UserInitiated", "SpotInterruption", "TerminationNotice")


def diagnose(evidence: dict) -> list[dict]:
    """Findings, most likely root cause first: cause, title, seen (evidence lines), why, todo, doc, logs."""
    found = Findings()
    migrate = (evidence.get("migrate") or {}).get("task")
    tasks = [("migrate task", migrate)] if migrate else []
    tasks += [("task", task) for task in evidence["stopped_tasks"] or [] if not _task_is_history(task, evidence)]
    _capacity_provider_membership(evidence, found)
    _no_container_instance(evidence, found)
    for role, task in tasks:
        _task_stop(role, task, migrate is task, found)
    _definitions_below_minimum(evidence, found)
    _migration_reason(evidence, found)
    _instances_joining(evidence, found)
    _placement(evidence, found)
    _targets(evidence, found)
    _circuit_breaker(evidence, found)
    if not found.items and evidence["stack"]["status"].endswith(FAILED_STACK):
        failure = evidence.get("first_failure")
        found.add("unrecognised-stack-failure",
                  f"{failure['resource']} ({failure['type']}) {failure['status']}: {failure['reason']}" if failure
                  else f"stack {evidence['stack']['status']}: {evidence['stack'].get('reason')}")
    _rollback_failed(evidence, found)
    _service_short(evidence, found)
    return found.ordered()


class Findings:
    SHOWN_PLACES = 3  # places named for one repeated reason; the rest are counted

    def __init__(self):
        self.items = {}
        self.places = {}  # (cause, reason) -> where it was seen, so ten tasks with one reason take one line

    def add(self, key, seen, logs=None, title=None, where=None, container=None):
        """`where` names the place (a task), `container` the container in it: one task's containers share a place."""
        finding = self.items.setdefault(key, {"cause": key, "title": title or BY_KEY[key].title, "seen": [],
                                             "why": BY_KEY[key].why, "todo": BY_KEY[key].todo,
                                             "doc": BY_KEY[key].doc, "logs": []})
        if seen not in finding["seen"]:
            finding["seen"].append(seen)
        if where:
            containers = self.places.setdefault((key, seen), {}).setdefault(where, [])
            if container is not None and container not in containers:
                containers.append(container)
        finding["logs"] += [log for log in logs or [] if log not in finding["logs"]]

    def ordered(self):
        for (key, seen), by_place in self.places.items():
            places = [_place(where, containers) for where, containers in by_place.items()]
            shown = ", ".join(places[:self.SHOWN_PLACES])
            more = f" and {len(places) - self.SHOWN_PLACES} more" if len(places) > self.SHOWN_PLACES else ""
            seen_list = self.items[key]["seen"]
            seen_list[seen_list.index(seen)] = f"{shown}{more}: {seen}"
        return sorted(self.items.values(), key=lambda finding: RANK[finding["cause"]])


def _place(where, containers):
    if not containers:
        return where
    names = [repr(name) for name in containers]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{where} container{'s' if len(names) > 1 else ''} {listed}"


# Resources that wait for the instances' cfn-signal: the group (registered) and, on a first deploy, the wait
# condition told once an instance registered with the capacity provider in place.
SIGNALLED = ("AWS::AutoScaling::AutoScalingGroup", "AWS::CloudFormation::WaitCondition")


# What the instances' failure signals say when membership is the problem (stack.yml's user data); the wait
# condition's event quotes them: "WaitCondition received failed message: '<reason>' for uniqueId: <id>".
MEMBERSHIP_SIGNALS = ("not in capacity provider", "capacity provider not attached", "attachmentsstatus update_failed")


def _capacity_provider_membership(evidence, found):
    for failure in evidence["failures"]:
        said = (failure["reason"] or "").lower()
        if failure["type"] in SIGNALLED and any(signal in said for signal in MEMBERSHIP_SIGNALS):
            found.add("not-in-capacity-provider", f"stack: {failure['resource']} {failure['status']}: "
                                                  f"{failure['reason']}")


def _no_container_instance(evidence, found):
    for failure in evidence["failures"]:
        said = (failure["reason"] or "").lower()
        if any(signal in said for signal in MEMBERSHIP_SIGNALS):
            continue
        if failure["type"] in SIGNALLED and ("signal" in said or "condition" in said):
            found.add("no-container-instance", f"stack: {failure['resource']} {failure['status']}: {failure['reason']}")
    reason = (evidence.get("migrate") or {}).get("reason") or ""
    if "No Container Instances" in reason:
        found.add("no-container-instance", f"MigrateTask: {reason}")
    for event in _service_events(evidence):
        if "No Container Instances were found" in event["message"]:
            found.add("no-container-instance", f"service event {event['at']}: {event['message']}")
            break
    instances = evidence.get("instances")
    if instances is not None and evidence.get("cluster"):
        connected = [i for i in instances if i["agent_connected"] and i["status"] == "ACTIVE"]
        if not connected and "no-container-instance" in found.items:
            found.add("no-container-instance", f"cluster {evidence['cluster']}: {len(instances)} container instance(s) "
                                               f"registered, {len(connected)} active with a connected agent")
    if "no-container-instance" in found.items:
        for activity in ((evidence.get("asg") or {}).get("activities") or [])[:3]:
            found.add("no-container-instance", f"scaling activity {activity['at']}: {activity['status']}: "
                                               f"{activity['description']} {activity.get('message') or ''}".rstrip())


def _task_stop(role, task, is_migrate, found):
    """Each container's reason or exit code, matched against the table; unknown reasons stay raw."""
    where = f"{role} {task['id']}"
    explained = False
    for container in task["containers"]:
        reason, code = container.get("reason") or "", container.get("exit_code")
        place = {"where": where, "container": container["name"]}
        if "CannotPullContainerError" in reason:
            found.add("image-not-found", reason, **place)
        elif "CannotCreateContainerError" in reason and "inimum memory" in reason:
            found.add("memory-below-docker-minimum", reason, **place)
        elif _secret_failure(reason):
            found.add("secrets-unreadable", reason, **place)
        elif code not in (None, 0) and (is_migrate or task.get("stop_code") not in SCHEDULER_STOPS):
            log = container.get("log")
            found.add("migration-failed" if is_migrate else "container-exited",
                      f"exited with code {code}" + (f" ({reason})" if reason else ""),
                      logs=[log] if log else None, **place)
        elif reason:
            found.add("unrecognised-task-stop", reason, **place)
        else:
            continue
        explained = True
    stopped = task.get("stopped_reason") or ""
    if explained:
        return
    if _secret_failure(stopped):
        found.add("secrets-unreadable", stopped, where=where)
    elif "CannotPullContainerError" in stopped:
        found.add("image-not-found", stopped, where=where)
    elif task.get("stop_code") == "TaskFailedToStart":
        found.add("unrecognised-task-stop", f"({task['stop_code']}) {stopped}", where=where)


def _secret_failure(reason):
    return ("ResourceInitializationError" in reason and "secret" in reason.lower()) or \
        reason.startswith("Fetching secret data")


def _definitions_below_minimum(evidence, found):
    """Containers reserving under 6 MiB; one that ran anyway (an older Docker) is not what failed."""
    migrate = (evidence.get("migrate") or {}).get("task")
    ran = {(task["definition"], container["name"]) for task in [migrate, *(evidence["stopped_tasks"] or [])] if task
           for container in task["containers"] if container.get("exit_code") is not None}
    for arn, definition in evidence["task_definitions"].items():
        for name, container in definition["containers"].items():
            for setting in ("memory", "memory_reservation"):
                value = container.get(setting)
                if value is not None and value < DOCKER_MIN_MIB and (arn, name) not in ran:
                    found.add("memory-below-docker-minimum",
                              f"task definition {definition['family']} container {name!r}: {setting} {value} MiB")


def _migration_reason(evidence, found):
    migrate = evidence.get("migrate") or {}
    reason = migrate.get("reason") or ""
    if "exited with code" in reason and migrate.get("task") is None:
        found.add("migration-failed", f"MigrateTask: {reason}")
    if any(marker in reason for marker in ("RESOURCE:MEMORY", "RESOURCE:CPU", "RESOURCE:PORTS", "started no task")):
        found.add("task-cannot-be-placed", f"MigrateTask: {reason}")


# Auto Scaling lifecycle states of an instance on its way in or in service.
JOINING_STATES = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")


def _instances_joining(evidence, found):
    """Instances the group runs that ECS does not know yet, while a service is short of tasks."""
    group, instances = evidence.get("asg"), evidence.get("instances")
    if not group or instances is None or all(s["running"] >= s["desired"] for s in evidence["services"]):
        return
    registered = {instance["ec2_instance"] for instance in instances}
    for instance in group["instances"]:
        if instance["state"] in JOINING_STATES and instance["id"] not in registered:
            found.add("instances-joining", f"group {group['name']} (desired {group['desired']}): instance "
                                           f"{instance['id']} {instance['state']}, not registered with the cluster")


def _placement(evidence, found):
    for service in evidence["services"]:
        _service_placement(service, evidence, found)


def _service_placement(service, evidence, found):
    for event in current_events(service, evidence):
        if "unable to place a task" in event["message"] and "No Container Instances" not in event["message"]:
            found.add("task-cannot-be-placed", f"service event {event['at']}: {event['message']}")
            break
    definition = evidence["task_definitions"].get(service.get("task_definition") or "")
    # Only an ACTIVE instance with a connected agent takes tasks: a DRAINING one (an AMI update's managed draining)
    # places nothing ("Draining Amazon ECS container instances", Amazon ECS Developer Guide).
    instances = [i for i in evidence.get("instances") or [] if i["status"] == "ACTIVE" and i["agent_connected"]]
    if not definition or not instances or service["running"] >= service["desired"]:
        return
    memory, cpu = reservation(definition)
    if all((i["free"].get("MEMORY") or 0) < memory or (i["free"].get("CPU") or 0) < cpu for i in instances):
        for instance in instances:
            found.add("task-cannot-be-placed",
                      f"instance {instance['ec2_instance']}: {instance['free'].get('MEMORY')} MiB memory and "
                      f"{instance['free'].get('CPU')} CPU units free; a {definition['family']} task reserves "
                      f"{memory} MiB and {cpu} CPU units")


def reservation(definition) -> tuple[int, int]:
    """(MiB, CPU units) one task takes from an instance: task-level values, else the containers' sums."""
    containers = definition["containers"].values()
    memory = definition.get("memory") or sum(c.get("memory_reservation") or c.get("memory") or 0 for c in containers)
    cpu = definition.get("cpu") or sum(c.get("cpu") or 0 for c in containers)
    return int(memory), int(cpu)


TARGET_REASONS = {"Target.ResponseCodeMismatch": "health-check-status-code", "Target.Timeout": "health-check-timeout",
                  "Target.FailedHealthChecks": "health-check-connection"}
EVENT_MARKERS = {"Health checks failed with these codes": "health-check-status-code",
                 "Request timed out": "health-check-timeout"}


def _targets(evidence, found):
    said = []
    for target in evidence.get("targets") or []:
        key = TARGET_REASONS.get(target.get("reason"))
        if key is None and target.get("state") == "unhealthy":
            key = "unrecognised-target-health"  # draining, unused and initial targets are not failures
        if key:
            found.add(key, f"target {target['id']}:{target['port']} {target['state']}: {target['reason']}: "
                           f"{target.get('description') or ''}".rstrip(": "))
            said.append(target.get("description") or "")
    for marker, key in EVENT_MARKERS.items():  # the latest service event that says so
        event = next((e for e in _service_events(evidence) if marker in e["message"]), None)
        if event:
            found.add(key, f"service event {event['at']}: {event['message']}")
            said.append(event["message"])
    codes = sorted({code for text in said for listed in STATUS_CODES.findall(text)
                    for code in re.findall(r"\d{3}", listed)})
    if codes and "health-check-status-code" in found.items:
        found.items["health-check-status-code"]["todo"] = status_code_advice(codes)


# "Health checks failed with these codes: [502]" (a target's description and the service event alike).
STATUS_CODES = re.compile(r"codes: \[([\d, ]+)\]")
# What each family of health-check answers means for a Django app behind the load balancer. The check's Host
# header is the target's private IP address, not the site's name, so Django's host validation answers 400
# (DisallowedHost: "ALLOWED_HOSTS", Django settings reference; dryan.com "How to Make Django's ALLOWED_HOSTS work
# with AWS ELB Health Checks").
STATUS_ADVICE = [
    (lambda code: code.startswith("3"), "3xx: the check is redirected: a path without its trailing slash (Django's "
     "APPEND_SLASH answers 301) or an HTTPS redirect (SECURE_SSL_REDIRECT) behind a load balancer that checks over "
     "HTTP; set HealthCheckPath to the exact URL the app serves"),
    (lambda code: code == "400", "400: Django refuses a Host header not in ALLOWED_HOSTS (DisallowedHost), and the "
     "health check's Host is the instance's private IP address: allow it, or answer the health-check path before "
     "the host is validated"),
    (lambda code: code in ("401", "403"), "401/403: the path needs authentication or is forbidden: check a public "
     "path"),
    (lambda code: code == "404", "404: nothing answers at HealthCheckPath: set it to a URL the app serves"),
    (lambda code: code.startswith("4") and code not in ("400", "401", "403", "404"), "other 4xx: the app refuses "
     "the check's request: its log says why"),
    (lambda code: code.startswith("5"), "5xx: the application fails on the path: read the container log below "
     "(database unreachable, wrong credentials, missing configuration); a 502/503/504 from a proxy inside the task "
     "means the app behind it does not answer"),
]


def status_code_advice(codes) -> str:
    """What to do for the status codes the targets answered, one clause per family seen."""
    clauses = [advice for matches, advice in STATUS_ADVICE if any(matches(code) for code in codes)]
    return (f"The targets answered {', '.join(codes)} to the health check. " + "; ".join(clauses) +
            ". Request the path on a task yourself (curl -i http://<private IP>:<host port><path>) to see the answer.")


def _circuit_breaker(evidence, found):
    for deployment in [d for service in evidence["services"] for d in service["deployments"]]:
        if deployment["rollout_state"] == "FAILED":
            found.add("circuit-breaker-rollback",
                      f"deployment {deployment['id']} ({deployment['task_definition'].rsplit('/', 1)[-1]}) FAILED "
                      f"after {deployment['failed_tasks']} failed task(s): {deployment['rollout_reason']}")
    for event in _service_events(evidence):
        if "rolling back" in event["message"] or "circuit breaker" in event["message"].lower():
            found.add("circuit-breaker-rollback", f"service event {event['at']}: {event['message']}")
            break
    for failure in evidence["failures"]:
        if "circuit breaker" in (failure["reason"] or "").lower():
            found.add("circuit-breaker-rollback", f"stack: {failure['resource']} {failure['status']}: {failure['reason']}")


def _rollback_failed(evidence, found):
    """In a *ROLLBACK_FAILED stack the operation's last failure is the rollback's (it comes after every failure of
    the update it undoes)."""
    failures = evidence["failures"]
    if evidence["stack"]["status"].endswith("ROLLBACK_FAILED") and len(failures) > 1:
        failure = failures[-1]
        found.add("rollback-failed", f"{failure['resource']} ({failure['type']}) {failure['status']}: {failure['reason']}")


def _service_short(evidence, found):
    """A service below its desired count with no known cause: its latest events, raw."""
    if found.items:
        return
    for service in evidence["services"]:
        if service["running"] >= service["desired"]:
            continue
        found.add("unrecognised-task-stop", f"service {service['name']}: {service['running']} of {service['desired']} "
                                            f"task(s) running", title="The service runs fewer tasks than desired")
        for event in current_events(service, evidence)[:3]:
            found.add("unrecognised-task-stop", f"service event {event['at']}: {event['message']}")


def _service_events(evidence):
    """Every service's current events (history left out), each service's newest first."""
    return [event for service in evidence["services"] for event in current_events(service, evidence)]


# A service has recovered from what its events said before ECS reported it steady: "has reached a steady state"
# means it runs its desired count of healthy tasks (SERVICE_STEADY_STATE, "Amazon ECS service action events"), and
# "deployment completed" is sent once a deployment reaches it ("Amazon ECS service deployment state change
# events"). ECS lists a service's events newest first, so every event after the first of these is history. The
# deployment's updatedAt is not used: it is when the deployment last changed (its counts too), not when it completed.
RECOVERED = ("has reached a steady state", "deployment completed")


def recovered_at(service) -> str | None:
    """When the service last reported itself steady, among the events read; None if it did not."""
    return next((e["at"] for e in service["events"] if any(marker in e["message"] for marker in RECOVERED)), None)


def current_events(service, evidence) -> list[dict]:
    """The service's events that describe now, newest first: its latest recovery and those since. While the stack's
    operation failed, also every event since that operation started: a deploy the circuit breaker rolled back
    ends steady, and its failures still explain why the deploy failed."""
    events = service["events"]
    latest = next((i for i, e in enumerate(events) if any(marker in e["message"] for marker in RECOVERED)),
                  len(events))
    since = _failed_operation_start(evidence)
    return [e for i, e in enumerate(events) if i <= latest or (since and _time(e["at"]) >= since)]


def _task_is_history(task, evidence) -> bool:
    """A service's task that stopped before the service last reported itself steady (outside a failed operation)."""
    service = next((s for s in evidence["services"] if task.get("group") == f"service:{s['name']}"), None)
    recovered, stopped = service and recovered_at(service), _time(task.get("stopped_at"))
    if not recovered or stopped is None or stopped >= _time(recovered):
        return False
    since = _failed_operation_start(evidence)
    return not (since and stopped >= since)


def _failed_operation_start(evidence):
    stack = evidence["stack"]
    return _time(stack.get("operation_started")) if stack["status"].endswith(FAILED_STACK) else None


def _time(text):
    """An evidence time as an aware datetime (UTC when it carries no zone), None when there is none."""
    try:
        found = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo else found.replace(tzinfo=datetime.timezone.utc)
