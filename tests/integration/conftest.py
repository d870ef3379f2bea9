"""Target selection, shared fixtures and the smoke report of the smoke suite.

Target: --stack-name NAME [--region R] (Outputs PublicURL, ClusterName, ServiceName), --public-url URL
or PUBLIC_URL, or --standin for the local stand-in on 127.0.0.1. A run whose tests need a target and names
none stops with a usage error: a live smoke run must never pass against the stand-in by accident.
"""
import contextlib
import os
import pathlib
import time

import boto3
import pytest
import requests

from tests.integration.smoke import doctor_on_failure
from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.active import running_count
from tests.integration.smoke.progress import ProgressLine
from tests.integration.smoke import security
from tests.integration.smoke.readiness import IN_THE_REPORT, NotReady, timing_problems, wait_until_ready
from tests.integration.smoke.target import NO_TARGET, Target, TargetError, choose
from tests.integration.smoke.todos import ApiClient, Ledger, TodoClient, new_run_id
from tests.integration.standin import StandIn
from tests.support import worker_summary

TARGET = pytest.StashKey[Target | None]()
LINES = pytest.StashKey[list]()      # lines for the terminal summary
FINDINGS = pytest.StashKey[list]()   # security findings and data left behind: first in the smoke report
STARTED = pytest.StashKey[float]()
TARGET_TIME = pytest.StashKey[list]()  # durations of the tests that talk to the target (not selftests)
FAILS_IF_NOT_READY = pytest.StashKey[str | None]()  # the one test that fails when the target is not ready
DEBUG_PAGE_SEEN = pytest.StashKey[bool]()  # a debug page is reported once, by the first request that got one
READINESS_TEST = "test_target_becomes_ready"


def pytest_addoption(parser):
    group = parser.getgroup("smoke", "todobackend smoke suite (a target is required: --stack-name, --public-url, "
                                     "PUBLIC_URL or --standin)")
    group.addoption("--public-url", help="load balancer URL to test (or set PUBLIC_URL)")
    group.addoption("--stack-name", help="CloudFormation stack to test; reads its Outputs and enables "
                                         "the active tests (scale to zero, forced deployment)")
    group.addoption("--region", help="region of --stack-name (default: the AWS configuration's)")
    group.addoption("--standin", action="store_true",
                    help="test the local stand-in on 127.0.0.1 instead of a deployment (tox -e integration)")
    group.addoption("--passive-only", action="store_true",
                    help="with --stack-name, skip the active tests (they take the service down briefly)")
    group.addoption("--ready-timeout", type=float, default=300.0,
                    help="seconds the whole readiness wait may take, until --consecutive 200s in a row "
                         "(default 300)")
    group.addoption("--progress-every", type=float, default=10.0,
                    help="seconds between progress lines while waiting for readiness (default 10; the "
                         "first comes with the first answer; 0: a line per poll)")
    group.addoption("--poll-interval", type=float,
                    help="seconds between polls (default 2; 0.25 against the stand-in, which has no "
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
    config.stash[FINDINGS] = []
    config.stash[STARTED] = time.monotonic()
    config.stash[TARGET_TIME] = []
    config.stash[FAILS_IF_NOT_READY] = None
    config.stash[DEBUG_PAGE_SEEN] = False
    try:
        config.stash[TARGET] = choose(config.getoption("public_url"), os.environ.get("PUBLIC_URL"),
                                      config.getoption("stack_name"), config.getoption("region"),
                                      standin=config.getoption("standin"))
    except TargetError as error:
        raise pytest.UsageError(f"smoke target: {error}") from None
    get = config.getoption
    problems = timing_problems(deadline=get("ready_timeout"), interval=get("poll_interval"),
                               consecutive=get("consecutive"), timeout=get("request_timeout"),
                               progress_every=get("progress_every"))
    if problems:
        raise pytest.UsageError("smoke options: " + "; ".join(problems))
    doctor_on_failure.register(config)


@pytest.hookimpl(trylast=True)  # after -k and -m deselected what they will
def pytest_collection_modifyitems(config, items):
    """No target named but tests that need one: a usage error. Note which test fails if the target is not ready.

    pytest.exit rather than UsageError: its message is the run's last line on stdout, where a UsageError's
    goes to stderr, which CI logs and tox show before the buffered summary.
    """
    needs_target = [item for item in items if "target" in getattr(item, "fixturenames", ())]
    if needs_target and config.stash[TARGET] is None and not config.getoption("standin"):
        pytest.exit(f"usage error: {NO_TARGET}", returncode=pytest.ExitCode.USAGE_ERROR)
    config.stash[FAILS_IF_NOT_READY] = next((item.nodeid for item in needs_target if item.name == READINESS_TEST),
                                            None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if item.get_closest_marker("selftest") is None:
        item.config.stash[TARGET_TIME].append(report.duration)
    return report


def pytest_sessionfinish(session):
    stash = session.config.stash
    worker_summary.send(session.config, findings=stash.get(FINDINGS, []), lines=stash.get(LINES, []),
                        target_time=stash.get(TARGET_TIME, []))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    stash = node.config.stash
    for key, name in ((FINDINGS, "findings"), (LINES, "lines"), (TARGET_TIME, "target_time")):
        stash[key].extend(worker_summary.received(node, name))


def pytest_terminal_summary(terminalreporter, config):
    findings, lines = config.stash.get(FINDINGS, []), config.stash.get(LINES, [])
    if not findings and not lines:
        return
    terminalreporter.section("smoke report")
    for line in findings:
        terminalreporter.write_line(line, red=True, bold=True)
    for line in lines:
        terminalreporter.write_line(line)
    against_target = sum(config.stash[TARGET_TIME])
    wall = time.monotonic() - config.stash[STARTED]
    terminalreporter.write_line(f"tests against the target: {against_target:.1f} s; whole run: {wall:.1f} s")


def report_line(config, line: str) -> None:
    config.stash[LINES].append(line)


def add_finding(config, line: str) -> None:
    """A line at the top of the smoke report, in red: not ready, a security finding, data left behind."""
    config.stash[FINDINGS].append(line)


def reporting_debug_pages(config, http):
    """`http`, reporting the first framework debug page any of its answers is (a 404, a 500, a DisallowedHost
    400...) at the top of the smoke report: wherever a stranger can get one, it leaks settings."""
    def check(response, *args, **kwargs):
        if config.stash[DEBUG_PAGE_SEEN] or "html" not in response.headers.get("Content-Type", ""):
            return
        signs = security.debug_page_signs(response.text)
        if signs:
            config.stash[DEBUG_PAGE_SEEN] = True
            add_finding(config, security.finding(response.request, response.status_code, signs))
    http.hooks["response"].append(check)
    return http


def terminal_line(config):
    """write(line): a line in the terminal now, between test results, also while output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def write(line: str) -> None:
        if reporter is None:  # e.g. -p no:terminal
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            results_of = reporter.currentfspath  # without -v: the file whose result letters the line interrupts
            reporter.write_line(line)
            if isinstance(results_of, pathlib.Path):  # its letters go on after the file name again
                reporter.write(os.path.relpath(results_of, reporter.startpath) + " ")
                reporter.currentfspath = results_of
    return write


def progress_line(config, what: str) -> ProgressLine:
    """Progress lines for a wait, in the terminal, every --progress-every seconds."""
    return ProgressLine(terminal_line(config), what, every=config.getoption("progress_every"))


@pytest.fixture(scope="session")
def settings(pytestconfig):
    get = pytestconfig.getoption
    interval = get("poll_interval") or (2.0 if pytestconfig.stash[TARGET] else 0.25)
    return {"deadline": get("ready_timeout"), "interval": interval, "timeout": get("request_timeout")}


@pytest.fixture(scope="session")
def standin(pytestconfig):
    """The local stand-in, started only with --standin (no live target)."""
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
    http = reporting_debug_pages(pytestconfig, smoke_http.session(target.base_url))
    url = target.base_url + "/"
    progress = progress_line(pytestconfig, f"waiting for {url} to be ready")
    try:
        result = wait_until_ready(http, url, consecutive=pytestconfig.getoption("consecutive"),
                                  progress=progress, **settings)
    except NotReady as error:  # the one place the diagnosis is shown: first in the smoke report
        # First even when a debug page was reported during the wait: the skips point at "the top".
        pytestconfig.stash[FINDINGS][:0] = [f"NOT READY: {error.diagnosis}",
                                            f"  status timeline: {error.timeline.summary()}"]
        return None, error
    report_line(pytestconfig, f"readiness timeline: {result.timeline.summary()}")
    if standin is not None:
        lag = result.first_ok - standin.registered_at
        report_line(pytestconfig, f"readiness noticed {lag:.2f} s after the stand-in's target registered "
                                  f"(poll interval {result.interval:g} s)")
    else:
        report_line(pytestconfig, f"first 200 after {result.waited:.1f} s of polling")
    return result, None


@pytest.fixture
def ready_target(request, readiness, target) -> Target:
    """The target, once it is ready. Otherwise the diagnosis is in the smoke report only: the readiness test
    (or, when it is deselected, the first test that gets here) fails with a pointer to it, so the run fails;
    every other test skips with the same pointer."""
    _, error = readiness
    if error is not None:
        config = request.config
        if config.stash[FAILS_IF_NOT_READY] is None:
            config.stash[FAILS_IF_NOT_READY] = request.node.nodeid
            pytest.fail(f"target not ready: {IN_THE_REPORT}", pytrace=False)
        pytest.skip(f"target not ready: {IN_THE_REPORT}")
    return target


@pytest.fixture
def report(request):
    """report(line): a line in the smoke report at the end of the run (timings, diagnoses)."""
    return lambda line: report_line(request.config, line)


@pytest.fixture
def report_finding(request):
    """report_finding(line): a line at the top of the smoke report, in red (a security finding)."""
    return lambda line: add_finding(request.config, line)


@pytest.fixture
def progress(request):
    """progress(what): a callback that shows a wait's progress lines in the terminal (see ProgressLine)."""
    return lambda what: progress_line(request.config, what)


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


@pytest.fixture(scope="session")
def ledger(pytestconfig, target):
    """The items this run creates, and whether tasks disagreed; the smoke report lists what is left, and
    what GET /todos still lists with the run's marker (a POST that landed twice)."""
    books = Ledger(new_run_id())
    yield books
    if not books.items:
        return
    left = books.left_behind()
    stray = swept(pytestconfig, target, books, left)
    left = [item for item in left if item.url is not None or item.marker not in {marker for _, marker in stray}]
    if left:
        report_left_behind(pytestconfig, books, left)
    if stray:
        add_finding(pytestconfig, f"DATA LEFT BEHIND: {len(stray)} item(s) carrying this run's marker are still "
                                  "listed by GET /todos (a POST that landed twice, or one whose answer went wrong). "
                                  "Delete them by the marker in their title.")
        for url, marker in stray:
            add_finding(pytestconfig, f"  {url}  marker {marker}")
    if not left and not stray:
        report_line(pytestconfig, f"data: the {len(books.items)} item(s) this run created are deleted, each "
                                  f"confirmed by its marker [smoke {books.run_id} ...]")


def swept(config, target, books, left) -> list[tuple[str, str]]:
    """(url, marker) of the items GET /todos lists with this run's marker that `left` does not list already."""
    api = ApiClient(smoke_http.session(target.base_url, retry_reads=True), target.base_url)
    try:
        found = api.listed_with(f"[smoke {books.run_id} ")
    except (AssertionError, requests.RequestException) as error:
        report_line(config, f"data: could not search GET /todos for items left behind: {str(error).splitlines()[0]}")
        return []
    listed = {(item.url, item.marker) for item in left}
    return [entry for entry in found if entry not in listed]


def report_left_behind(config, books, left) -> None:
    why = []
    if any(item.url is None for item in left):
        why.append("their POST did not answer 201 with the marker and a Location on the target")
    if any(item.url is not None for item in left):
        why.append(f"tasks disagree ({books.noticed_in})" if books.disagreement else
                   "the clean-up could not delete them (the test's error says why)")
    add_finding(config, f"DATA LEFT BEHIND: {len(left)} item(s) this run created, not deleted because "
                        f"{'; or '.join(why)}. Delete them by the marker in their title, in each database: "
                        "through the load balancer the URL can reach another task's item with the same id.")
    for item in left:
        add_finding(config, f"  {item.url or 'URL unknown (delete it by its marker)'}  marker {item.marker}")


@pytest.fixture
def api(request, ready_target):
    """A read-only client for the API (it creates nothing)."""
    http = reporting_debug_pages(request.config, smoke_http.session(ready_target.base_url, retry_reads=True))
    return ApiClient(http, ready_target.base_url)


@pytest.fixture
def todos(request, ready_target, ledger):
    """A client that creates items and deletes them afterwards (also when the test fails), by the safe rule
    in smoke/todos.py; once tasks disagreed, tests that would create items skip instead."""
    if ledger.disagreement is not None:
        pytest.skip(f"tasks disagree: the evidence is in the failure of {ledger.noticed_in}; "
                    "the suite creates and deletes nothing more")
    http = reporting_debug_pages(request.config, smoke_http.session(ready_target.base_url, retry_reads=True))
    client = TodoClient(http, ready_target.base_url, ledger, where=request.node.nodeid)
    yield client
    left = client.clean_up()  # the items with a URL: one whose POST went wrong has failed the test already
    if left and ledger.disagreement is None:
        pytest.fail("could not delete the items the test created (the smoke report lists them): "
                    + ", ".join(f"{item.url} {item.marker} ({item.trouble})" for item in left), pytrace=False)


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
