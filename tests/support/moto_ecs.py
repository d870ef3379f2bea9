"""An ECS cluster on moto for the task-runner tests, and the one place that fills moto's gaps."""
import json

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.utils import generate_instance_identity_document
from moto.ecs.models import Container, ecs_backends

from tests.support.intrinsics import api_shape, resolve
from tests.support.template import resource

REGION = "us-east-1"
CLUSTER = "todobackend-cluster"
EXAMPLE_AMI_ID = "ami-12c6146b"  # in moto's bundled image list; describe_images would take seconds
# What CloudFormation would put into MigrateTaskDefinition; the container shape itself comes from stack.yml.
MIGRATE_DEFINITION_NAMES = {
    "AWS::AccountId": DEFAULT_ACCOUNT_ID,
    "AWS::Region": REGION,
    "ApplicationImageRepository": "docker-in-aws/todobackend",
    "ApplicationImageTag": "1.0.0",
    "ApplicationTaskExecutionRole.Arn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/todobackend-execution",
    "ApplicationDatabase.Endpoint.Address": "todobackend.abc123.us-east-1.rds.amazonaws.com",
    "DatabaseSecret": f"arn:aws:secretsmanager:{REGION}:{DEFAULT_ACCOUNT_ID}:secret:db-AbCdEf",
    "ApplicationSecretKey": f"arn:aws:secretsmanager:{REGION}:{DEFAULT_ACCOUNT_ID}:secret:key-AbCdEf",
    "ApplicationLogGroup": "todobackend-application",
}
ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"


def migrate_task_definition() -> dict:
    """stack.yml's MigrateTaskDefinition as register_task_definition arguments.

    Without requiresCompatibilities: with EC2 in it moto demands a hard `memory` limit, which ECS does not.
    """
    properties = resource("MigrateTaskDefinition")["Properties"]
    definition = api_shape(resolve(properties, MIGRATE_DEFINITION_NAMES))
    del definition["requiresCompatibilities"]
    return definition


class EcsCluster:
    """A cluster with one registered container instance, in the moto account the session talks to."""

    def __init__(self, session):
        self.name = CLUSTER
        self.client = session.client("ecs")
        self.client.create_cluster(clusterName=CLUSTER)
        self.container_instance_arn = self._register_instance(session)
        self.gaps = MotoGaps(session)

    def _register_instance(self, session):
        ec2 = session.resource("ec2")
        [instance] = ec2.create_instances(ImageId=EXAMPLE_AMI_ID, MinCount=1, MaxCount=1)
        document = json.dumps(generate_instance_identity_document(instance))
        registered = self.client.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document)
        return registered["containerInstance"]["containerInstanceArn"]

    def register(self, **definition) -> str:
        return self.client.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]

    def task_arns(self, started_by=None) -> list:
        filters = {"startedBy": started_by} if started_by else {}
        return self.client.list_tasks(cluster=CLUSTER, **filters)["taskArns"]

    def task(self, task_arn):
        """moto's model of a task (reading it through the API would advance its state)."""
        return _backend().tasks[CLUSTER][task_arn]

    def forget(self, task_arn):
        """What ECS does with a task some time after it stopped."""
        del _backend().tasks[CLUSTER][task_arn]


class MotoGaps:
    """What moto 5.2.5 does not model, set the way ECS would report it.

    moto gives a task only its first container, always with exitCode 0, never a container or stopped
    reason, and run_task never lists failures. A botocore after-call hook on RunTask, registered on the
    session the handler's client comes from, rewrites moto's task model right after moto created it
    (one container per definition, with the exit codes and reasons set here) or, when moto placed
    nothing, adds the failures ECS would have listed.
    """

    def __init__(self, session):
        self.exit_codes, self.reasons = {}, {}
        self.stopped_reason = ESSENTIAL_CONTAINER_EXITED
        self.placement_failures = []
        session.events.register("after-call.ecs.RunTask", self._after_run_task)

    def containers_end(self, exit_codes=None, reasons=None, stopped_reason=ESSENTIAL_CONTAINER_EXITED):
        """Exit codes by container name (None: no exit code; unnamed containers exit 0)."""
        self.exit_codes, self.reasons = exit_codes or {}, reasons or {}
        self.stopped_reason = stopped_reason

    def placement_fails(self, *failures):
        self.placement_failures = list(failures)

    def _after_run_task(self, parsed, **_):
        if "Error" in parsed:
            return
        if not parsed["tasks"]:
            parsed["failures"].extend(self.placement_failures)
        for started in parsed["tasks"]:
            task = _backend().tasks[CLUSTER][started["taskArn"]]
            definition = _backend().describe_task_definition(task.task_definition_arn)
            task.containers = [self._container(definition, spec) for spec in definition.container_definitions]
            task.stopped_reason = self.stopped_reason

    def _container(self, definition, spec):
        container = Container(definition)
        container.name, container.image = spec["name"], spec.get("image")
        container.exitCode = self.exit_codes.get(spec["name"], 0)
        container.reason = self.reasons.get(spec["name"])
        return container


def _backend():
    return ecs_backends[DEFAULT_ACCOUNT_ID][REGION]
