"""A client for the todobackend API that changes only the items it created, and proves they are its own.

The safe rule (docs/smoke-suite.md, "What the suite does to your data"):

1. Every item the suite creates carries a marker in its title: the run id and a random token. An answer is
   about the suite's item only if its body carries that marker. An id proves nothing: tasks on separate
   databases hand out the same ids, so /todos/2 can be the suite's item on one task and a user's on another.
2. Before its first write (PATCH, PUT or DELETE) to an item, the suite reads it CONFIRM_READS times, each on a
   fresh connection so the load balancer may pick another task each time; every answer must be 200 with the
   marker. Every write is checked too: a PATCH or PUT must answer with the marker; a DELETE must answer 204
   (a 404 is not "deleted": the task it reached does not have the item) and the item must then read 404; a 200
   or 202 counts once the item reads 404, and fails the test on its status only.
3. Any answer that disagrees (another item's body, a 404 for an item not deleted, the item still there after its
   DELETE) means the tasks do not share one database. From then on the suite creates nothing and writes to no
   item: the check fails with the evidence, and the items left behind are listed (URL and marker) for an operator.
4. Never DELETE /todos (it empties the table); never follow a link to another host.
5. A POST that failed may still have stored the item (a 500 or a timeout after the insert): it is listed by its
   marker, unless the answers prove nothing was stored. They do when the POST's 500 names a missing table and
   GET /todos fails on that same table (the list reads the items' table only, so that is the table the INSERT
   needed): with DEBUG = True, Django's error page names it. A bare "Server Error (500)" proves nothing.

What no client can promise through a load balancer: no read decides where the next request goes. An ALB picks
a target for every request with its target group's routing algorithm (round_robin by default, or
least_outstanding_requests or weighted_random: "Target groups for your Application Load Balancers", Routing
algorithms), and a new connection may reach another load balancer node, one per Availability Zone ("How ELB
works"). With stickiness on the target group, the session's cookie keeps every request on one task: the reads
then cannot see a split, and the writes stay with them. If the databases are split and every confirming read
reached the task holding the item, a write can still reach another task and change that task's item with the
same id. The suite reports it when an answer shows it (a PATCH or PUT answering with another body, the item
still there after a 204), but cannot undo it.
"""
import dataclasses
import re
import secrets
import time
from urllib.parse import urljoin, urlsplit

import requests

_ITEM_PATH = re.compile(r"^/todos/(?!\.\.?$)[^/]+$")  # one item, whatever its ids look like (numbers, UUIDs)
_MARKER = re.compile(r"\[smoke [^]]+\]")
CONFIRM_READS = 10  # two tasks picked at random: all ten on the item's own is a 1-in-1024 chance
FRESH = {"Connection": "close"}  # the next request opens a new connection, which the load balancer routes anew
SPLIT_HINT = ("the tasks behind the load balancer do not share one database: check every task's database "
              "settings (MYSQL_HOST and MYSQL_DATABASE in the task definition)")
MIGRATIONS = ("the todo table is probably missing: were the migrations run against the database the tasks use? "
              "(this stack runs them in its MigrateTask custom resource: its CloudFormation event and the "
              "migrate task's logs say how it went; elsewhere run `manage.py migrate` against that database)")
# A database's "no such table" in an error answer: SQLite, MySQL, PostgreSQL (Django's DEBUG page quotes it).
_MISSING_TABLE = re.compile(r"no such table: ([\w.]+)|Table '([\w.]+)' doesn't exist|"
                            r"relation \"([\w.]+)\" does not exist")


def missing_table(text: str) -> str | None:
    """The table an error answer says does not exist, if it names one."""
    match = _MISSING_TABLE.search(text)
    return next(name for name in match.groups() if name) if match else None


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def _post_failure(status: int, table: str | None) -> str:
    """What a POST that did not answer 201 means, as far as its answer tells."""
    if table:
        return (f"the API did not create the item (its answer says table {table} does not exist: were the "
                "migrations run?)")
    if status >= 500:
        return ("the API did not create the item (a server error: the tasks' logs say why; it may have stored the item "
                "before failing, so the smoke report lists it by its marker)")
    return "the API did not create the item"


class TasksDisagree(AssertionError):
    """Answers about one item differ between tasks: the suite must write nothing more."""


class TableMissing(AssertionError):
    """GET /todos failed because the items' table does not exist."""

    def __init__(self, table: str, message: str):
        super().__init__(message)
        self.table = table


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)


def expect(response, status: int, meaning: str) -> None:
    """Fail with what was asked, what came back and what it means, not a bare comparison of two numbers."""
    __tracebackhide__ = True  # the failure points at the test's line
    if response.status_code != status:
        request = response.request
        raise AssertionError(f"{request.method} {urlsplit(request.url).path} answered {response.status_code}, "
                             f"expected {status}: {meaning}\n  body: {response.text[:200]!r}")


@dataclasses.dataclass
class Item:
    url: str | None         # None until a POST answered 201 with the marker and a Location on the target
    marker: str
    fields: dict            # title, completed, order as the suite last wrote them
    deleted: bool = False
    confirmed: bool = False  # read CONFIRM_READS times with its marker
    trouble: str | None = None  # why the clean-up could not delete it
    missing_table: str | None = None  # the table its POST's error answer said does not exist

    def is_mine(self, body) -> bool:
        return isinstance(body, dict) and self.marker in str(body.get("title"))


class Ledger:
    """Every item this run created, and the first evidence that tasks disagree: one per session."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.items: list[Item] = []
        self.disagreement: str | None = None  # the first evidence, as shown in the failure
        self.noticed_in: str | None = None    # the test that showed it

    def marker(self) -> str:
        return f"[smoke {self.run_id} {secrets.token_hex(4)}]"

    def left_behind(self) -> list[Item]:
        return [item for item in self.items if not item.deleted]

    def disagree(self, evidence: str, where: str | None) -> TasksDisagree:
        if self.disagreement is None:
            self.disagreement, self.noticed_in = evidence, where
        return TasksDisagree(f"tasks disagree - {evidence}: {SPLIT_HINT}. The suite writes nothing more; "
                             "the smoke report lists the items it leaves behind.")


class ApiClient:
    """Reads through the load balancer; creates nothing."""

    def __init__(self, http, base_url: str):
        self.http, self.base_url = http, base_url

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def on_target(self, link: str) -> str:
        """`link` re-based onto the target after checking it names the same host.

        Django builds links from the Host header; following one to another host would send the suite's
        traffic (and deletes) somewhere the user did not point it.
        """
        parts = urlsplit(link)
        assert parts.hostname == urlsplit(self.base_url).hostname, (
            f"{link!r} points at another host than the target {self.base_url}")
        return self.url(parts.path)


    def listed_with(self, tag: str) -> list[tuple[str, str]]:
        """(url, marker) of every item GET /todos lists whose title carries `tag` (a run's marker prefix).

        A read through the load balancer: it sees one task's database, and finds what the ledger cannot know
        (an item a retried POST created twice). Raises AssertionError or RequestException if it cannot look.
        """
        response = self.http.get(self.url("/todos"), timeout=10)
        table = missing_table(response.text) if response.status_code >= 500 else None
        if table:
            raise TableMissing(table, f"GET /todos answered {response.status_code}: table {table} does not exist")
        expect(response, 200, "the items left behind could not be searched for")
        entries = _json(response)
        assert isinstance(entries, list), f"GET /todos answered {response.text[:200]!r}, not a JSON list"
        return [(str(entry.get("url")), _MARKER.search(entry["title"]).group()) for entry in entries
                if isinstance(entry, dict) and tag in str(entry.get("title"))]


class TodoClient(ApiClient):
    """Creates items with markers and writes only to them, by the rule above."""

    def __init__(self, http, base_url: str, ledger: Ledger, where: str | None = None):
        super().__init__(http, base_url)
        self.ledger = ledger
        self.where = where  # the test using the client, named when tasks disagree
        self.mine: list[Item] = []  # created through this client

    def _refuse_if_split(self) -> None:
        if self.ledger.disagreement is not None:
            raise TasksDisagree(f"tasks disagreed earlier ({self.ledger.noticed_in}): the suite writes nothing more")

    def _disagree(self, evidence: str) -> TasksDisagree:
        return self.ledger.disagree(evidence, self.where)

    def create(self, label: str, **fields) -> Item:
        """POST an item titled `label` plus a fresh marker; 201 with Location and the marker, or AssertionError."""
        __tracebackhide__ = True  # failures point at the test's line, with the evidence
        self._refuse_if_split()
        marker = self.ledger.marker()
        fields = {"title": f"{label} {marker}", **fields}
        # Listed before it is sent: a POST that fails may still have created the item (a 500 or a timeout
        # after the insert), and the smoke report must name it by its marker.
        item = Item(None, marker, {"completed": False, "order": None, **fields})
        self.ledger.items.append(item)
        self.mine.append(item)
        response = self.http.post(self.url("/todos"), json=fields, timeout=10, headers=FRESH)
        if 400 <= response.status_code < 500:
            self.ledger.items.remove(item)  # refused: a client error creates nothing
            self.mine.remove(item)
        if response.status_code >= 500:
            item.missing_table = missing_table(response.text)
        expect(response, 201, _post_failure(response.status_code, item.missing_table))
        assert "Location" in response.headers, "POST /todos answered 201 without a Location header"
        location = self.on_target(response.headers["Location"])
        assert _ITEM_PATH.match(urlsplit(location).path), (
            f"POST /todos answered 201 with Location {response.headers['Location']!r}, which names no single item")
        assert item.is_mine(_json(response)), (
            f"POST /todos answered 201 with a body that does not carry the marker {marker}: "
            f"{response.text[:200]!r}; something between the suite and the API rewrites bodies, or the API "
            f"answered about another item, so {location} may not be the suite's")
        item.url = location
        return item

    def read(self, item: Item, attempt: str = "") -> dict:
        """GET the item on a fresh connection: 200 with its marker, or TasksDisagree with the evidence."""
        __tracebackhide__ = True  # failures point at the test's line, with the evidence
        response = self.http.get(item.url, timeout=10, headers=FRESH)
        body = _json(response)
        where = f"GET {urlsplit(item.url).path}{attempt}"
        if response.status_code == 404 and not item.deleted:
            raise self._disagree(f"task answered 404 for an item the suite created and has not deleted "
                                 f"({where}, the item titled {item.fields['title']!r})")
        expect(response, 200, f"reading back the item the suite created ({item.marker})")
        if not item.is_mine(body):
            raise self._disagree(f"task answered with another item: {where} answered {response.text[:200]} "
                                 f"instead of the item marked {item.marker}")
        return body

    def confirm(self, item: Item) -> None:
        """Read the item CONFIRM_READS times; once per item, before its first write."""
        __tracebackhide__ = True  # failures point at the test's line, with the evidence
        if not item.confirmed:
            for attempt in range(1, CONFIRM_READS + 1):
                self.read(item, f" (read {attempt} of {CONFIRM_READS})")
            item.confirmed = True

    def update(self, item: Item, method: str, **fields) -> dict:
        """PATCH or PUT the item; `title`, when given, is a label that keeps the marker."""
        __tracebackhide__ = True  # failures point at the test's line, with the evidence
        self._refuse_if_split()
        self.confirm(item)
        if "title" in fields:
            fields["title"] = f"{fields['title']} {item.marker}"
        response = self.http.request(method, item.url, json=fields, timeout=10, headers=FRESH)
        expect(response, 200, f"the API did not accept a {method} of its own item")
        if not item.is_mine(_json(response)):
            raise self._disagree(f"{method} {urlsplit(item.url).path} reached another task and changed its item "
                                 f"with the same id, which now reads {response.text[:200]}")
        item.fields.update(fields)
        return response.json()

    def delete(self, item: Item) -> None:
        """DELETE one item of this run, confirmed first; 204 and then 404, or an AssertionError saying why."""
        __tracebackhide__ = True  # failures point at the test's line, with the evidence
        if not _ITEM_PATH.match(urlsplit(item.url).path):
            raise ValueError(f"refusing to DELETE {item.url!r}: the suite deletes single items only")
        self._refuse_if_split()
        self.confirm(item)
        path = urlsplit(item.url).path
        response = self.http.delete(item.url, timeout=10, headers=FRESH)
        if response.status_code == 404:
            raise self._disagree(f"DELETE {path} answered 404: the task it reached does not have the item "
                                 f"marked {item.marker}, so it is not deleted")
        if not 200 <= response.status_code < 300:  # a 200 or 202 may have deleted it: the read after tells
            expect(response, 204, "the API did not delete the suite's own item")
        after = self.http.get(item.url, timeout=10, headers=FRESH)
        if after.status_code == 200 and item.is_mine(_json(after)):
            raise self._disagree(f"GET {path} after a DELETE that answered {response.status_code} still finds the "
                                 f"item marked {item.marker}: either the DELETE reached another task and deleted "
                                 "that task's item with the same id, or reads come from a copy that lags (a read "
                                 "replica or a cache), so the suite cannot tell whether the item is gone")
        item.deleted = True
        if after.status_code == 200:
            raise self._disagree(f"GET {path} after its DELETE answered with another item: {after.text[:200]}")
        expect(after, 404, "the item the suite deleted can still be read")
        expect(response, 204, "the item is gone (a GET answers 404), but todobackend's DELETE answers 204")

    def clean_up(self) -> list[Item]:
        """Delete this client's items that are still there, unless tasks disagree; returns what is left.

        Raises TasksDisagree if the clean-up itself is where the disagreement shows.
        """
        for item in [item for item in self.mine if not item.deleted and item.url is not None]:
            if self.ledger.disagreement is not None:
                break
            try:
                self.delete(item)
            except TasksDisagree:
                raise
            except (requests.RequestException, AssertionError) as error:
                item.trouble = str(error).splitlines()[0]  # keep cleaning the rest; what is left is reported
        return [item for item in self.mine if not item.deleted and item.url is not None]
