"""Framework debug pages: what gives them away in a response body.

Django with `DEBUG = True` answers an unknown path with its technical 404 page (the URLconf's patterns, the
request) and an error with its technical 500 page (settings, stack frames with local variables, the request's
headers). Through a public load balancer that is a security finding, whatever the status code.
"""
from urllib.parse import urlsplit

SIGNS = {
    "Django's DEBUG = True page": ("DEBUG = True", "Django tried these URL patterns", "Using the URLconf defined in",
                                   "Request Method:"),
    "a Python traceback": ("Traceback (most recent call last)",),
    "Werkzeug's debugger": ("Werkzeug Debugger", "The debugger caught an exception"),
}


def debug_page_signs(body: str) -> list[str]:
    """`framework: "phrase"` for every sign of a debug page in `body` (whitespace-insensitive); [] if none."""
    text = " ".join(body.split())
    return [f'{framework}: "{phrase}"' for framework, phrases in SIGNS.items() for phrase in phrases
            if phrase in text]


def finding(request, status: int, signs: list[str]) -> str:
    """The SECURITY line of the smoke report for an answer that is a framework debug page."""
    return (f"SECURITY: {request.method} {urlsplit(request.url).path} answered {status} with a framework debug page "
            f"({'; '.join(signs)}) - it shows URL patterns, settings and stack traces to anyone who reaches the "
            "load balancer: set DEBUG = False in the settings the tasks run (DJANGO_SETTINGS_MODULE)")
