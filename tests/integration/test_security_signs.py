"""What counts as a framework debug page: real shapes give it away, ordinary error pages do not."""
import pytest

from tests.integration.smoke.security import debug_page_signs

pytestmark = pytest.mark.selftest


@pytest.mark.parametrize("body, sign", [
    # Django's technical 404 as it wraps lines (the words survive, the line breaks do not matter).
    ("<p>Using the URLconf defined in <code>app.urls</code>,\n      Django tried these URL patterns, in this order:",
     "Django's DEBUG = True page: \"Django tried these URL patterns\""),
    ("<footer id=\"explanation\"><p>\n  You’re seeing this error because you have <code>DEBUG = True</code> in",
     "Django's DEBUG = True page: \"DEBUG = True\""),
    # Django's technical 500 as plain text, for a client that does not accept HTML.
    ("DisallowedHost at /\nRequest Method: GET\nRequest URL: http://alb/",
     "Django's DEBUG = True page: \"Request Method:\""),
    ("Traceback (most recent call last):\n  File \"/app/views.py\"",
     "a Python traceback: \"Traceback (most recent call last)\""),
])
def test_debug_pages_are_recognised(body, sign):
    assert sign in debug_page_signs(body)


@pytest.mark.parametrize("body", [
    "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",  # Django, DEBUG = False
    '{"detail": "Not found."}',  # Django REST framework
    "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>",
    "",
])
def test_ordinary_error_pages_are_not(body):
    assert debug_page_signs(body) == []
