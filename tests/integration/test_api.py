"""The todobackend API through the load balancer: links, the item lifecycle, migrations, static files."""
from urllib.parse import urlsplit

import pytest

from tests.integration.smoke import http as smoke_http


def test_root_links_to_todos_on_the_same_host(todos):
    response = todos.http.get(todos.url("/"), timeout=10)
    assert response.status_code == 200, response.text[:200]
    link = urlsplit(response.json()["todos"])
    assert (link.hostname, link.path) == (urlsplit(todos.base_url).hostname, "/todos")


def test_todos_is_not_a_server_error_so_migrations_ran(todos):
    response = todos.http.get(todos.url("/todos"), timeout=10)
    assert response.status_code != 500, "GET /todos is a 500: did the MigrateTask run the migrations?"
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_item_lifecycle(todos):
    created = todos.create(title="smoke: lifecycle", order=7)
    assert created.status_code == 201, created.text[:200]
    assert "Location" in created.headers, "201 without a Location header"
    item = todos.on_target(created.headers["Location"])
    assert created.json()["title"] == "smoke: lifecycle"

    read = todos.http.get(item, timeout=10)
    assert read.status_code == 200
    fields = {key: read.json().get(key) for key in ("title", "completed", "order")}
    assert fields == {"title": "smoke: lifecycle", "completed": False, "order": 7}

    patched = todos.http.patch(item, json={"completed": True}, timeout=10)
    assert (patched.status_code, patched.json()["completed"]) == (200, True)

    put = todos.http.put(item, json={"title": "smoke: replaced", "completed": False, "order": 8}, timeout=10)
    assert put.status_code == 200
    assert todos.http.get(item, timeout=10).json()["title"] == "smoke: replaced"

    listed = todos.http.get(todos.url("/todos"), timeout=10).json()
    assert any(urlsplit(entry["url"]).path == urlsplit(item).path for entry in listed)

    assert todos.delete(item).status_code == 204
    assert todos.http.get(item, timeout=10).status_code == 404


def test_created_item_is_seen_by_repeated_reads(todos, settings, running_tasks, report):
    """Each request may reach another task: all of them must read the same database."""
    if running_tasks is None:
        report("shared database: task count unknown for a URL target; the reads prove a shared database "
               "only if the service runs 2 or more tasks (give --stack-name to check)")
    elif running_tasks < 2:
        pytest.skip(f"shared database: the service runs {running_tasks} task(s); every read would reach "
                    "the same one, so the test could not fail")
    created = todos.create(title="smoke: shared database")
    assert created.status_code == 201
    item = todos.on_target(created.headers["Location"])
    # A fresh connection per read, so the load balancer can pick a different target every time.
    statuses = [smoke_http.session(item).get(item, timeout=settings["timeout"]).status_code
                for _ in range(10)]
    assert statuses == [200] * 10, f"reads of {item}: {statuses} - do all tasks use the same database?"


def test_static_files_are_served(todos, pytestconfig):
    path = pytestconfig.getoption("static_path")
    response = todos.http.get(todos.url(path), timeout=10)
    assert response.status_code == 200, f"{path}: {response.status_code} - did collectstatic run?"
    assert response.content

