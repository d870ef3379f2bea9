"""Security: what a stranger sees through the public load balancer.

A debug page fails the run by default: it shows the URL patterns, and on an error the settings, stack frames
with their local variables and the request's headers, to anyone on the internet. A smoke suite is a deploy
gate, so green must not mean "serving a debug page". To accept it on purpose (a throw-away dev stack),
deselect the test: `-k "not debug_page"` (security.ACCEPT).
"""
import secrets

import pytest

from tests.integration.smoke.security import ACCEPT, debug_page_signs


def test_an_unknown_path_shows_no_debug_page(api, report):
    """The finding itself heads the smoke report: the API client reports every debug page it gets (conftest)."""
    path = f"/smoke-no-such-page-{secrets.token_hex(4)}"
    # What a browser asks for: Django's debug pages are HTML.
    response = api.http.get(api.url(path), timeout=10, headers={"Accept": "text/html"})
    signs = debug_page_signs(response.text)
    if not signs:
        report(f"security: GET {path} answered {response.status_code} without a framework debug page")
        return
    pytest.fail(f"GET {path} answered {signs[0].split(' (')[0]}: set DEBUG = False in the deployed settings "
                f"(SECURITY in the smoke report; {ACCEPT})", pytrace=False)
