"""moto for the task-runner tests: one account per session, ECS emptied for each test, and the one place that
fills moto's gaps."""
import contextlib
import json

import boto3
import botocore.session
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.exceptions import InvalidInstanceIdError
from moto.ec2.models import ec2_backends
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


class MotoAccount:
    """moto's AWS account for a whole test session, patched into botocore only while a test uses it.

    Building moto's backends and loading botocore's service models take a second or more (EC2's
    alone about a second), so both happen once: the backends' data stays between tests, and every
    session shares one model loader. What a test can see is still its own: ECS is emptied before
    each test, and each test gets a new boto3 session, so event hooks a test registers end with it.
    """

    def __init__(self):
        self._mock = mock_aws()
        self._loader = botocore.session.get_session().get_component("data_loader")
        self._instance_id = self._instance_document = None

    @contextlib.contextmanager
    def active(self):
        """moto patched in, ECS empty; yields a new boto3 session on the shared models."""
        self._mock.start(reset=False)
        try:
            ecs_backends[DEFAULT_ACCOUNT_ID][REGION].reset()
            yield self.session()
        finally:
            self._mock.stop(remove_data=False)

    def session(self) -> boto3.Session:
        core = botocore.session.get_session()
        core.register_component("data_loader", self._loader)
        return boto3.Session(botocore_session=core, region_name=REGION)

    def instance_identity_document(self, session) -> str:
        """An EC2 instance's identity document, for register_container_instance; launched once, and
        again only if another mock_aws reset moto's data in between."""
        if not self._instance_exists():
            [instance] = session.resource("ec2").create_instances(ImageId=EXAMPLE_AMI_ID, MinCount=1, MaxCount=1)
            self._instance_id = instance.id
            self._instance_document = json.dumps(generate_instance_identity_document(instance))
        return self._instance_document

    def _instance_exists(self) -> bool:
        try:
            return bool(self._instance_id) and bool(ec2_backends[DEFAULT_ACCOUNT_ID][REGION].get_instance(
                self._instance_id))
        except InvalidInstanceIdError:
            return False


class EcsCluster:
    """A cluster with one registered container instance, in the moto account the session talks to."""

    def __init__(self, session, instance_identity_document):
        self.name = CLUSTER
        self.client = session.client("ecs")
        self.client.create_cluster(clusterName=CLUSTER)
        registered = self.client.register_container_instance(
            cluster=CLUSTER, instanceIdentityDocument=instance_identity_document)
        self.container_instance_arn = registered["containerInstance"]["containerInstanceArn"]
        self.gaps = MotoGaps(session)

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
