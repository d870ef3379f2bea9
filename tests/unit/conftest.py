"""Fixtures for the unit tests: cfn-lint's rules loaded once; for the task runner, moto ECS, a local CloudFormation
response endpoint, the handler."""
import functools
import gc
import json
import socket
import threading
import uuid
from unittest import mock

import boto3
import cfnlint.helpers
import pytest
from moto.moto_api import state_manager

from tests.support import worker_summary
from tests.support.cloudformation import RESPONSE_PATH, SIGNATURE, STACK_ID, CloudFormationEndpoint
from tests.support.lambda_runtime import LambdaContext, load_handler, load_handler_with_shorter_response_settings
from tests.support.moto_ecs import REGION, EcsCluster, MotoAccount, migrate_task_definition
from tests.support.template import DRAINER

TIMINGS = []
HANDLER_FIXTURES = {"task_runner", "fast_response_task_runner", "capacity_drainer"}


def pytest_collection_modifyitems(config, items):
    """Coverage measures the handler alone: a test that never loads it runs without coverage's tracer,
    which slows cfn-lint's rules by a third and can add nothing to the handler's coverage.

    Not with --no-cov: pytest-cov 7.1 then has no controller to pause and every marked test errors."""
    if config.getoption("no_cov", default=False):
        return
    for item in items:
        if not HANDLER_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.no_cover)


def pytest_sessionfinish(session):
    worker_summary.send(session.config, timings=TIMINGS)
    # What moto_account froze is never freed at exit, and nanobind modules (novasvg, under mermaidx) print every
    # object of theirs among it as a leak: free it again.
    gc.unfreeze()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    TIMINGS.extend(worker_summary.received(node, "timings"))


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "task-runner timings")
        for line in TIMINGS:
            terminalreporter.write_line(line)


@pytest.fixture
def timings():
    """Lines printed in the terminal summary (speed is reported, never asserted)."""
    return TIMINGS


@pytest.fixture(scope="session", autouse=True)
def cfn_lint_rules_loaded_once():
    """cfn-lint's api.lint() imports and builds every rule of each rules directory (its ~300 built-in rules
    and their schemas take about a second) on every call. cfn-lint's own runner reuses rule objects from
    one template to the next, configuring and initializing them again for each, so the tests' lint()
    calls share them too."""
    with mock.patch.object(cfnlint.helpers, "load_plugins", functools.lru_cache(maxsize=None)(
            cfnlint.helpers.load_plugins)):
        yield


@pytest.fixture(scope="session")
def task_runner():
    """lambda/task_runner.py as CloudFormation deploys it."""
    return load_handler()


@pytest.fixture(scope="session")
def capacity_drainer():
    """lambda/capacity_drainer.py as CloudFormation deploys it."""
    return load_handler("capacity_drainer", DRAINER)


@pytest.fixture
def fast_response_task_runner():
    """The handler with its response timeout and backoff RESPONSE_SCALE times shorter (see the loader)."""
    return load_handler_with_shorter_response_settings()


@pytest.fixture(scope="session")
def moto_account():
    """moto's backends and botocore's service models, built once per session (see MotoAccount)."""
    account = MotoAccount()
    with account.active() as session:
        account.instance_identity_document(session)
    # What was built so far stays for the session (moto's EC2 model above all): keep the garbage
    # collector's full scans from walking it again and again.
    gc.collect()
    gc.freeze()
    return account


@pytest.fixture
def aws(moto_account, monkeypatch):
    """moto for every AWS call, ECS empty; the handler's boto3.client() uses the session yielded here."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with moto_account.active() as session:
        state_manager.set_transition("ecs::task", {"progression": "immediate"})
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
        yield session
        state_manager.unset_transition("ecs::task")


@pytest.fixture
def keep_tasks_running(aws):
    """Tasks stay RUNNING however often they are described."""
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})


@pytest.fixture
def cluster(aws, moto_account):
    return EcsCluster(aws, moto_account.instance_identity_document(aws))


@pytest.fixture
def migrate_arn(cluster):
    return cluster.register(**migrate_task_definition())


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return "127.0.0.1", 0


@pytest.fixture
def cloudformation(httpserver):
    return CloudFormationEndpoint(httpserver)


@pytest.fixture
def event(cloudformation, cluster, migrate_arn):
    """A custom-resource event for MigrateTask as CloudFormation sends it; override any field."""

    def make(request_type="Create", **fields):
        body = {
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:todobackend-ecsTasks",
            "ResponseURL": cloudformation.url,
            "StackId": STACK_ID,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "MigrateTask",
            "ResourceType": "AWS::CloudFormation::CustomResource",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:todobackend-ecsTasks",
                "Cluster": cluster.name,
                "TaskDefinition": migrate_arn,
            },
        }
        return {**body, **fields}

    return make


@pytest.fixture
def invoke(task_runner, cloudformation):
    """Run the handler once; return the one response CloudFormation received from it."""

    def run(event, context=None, **kwargs):
        before = len(cloudformation.requests)
        task_runner.handler(event, context or LambdaContext(300), **kwargs)
        sent = cloudformation.bodies()[before:]
        assert len(sent) == 1, f"expected exactly one response, got {len(sent)}"
        return sent[0]

    return run


@pytest.fixture
def logged(capsys):
    """The handler's JSON log lines so far, as dicts."""

    def read():
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    return read


@pytest.fixture
def dropping_server():
    """A 127.0.0.1 server that reads each request and hangs up without answering; counts connections."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)
            connection.recv(65536)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    host, port = listener.getsockname()
    yield f"http://{host}:{port}{RESPONSE_PATH}?X-Amz-Signature={SIGNATURE}", accepted
    listener.close()


@pytest.fixture
def silent_server():
    """A 127.0.0.1 URL whose connections are accepted (the kernel's backlog) and never answered."""
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()
    yield f"http://{host}:{port}{RESPONSE_PATH}?X-Amz-Signature={SIGNATURE}"
    listener.close()
