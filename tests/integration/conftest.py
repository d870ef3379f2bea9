"""Target selection, shared fixtures and the smoke report of the smoke suite.

Target: --stack-name NAME [--region R] (Outputs PublicURL, ClusterName, ServiceName), --public-url URL
or PUBLIC_URL, or --standin for the local stand-in on 127.0.0.1. A run whose tests need a target and names
none stops with a usage error: a live smoke run must never pass against the stand-in by accident.
"""
import os
import pathlib
import time

import boto3
import pytest

from tests.integration.smoke import doctor_on_failure, findings, leftovers, options
from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.active import running_count
from tests.integration.smoke.findings import CAUSE, SECURITY
from tests.integration.smoke.progress import ProgressLine
from tests.integration.smoke import security
from tests.integration.smoke.readiness import IN_THE_REPORT, NotReady, timing_problems, wait_until_ready
from tests.integration.smoke.target import NO_TARGET, Target, TargetError, choose
from tests.integration.smoke.terminal import TerminalLines
from tests.integration.smoke.todos import ApiClient, Ledger, TasksDisagree, TodoClient, new_run_id
from tests.integration.standin import StandIn
from tests.support import worker_summary

TARGET = pytest.StashKey[Target | None]()
LINES = pytest.StashKey[list]()      # lines for the terminal summary
FINDINGS = pytest.StashKey[list]()   # red lines first in the smoke report (smoke/findings.py): cause first
STARTED = pytest.StashKey[float]()
TARGET_TIME = pytest.StashKey[list]()  # durations of the tests that talk to the target (not selftests)
FAILS_IF_NOT_READY = pytest.StashKey[str | None]()  # the one test that fails when the target is not ready
DEBUG_PAGE_SEEN = pytest.StashKey[bool]()  # a debug page is reported once, by the first request that got one
TERMINAL = pytest.StashKey[TerminalLines]()
READINESS_TEST = "test_target_becomes_ready"
# What a live run collects; every other test module here tests the suite itself (marked selftest) against
# local stand-ins, and a live run does not even collect it.
LIVE_SUITE = ("test_readiness.py", "test_api.py", "test_security.py", "test_service_changes.py")
HERE = pathlib.Path(__file__).resolve().parent


def pytest_addoption(parser):
    options.add_to(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """--smoke-help: the suite's options alone, before any target is looked up."""
    if config.getoption("smoke_help"):
        print(options.smoke_help(), end="")
        return pytest.ExitCode.OK
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "selftest: tests of the suite itself, always against local "
                                       "stand-ins (deselect with -m 'not selftest')")
    config.stash[LINES] = []
    config.stash[FINDINGS] = []
    config.stash[STARTED] = time.monotonic()
    config.stash[TARGET_TIME] = []
    config.stash[FAILS_IF_NOT_READY] = None
    config.stash[DEBUG_PAGE_SEEN] = False
    config.stash[TERMINAL] = TerminalLines(config)
    config.pluginmanager.register(config.stash[TERMINAL], "smoke-terminal-lines")
    try:
        config.stash[TARGET] = choose(config.getoption("public_url"), os.environ.get("PUBLIC_URL"),
                                      config.getoption("stack_name"), config.getoption("region"),
                                      standin=config.getoption("standin"))
    except TargetError as error:
        raise pytest.UsageError(f"smoke target: {error}") from None
    if config.stash[TARGET] is None and not config.getoption("standin") and _names_the_live_suite(config.args):
        raise pytest.UsageError(f"smoke target: {NO_TARGET}")  # one line, before pytest collects anything
    get = config.getoption
    problems = timing_problems(deadline=get("ready_timeout"), interval=get("poll_interval"),
                               consecutive=get("consecutive"), timeout=get("request_timeout"),
                               progress_every=get("progress_every"))
    if problems:
        raise pytest.UsageError("smoke options: " + "; ".join(problems))
    doctor_on_failure.register(config)


def _names_the_live_suite(args) -> bool:
    """Whether the paths on the command line hold a module of the live suite (tests/integration, or one of them)."""
    live = [HERE / name for name in LIVE_SUITE]
    paths = [pathlib.Path(arg.split("::")[0]).resolve() for arg in args]
    return any(module == path or path in module.parents for module in live for path in paths)


def pytest_ignore_collect(collection_path, config):
    """A live run (a target named) collects the live suite only, not the suite's own tests."""
    live_run = config.stash.get(TARGET, None) is not None
    if live_run and collection_path.parent == HERE and collection_path.name.startswith("test_"):
        return collection_path.name not in LIVE_SUITE
    return None


@pytest.hookimpl(trylast=True)  # after -k and -m deselected what they will
def pytest_collection_modifyitems(config, items):
    """Note which test fails if the target is not ready. Tests that need a target but none named (paths the
    configure-time check did not recognise, e.g. --pyargs): a usage error, so a live run never passes against
    the stand-in by accident."""
    needs_target = [item for item in items if "target" in getattr(item, "fixturenames", ())]
    if needs_target and config.stash[TARGET] is None and not config.getoption("standin"):
        raise pytest.UsageError(f"smoke target: {NO_TARGET}")
    config.stash[FAILS_IF_NOT_READY] = next((item.nodeid for item in needs_target if item.name == READINESS_TEST),
                                            None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Tasks that disagree fail the test with the evidence in one line (it heads the smoke report too), not a
    traceback through the client's internals."""
    try:
        return (yield)
    except TasksDisagree as error:
        evidence = str(error)
    pytest.fail(evidence, pytrace=False)


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
    found, lines = config.stash.get(FINDINGS, []), config.stash.get(LINES, [])
    if not found and not lines:
        return
    failed = [(report.nodeid, _first_line(report)) for report in terminalreporter.stats.get("failed", [])]
    terminalreporter.section("smoke report")
    for line in findings.in_order(found, failed):
        terminalreporter.write_line(line, red=True, bold=True)
    for line in lines:
        terminalreporter.write_line(line)
    against_target = sum(config.stash[TARGET_TIME])
    wall = time.monotonic() - config.stash[STARTED]
    terminalreporter.write_line(f"tests against the target: {against_target:.1f} s; whole run: {wall:.1f} s")


def report_line(config, line: str) -> None:
    config.stash[LINES].append(line)


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0] if text.strip() else "failed"


def add_finding(config, kind: str, headline: str, *details: str) -> None:
    """Red lines at the top of the smoke report, by kind (smoke/findings.py): CAUSE, SECURITY or DATA."""
    config.stash[FINDINGS].append(findings.finding(kind, headline, *details))


def reporting_debug_pages(config, http):
    """`http`, reporting the first framework debug page any of its answers is (a 404, a 500, a DisallowedHost
    400..., in any content type) at the top of the smoke report: wherever a stranger can get one, it leaks
    settings. Successful answers (the API's data, static files) are not inspected."""
    def check(response, *args, **kwargs):
        if config.stash[DEBUG_PAGE_SEEN] or not security.inspected(response):
            return
        signs = security.debug_page_signs(response.text)
        if signs:
            config.stash[DEBUG_PAGE_SEEN] = True
            add_finding(config, SECURITY, security.finding(response.request, response.status_code, signs))
    http.hooks["response"].append(check)
    return http


def progress_line(config, what: str) -> ProgressLine:
    """Progress lines for a wait, in the terminal as they happen, due every --progress-every seconds."""
    return ProgressLine(config.stash[TERMINAL].write, what, every=config.getoption("progress_every"))


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
        add_finding(pytestconfig, CAUSE, f"NOT READY: {error.diagnosis}",
                    f"  status timeline: {error.timeline.summary()}")
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
def report_cause(request):
    """report_cause(headline, *details): why the run failed, at the top of the smoke report, in red."""
    return lambda headline, *details: add_finding(request.config, CAUSE, headline, *details)


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
    """The items this run creates, and whether tasks disagreed; at the end the smoke report heads with the
    evidence of split databases, and lists what is left and what GET /todos still lists with the run's marker
    (a POST that landed twice)."""
    books = Ledger(new_run_id())
    yield books
    api = ApiClient(smoke_http.session(target.base_url, retry_reads=True), target.base_url)
    leftovers.account(books, api, add=lambda *finding: add_finding(pytestconfig, *finding),
                      note=lambda line: report_line(pytestconfig, line))


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
    try:
        left = client.clean_up()  # the items with a URL: one whose POST went wrong has failed the test already
    except TasksDisagree as error:  # the evidence in one line, outside the `except`: no traceback chain
        left, evidence = [], str(error)
    else:
        evidence = None
    if evidence:
        pytest.fail(evidence, pytrace=False)
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
