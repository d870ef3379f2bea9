"""Framework debug pages: what gives them away in a response body, whatever its content type.

Django with `DEBUG = True` answers an unknown path with its technical 404 page (the URLconf's patterns, the
request) and an error with its technical 500 page (settings, stack frames with local variables, the request's
headers). Django 5.x sends the error page, and the DisallowedHost 400, as text/plain to a client that does not
accept HTML, as the suite's JSON client does. Other frameworks leak the same way: a Python traceback, Werkzeug's
debugger (Flask), Rails' exception page or its text diagnostics, a Node.js stack (Express's default error
handler). Through a public load balancer that is a security finding, whatever the status code.
"""
import html
import re
from urllib.parse import urlsplit

# How to accept a debug page on purpose (a throw-away dev stack): deselect the check, visibly, on the command line.
ACCEPT = 'on a throw-away stack, accept it with -k "not debug_page"'

_STACK_PATH = r"(?:/|[A-Za-z]:\\|node:|file://)[^\s()]*"
SIGNS = {
    "Django's DEBUG = True page": ("DEBUG = True", "Django tried these URL patterns", "Using the URLconf defined in",
                                   "Django Version:", "Request Method:"),
    "a Python traceback": ("Traceback (most recent call last)", re.compile(r'File "[^"]+\.py", line \d+, in [\w<>]+')),
    "Werkzeug's debugger": ("Werkzeug Debugger", "The debugger caught an exception"),
    "Rails' exception page": ("Action Controller: Exception caught",
                              re.compile(r"[\w./-]+\.rb:\d+:in [`'‘][^`'’]+['’]")),
    "a Node.js stack trace": (re.compile(rf"\bat (?:[^\s()]+(?: \[as [^\]]+\])? \({_STACK_PATH}:\d+:\d+\)|"
                                         rf"{_STACK_PATH}\.[cm]?js:\d+:\d+)"),),
}


def debug_page_signs(body: str) -> list[str]:
    """`framework ("phrase", ...)` for every framework whose debug output `body` shows; [] if none.

    HTML entities and line breaks do not matter (Express writes `&nbsp;` into its stack lines, Django wraps its
    explanation).
    """
    text = " ".join(html.unescape(body).split())
    found = []
    for framework, signs in SIGNS.items():
        matched = [phrase for phrase in (_matched(sign, text) for sign in signs) if phrase]
        if matched:
            found.append(f"{framework} ({', '.join(repr(phrase) for phrase in matched[:2])})")  # two say enough
    return found


def _matched(sign, text: str) -> str | None:
    """What of `text` gives the sign away: the phrase itself, or what the pattern matched."""
    if isinstance(sign, re.Pattern):
        match = sign.search(text)
        return match.group() if match else None
    return sign if sign in text else None


def inspected(response) -> bool:
    """Whether an answer may be a debug page: every framework sends them as errors (4xx, 5xx), in any content type.
    A successful answer is the API's data or a static file, which may hold any text (users' items, minified
    JavaScript) and is never inspected."""
    return response.status_code >= 400


def finding(request, status: int, signs: list[str]) -> str:
    """The SECURITY line of the smoke report for an answer that is a framework debug page."""
    return (f"SECURITY: {request.method} {urlsplit(request.url).path} answered {status} with {signs[0]}: anyone "
            "who reaches the load balancer sees settings and stack traces - set DEBUG = False in the settings the "
            f"tasks run ({ACCEPT})")
