"""Whole runs of the smoke suite against stand-ins, in-process with pytester: what a user sees.

Each run points the suite at a stand-in with --public-url (as a live run would) and polls fast, so a run
takes well under a second.
"""
import importlib
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

from tests.integration.conftest import LIVE_SUITE
from tests.integration.smoke.target import NO_TARGET
from tests.integration.standin import CRASHING, StandIn

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

SUITE = pathlib.Path(__file__).resolve().parent
FAST = ("--poll-interval", "0.05", "--consecutive", "2", "--ready-timeout", "5", "-p", "no:cacheprovider")
USER_ITEMS = [(f"user item {n}", n % 2 == 0, n) for n in range(1, 5)]


@pytest.fixture(autouse=True)
def as_a_user_runs_it(monkeypatch, pytester):
    """From the project's root (the paths in the output are the ones a user sees), with no PUBLIC_URL."""
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.chdir(SUITE.parents[1])


def run_suite(pytester, *args, files=("test_api.py",)):
    """The suite's `files` (paths relative to the suite's directory) run in-process with `args`."""
    return pytester.runpytest_inprocess(*(str(SUITE / name) for name in files), *FAST,
                                        "--report-dir", str(pytester.path / "reports"), *args)


def against(pytester, standin, *args, files=("test_api.py",)):
    with standin:
        return run_suite(pytester, "--public-url", standin.url, *args, files=files)


def seed(database, count):
    for title, completed, order in USER_ITEMS[:count]:
        database.create({"title": title, "completed": completed, "order": order})
    return database.all()


def smoke_report(result) -> list[str]:
    """The lines of the smoke report section, blank ones left out."""
    lines = result.outlines
    start = next(n for n, line in enumerate(lines) if re.fullmatch(r"=+ smoke report =+", line))
    end = next(n for n, line in enumerate(lines) if n > start and line.startswith("====="))
    return [line for line in lines[start + 1:end] if line.strip()]


@pytest.mark.parametrize("first, second, evidence", [
    (4, 2, "task answered with another item"),  # the suite's item gets id 3: a user's item on the first task
    (2, 2, "task answered 404 for an item the suite created"),  # id 3 exists on the second task only
])
def test_split_databases_fail_the_run_change_no_user_item_and_list_what_is_left(pytester, first, second,
                                                                                evidence):
    posts_to_second = lambda method, path, number: 1 if method == "POST" else number % 2  # noqa: E731
    standin = StandIn(register_delay=0, tasks=2, shared_database=False, router=posts_to_second)
    seeded = seed(standin.databases[0], first), seed(standin.databases[1], second)
    result = against(pytester, standin)

    result.assert_outcomes(passed=3, failed=1, skipped=1)  # the shared-database test fails; lifecycle skips
    out = result.stdout.str()
    assert evidence in out and "do not share one database" in out and "writes nothing more" in out
    assert "<tests.integration.smoke" not in out and "Traceback" not in out  # the evidence, not the client's insides
    assert standin.databases[0].all() == seeded[0]
    assert standin.databases[1].all()[:second] == seeded[1]
    left = standin.databases[1].all()[second:]  # the suite's own items, on the second task
    assert [title.split(" [smoke ")[0] for _, title, _, _ in left] == ["smoke: shared database"]
    report = smoke_report(result)
    assert report[0].startswith(f"SPLIT DATABASES: {evidence}") and report[0].endswith(
        "(tests/integration/test_api.py::test_created_item_is_seen_by_repeated_reads)"), report[0]
    assert report[1].startswith("  the tasks behind the load balancer do not share one database")
    assert report[2].startswith(f"DATA LEFT BEHIND: {len(left)} item(s) this run created, not deleted because "
                                "tasks disagree")
    for item_id, title, _, _ in left:
        marker = re.search(r"\[smoke [^]]+\]", title).group()
        assert f"  {standin.url}/todos/{item_id}  marker {marker}" in report
    assert not any("shared database" in line for line in report[3:])  # no "the reads prove a shared database"
    assert re.search(r"SKIPPED \[1\] .*tasks disagree: the evidence is in the failure of "
                     r".*test_created_item_is_seen_by_repeated_reads", out)


def test_a_shared_database_run_deletes_its_items_and_keeps_the_users(pytester):
    standin = StandIn(register_delay=0)
    seeded = seed(standin.databases[0], 3)
    result = against(pytester, standin)
    result.assert_outcomes(passed=5)
    assert standin.databases[0].all() == seeded
    assert any(line.startswith("data: the 2 item(s) this run created are deleted") for line in smoke_report(result))


def test_items_whose_delete_fails_are_listed_and_fail_the_test(pytester):
    def router(method, path, number):
        if method == "DELETE":
            raise ConnectionResetError("the task went away")  # the stand-in drops the connection
        return 0

    standin = StandIn(register_delay=0, router=router)
    result = against(pytester, standin, "-k", "lifecycle")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*could not delete the items the test created (the smoke report lists them): "
                                 f"{standin.url}/todos/1 [[]smoke *[]] (*Connection aborted*"])
    report = smoke_report(result)
    assert report[0].startswith("FAILED: tests/integration/test_api.py::test_item_lifecycle: "
                                "requests.exceptions.ConnectionError: ")  # the cause first, then the consequence
    assert report[1].startswith("DATA LEFT BEHIND: 1 item(s) this run created, not deleted because the clean-up "
                                "could not delete them")
    assert report[2].startswith(f"  {standin.url}/todos/1  marker [smoke ")


def test_with_xdist_workers_the_smoke_report_still_lists_what_was_left(pytester):
    """tox runs the stand-in suite with -n 2: what the workers found reaches the controller's report."""
    def router(method, path, number):
        if method == "DELETE":
            raise ConnectionResetError("the task went away")
        return 0

    standin = StandIn(register_delay=0, router=router)
    result = against(pytester, standin, "-n", "2", "-k", "lifecycle or root")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    report = smoke_report(result)
    assert report[0].startswith("FAILED: tests/integration/test_api.py::test_item_lifecycle: ")
    assert report[1].startswith("DATA LEFT BEHIND: 1 item(s) this run created")
    assert report[2].startswith(f"  {standin.url}/todos/1  marker [smoke ")
    assert any(line.startswith("readiness timeline: ") for line in report)
    assert report[-1].startswith("tests against the target: ")


def test_a_target_that_is_not_ready_is_diagnosed_once_and_every_other_test_points_there(pytester):
    result = against(pytester, StandIn(register_delay=0, mode=CRASHING),
                     files=("test_readiness.py", "test_api.py", "test_security.py"))
    result.assert_outcomes(failed=1, skipped=6)
    out = result.stdout.str()
    assert out.count("targets crashing") == 1
    assert smoke_report(result)[0].startswith("NOT READY: targets crashing: the load balancer answered 502")
    assert smoke_report(result)[1].startswith("  status timeline: 502 x3")
    result.stdout.fnmatch_lines([
        "target not ready: see NOT READY at the top of the smoke report",
        "SKIPPED [[]1[]] tests/integration/test_api.py:*: target not ready: see NOT READY at the top of the smoke "
        "report",
        "FAILED tests/integration/test_readiness.py::test_target_becomes_ready*"])  # message cut to the width


def test_without_the_readiness_test_the_first_test_that_needs_the_target_fails(pytester):
    result = against(pytester, StandIn(register_delay=0, mode=CRASHING), "-k", "static or root")
    result.assert_outcomes(errors=1, skipped=1)  # the first one's setup fails: the run cannot end green
    assert result.stdout.str().count("targets crashing") == 1


@pytest.mark.parametrize("verbosity", [(), ("-v",)])
def test_the_readiness_wait_shows_progress_lines(pytester, verbosity):
    """Lines appear in the terminal while the wait goes on, with and without -v (the throttle's exact
    schedule is tested on a fake clock in test_verdicts.py)."""
    result = against(pytester, StandIn(register_delay=0.3), "--progress-every", "0.1", "--poll-interval", "0.02",
                     *verbosity, files=("test_readiness.py",))
    result.assert_outcomes(passed=1)
    progress = [line for line in result.outlines if line.startswith("waiting for http://127.0.0.1:")]
    # The first line comes at the first answer: a 503, or a 200 when a loaded machine starts the suite after the
    # stand-in's target has registered; then the answers so far, growing.
    assert re.search(r"to be ready: 0 s of 5 s - (503|200) x1$", progress[0]), progress
    answers = [sum(int(count) for count in re.findall(r" x(\d+)", line.split(" - ", 1)[1])) for line in progress]
    assert answers == sorted(set(answers)), progress
    finished = next(n for n, line in enumerate(result.outlines) if "test_readiness.py" in line and "100%" in line)
    assert result.outlines.index(progress[-1]) < finished  # during the wait, before the test's result
    if not verbosity:  # the file's name once before the lines, once when its results go on: not after each line
        assert [line.split(" ")[0] for line in result.outlines[:finished + 1] if "test_readiness.py" in line] == \
            ["tests/integration/test_readiness.py"] * 2


@pytest.mark.parametrize("selection", [(), ("-m", "not selftest")])
def test_a_live_run_collects_the_live_suite_only(pytester, selection):
    """The suite's own tests are not collected (nor reported as deselected) when a target is named."""
    result = run_suite(pytester, "--public-url", "http://127.0.0.1:9", "--collect-only", "-q", *selection,
                       files=(".",))
    collected = {line.split("::")[0] for line in result.outlines if "::" in line}
    assert collected == {f"tests/integration/{name}" for name in LIVE_SUITE}
    assert "deselected" not in result.stdout.str()


def test_every_module_outside_the_live_suite_is_a_selftest():
    for path in sorted(SUITE.glob("test_*.py")):
        module = importlib.import_module(f"tests.integration.{path.stem}")
        assert (path.name in LIVE_SUITE) == (getattr(module, "pytestmark", None) is None), path.name
        if path.name not in LIVE_SUITE:
            assert module.pytestmark.name == "selftest", path.name


def test_smoke_help_shows_the_suites_options_alone(pytester):
    result = run_suite(pytester, "--smoke-help", files=(".",))
    assert result.ret == pytest.ExitCode.OK
    assert result.outlines[0].startswith("usage: tox -e smoke -- [options]")
    out = result.stdout.str()
    assert all(option in out for option in ("--stack-name NAME", "--public-url URL", "--progress-every SECONDS"))
    assert 'accept it with -k "not debug_page"' in " ".join(out.split())
    assert len(result.outlines) < 60  # pytest's own --help is some 500 lines


def test_the_smoke_options_follow_pytests_general_ones_in_its_help(pytester):
    lines = run_suite(pytester, "--help", files=(".",)).outlines
    groups = [line for line in lines if line and not line.startswith(" ") and line.endswith(":")]
    assert groups[1] == "general:" and groups[2].startswith("todobackend smoke suite: a target is required")
    assert 'accept it with -k "not debug_page"' in groups[2]


def test_progress_reaches_a_pipe_while_the_wait_goes_on(tmp_path):
    """As CI and `| tee` read it: pytest in a child process writing to a pipe, without PYTHONUNBUFFERED. Each line's
    arrival time is taken as it is read: the progress lines must arrive spread over the wait, the first one well
    before the verdict at its end, not all at once when the run ends."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("PYTHONUNBUFFERED", "PUBLIC_URL") and not name.startswith("PYTEST_")}
    with StandIn(register_delay=None) as never_ready:
        child = subprocess.Popen(
            [sys.executable, "-m", "pytest", "tests/integration/test_readiness.py", "--public-url", never_ready.url,
             "--ready-timeout", "2", "--progress-every", "0.5", "--poll-interval", "0.1", "-p", "no:cacheprovider",
             "--report-dir", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment, cwd=SUITE.parents[1])
        arrivals = [(time.monotonic(), line.rstrip("\n")) for line in child.stdout]
        child.wait(timeout=30)
    progress = [at for at, line in arrivals if line.startswith("waiting for http://127.0.0.1:")]
    verdict = next(at for at, line in arrivals if line.startswith("NOT READY: "))
    assert len(progress) >= 3, arrivals
    assert verdict - progress[0] > 1.2, arrivals  # the first line came with the wait's start, ~2 s before its end
    assert progress[-1] - progress[0] > 1.0, arrivals  # one by one, not in one burst


@pytest.mark.parametrize("where", [("tests/integration",), ("tests/integration", "-m", "not selftest"),
                                   ("tests/integration/test_api.py::test_static_files_are_served",)])
def test_no_target_is_a_one_line_usage_error_naming_the_three_ways(pytester, where):
    """What tox -e smoke (or tools/deploy.py's `-m "not selftest"`) prints without a target: one line, before any
    collection, like pytest's own usage errors."""
    result = pytester.runpytest_inprocess(*where, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.outlines == []
    assert [line for line in result.errlines if line.strip()] == [f"ERROR: smoke target: {NO_TARGET}"]
    assert all(way in NO_TARGET for way in ("--stack-name", "--public-url", "PUBLIC_URL", "--standin"))


def test_selftests_need_no_target(pytester):
    result = run_suite(pytester, "-k", "refuses", files=("test_todos_client.py",))
    result.assert_outcomes(passed=5)


def test_standin_and_a_url_together_are_a_usage_error(pytester):
    result = run_suite(pytester, "--standin", "--public-url", "http://alb.example")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--standin tests the local stand-in" in result.stderr.str()


def test_a_debug_page_fails_the_run_and_heads_the_smoke_report(pytester):
    result = against(pytester, StandIn(register_delay=0, debug=True), files=("test_security.py",))
    result.assert_outcomes(failed=1)
    first = smoke_report(result)[0]
    assert sum(line.startswith("SECURITY: ") for line in smoke_report(result)) == 1
    assert re.match(r"SECURITY: GET /smoke-no-such-page-\w+ answered 404 with Django's DEBUG = True page "
                    r"\('DEBUG = True', 'Django tried these URL patterns'\): ", first), first
    assert "set DEBUG = False" in first and 'accept it with -k "not debug_page"' in first
    result.stdout.fnmatch_lines(['*answered Django\'s DEBUG = True page: set DEBUG = False in the deployed settings '
                                 '(SECURITY in the smoke report; on a throw-away stack, accept it with '
                                 '-k "not debug_page")'])


def test_api_failures_say_what_was_expected_and_what_it_means(pytester):
    standin = StandIn(register_delay=0, migrated=False)
    result = against(pytester, standin, "--static-path", "/static/missing.css", "-k", "migrations or static")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "GET /todos answered 500, expected 200: the todo table is probably missing" in out
    assert "GET /static/missing.css answered 404, expected 200" in out and "--check-static" in out
    assert not re.search(r"assert \d{3} == \d{3}", out)


def test_a_users_item_that_reads_like_a_traceback_is_no_security_finding(pytester):
    """GET /todos lists users' items as they wrote them: a 200 is data, whatever its text."""
    standin = StandIn(register_delay=0)
    standin.databases[0].create({"title": 'Traceback (most recent call last):\n  File "/app/x.py", line 1, in f\n'
                                          "DEBUG = True, Django Version: 5.2 - at run (/app/x.js:1:2)"})
    result = against(pytester, standin)
    result.assert_outcomes(passed=5)
    assert not any(line.startswith("SECURITY") for line in smoke_report(result))
