"""Whole runs of the smoke suite against stand-ins, in-process with pytester: what a user sees.

Each run points the suite at a stand-in with --public-url (as a live run would) and polls fast, so a run
takes well under a second.
"""
import pathlib
import re

import pytest

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
    assert standin.databases[0].all() == seeded[0]
    assert standin.databases[1].all()[:second] == seeded[1]
    left = standin.databases[1].all()[second:]  # the suite's own items, on the second task
    assert [title.split(" [smoke ")[0] for _, title, _, _ in left] == ["smoke: shared database"]
    report = smoke_report(result)
    assert report[0].startswith(f"DATA LEFT BEHIND: {len(left)} item(s) this run created, not deleted because "
                                "tasks disagree")
    for item_id, title, _, _ in left:
        marker = re.search(r"\[smoke [^]]+\]", title).group()
        assert f"  {standin.url}/todos/{item_id}  marker {marker}" in report
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
    assert report[0].startswith("DATA LEFT BEHIND: 1 item(s) this run created, not deleted because the clean-up "
                                "could not delete them")
    assert report[1].startswith(f"  {standin.url}/todos/1  marker [smoke ")


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
    assert report[0].startswith("DATA LEFT BEHIND: 1 item(s) this run created")
    assert report[1].startswith(f"  {standin.url}/todos/1  marker [smoke ")
    assert any(line.startswith("readiness timeline: ") for line in report)
    assert report[-1].startswith("tests against the target: ")


def test_a_target_that_is_not_ready_is_diagnosed_once_and_every_other_test_points_there(pytester):
    result = against(pytester, StandIn(register_delay=0, mode=CRASHING),
                     files=("test_readiness.py", "test_api.py", "test_security.py"))
    result.assert_outcomes(failed=1, skipped=6)
    out = result.stdout.str()
    assert out.count("targets crashing") == 1
    assert smoke_report(result)[0].startswith("NOT READY: targets crashing: the load balancer answered 502")
    assert smoke_report(result)[1].startswith("  status timeline: 502 x1")
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
    assert progress[0].endswith("to be ready: 0 s of 5 s - 503 x1")
    counts = [int(re.search(r"- 503 x(\d+)", line).group(1)) for line in progress]
    assert counts == sorted(set(counts)), progress  # the answers so far, growing
    finished = next(n for n, line in enumerate(result.outlines) if "test_readiness.py" in line and "100%" in line)
    assert result.outlines.index(progress[-1]) < finished  # during the wait, before the test's result


def test_no_target_is_a_usage_error_naming_the_three_ways(pytester):
    result = run_suite(pytester, "-m", "not selftest")  # what tox -e smoke runs
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.outlines[-1] == f"! _pytest.outcomes.Exit: usage error: {NO_TARGET} !"  # last, where one looks
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
    assert re.match(r"SECURITY: GET /smoke-no-such-page-\w+ answered 404 with a framework debug page "
                    r"\(Django's DEBUG = True page: \"DEBUG = True\"", first), first
    assert "set DEBUG = False" in first


def test_api_failures_say_what_was_expected_and_what_it_means(pytester):
    standin = StandIn(register_delay=0, migrated=False)
    result = against(pytester, standin, "--static-path", "/static/missing.css", "-k", "migrations or static")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "GET /todos answered 500, expected 200: the todo table is probably missing" in out
    assert "GET /static/missing.css answered 404, expected 200" in out and "--check-static" in out
    assert not re.search(r"assert \d{3} == \d{3}", out)
