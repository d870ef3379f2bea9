"""Whole runs of the smoke suite against deployments broken in ways its author did not build the stand-in for.

Each stand-in here answers through a `rewrite` (a proxy or a variant of the API in front of the real stand-in
application): the suite must keep its data promises (change and delete only its own items, list every item it
may have left behind with its marker) and say something true about what it saw.
"""
import json
import re

import pytest

from tests.integration.standin import StandIn
from tests.integration.test_suite_runs import against, as_a_user_runs_it, smoke_report  # noqa: F401

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.selftest

USER_ITEM = {"title": "a user's item", "completed": False, "order": 1}


def on_post(change):
    """A rewrite that changes only the answers to POST /todos (after the item landed in the database)."""
    def rewrite(method, path, status, body, headers):
        return change(status, body, headers) if method == "POST" else (status, body, headers)
    return rewrite


def without_location(status, body, headers):
    headers.pop("Location")
    return status, body, headers


def location_on_another_host(status, body, headers):
    return status, body, {**headers, "Location": headers["Location"].replace("127.0.0.1", "todos.example")}


def location_of_the_collection(status, body, headers):
    return status, body, {**headers, "Location": headers["Location"].rsplit("/", 1)[0]}


def server_error_after_the_insert(status, body, headers):
    return 500, b"<h1>Server Error (500)</h1>", {}


def connection_dropped_after_the_insert(status, body, headers):
    raise ConnectionResetError("the answer never comes: the client times out, the item did land")


def body_without_the_marker(status, body, headers):
    return status, re.sub(rb" \[smoke [^]]*\]", b"", body), headers


@pytest.mark.parametrize("change, failure", [
    (without_location, "POST /todos answered 201 without a Location header"),
    (location_on_another_host, "points at another host than the target"),
    (location_of_the_collection, "names no single item"),
    (server_error_after_the_insert, "POST /todos answered 500, expected 201"),
    (connection_dropped_after_the_insert, "ConnectionError"),
    (body_without_the_marker, "POST /todos answered 201 with a body that does not carry the marker"),
])
def test_an_item_whose_post_went_wrong_is_listed_by_its_marker_and_never_deleted(pytester, change, failure):
    standin = StandIn(register_delay=0, rewrite=on_post(change))
    standin.databases[0].create(USER_ITEM)
    result = against(pytester, standin, "-k", "lifecycle")

    result.assert_outcomes(failed=1)  # the test's own failure; no second one from its clean-up
    assert failure in result.stdout.str()
    user, *landed = standin.databases[0].all()
    assert user == (1, "a user's item", 0, 1) and len(landed) == 1  # the suite's item: untouched, not deleted
    marker = re.search(r"\[smoke [^]]+\]", landed[0][1]).group()
    report = smoke_report(result)  # the cause, then what the sweep of GET /todos at the end found by its marker
    assert report[0].startswith("FAILED: tests/integration/test_api.py::test_item_lifecycle: ") and failure in report[0]
    assert report[1].startswith("DATA LEFT BEHIND: 1 item(s) carrying this run's marker are still listed by "
                                "GET /todos"), report[1]
    assert report[2] == f"  {standin.url}/todos/{landed[0][0]}  marker {marker}"


def test_when_the_sweep_cannot_look_an_item_whose_post_failed_may_be_left_behind(pytester):
    """A bare 500 on POST and GET /todos (a serializer that fails after the insert, or a missing table behind
    DEBUG = False): nothing tells whether the item was stored, so it is listed, after the failure, as unsure."""
    def failing(method, path, status, body, headers):
        return (500, b"<h1>Server Error (500)</h1>", {}) if path == "/todos" else (status, body, headers)

    standin = StandIn(register_delay=0, rewrite=failing)
    result = against(pytester, standin, "-k", "lifecycle")
    result.assert_outcomes(failed=1)
    marker = re.search(r"\[smoke [^]]+\]", standin.databases[0].all()[0][1]).group()
    report = smoke_report(result)
    assert report[0].startswith("FAILED: tests/integration/test_api.py::test_item_lifecycle: AssertionError: "
                                "POST /todos answered 500, expected 201")
    assert report[1].startswith("DATA MAY BE LEFT BEHIND: 1 item(s) whose POST did not answer 201 with the marker "
                                "and a Location on the target may have been stored (GET /todos could not be searched "
                                "for them)"), report[1]
    assert report[2] == f"  URL unknown (delete it by its marker)  marker {marker}"
    assert ("data: could not search GET /todos for items left behind: GET /todos answered 500, expected 200: "
            "the items left behind could not be searched for") in report


def test_a_post_refused_with_a_client_error_created_nothing_to_list(pytester):
    refuse = on_post(lambda status, body, headers: (413, b"<h1>Request Entity Too Large</h1>", {}))
    result = against(pytester, StandIn(register_delay=0, rewrite=refuse), "-k", "lifecycle")
    result.assert_outcomes(failed=1)
    assert "POST /todos answered 413, expected 201" in result.stdout.str()
    assert not any(line.startswith("DATA LEFT BEHIND") for line in smoke_report(result))


@pytest.mark.parametrize("status, body", [(200, b'{"deleted": true}'), (202, b"")])
def test_a_delete_that_deletes_but_answers_other_than_204_fails_without_blaming_the_tasks(pytester, status, body):
    def answer(method, path, answered, content, headers):
        return (status, body, headers) if method == "DELETE" and answered == 204 else (answered, content, headers)

    standin = StandIn(register_delay=0, rewrite=answer)
    standin.databases[0].create(USER_ITEM)
    result = against(pytester, standin, "-k", "lifecycle or repeated")

    result.assert_outcomes(passed=1, failed=1)  # the lifecycle test: its DELETE's status, and nothing else
    out = result.stdout.str()
    assert f"answered {status}, expected 204" in out and "the item is gone" in out
    assert "tasks disagree" not in out
    assert not any(line.startswith("DATA LEFT BEHIND") for line in smoke_report(result))
    assert standin.databases[0].all() == [(1, "a user's item", 0, 1)]



def test_an_item_still_read_after_its_delete_is_listed_and_both_causes_are_named(pytester):
    """A cache (or a lagging read replica) in front of one task answers the item once more after its DELETE."""
    seen = {}

    def stale_once(method, path, status, body, headers):
        if method == "GET" and status == 200 and path.startswith("/todos/"):
            seen[path] = body
        elif method == "GET" and status == 404 and path in seen:
            return 200, seen.pop(path), {}
        return status, body, headers

    standin = StandIn(register_delay=0, rewrite=stale_once)
    result = against(pytester, standin, "-k", "lifecycle")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "still finds the item marked" in out and "or reads come from a copy that lags" in out
    report = smoke_report(result)
    assert report[0].startswith("SPLIT DATABASES: GET /todos/1 after a DELETE that answered 204 still finds the item")
    assert report[2].startswith("DATA LEFT BEHIND: 1 item(s) this run created, not deleted because tasks disagree")


def test_items_with_string_ids_are_deleted_like_numbered_ones(pytester):
    """An API variant whose ids are not numbers (UUIDs, slugs): the suite's items are still its own to delete."""
    standin = StandIn(register_delay=0, id_prefix="item-")
    standin.databases[0].create(USER_ITEM)
    result = against(pytester, standin)
    result.assert_outcomes(passed=5)
    assert standin.databases[0].all() == [(1, "a user's item", 0, 1)]


def security_lines(result):
    return [line for line in smoke_report(result) if line.startswith("SECURITY: ")]


@pytest.mark.parametrize("debug", [True, False])
def test_migrations_not_run_head_the_report_and_posts_that_stored_nothing_are_not_left_behind(pytester, debug):
    """The todo table is missing. With DEBUG = True, Django's plain-text 500 page names it in every answer, so the
    POSTs that failed on it provably stored nothing; with DEBUG = False a bare 500 cannot tell, and the items are
    listed as unsure. Either way the report's first line is the cause, and the debug page is a finding."""
    standin = StandIn(register_delay=0, migrated=False, debug=debug)
    result = against(pytester, standin)
    result.assert_outcomes(passed=2, failed=3)  # root and static pass; /todos, the shared reads, the lifecycle fail
    report = smoke_report(result)
    assert report[0] == ("MIGRATIONS: GET /todos answered 500: table todo_todoitem does not exist" if debug else
                         "MIGRATIONS: GET /todos answered 500: the todo table is probably missing: were the "
                         "migrations run against the database the tasks use? (this stack runs them in its "
                         "MigrateTask custom resource: its CloudFormation event and the migrate task's logs say how "
                         "it went; elsewhere run `manage.py migrate` against that database)")
    if debug:
        assert security_lines(result) == [report[2]]
        assert security_lines(result)[0].startswith("SECURITY: GET /todos answered 500 with Django's DEBUG = True "
                                                    "page ('DEBUG = True', 'Django Version:')")
        assert not any(line.startswith("DATA") for line in report)
        assert "data: 2 POST(s) stored nothing: each answered a server error naming the missing table " \
               "todo_todoitem, the table GET /todos fails on" in report
        assert "the API did not create the item (its answer says table todo_todoitem does not exist: were the " \
               "migrations run?)" in result.stdout.str()
    else:
        assert security_lines(result) == []
        assert report[1].startswith("DATA MAY BE LEFT BEHIND: 2 item(s) whose POST did not answer 201")


def test_a_disallowed_host_is_diagnosed_and_its_plain_text_debug_page_reported(pytester):
    """The load balancer's host name is not in ALLOWED_HOSTS and DEBUG = True: every answer is Django's technical
    400 page, as text/plain to the suite's JSON client."""
    standin = StandIn(register_delay=0, debug=True, allowed_hosts=["todobackend.example"])
    result = against(pytester, standin, files=("test_readiness.py", "test_security.py"))
    result.assert_outcomes(failed=1, skipped=1)
    report = smoke_report(result)
    assert report[0].startswith("NOT READY: the application answered 400 to GET /: ") and "ALLOWED_HOSTS" in report[0]
    assert report[1].startswith("  status timeline: 400 x1")
    assert security_lines(result) == [report[2]]
    assert report[2].startswith("SECURITY: GET / answered 400 with Django's DEBUG = True page")


def test_an_item_created_twice_by_a_retried_post_is_found_by_its_marker_and_listed(pytester):
    """A proxy retried the POST after a timeout and both landed: the suite deletes the one it was told about,
    and the sweep of GET /todos at the end finds the other by the run's marker."""
    standin = StandIn(register_delay=0)
    standin.databases[0].create(USER_ITEM)

    def landed_twice(status, body, headers):
        standin.databases[0].create(json.loads(body))  # the first attempt, whose answer never came back
        return status, body, headers

    standin.rewrite = on_post(landed_twice)
    result = against(pytester, standin, "-k", "lifecycle")

    result.assert_outcomes(passed=1)
    user, orphan = standin.databases[0].all()
    assert user == (1, "a user's item", 0, 1)
    marker = re.search(r"\[smoke [^]]+\]", orphan[1]).group()
    report = smoke_report(result)
    assert report[0].startswith("DATA LEFT BEHIND: 1 item(s) carrying this run's marker are still listed by "
                                "GET /todos"), report[0]
    assert report[1] == f"  {standin.url}/todos/{orphan[0]}  marker {marker}"
    assert not any(line.startswith("data: ") for line in report)


def test_a_target_that_goes_away_mid_run_leaves_items_listed_with_the_reason(pytester):
    """Every task stops after readiness (the load balancer answers 503 from the first DELETE on): the clean-up
    cannot delete, and says why rather than only that it could not."""
    gone = []

    def goes_away(method, path, status, body, headers):
        if method == "DELETE":
            gone.append(path)
        return (503, b"<html>503 Service Temporarily Unavailable</html>", {}) if gone else (status, body, headers)

    result = against(pytester, StandIn(register_delay=0, rewrite=goes_away), "-k", "lifecycle")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*could not delete the items the test created (the smoke report lists them): "
                                 "http://127.0.0.1:*/todos/1 [[]smoke *[]] (DELETE /todos/1 answered 503, "
                                 "expected 204*"])
    report = smoke_report(result)
    assert report[0].startswith("FAILED: tests/integration/test_api.py::test_item_lifecycle: AssertionError: DELETE "
                                "/todos/1 answered 503")
    assert report[1].startswith("DATA LEFT BEHIND: 1 item(s) this run created, not deleted")


def test_an_item_the_clean_up_could_not_read_is_not_said_to_have_failed_its_delete(pytester):
    """Reads of an item answer 500 (a broken task): the clean-up never gets as far as a DELETE."""
    def reads_fail(method, path, status, body, headers):
        broken = method == "GET" and path.startswith("/todos/")
        return (500, b"<h1>Server Error (500)</h1>", {}) if broken else (status, body, headers)

    result = against(pytester, StandIn(register_delay=0, rewrite=reads_fail), "-k", "lifecycle")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*could not delete the items the test created*(GET /todos/1 answered 500, expected "
                                 "200*"])
    assert smoke_report(result)[1].startswith("DATA LEFT BEHIND: 1 item(s) this run created, not deleted because "
                                              "the clean-up could not delete them (the test's error says why)")


def test_a_redirect_is_never_followed_so_no_write_goes_elsewhere(pytester):
    """A DELETE answered 307 (which keeps the method): following it would send the DELETE wherever it points (here
    a path on the stand-in, so the test can see whether it was followed; in the world, another host)."""
    followed = []

    def redirect_deletes(method, path, status, body, headers):
        if path.startswith("/elsewhere/"):
            followed.append((method, path))
        elif method == "DELETE":
            return 307, b"", {"Location": f"{standin.url}/elsewhere{path}"}
        return status, body, headers

    standin = StandIn(register_delay=0, rewrite=redirect_deletes)
    result = against(pytester, standin, "-k", "lifecycle")
    result.assert_outcomes(failed=1, errors=1)
    assert followed == []
    assert "DELETE /todos/1 answered 307, expected 204" in result.stdout.str()
    assert smoke_report(result)[2].startswith(f"  {standin.url}/todos/1  marker [smoke ")
