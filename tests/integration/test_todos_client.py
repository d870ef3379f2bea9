"""The suite's API client cleans up after itself and cannot empty a user's table."""
import pytest

from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.todos import TodoClient
from tests.integration.standin import StandIn

pytestmark = pytest.mark.selftest


@pytest.fixture
def client():
    with StandIn(register_delay=0) as standin:
        yield TodoClient(smoke_http.session(standin.url), standin.url)


def titles(client):
    return sorted(item["title"] for item in client.http.get(client.url("/todos")).json())


def test_clean_up_deletes_only_what_the_client_created(client):
    client.http.post(client.url("/todos"), json={"title": "the user's own"})
    client.create(title="ours 1")
    client.create(title="ours 2")
    assert titles(client) == ["ours 1", "ours 2", "the user's own"]
    assert client.clean_up() == []
    assert titles(client) == ["the user's own"]


def test_an_item_deleted_by_the_test_is_not_deleted_twice(client):
    item = client.on_target(client.create().headers["Location"])
    assert client.delete(item).status_code == 204
    assert client.created == [] and client.clean_up() == []


@pytest.mark.parametrize("path", ["/todos", "/todos/", "/", "/todos/1/extra"])
def test_delete_refuses_anything_but_one_item(client, path):
    client.create(title="kept")
    with pytest.raises(ValueError, match="deletes single items only"):
        client.delete(client.url(path))
    assert titles(client) == ["kept"]


def test_links_to_another_host_are_not_followed(client):
    with pytest.raises(AssertionError, match="points at another host"):
        client.on_target("http://elsewhere.example/todos/1")


def test_created_items_are_recorded_by_their_location_on_the_target(client):
    response = client.create(title="x")
    assert response.status_code == 201
    assert client.created == [client.url(f"/todos/{response.headers['Location'].rsplit('/', 1)[1]}")]
