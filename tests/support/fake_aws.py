"""A deployed todobackend stack as AWS would describe it, answering the doctor's read calls offline.

Like botocore's Stubber it answers inside the client (a before-call hook, nothing leaves the process),
the client validates each request against the service model, and every canned response is validated
against the operation's output shape (botocore.validate, as Stubber does). Unlike Stubber it answers by
operation and parameters, not by call order, because the doctor reads in parallel. `World` holds the
state; the scenario functions in tests/unit/test_doctor*.py change it the way a broken deploy would.
"""
import copy
import datetime
import hashlib
import threading
import time

from boto3.session import Session
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

ACCOUNT, REGION = "123456789012", "us-east-1"
STACK = "todobackend-dev"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/6c7e0a90-0000-11f0-9b1c-0a1b2c3d4e5f"
CLUSTER = f"{STACK}-ApplicationCluster-AbC123dEf456"
SERVICE_NAME = f"{STACK}-ApplicationService-XyZ789"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE_NAME}"
TARGET_GROUP = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/todob-Appli-1A2B3C/0123456789abcdef"
ASG = f"{STACK}-ApplicationAutoscaling-QwErTy"
LOG_GROUP = f"/{STACK}/ecs/todobackend"
APP_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/todobackend:3"
MIGRATE_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/todobackend-migrate:3"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/docker-in-aws/todobackend:1.0.0"
T0 = datetime.datetime(2026, 11, 28, 20, 0, tzinfo=datetime.timezone.utc)

# Values that must never reach the report: an environment value (task definitions and task overrides),
# a pre-signed response URL's signature, a database password and an AWS secret key in log lines.
ENV_SECRET = "env-secret-value-7f3a9c"
URL_SIGNATURE = "5ecretS1gnature0f0123456789abcdef"
DB_PASSWORD = "Pa55w0rdFromLog"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEq1"
# What lambda/task_runner.py's RequestMarks puts on MigrateTask's tasks (checked against the handler).
MIGRATE_STARTED_BY = "cfn-" + hashlib.sha256(f"{STACK_ID}|MigrateTask".encode()).hexdigest()[:32]
SECRETS = (ENV_SECRET, URL_SIGNATURE, DB_PASSWORD, SECRET_KEY)
LEAKY_LOG_LINES = [
    f"connecting to mysql://todobackend:{DB_PASSWORD}@todobackend.abc.us-east-1.rds.amazonaws.com:3306/todobackend",
    f"aws_secret_access_key = {SECRET_KEY}",
    "response sent to https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/x"
    f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={URL_SIGNATURE}",
]


_LOADER = botocore.loaders.create_loader()


def task_arn(task_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{task_id}"


def task_id(number: int) -> str:
    return f"{number:032x}"


class FakeError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class World:
    """The stack's state in API shapes; `session()` gives a boto3 session whose clients read it."""

    def __init__(self, latency=0.0, services=None):
        self.latency = latency            # seconds each call takes (benchmarks only; tests keep 0)
        self.services = services          # endpoint prefixes answered here (None: all); others go on, e.g. to moto
        self.calls, self._lock = [], threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.stack = {"StackName": STACK, "StackId": STACK_ID, "CreationTime": T0, "StackStatus": "UPDATE_COMPLETE"}
        self.events = []                  # oldest first here; answered newest first like CloudFormation
        self.resources = {
            "ApplicationCluster": ("AWS::ECS::Cluster", CLUSTER),
            "ApplicationService": ("AWS::ECS::Service", SERVICE_ARN),
            "ApplicationServiceTargetGroup": ("AWS::ElasticLoadBalancingV2::TargetGroup", TARGET_GROUP),
            "ApplicationAutoscaling": ("AWS::AutoScaling::AutoScalingGroup", ASG),
            "ApplicationLogGroup": ("AWS::Logs::LogGroup", LOG_GROUP),
            "MigrateTask": ("AWS::CloudFormation::CustomResource", "todobackend-migrate-resource"),
        }
        self.resource_status = {}
        self.definitions = {APP_DEFINITION: app_definition(), MIGRATE_DEFINITION: migrate_definition()}
        self.tasks = {}
        self.service = service()
        self.other_services = []          # more services of another template, each also in self.resources
        self.instances = [container_instance("i-0aaa1111bbbb2222c")]
        self.targets = [target("i-0aaa1111bbbb2222c", 32768, "healthy")]
        self.asg_instances = [asg_instance("i-0aaa1111bbbb2222c")]
        self.activities = [activity("Successful", "Launching a new EC2 instance: i-0aaa1111bbbb2222c")]
        self.logs = {}
        self.operation("UPDATE", [("MigrateTask", "AWS::CloudFormation::CustomResource", "UPDATE_COMPLETE", None)],
                       "UPDATE_COMPLETE")
        self.migrate_arn = self.add_task(1, MIGRATE_DEFINITION, [("migrate", 0, None)], started_by=MIGRATE_STARTED_BY,
                                         group="cfn-request:0123456789abcdef0123456789abcdef",
                                         stop_code="EssentialContainerExited",
                                         stopped_reason="Essential container in task exited",
                                         log_lines=["Operations to perform:", "  Apply all migrations: todo",
                                                    *LEAKY_LOG_LINES, "No migrations to apply."])

    # --- building a scenario --------------------------------------------------------------------------

    def operation(self, kind, resource_events, final_status, status_reason=None):
        """A new stack operation: its start, the resources' events (in order), and the stack's final status."""
        start = T0 + datetime.timedelta(minutes=len(self.events))
        self.events.append(event(STACK, "AWS::CloudFormation::Stack", f"{kind}_IN_PROGRESS", "User Initiated", start))
        for offset, (logical, kind_of, status, reason) in enumerate(resource_events, 1):
            self.events.append(event(logical, kind_of, status, reason, start + datetime.timedelta(seconds=offset)))
            self.resource_status[logical] = status
        self.events.append(event(STACK, "AWS::CloudFormation::Stack", final_status, status_reason,
                                 start + datetime.timedelta(seconds=len(resource_events) + 1)))
        self.stack["StackStatus"] = final_status
        if status_reason:
            self.stack["StackStatusReason"] = status_reason

    def add_task(self, number, definition, containers, started_by=None, group=None, stop_code=None,
                 stopped_reason=None, last_status="STOPPED", log_lines=None):
        """A task; containers are (name, exit code or None, reason or None); log lines go to each container that ran."""
        arn = task_arn(task_id(number))
        self.tasks[arn] = {
            "taskArn": arn, "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "taskDefinitionArn": definition, "lastStatus": last_status, "desiredStatus": "STOPPED"
            if last_status == "STOPPED" else "RUNNING", "startedBy": started_by or "ecs-svc/1234567890123456789",
            "group": group or f"service:{SERVICE_NAME}", "createdAt": T0 + datetime.timedelta(seconds=number),
            "stoppedAt": T0 + datetime.timedelta(seconds=number + 30), "stopCode": stop_code,
            "stoppedReason": stopped_reason,
            "overrides": {"containerOverrides": [{"name": name, "environment": [
                {"name": "SECRET_FROM_OVERRIDE", "value": ENV_SECRET}]} for name, _, _ in containers]},
            "containers": [{"name": name, "exitCode": code, "reason": reason, "lastStatus": "STOPPED",
                            "taskArn": arn} for name, code, reason in containers],
        }
        if last_status != "STOPPED":
            del self.tasks[arn]["stoppedAt"], self.tasks[arn]["stopCode"]
        for key in ("stopCode", "stoppedReason"):
            if self.tasks[arn].get(key) is None:
                self.tasks[arn].pop(key, None)
        for container in self.tasks[arn]["containers"]:
            for key in ("exitCode", "reason"):
                if container[key] is None:
                    del container[key]
        prefix = "docker"
        for name, code, _ in containers:
            if code is not None and log_lines is not None:
                self.logs[(LOG_GROUP, f"{prefix}/{name}/{task_id(number)}")] = list(log_lines)
        return arn

    def service_event(self, message, minutes=0):
        """A service event, newest first like ECS lists them."""
        self.service["events"].insert(0, {"id": f"e{len(self.service['events'])}", "message": message,
                                          "createdAt": T0 + datetime.timedelta(minutes=minutes)})

    # --- the fake AWS -----------------------------------------------------------------------------------

    def session(self):
        core = botocore.session.get_session()
        core.register_component("data_loader", _LOADER)  # service models parsed once per test run, not per client
        session = Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                aws_session_token="testing", region_name=REGION, botocore_session=core)
        session.events.register("before-parameter-build", self._keep_params)
        session.events.register("before-call", self._answer)
        return session

    @staticmethod
    def _keep_params(params, context, **_):
        context["fake_params"] = copy.deepcopy(params)

    def _answer(self, model, context, **_):
        if self.services is not None and model.service_model.endpoint_prefix not in self.services:
            return None
        params = context["fake_params"]
        with self._lock:
            self.calls.append((model.name, params))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            try:
                body, status = getattr(self, model.name)(**params), 200
            except FakeError as error:
                body, status = {"Error": {"Code": error.code, "Message": error.message}}, error.status
            else:
                validate_parameters(body, model.output_shape)
            body["ResponseMetadata"] = {"HTTPStatusCode": status}
            return AWSResponse("https://fake.invalid", status, {}, None), body
        finally:
            with self._lock:
                self.in_flight -= 1

    # CloudFormation

    def DescribeStacks(self, StackName):
        if StackName not in (STACK, STACK_ID):
            raise FakeError("ValidationError", f"Stack with id {StackName} does not exist")
        return {"Stacks": [copy.deepcopy(self.stack)]}

    def DescribeStackEvents(self, StackName, NextToken=None):
        newest_first = self.events[::-1]
        start = int(NextToken or 0)
        page = newest_first[start:start + 100]
        more = {"NextToken": str(start + 100)} if start + 100 < len(newest_first) else {}
        return {"StackEvents": page, **more}

    def ListStackResources(self, StackName, NextToken=None):
        return {"StackResourceSummaries": [
            {"LogicalResourceId": logical, "PhysicalResourceId": physical, "ResourceType": kind,
             "LastUpdatedTimestamp": T0, "ResourceStatus": self.resource_status.get(logical, "CREATE_COMPLETE")}
            for logical, (kind, physical) in self.resources.items()]}

    # ECS

    def DescribeServices(self, cluster, services):
        assert len(services) <= 10, "describe_services takes at most 10 services"
        return {"services": [copy.deepcopy(found) for found in [self.service, *self.other_services]
                             if found["serviceArn"] in services], "failures": []}

    def ListTasks(self, cluster, desiredStatus="RUNNING", startedBy=None, nextToken=None, maxResults=100):
        """Pages of at most 100 like ECS, oldest tasks first: the newest may well be on the last page."""
        arns = [arn for arn, task in self.tasks.items() if task["desiredStatus"] == desiredStatus
                and (startedBy is None or task["startedBy"] == startedBy)]
        start = int(nextToken or 0)
        more = {"nextToken": str(start + maxResults)} if start + maxResults < len(arns) else {}
        return {"taskArns": arns[start:start + maxResults], **more}

    def DescribeTasks(self, cluster, tasks):
        assert len(tasks) <= 100, "describe_tasks takes at most 100 tasks"
        return {"tasks": [copy.deepcopy(self.tasks[arn]) for arn in tasks if arn in self.tasks],
                "failures": [{"arn": arn, "reason": "MISSING"} for arn in tasks if arn not in self.tasks]}

    def DescribeTaskDefinition(self, taskDefinition):
        return {"taskDefinition": copy.deepcopy(self.definitions[taskDefinition])}

    def ListContainerInstances(self, cluster):
        return {"containerInstanceArns": [i["containerInstanceArn"] for i in self.instances]}

    def DescribeContainerInstances(self, cluster, containerInstances):
        return {"containerInstances": [copy.deepcopy(i) for i in self.instances
                                       if i["containerInstanceArn"] in containerInstances], "failures": []}

    # ELB, Auto Scaling, Logs

    def DescribeTargetHealth(self, TargetGroupArn):
        return {"TargetHealthDescriptions": copy.deepcopy(self.targets)}

    def DescribeAutoScalingGroups(self, AutoScalingGroupNames):
        return {"AutoScalingGroups": [{
            "AutoScalingGroupName": ASG, "MinSize": 0, "MaxSize": 4, "DesiredCapacity": 1, "DefaultCooldown": 300,
            "AvailabilityZones": ["us-east-1a", "us-east-1b"], "HealthCheckType": "EC2", "CreatedTime": T0,
            "Instances": copy.deepcopy(self.asg_instances)}]}

    def DescribeScalingActivities(self, AutoScalingGroupName, MaxRecords=100):
        return {"Activities": copy.deepcopy(self.activities[:MaxRecords])}

    def GetLogEvents(self, logGroupName, logStreamName, limit=10000, startFromHead=False):
        if (logGroupName, logStreamName) not in self.logs:
            raise FakeError("ResourceNotFoundException", "The specified log stream does not exist.")
        lines = self.logs[(logGroupName, logStreamName)][-limit:]
        return {"events": [{"timestamp": 1, "message": line, "ingestionTime": 2} for line in lines]}


def event(logical, kind, status, reason, when):
    found = {"StackId": STACK_ID, "EventId": f"{logical}-{status}-{when.timestamp()}", "StackName": STACK,
             "LogicalResourceId": logical, "ResourceType": kind, "Timestamp": when, "ResourceStatus": status}
    return {**found, "ResourceStatusReason": reason} if reason else found


def container(name, memory_reservation, cpu, secrets=True):
    definition = {"name": name, "image": IMAGE, "cpu": cpu, "memoryReservation": memory_reservation,
                  "essential": True, "environment": [{"name": "DJANGO_SETTINGS_MODULE", "value": "settings_release"},
                                                     {"name": "LEAKED_IN_ENV", "value": ENV_SECRET}],
                  "logConfiguration": {"logDriver": "awslogs", "options": {
                      "awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "docker"}}}
    if secrets:
        definition["secrets"] = [{"name": "MYSQL_PASSWORD",
                                  "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf:password::"}]
    return definition


def app_definition():
    return {"taskDefinitionArn": APP_DEFINITION, "family": "todobackend", "revision": 3,
            "containerDefinitions": [container("todobackend", 395, 245), container("collectstatic", 6, 5, False)]}


def migrate_definition():
    return {"taskDefinitionArn": MIGRATE_DEFINITION, "family": "todobackend-migrate", "revision": 3,
            "containerDefinitions": [container("migrate", 6, 5)]}


def deployment(number, status, rollout_state, task_definition=APP_DEFINITION, running=1, failed=0, reason=None):
    found = {"id": f"ecs-svc/{number:019d}", "status": status, "taskDefinition": task_definition, "desiredCount": 1,
             "runningCount": running, "pendingCount": 0, "failedTasks": failed, "rolloutState": rollout_state,
             "createdAt": T0, "updatedAt": T0}
    return {**found, "rolloutStateReason": reason} if reason else found


def service():
    return {"serviceArn": SERVICE_ARN, "serviceName": SERVICE_NAME, "status": "ACTIVE", "desiredCount": 1,
            "runningCount": 1, "pendingCount": 0, "taskDefinition": APP_DEFINITION,
            "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100,
                                        "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
            "deployments": [deployment(1, "PRIMARY", "COMPLETED")],
            "events": [{"id": "e0", "createdAt": T0, "message": f"(service {SERVICE_NAME}) has reached a steady state."}]}


def container_instance(ec2_id, free_memory=1500, free_cpu=1800, connected=True):
    return {"containerInstanceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/{CLUSTER}/{ec2_id[2:]}",
            "ec2InstanceId": ec2_id, "status": "ACTIVE", "agentConnected": connected, "runningTasksCount": 1,
            "remainingResources": [{"name": "MEMORY", "type": "INTEGER", "integerValue": free_memory},
                                   {"name": "CPU", "type": "INTEGER", "integerValue": free_cpu}],
            "registeredResources": [{"name": "MEMORY", "type": "INTEGER", "integerValue": 1900},
                                    {"name": "CPU", "type": "INTEGER", "integerValue": 2048}]}


def target(ec2_id, port, state, reason=None, description=None):
    health = {"State": state}
    if reason:
        health |= {"Reason": reason, "Description": description}
    return {"Target": {"Id": ec2_id, "Port": port}, "HealthCheckPort": str(port), "TargetHealth": health}


def asg_instance(ec2_id, state="InService", health="Healthy"):
    return {"InstanceId": ec2_id, "AvailabilityZone": "us-east-1a", "LifecycleState": state, "HealthStatus": health,
            "ProtectedFromScaleIn": False}


def activity(status, description, message=None):
    found = {"ActivityId": f"a-{len(description)}", "AutoScalingGroupName": ASG, "Description": description,
             "Cause": "At 2026-11-28T20:00:00Z a user request created an AutoScalingGroup.", "StartTime": T0,
             "StatusCode": status}
    return {**found, "StatusMessage": message} if message else found
