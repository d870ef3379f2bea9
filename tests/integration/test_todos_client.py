"""The suite's API client changes only items it proves are its own, and cannot empty a user's table."""
import pytest

from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.todos import CONFIRM_READS, Item, Ledger, TasksDisagree, TodoClient
from tests.integration.standin import StandIn

pytestmark = pytest.mark.selftest

USER_ITEMS = [{"title": f"user item {n}", "completed": n % 2 == 0, "order": n} for n in range(1, 5)]


def client_of(standin, ledger=None):
    return TodoClient(smoke_http.session(standin.url), standin.url, ledger or Ledger("test-run"))


def seed(database, count):
    for values in USER_ITEMS[:count]:
        database.create(values)
    return database.all()


@pytest.fixture
def client():
    with StandIn(register_delay=0) as standin:
        yield client_of(standin)


def titles(client):
    return sorted(item["title"] for item in client.http.get(client.url("/todos")).json())


def test_items_carry_the_run_id_and_a_token_of_their_own(client):
    first, second = client.create("a"), client.create("a")
    assert first.marker.startswith("[smoke test-run ") and first.marker != second.marker
    assert titles(client) == sorted([f"a {first.marker}", f"a {second.marker}"])
    assert client.ledger.items == [first, second]


def test_clean_up_deletes_only_what_the_client_created(client):
    client.http.post(client.url("/todos"), json={"title": "the user's own"})
    client.create("ours 1")
    client.create("ours 2")
    assert client.clean_up() == []
    assert titles(client) == ["the user's own"]
    assert client.ledger.left_behind() == []


def test_an_item_deleted_by_the_test_is_not_deleted_twice(client):
    item = client.create("x")
    client.delete(item)
    assert item.deleted and client.clean_up() == []


@pytest.mark.parametrize("path", ["/todos", "/todos/", "/", "/todos/1/extra", "/todos/.."])
def test_delete_refuses_anything_but_one_item(client, path):
    kept = client.create("kept")
    with pytest.raises(ValueError, match="deletes single items only"):
        client.delete(Item(client.url(path), "[marker]", {}))
    assert titles(client) == [f"kept {kept.marker}"]


def test_links_to_another_host_are_not_followed(client):
    with pytest.raises(AssertionError, match="points at another host"):
        client.on_target("http://elsewhere.example/todos/1")


def test_created_items_are_recorded_by_their_location_on_the_target(client):
    item = client.create("x")
    assert item.url == client.url(f"/todos/{client.http.get(client.url('/todos')).json()[0]['url'].rsplit('/', 1)[1]}")


def test_a_shared_database_confirms_every_read(client):
    item = client.create("x")
    client.confirm(item)
    assert item.confirmed and client.ledger.disagreement is None


def split(tasks_first, tasks_second, **router):
    """Two tasks on separate databases seeded with user items; POSTs reach the second task."""
    route = router.get("route") or (lambda method, path, number: 1 if method == "POST" else number % 2)
    standin = StandIn(register_delay=0, tasks=2, shared_database=False, router=route)
    seeded = (seed(standin.databases[0], tasks_first), seed(standin.databases[1], tasks_second))
    return standin, seeded


@pytest.mark.parametrize("first, second, evidence", [
    (4, 2, "task answered with another item"),  # the item gets id 3, a user's item on the first task
    (2, 2, "task answered 404 for an item the suite created"),  # id 3 exists on the second task only
])
def test_tasks_on_separate_databases_are_caught_and_nothing_of_the_users_changes(first, second, evidence):
    standin, seeded = split(first, second)
    with standin:
        client = client_of(standin)
        item = client.create("x")
        with pytest.raises(TasksDisagree, match=evidence):
            client.confirm(item)
        assert client.clean_up() == [item]
        with pytest.raises(TasksDisagree, match="writes nothing more"):
            client.create("y")
        assert standin.databases[0].all() == seeded[0]  # the user's items, untouched
        assert standin.databases[1].all()[:second] == seeded[1]
    assert client.ledger.left_behind() == [item] and client.ledger.disagreement.startswith(evidence)


def route_by_method(**tasks):
    return lambda method, path, number: tasks.get(method, 1)


def delete(client, item):
    client.delete(item)


def patch(client, item):
    client.update(item, "PATCH", completed=True)


@pytest.mark.parametrize("user_items, write, evidence, first_task_after", [
    # A DELETE answering 404 is not "deleted": the item stays listed.
    (0, delete, "DELETE /todos/1 answered 404: .* not deleted", []),
    # The limit of any client behind a load balancer: confirmed reads do not decide where the write goes.
    # The user's item with the same id is changed; the client says so and writes nothing more.
    (1, delete, "still finds the item .* deleted that task's item", []),
    (1, patch, "PATCH /todos/1 reached another task and changed its item", [(1, "user item 1", 1, 1)]),
])
def test_a_write_that_reaches_another_task_is_caught_and_the_item_stays_listed(user_items, write, evidence,
                                                                              first_task_after):
    method = "DELETE" if write is delete else "PATCH"
    standin, _ = split(user_items, 0, route=route_by_method(**{method: 0}))  # all else reaches task 1
    with standin:
        client = client_of(standin)
        item = client.create("x")
        with pytest.raises(TasksDisagree, match=evidence):
            write(client, item)
        assert client.clean_up() == [item]
        assert standin.databases[0].all() == first_task_after
    assert not item.deleted and client.ledger.left_behind() == [item]


def test_confirming_reads_use_fresh_connections():
    with StandIn(register_delay=0) as standin:
        client = client_of(standin)
        item = client.create("x")
        before = len(standin.connections)
        client.confirm(item)
    assert len(standin.connections) - before == CONFIRM_READS
