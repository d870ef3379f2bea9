"""tools/doctor.py's command line: exit codes, and the one clear line when the stack cannot be read."""
import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

from tests.support import fake_aws as aws
from tools import doctor
from tools.diagnosis import readers

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def world(monkeypatch):
    """main() reading the fake world through the default boto3.Session it creates."""
    world = aws.World()
    monkeypatch.setattr(doctor.boto3, "Session", lambda region_name=None: world.session())
    return world


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_json_format_and_exit_1_for_problems(world, capsys):
    world.targets = [aws.target("i-0aaa1111bbbb2222c", 32768, "unhealthy", "Target.Timeout", "Request timed out")]
    assert doctor.main(["--stack-name", aws.STACK, "--format", "json"]) == doctor.PROBLEMS
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdict"].startswith("PROBLEM: Health checks time out [")
    [problem] = printed["problems"]
    assert problem["cause"] == "health-check-timeout" and "target-group-health-checks.html" in problem["doc"]
    assert printed["api_calls"] == len(world.calls)


def test_a_missing_stack_is_one_line_on_stderr_and_exit_2(world, capsys):
    assert doctor.main(["--stack-name", "no-such-stack"]) == doctor.UNREADABLE
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "doctor: stack 'no-such-stack' in us-east-1 does not exist (wrong --region or stack name?)\n"


def test_access_denied_says_what_the_doctor_needs(world, capsys, monkeypatch):
    def denied(**_):
        raise aws.FakeError("AccessDenied", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
                            "cloudformation:DescribeStacks", 403)

    monkeypatch.setattr(world, "DescribeStacks", denied)
    assert doctor.main(["--stack-name", aws.STACK]) == doctor.UNREADABLE
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"doctor: access denied reading stack '{aws.STACK}' in us-east-1: User: ")
    assert "cloudformation:Describe*" in line


def test_no_credentials_is_one_line_and_exit_2(monkeypatch, capsys, closed_port):
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    no_config = str(ROOT / "tests/no-aws-config")
    monkeypatch.setenv("AWS_CONFIG_FILE", no_config)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", no_config)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata look-up
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port}")  # nothing may leave this machine
    assert doctor.main(["--stack-name", aws.STACK, "--region", "eu-west-1"]) == doctor.UNREADABLE
    assert capsys.readouterr().err == (f"doctor: no AWS credentials to read stack '{aws.STACK}' in eu-west-1: "
                                       "configure a profile or AWS_* variables\n")


def test_no_region_is_one_line_and_exit_2(monkeypatch, capsys):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert doctor.main(["--stack-name", aws.STACK]) == doctor.UNREADABLE
    assert capsys.readouterr().err.startswith("doctor: no AWS region: pass --region")


def test_an_unknown_profile_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert doctor.main(["--stack-name", aws.STACK]) == doctor.UNREADABLE
    assert capsys.readouterr().err == ("doctor: cannot use the AWS configuration: The config profile "
                                       "(no-such-profile) could not be found\n")


def test_an_unreachable_endpoint_is_one_line_without_traceback(closed_port):
    """The real command line, pointed by AWS_ENDPOINT_URL at a closed port on this machine."""
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}", "AWS_MAX_ATTEMPTS": "1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    run = subprocess.run([sys.executable, "tools/doctor.py", "--stack-name", aws.STACK, "--region", "us-east-1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == doctor.UNREADABLE
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line == (f"doctor: cannot reach CloudFormation for stack '{aws.STACK}' in us-east-1: Could not connect to "
                    f"the endpoint URL: \"http://127.0.0.1:{closed_port}/\"")


def test_the_migrate_task_marker_is_the_task_runners(task_runner):
    event = {"StackId": aws.STACK_ID, "LogicalResourceId": "MigrateTask", "RequestId": "any-request"}
    assert readers.started_by(aws.STACK_ID, "MigrateTask") == task_runner.RequestMarks(event).started_by
    assert aws.MIGRATE_STARTED_BY == task_runner.RequestMarks(event).started_by
