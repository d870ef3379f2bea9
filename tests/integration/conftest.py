"""Target selection, shared fixtures and the timeline report of the smoke suite.

Target: --stack-name NAME [--region R] (Outputs PublicURL, ClusterName, ServiceName), --public-url URL
or PUBLIC_URL, otherwise the local stand-in on 127.0.0.1.
"""
import os
import pathlib
import time

import boto3
import pytest

from tests.integration.smoke import doctor_on_failure
from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.active import running_count
from tests.integration.smoke.readiness import NotReady, timing_problems, wait_until_ready
from tests.integration.smoke.target import Target, TargetError, choose
from tests.integration.smoke.todos import TodoClient
from tests.integration.standin import StandIn

TARGET = pytest.StashKey[Target | None]()
LINES = pytest.StashKey[list]()      # lines for the terminal summary
STARTED = pytest.StashKey[float]()
TARGET_TIME = pytest.StashKey[list]()  # durations of the tests that talk to the target (not selftests)


def pytest_addoption(parser):
    group = parser.getgroup("smoke", "todobackend smoke suite (default target: the local stand-in)")
    group.addoption("--public-url", help="load balancer URL to test (or set PUBLIC_URL)")
    group.addoption("--stack-name", help="CloudFormation stack to test; reads its Outputs and enables "
                                         "the active tests (scale to zero, forced deployment)")
    group.addoption("--region", help="region of --stack-name (default: the AWS configuration's)")
    group.addoption("--passive-only", action="store_true",
                    help="with --stack-name, skip the active tests (they take the service down briefly)")
    group.addoption("--ready-timeout", type=float, default=300.0,
                    help="seconds to wait for the first 200 (default 300)")
    group.addoption("--poll-interval", type=float,
                    help="seconds between polls (default 2; 1 against the stand-in, which has no "
                         "health-check lag)")
    group.addoption("--consecutive", type=int, default=3,
                    help="200s in a row that make the target ready (default 3)")
    group.addoption("--request-timeout", type=float, default=10.0,
                    help="seconds one request may take (default 10)")
    group.addoption("--static-path", default="/static/rest_framework/css/bootstrap.min.css",
                    help="a file collectstatic publishes (default: Django REST framework's bootstrap CSS)")
    group.addoption("--report-dir", default="reports", help="where plots are written (default reports/)")
    group.addoption("--standin-delay", type=float, default=0.7,
                    help="seconds until the stand-in's target registers (default 0.7)")


def pytest_configure(config):
    config.addinivalue_line("markers", "selftest: tests of the suite itself, always against local "
                                       "stand-ins (deselect with -m 'not selftest')")
    config.stash[LINES] = []
    config.stash[STARTED] = time.monotonic()
    config.stash[TARGET_TIME] = []
    try:
        config.stash[TARGET] = choose(config.getoption("public_url"), os.environ.get("PUBLIC_URL"),
                                      config.getoption("stack_name"), config.getoption("region"))
    except TargetError as error:
        raise pytest.UsageError(f"smoke target: {error}") from None
    get = config.getoption
    problems = timing_problems(deadline=get("ready_timeout"), interval=get("poll_interval"),
                               consecutive=get("consecutive"), timeout=get("request_timeout"))
    if problems:
        raise pytest.UsageError("smoke options: " + "; ".join(problems))
    doctor_on_failure.register(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if item.get_closest_marker("selftest") is None:
        item.config.stash[TARGET_TIME].append(report.duration)
    return report


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(LINES, [])
    if not lines:
        return
    terminalreporter.section("smoke report")
    for line in lines:
        terminalreporter.write_line(line)
    against_target = sum(config.stash[TARGET_TIME])
    wall = time.monotonic() - config.stash[STARTED]
    terminalreporter.write_line(f"tests against the target: {against_target:.1f} s; whole run: {wall:.1f} s")


def report_line(config, line: str) -> None:
    config.stash[LINES].append(line)


@pytest.fixture(scope="session")
def settings(pytestconfig):
    get = pytestconfig.getoption
    interval = get("poll_interval") or (2.0 if pytestconfig.stash[TARGET] else 1.0)
    return {"deadline": get("ready_timeout"), "interval": interval, "timeout": get("request_timeout")}


@pytest.fixture(scope="session")
def standin(pytestconfig):
    """The local stand-in, started only when no live target was given."""
    if pytestconfig.stash[TARGET] is not None:
        yield None
        return
    with StandIn(register_delay=pytestconfig.getoption("standin_delay")) as running:
        yield running


@pytest.fixture(scope="session")
def target(pytestconfig, standin) -> Target:
    chosen = pytestconfig.stash[TARGET] or Target(standin.url, "local stand-in")
    report_line(pytestconfig, f"target: {chosen.base_url} ({chosen.source})")
    return chosen


@pytest.fixture(scope="session")
def readiness(pytestconfig, target, standin, settings):
    """The passive readiness wait, run once: (Readiness, None) or (None, NotReady)."""
    http = smoke_http.session(target.base_url)
    try:
        result = wait_until_ready(http, target.base_url + "/",
                                  consecutive=pytestconfig.getoption("consecutive"), **settings)
    except NotReady as error:
        report_line(pytestconfig, f"readiness: NOT READY - {error.diagnosis}")
        report_line(pytestconfig, f"  timeline: {error.timeline.summary()}")
        return None, error
    report_line(pytestconfig, f"readiness timeline: {result.timeline.summary()}")
    if standin is not None:
        lag = result.first_ok - standin.registered_at
        report_line(pytestconfig, f"readiness noticed {lag:.2f} s after the stand-in's target registered "
                                  f"(poll interval {result.interval:g} s)")
    else:
        report_line(pytestconfig, f"first 200 after {result.waited:.1f} s of polling")
    return result, None


@pytest.fixture(scope="session")
def ready_target(readiness, target) -> Target:
    """The target, once it is ready; tests that need the API error out with the diagnosis otherwise."""
    _, error = readiness
    if error is not None:
        pytest.fail(f"target {target.base_url} is not ready: {error}", pytrace=False)
    return target


@pytest.fixture
def report(request):
    """report(line): a line in the smoke report at the end of the run (timings, diagnoses)."""
    return lambda line: report_line(request.config, line)


@pytest.fixture
def record_timeline(request):
    """record(name, timeline, plot_as=None): a summary line in the report, and a PNG if `plot_as` is set."""
    def record(name, timeline, plot_as=None):
        report_line(request.config, f"{request.node.nodeid} [{name}]: {timeline.summary()}")
        if plot_as:
            # matplotlib is slow to import: only when plotting.
            from tests.integration.smoke.report import plot
            image = plot(timeline, pathlib.Path(request.config.getoption("report_dir")) / plot_as, name)
            report_line(request.config, f"  plot: {image}")
    return record


@pytest.fixture
def todos(ready_target):
    """A client for the API; the items it creates are deleted afterwards, also when the test fails."""
    client = TodoClient(smoke_http.session(ready_target.base_url, retry_reads=True), ready_target.base_url)
    yield client
    left = client.clean_up()
    assert not left, f"could not delete the items the test created: {left}"


@pytest.fixture(scope="session")
def running_tasks(target, standin) -> int | None:
    """Tasks behind the load balancer: the stand-in's, the stack's service's, or None for a bare URL."""
    if standin is not None:
        return standin.tasks
    if not target.can_change_service:
        return None
    ecs = boto3.Session(region_name=target.region).client("ecs")
    return running_count(ecs, target.cluster, target.service)


@pytest.fixture(scope="session")  # session, so its skip comes before ready_target's verdict
def ecs_service(pytestconfig, target):
    """(ECS client, cluster, service) for the active tests, or a skip saying what they need."""
    if not target.can_change_service:
        pytest.skip("active test: needs --stack-name (it scales and redeploys the stack's ECS service)")
    if pytestconfig.getoption("passive_only"):
        pytest.skip("active test: --passive-only given")
    session = boto3.Session(region_name=target.region)
    if session.get_credentials() is None:
        pytest.skip("active test: no AWS credentials to change the ECS service")
    return session.client("ecs"), target.cluster, target.service
