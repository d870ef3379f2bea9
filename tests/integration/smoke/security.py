"""Framework debug pages: what gives them away in a response body.

Django with `DEBUG = True` answers an unknown path with its technical 404 page (the URLconf's patterns, the
request) and an error with its technical 500 page (settings, stack frames with local variables, the request's
headers). Through a public load balancer that is a security finding, whatever the status code.
"""

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
