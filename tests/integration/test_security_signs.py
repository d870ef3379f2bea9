"""What counts as a framework debug page: real shapes give it away, in any content type; ordinary answers do not."""
import pytest
import requests

from tests.integration.smoke import http as smoke_http
from tests.integration.smoke.security import debug_page_signs, finding, inspected
from tests.integration.standin import StandIn

pytestmark = pytest.mark.selftest


@pytest.mark.parametrize("body, framework", [
    # Django's technical 404 as it wraps lines (the words survive, the line breaks do not matter).
    ("<p>Using the URLconf defined in <code>app.urls</code>,\n      Django tried these URL patterns, in this order:",
     "Django's DEBUG = True page"),
    ("<footer id=\"explanation\"><p>\n  You’re seeing this error because you have <code>DEBUG = True</code> in",
     "Django's DEBUG = True page"),
    # A bare Python traceback (gunicorn or uwsgi with a catch-all that prints it, FastAPI's debug mode).
    ('Traceback (most recent call last):\n  File "/app/views.py", line 12, in index\n    raise KeyError',
     "a Python traceback"),
    # Werkzeug's interactive debugger (Flask with debug=True).
    ("<title>KeyError: 'x' // Werkzeug Debugger</title>", "Werkzeug's debugger"),
    # Rails: the HTML exception page, and its text diagnostics (Ruby 3.3 and 3.4 backtrace shapes).
    ("<header><h1>Action Controller: Exception caught</h1></header>", "Rails' exception page"),
    ("ActiveRecord::StatementInvalid (SQLite3::SQLException: no such table: todos):\n\n"
     "app/controllers/todos_controller.rb:5:in `index'", "Rails' exception page"),
    ("NoMethodError (undefined method):\napp/controllers/todos_controller.rb:9:in 'TodosController#show'",
     "Rails' exception page"),
    # Express's default error handler in development: the stack in <pre>, indented with &nbsp;.
    ("<pre>Error: boom<br> &nbsp; &nbsp;at Layer.handle [as handle_request] "
     "(/app/node_modules/express/lib/router/layer.js:95:5)<br></pre>", "a Node.js stack trace"),
    ("Error: boom\n    at /app/index.js:5:9\n    at process.processTicksAndRejections "
     "(node:internal/process/task_queues:95:5)", "a Node.js stack trace"),
])
def test_debug_pages_are_recognised(body, framework):
    assert [sign.split(" (")[0] for sign in debug_page_signs(body)][:1] == [framework]


def standin_answer(path="/", **standin):
    with StandIn(register_delay=0, debug=True, **standin) as running:
        return smoke_http.session(running.url).get(running.url + path, timeout=5)  # the suite's JSON client


@pytest.mark.parametrize("standin, path, status, first_line", [
    ({"allowed_hosts": ["todobackend.example"]}, "/", 400, "DisallowedHost at /"),
    ({"migrated": False}, "/todos", 500, "OperationalError at /todos"),
])
def test_djangos_plain_text_technical_pages_are_recognised(standin, path, status, first_line):
    """Django 5.x sends them as text/plain to a client that does not accept HTML, as the suite's does."""
    response = standin_answer(path, **standin)
    assert (response.status_code, response.headers["Content-Type"]) == (status, "text/plain; charset=utf-8")
    assert response.text.splitlines()[0] == first_line
    signs = debug_page_signs(response.text)
    assert [sign.split(" (")[0] for sign in signs] == ["Django's DEBUG = True page", "a Python traceback"]
    line = finding(response.request, status, signs)
    assert len(line) < 300 and line.count("DEBUG = True page") == 1, line
    assert '-k "not debug_page"' in line


@pytest.mark.parametrize("body", [
    "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",  # Django, DEBUG = False
    "<h1>Server Error (500)</h1>",
    '{"detail": "Not found."}',  # Django REST framework
    "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>",
    '{"title": "meet at 10:30 (room 4) - at the office (floor 2:3:1)", "completed": false}',
    "",
])
def test_ordinary_answers_are_not(body):
    assert debug_page_signs(body) == []


def answer(status, body, content_type="application/json"):
    response = requests.Response()
    response.status_code, response._content = status, body.encode()
    response.headers["Content-Type"] = content_type
    return response


def test_only_error_answers_are_inspected_whatever_their_content_type():
    """A user may title an item "Traceback (most recent call last)", and a static file may hold any text: a 2xx is
    data. A debug page is an error answer, also when it is JSON (Rails' API-mode traces) or plain text."""
    assert not inspected(answer(200, '[{"title": "Traceback (most recent call last): File \\"a.py\\", line 1, in x"}]'))
    assert not inspected(answer(200, "!function(e){throw e} at /app/x.js:1:2", "application/javascript"))
    assert inspected(answer(500, '{"traces": "app/controllers/todos_controller.rb:5:in `index\'"}'))
    assert inspected(answer(400, "DisallowedHost at /", "text/plain; charset=utf-8"))
