"""The todobackend API through the load balancer: links, the item lifecycle, migrations, static files.

Items are created, read and deleted by the safe rule in smoke/todos.py: each carries a marker, every read
compares the body, and once tasks disagree the suite writes nothing more.
"""
from urllib.parse import urlsplit

import pytest

from tests.integration.smoke.todos import MIGRATIONS, expect, missing_table


def test_root_links_to_todos_on_the_same_host(api):
    response = api.http.get(api.url("/"), timeout=10)
    expect(response, 200, "the API root does not answer: is this todobackend behind the load balancer?")
    link = urlsplit(response.json()["todos"])
    assert (link.hostname, link.path) == (urlsplit(api.base_url).hostname, "/todos"), (
        f"the root links to {response.json()['todos']!r}, not /todos on {api.base_url}: Django builds links "
        "from the Host header, so a proxy that rewrites it sends clients elsewhere")


def test_todos_is_not_a_server_error_so_migrations_ran(api, report_cause):
    response = api.http.get(api.url("/todos"), timeout=10)
    if response.status_code == 500:  # the cause of every failure that follows: it heads the smoke report
        table = missing_table(response.text)
        if table:
            report_cause(f"MIGRATIONS: GET /todos answered 500: table {table} does not exist", f"  {MIGRATIONS}")
        else:
            report_cause(f"MIGRATIONS: GET /todos answered 500: {MIGRATIONS}")
    expect(response, 200, MIGRATIONS if response.status_code == 500 else "GET /todos must list the items")
    assert isinstance(response.json(), list), f"GET /todos answered {response.text[:200]!r}, not a JSON list"


def test_created_item_is_seen_by_repeated_reads(todos, running_tasks, report):
    """Each read may reach another task: all of them must answer with the item the suite created."""
    if running_tasks is not None and running_tasks < 2:
        pytest.skip(f"shared database: the service runs {running_tasks} task(s); every read would reach "
                    "the same one, so the test could not fail")
    item = todos.create("smoke: shared database")
    todos.confirm(item)  # reads on fresh connections, each compared by body: "task answered with another item"
    if running_tasks is None:
        report("shared database: task count unknown for a URL target; the reads prove a shared database "
               "only if the service runs 2 or more tasks (give --stack-name to check)")


def test_item_lifecycle(todos):
    item = todos.create("smoke: lifecycle", order=7)
    read = todos.read(item)
    written = {key: item.fields[key] for key in ("title", "completed", "order")}
    assert {key: read.get(key) for key in written} == written, (
        f"reading back {item.url} gave {read}, not the fields written: the API does not keep what it accepts")

    assert todos.update(item, "PATCH", completed=True)["completed"] is True, "PATCH did not set completed"
    replaced = todos.update(item, "PUT", title="smoke: replaced", completed=False, order=8)
    assert todos.read(item)["title"] == replaced["title"] == item.fields["title"], "PUT did not replace the title"

    listed = todos.http.get(todos.url("/todos"), timeout=10)
    expect(listed, 200, "GET /todos must list the items")
    assert any(item.is_mine(entry) for entry in listed.json()), f"GET /todos does not list {item.marker}"

    todos.delete(item)  # 204, then a read must answer 404


def test_static_files_are_served(api, pytestconfig):
    path = pytestconfig.getoption("static_path")
    response = api.http.get(api.url(path), timeout=10)
    expect(response, 200, "a file collectstatic publishes is not served: did the collectstatic container copy "
                          "the files (into the volume mounted at /public), and does the server serve that "
                          "STATIC_ROOT (uwsgi --check-static=/public)?")
    assert response.content, f"{path} answered 200 with an empty body"
