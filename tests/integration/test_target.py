"""Target selection: every way a user can misconfigure it gets a message saying what to fix.

CloudFormation is stubbed (botocore's Stubber) or pointed at a closed port on 127.0.0.1: no test
here can reach AWS.
"""
import os
import pathlib
import socket

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from tests.integration.smoke.target import Target, TargetError, choose, from_stack, from_url

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUTS = {"PublicURL": "http://todobackend-1.us-east-1.elb.amazonaws.com",
           "ClusterName": "todobackend-ApplicationCluster-x", "ServiceName": "todobackend-service"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def no_aws_endpoints(monkeypatch):
    """Every client a test here builds, even through boto3's default session, talks to a closed local port.

    boto3 keeps its default session (and the configuration it read) across tests, so a fresh one is
    forced to read the variables set here.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def test_the_default_session_is_pinned_to_a_closed_local_port():
    endpoint = boto3.client("cloudformation", region_name="us-east-1").meta.endpoint_url
    assert endpoint == os.environ["AWS_ENDPOINT_URL"] and endpoint.startswith("http://127.0.0.1:")


def local_cloudformation():
    """A client whose endpoint is a closed local port, so nothing leaves the machine."""
    # A fresh session: boto3's default one caches credentials found by earlier tests.
    return boto3.Session().client("cloudformation", region_name="us-east-1",
                        endpoint_url=f"http://127.0.0.1:{closed_port()}",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=1))


def stubbed(response=None, error=None):
    client = local_cloudformation()
    stubber = Stubber(client)
    if error:
        stubber.add_client_error("describe_stacks", service_error_code=error[0], service_message=error[1],
                                 http_status_code=400)
    else:
        stubber.add_response("describe_stacks", response, {"StackName": "todobackend"})
    stubber.activate()
    return client


def stack(outputs, status="CREATE_COMPLETE"):
    return {"Stacks": [{"StackName": "todobackend", "StackStatus": status,
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}


def test_stack_outputs_make_a_target_the_active_tests_can_use():
    target = from_stack("todobackend", None, stubbed(stack(OUTPUTS)))
    assert target == Target(OUTPUTS["PublicURL"], "stack todobackend (us-east-1)",
                            OUTPUTS["ClusterName"], OUTPUTS["ServiceName"], "us-east-1")
    assert target.can_change_service


def test_missing_stack():
    client = stubbed(error=("ValidationError", "Stack with id todobackend does not exist"))
    expected = r"stack 'todobackend' does not exist in us-east-1 \(wrong --region\?\)"
    with pytest.raises(TargetError, match=expected):
        from_stack("todobackend", None, client)


def test_other_cloudformation_errors_are_named():
    client = stubbed(error=("AccessDenied", "not authorized to perform cloudformation:DescribeStacks"))
    with pytest.raises(TargetError, match="cannot read stack 'todobackend' in us-east-1: AccessDenied"):
        from_stack("todobackend", None, client)


def test_missing_outputs_are_listed_with_the_stack_status():
    client = stubbed(stack({"PublicURL": OUTPUTS["PublicURL"]}, status="CREATE_IN_PROGRESS"))
    expected = r"\(CREATE_IN_PROGRESS\) has no output\(s\) ClusterName, ServiceName"
    with pytest.raises(TargetError, match=expected):
        from_stack("todobackend", None, client)


def test_a_bad_public_url_output_is_reported_as_such():
    client = stubbed(stack(OUTPUTS | {"PublicURL": "todobackend-1.elb.amazonaws.com"}))
    with pytest.raises(TargetError, match="stack 'todobackend' output PublicURL: .* is not an http"):
        from_stack("todobackend", None, client)


def test_no_credentials(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup either
    with pytest.raises(TargetError, match="no AWS credentials to read stack 'todobackend'"):
        from_stack("todobackend", None, local_cloudformation())


def test_no_region(monkeypatch, tmp_path):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(TargetError, match="no AWS region: pass --region"):
        from_stack("todobackend", None)


def test_cloudformation_unreachable(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with pytest.raises(TargetError, match="cannot reach CloudFormation in us-east-1"):
        from_stack("todobackend", None, local_cloudformation())


@pytest.mark.parametrize("url, expected", [
    ("http://alb.example", "http://alb.example"),
    ("https://alb.example/", "https://alb.example"),
    (" http://127.0.0.1:8000 ", "http://127.0.0.1:8000"),
])
def test_good_urls_become_the_base_url(url, expected):
    assert from_url(url, "--public-url").base_url == expected


@pytest.mark.parametrize("url, message", [
    ("alb.example", "is not an http"),
    ("ftp://alb.example", "is not an http"),
    ("http://", "is not an http"),
    ("http://alb.example/todos", "has a path or query"),
    ("http://alb.example/?x=1", "has a path or query"),
])
def test_bad_urls_are_refused(url, message):
    with pytest.raises(TargetError, match=message):
        from_url(url, "--public-url")


def test_choice_of_target():
    assert choose(None, None, None, None) is None  # none named: a usage error when a test needs one
    assert choose(None, "http://env.example", None, None, standin=True) is None  # --standin is explicit
    assert choose(None, "http://env.example", None, None).source == "PUBLIC_URL"
    assert choose("http://opt.example", "http://env.example", None, None).base_url == "http://opt.example"
    stack_target = choose(None, "http://env.example", "todobackend", None, stubbed(stack(OUTPUTS)))
    assert stack_target.base_url == OUTPUTS["PublicURL"]
    with pytest.raises(TargetError, match="not both"):
        choose("http://opt.example", None, "todobackend", None)
    with pytest.raises(TargetError, match="--region only applies with --stack-name"):
        choose(None, None, None, "eu-west-1")
    with pytest.raises(TargetError, match="--standin tests the local stand-in"):
        choose(None, None, "todobackend", None, standin=True)


def run_suite(pytester, *args):
    """The suite in-process, as a user starts it: the usage errors come before any test runs."""
    return pytester.runpytest_inprocess(str(ROOT / "tests/integration"), "-p", "no:cacheprovider", *args)


def test_a_bad_url_stops_pytest_with_a_usage_error(pytester):
    run = run_suite(pytester, "--public-url", "ftp://alb.example")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: smoke target: --public-url: 'ftp://alb.example' is not an http" in run.stderr.str()


def test_a_stack_that_cannot_be_read_stops_pytest_with_a_usage_error(monkeypatch, pytester):
    # The run uses no_aws_endpoints' AWS_ENDPOINT_URL; checked here first, so it cannot
    # reach AWS even if the variable were ever ignored.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = boto3.Session().client("cloudformation", region_name="eu-west-1").meta.endpoint_url
    assert endpoint == os.environ["AWS_ENDPOINT_URL"]
    run = run_suite(pytester, "--stack-name", "todobackend", "--region", "eu-west-1")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: smoke target: cannot reach CloudFormation in eu-west-1" in run.stderr.str()
