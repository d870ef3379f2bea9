"""The stand-in answers like an ALB in front of todobackend, so passing against it means something."""
import pytest

from tests.integration.smoke import http as smoke_http
from tests.integration.standin import CRASHING, SLOW, StandIn

pytestmark = pytest.mark.selftest

LOCAL = smoke_http.session("http://127.0.0.1")  # no proxies from the environment


@pytest.fixture
def api():
    with StandIn(register_delay=0) as standin:
        def call(method, path, **kwargs):
            return LOCAL.request(method, standin.url + path, timeout=5, **kwargs)
        call.standin = standin
        yield call


@pytest.mark.parametrize("mode, status, title", [
    (None, 503, "503 Service Temporarily Unavailable"),
    (CRASHING, 502, "502 Bad Gateway"),
    (SLOW, 504, "504 Gateway Time-out"),
])
def test_load_balancer_errors_look_like_an_albs(mode, status, title):
    with StandIn(register_delay=None if mode is None else 0, mode=mode, gateway_timeout=0.05) as standin:
        response = LOCAL.get(standin.url + "/todos", timeout=5)
    assert response.status_code == status
    assert f"<title>{title}</title>" in response.text and response.headers["Server"] == "awselb/2.0"


def test_root_links_to_todos_with_the_request_host(api):
    response = api("GET", "/", headers={"Host": "alb.example"})
    assert response.json() == {"todos": "http://alb.example/todos"}


def test_create_answers_201_with_location_and_the_real_serializer_fields(api):
    response = api("POST", "/todos", json={"title": "walk", "order": 2})
    assert response.status_code == 201
    assert response.headers["Location"] == response.json()["url"]
    assert response.json() == {"url": response.headers["Location"], "title": "walk", "completed": False,
                               "order": 2}


def test_item_update_and_delete(api):
    item = api("POST", "/todos", json={"title": "a"}).headers["Location"].split(api.standin.url)[1]
    assert api("PATCH", item, json={"completed": True}).json()["completed"] is True
    assert api("PUT", item, json={"title": "b", "completed": False}).json()["title"] == "b"
    assert api("DELETE", item).status_code == 204
    assert api("GET", item).status_code == 404
    assert api("GET", item).json() == {"detail": "Not found."}


@pytest.mark.parametrize("body, field", [
    (b"{not json", "detail"),
    (b"[1]", "non_field_errors"),
    (b'{"completed": "yes"}', "completed"),
    (b'{"order": "first"}', "order"),
    (b'{"title": 3}', "title"),
])
def test_bad_input_is_400_and_creates_nothing(api, body, field):
    response = api("POST", "/todos", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and field in response.json()
    assert api("GET", "/todos").json() == []


@pytest.mark.parametrize("method, path, allowed", [
    ("POST", "/todos/1", "GET, PUT, PATCH, DELETE"),
    ("PUT", "/todos", "GET, POST, DELETE"),
    ("POST", "/", "GET"),
])
def test_wrong_method_is_405_with_allow(api, method, path, allowed):
    api("POST", "/todos", json={"title": "x"})
    response = api(method, path, json={})
    assert response.status_code == 405 and response.headers["Allow"] == allowed


@pytest.mark.parametrize("path", ["/todos/", "/todos/1/", "/todos/abc", "/nothing"])
def test_no_trailing_slash_and_unknown_paths_are_404(api, path):
    api("POST", "/todos", json={"title": "x"})
    assert api("GET", path).status_code == 404


def test_static_file_from_collectstatic_is_served(api):
    response = api("GET", "/static/rest_framework/css/bootstrap.min.css")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/css"


def test_unmigrated_database_is_a_500_on_todos():
    with StandIn(register_delay=0, migrated=False) as standin:
        assert LOCAL.get(standin.url + "/todos", timeout=5).status_code == 500
        assert LOCAL.get(standin.url + "/", timeout=5).status_code == 200


def test_tasks_with_separate_databases_disagree_on_an_item():
    with StandIn(register_delay=0, tasks=2, shared_database=False) as standin:
        location = LOCAL.post(standin.url + "/todos", json={"title": "x"}, timeout=5).headers["Location"]
        statuses = {LOCAL.get(location, timeout=5).status_code for _ in range(4)}
    assert statuses == {200, 404}


def test_the_stand_in_listens_on_loopback_only(api):
    assert api.standin.url.startswith("http://127.0.0.1:")


def test_debug_mode_answers_unknown_paths_with_djangos_debug_page_and_the_api_as_usual():
    with StandIn(register_delay=0, debug=True) as standin:
        unknown = LOCAL.get(standin.url + "/nothing", timeout=5)
        listed = LOCAL.get(standin.url + "/todos", timeout=5)
    assert unknown.status_code == 404 and "<code>DEBUG = True</code>" in unknown.text
    assert "Django tried these URL patterns" in unknown.text and "<code>nothing</code>" in unknown.text
    assert listed.status_code == 200 and listed.json() == []


def test_a_router_sends_each_request_to_the_task_it_picks():
    picked = []

    def router(method, path, number):
        picked.append((method, path, number))
        return 1 if method == "POST" else 0

    with StandIn(register_delay=0, tasks=2, shared_database=False, router=router) as standin:
        location = LOCAL.post(standin.url + "/todos", json={"title": "x"}, timeout=5).headers["Location"]
        assert LOCAL.get(location, timeout=5).status_code == 404  # task 0 has no item
    assert [row[1] for row in standin.databases[1].all()] == ["x"] and standin.databases[0].all() == []
    assert picked == [("POST", "/todos", 1), ("GET", "/todos/1", 2)]


@pytest.mark.parametrize("accept, content_type, first_line", [
    ("application/json", "text/plain; charset=utf-8", "OperationalError at /todos"),  # the suite's client
    ("text/html,application/xhtml+xml", "text/html; charset=utf-8", "<!DOCTYPE html>"),  # a browser
    (None, "text/html; charset=utf-8", "<!DOCTYPE html>"),  # no Accept header: Django reads it as */*
])
def test_debug_mode_answers_a_server_error_with_djangos_technical_page_in_the_type_django_picks(accept, content_type,
                                                                                               first_line):
    with StandIn(register_delay=0, migrated=False, debug=True) as standin:
        http = smoke_http.session(standin.url)
        if accept is None:
            del http.headers["Accept"]
        response = http.get(standin.url + "/todos", timeout=5, headers={"Accept": accept} if accept else {})
    assert (response.status_code, response.headers["Content-Type"]) == (500, content_type)
    assert response.text.startswith(first_line) and "no such table: todo_todoitem" in response.text


@pytest.mark.parametrize("debug, status, body", [
    (False, 400, "<h1>Bad Request (400)</h1>"),
    (True, 400, "DisallowedHost at /\nInvalid HTTP_HOST header: '127.0.0.1:"),
])
def test_a_host_not_in_allowed_hosts_gets_djangos_400(debug, status, body):
    with StandIn(register_delay=0, allowed_hosts=["todobackend.example"], debug=debug) as standin:
        refused = LOCAL.get(standin.url + "/", timeout=5)
        allowed = LOCAL.get(standin.url + "/", timeout=5, headers={"Host": "todobackend.example"})
        static = LOCAL.get(standin.url + "/static/rest_framework/css/bootstrap.min.css", timeout=5)
    assert refused.status_code == status and refused.text.startswith(body)
    assert allowed.status_code == 200 and static.status_code == 200  # uwsgi serves static files before Django


def test_without_debug_a_server_error_is_djangos_bare_500():
    with StandIn(register_delay=0, migrated=False) as standin:
        response = LOCAL.get(standin.url + "/todos", timeout=5)
    assert (response.status_code, response.text) == (500, "<h1>Server Error (500)</h1>")
