"""A local stand-in for the stack's load balancer and todobackend, so the smoke suite runs offline.

It answers like an ALB in front of the service: 503 until a target "registers" (after a delay), then
the todobackend API with a real SQLite database. Fault modes reproduce what the suite must diagnose:
a crashing backend (the ALB answers 502), a slow one (504), a response cut off mid-body, migrations that
never ran (500 on /todos), tasks that do not share a database (a `router` picks each request's task), the
HTTP-to-HTTPS redirect, and Django's DEBUG = True page for unknown paths (`debug=True`); a `rewrite` changes any
answer, as a proxy or a variant of the API would. Bound to 127.0.0.1 only.

Run it by hand with `python -m tests.integration.standin --port 8000 --delay 5`.
"""
import argparse
import http.server
import json
import re
import sqlite3
import threading
import time
from urllib.parse import urlsplit

HEALTHY, CRASHING, SLOW = "healthy", "crashing", "slow"
TRUNCATING = "truncating"  # a task killed mid-response: the chunked body stops and the connection closes
REDIRECTING = "redirecting"  # the stack's HTTP listener when a CertificateArn is set

STATIC_FILES = {
    # What `manage.py collectstatic` copies from Django REST framework, served by uwsgi from /public.
    "/static/rest_framework/css/bootstrap.min.css": (b"/* stand-in */ body{margin:0}\n", "text/css"),
}

_FIELDS = ("title", "completed", "order")

# Written for the stand-in: the parts of Django's technical 404 page (DEBUG = True) that give it away.
_DEBUG_404 = """<!DOCTYPE html>
<html lang="en"><head><title>Page not found at /{path}</title></head>
<body>
<div id="summary"><h1>Page not found <span>(404)</span></h1>
<table><tr><th>Request Method:</th><td>{method}</td></tr><tr><th>Request URL:</th><td>{url}</td></tr></table></div>
<div id="info"><p>Using the URLconf defined in <code>todobackend.urls</code>,
Django tried these URL patterns, in this order:</p>
<ol><li>todos</li><li>todos/&lt;int:pk&gt;</li><li>^static/(?P&lt;path&gt;.*)$</li></ol>
<p>The current path, <code>{path}</code>, didn't match any of these.</p></div>
<div id="explanation"><p>You're seeing this error because you have <code>DEBUG = True</code> in
your Django settings file.</p></div>
</body></html>
"""


def _alb_page(status: int, reason: str) -> bytes:
    title = f"{status} {reason}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n").encode()


class BadRequest(Exception):
    """Client input the API refuses with 400 and a DRF-style body."""

    def __init__(self, body: dict):
        super().__init__(body)
        self.body = body


class TodoDatabase:
    """The todobackend table in one SQLite database; `migrated=False` leaves the table out."""

    def __init__(self, migrated: bool = True):
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        if migrated:
            self._db.execute(
                "CREATE TABLE todo (id INTEGER PRIMARY KEY, title TEXT, completed INTEGER NOT NULL,"
                " item_order INTEGER)")

    def _run(self, sql: str, args=()) -> sqlite3.Cursor:
        with self._lock, self._db:
            return self._db.execute(sql, args)

    def all(self) -> list:
        return self._run("SELECT id, title, completed, item_order FROM todo ORDER BY id").fetchall()

    def get(self, item_id: int):
        return self._run("SELECT id, title, completed, item_order FROM todo WHERE id = ?",
                         (item_id,)).fetchone()

    def create(self, values: dict) -> int:
        cursor = self._run("INSERT INTO todo (title, completed, item_order) VALUES (?, ?, ?)",
                           (values.get("title"), values.get("completed", False), values.get("order")))
        return cursor.lastrowid

    def update(self, item_id: int, values: dict) -> None:
        for field, value in values.items():
            column = "item_order" if field == "order" else field
            self._run(f"UPDATE todo SET {column} = ? WHERE id = ?", (value, item_id))

    def delete(self, item_id=None) -> None:
        if item_id is None:
            self._run("DELETE FROM todo")
        else:
            self._run("DELETE FROM todo WHERE id = ?", (item_id,))


def validate(body: bytes) -> dict:
    """The item fields a POST/PUT/PATCH sets; the same 400s Django REST framework gives."""
    try:
        data = json.loads(body or b"{}")
    except ValueError as error:
        raise BadRequest({"detail": f"JSON parse error - {error}"}) from None
    if not isinstance(data, dict):
        raise BadRequest({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    errors = {}
    if "title" in data and not isinstance(data["title"], (str, type(None))):
        errors["title"] = ["Not a valid string."]
    if "completed" in data and not isinstance(data["completed"], bool):
        errors["completed"] = ["Must be a valid boolean."]
    if "order" in data and (isinstance(data["order"], bool)
                            or not isinstance(data["order"], (int, type(None)))):
        errors["order"] = ["A valid integer is required."]
    if errors:
        raise BadRequest(errors)
    return {field: data[field] for field in _FIELDS if field in data}


class StandIn:
    """The load balancer and its targets. Change `mode`, `register()` or `deregister()` while it runs."""

    def __init__(self, register_delay=1.0, mode=HEALTHY, tasks=2, shared_database=True,
                 migrated=True, gateway_timeout=0.3, port=0, debug=False, router=None, rewrite=None,
                 id_prefix=""):
        """`router(method, path, number)` picks the task (index) for the `number`th request, from 1;
        round-robin by default, like the ALB. `debug`: unknown paths get Django's DEBUG = True page.
        `rewrite(method, path, status, body, headers)` returns the (status, body, headers) the client gets
        instead of the application's answer (a proxy or a variant of the API); raising drops the connection.
        `id_prefix`: item URLs are /todos/<prefix><number>, as an API with string ids would have them."""
        self.mode = mode
        self.debug = debug
        self.rewrite = rewrite
        self.id_prefix = id_prefix
        self.item_path = re.compile(rf"^/todos/{re.escape(id_prefix)}(\d+)$")
        self._router = router or (lambda method, path, number: number % len(self.databases))
        self.gateway_timeout = gateway_timeout
        self.registered_at = None
        self._register_delay = register_delay
        shared = TodoDatabase(migrated)
        self.databases = [shared if shared_database else TodoDatabase(migrated) for _ in range(tasks)]
        self._requests = 0
        self.connections = set()  # (host, port) of every client connection, to tell fresh ones from reused
        self._task_lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StandIn":
        self._thread.start()
        if self._register_delay is not None:
            self.register(self._register_delay)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def register(self, delay: float = 0.0) -> None:
        """A healthy target joins the target group `delay` seconds from now."""
        self.registered_at = time.monotonic() + delay

    def deregister(self) -> None:
        """No targets left (the service scaled to zero): the ALB answers 503."""
        self.registered_at = None

    @property
    def tasks(self) -> int:
        return len(self.databases)

    @property
    def registered(self) -> bool:
        return self.registered_at is not None and time.monotonic() >= self.registered_at

    def next_database(self, method="GET", path="/") -> TodoDatabase:
        """The database of the task this request reaches (the router's choice)."""
        with self._task_lock:
            self._requests += 1
            return self.databases[self._router(method, path, self._requests)]


def _handler_for(standin: StandIn):
    class Handler(_Handler):
        pass

    Handler.standin = standin
    return Handler


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait 40 ms for an ACK
    standin: StandIn
    server_header = "stand-in"

    def version_string(self):
        return self.server_header

    def log_message(self, *args):
        pass  # the suite records its own timeline; per-request logs would bury pytest's output

    def do_GET(self):
        self._through_load_balancer("GET")

    def do_POST(self):
        self._through_load_balancer("POST")

    def do_PUT(self):
        self._through_load_balancer("PUT")

    def do_PATCH(self):
        self._through_load_balancer("PATCH")

    def do_DELETE(self):
        self._through_load_balancer("DELETE")

    def _through_load_balancer(self, method):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        standin = self.standin
        standin.connections.add(self.client_address)
        if standin.mode == REDIRECTING:  # a listener rule: answered before any target is involved
            self.server_header = "awselb/2.0"
            return self._send(301, b"", None, {"Location": f"https://{self.headers.get('Host')}{self.path}"})
        if not standin.registered:
            return self._alb_error(503, "Service Temporarily Unavailable")
        if standin.mode == CRASHING:
            return self._alb_error(502, "Bad Gateway")
        if standin.mode == SLOW:
            time.sleep(standin.gateway_timeout)
            return self._alb_error(504, "Gateway Time-out")
        if standin.mode == TRUNCATING:
            return self._truncated()
        try:
            path = urlsplit(self.path).path
            self._application(method, path, body, standin.next_database(method, path))
        except sqlite3.OperationalError as error:  # e.g. "no such table": migrations never ran
            self._send(500, f"<h1>Server Error (500)</h1><!-- {error} -->".encode(), "text/html")

    def _application(self, method, path, body, db):
        if path in STATIC_FILES and method == "GET":
            return self._send(200, *STATIC_FILES[path])
        if path == "/":
            return self._route(method, {"GET": lambda: self._json(200, {"todos": self._link("/todos")})})
        if path == "/todos":
            return self._route(method, {
                "GET": lambda: self._json(200, [self._item(row) for row in db.all()]),
                "POST": lambda: self._create(db, body),
                "DELETE": lambda: self._deleted(db.delete()),
            })
        match = self.standin.item_path.match(path)
        if not match and self.standin.debug:
            page = _DEBUG_404.format(method=method, path=path.lstrip("/"), url=self._link(path))
            return self._send(404, page.encode(), "text/html; charset=utf-8")
        if not match:
            return self._send(404, b"<h1>Not Found</h1>", "text/html")
        item_id = int(match.group(1))
        if db.get(item_id) is None and method in ("GET", "PUT", "PATCH", "DELETE"):
            return self._json(404, {"detail": "Not found."})
        self._route(method, {
            "GET": lambda: self._json(200, self._item(db.get(item_id))),
            "PUT": lambda: self._update(db, item_id, body),
            "PATCH": lambda: self._update(db, item_id, body),
            "DELETE": lambda: self._deleted(db.delete(item_id)),
        })

    def _route(self, method, handlers):
        if method not in handlers:
            return self._json(405, {"detail": f'Method "{method}" not allowed.'},
                              {"Allow": ", ".join(handlers)})
        try:
            handlers[method]()
        except BadRequest as error:
            self._json(400, error.body)

    def _create(self, db, body):
        item_id = db.create(validate(body))
        location = self._link(f"/todos/{self.standin.id_prefix}{item_id}")
        self._json(201, self._item(db.get(item_id)), {"Location": location})

    def _update(self, db, item_id, body):
        db.update(item_id, validate(body))
        self._json(200, self._item(db.get(item_id)))

    def _deleted(self, _):
        self._send(204, b"", None)

    def _link(self, path):
        return f"http://{self.headers.get('Host', '127.0.0.1')}{path}"

    def _item(self, row):
        item_id, title, completed, order = row
        # The real serializer's fields: url, title, completed, order (no id).
        return {"url": self._link(f"/todos/{self.standin.id_prefix}{item_id}"), "title": title,
                "completed": bool(completed), "order": order}

    def _json(self, status, payload, headers=None):
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _alb_error(self, status, reason):
        self.server_header = "awselb/2.0"  # what the ALB's own error pages carry
        self._send(status, _alb_page(status, reason), "text/html")

    def _truncated(self):
        """A 200 whose chunked body announces 64 bytes, sends 5 and closes the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"40\r\n[{\"ur")
        self.close_connection = True

    def _send(self, status, body, content_type, headers=None):
        if self.standin.rewrite is not None:
            status, body, headers = self.standin.rewrite(self.command, urlsplit(self.path).path, status, body,
                                                         dict(headers or {}))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:  # the client asked for `Connection: close`: say so, as HTTP/1.1 servers do
            self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds until a target registers")
    parser.add_argument("--mode", choices=(HEALTHY, CRASHING, SLOW, TRUNCATING, REDIRECTING), default=HEALTHY)
    parser.add_argument("--debug", action="store_true", help="unknown paths get Django's DEBUG = True page")
    args = parser.parse_args(argv)
    with StandIn(register_delay=args.delay, mode=args.mode, port=args.port, debug=args.debug) as standin:
        print(f"stand-in at {standin.url} ({args.mode}, registers after {args.delay} s); Ctrl-C stops it")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
