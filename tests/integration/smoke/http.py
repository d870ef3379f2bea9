"""HTTP sessions for the suite, and the single timed request every poll and probe makes."""
import ipaddress
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .timeline import Sample, Timeline

JSON = {"Accept": "application/json"}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Session(requests.Session):
    """Never follows a redirect: requests would re-send a DELETE or PUT to wherever a 307 or 301 points (only a
    POST becomes a GET), and the suite writes to the target it was given, nowhere else. A redirect is an answer."""

    def request(self, *args, **kwargs):
        return super().request(*args, **{**kwargs, "allow_redirects": False})


def session(base_url: str, retry_reads: bool = False) -> requests.Session:
    """A session for one target. Polls and probes never retry: each answer is a data point.

    With `retry_reads`, GETs ride out the odd connection error or 502/503/504 from a task being
    replaced, so API checks report the application's behaviour rather than one unlucky request.
    """
    http = _Session()
    # The stand-in is local: never route its traffic through a proxy from the environment.
    http.trust_env = not is_loopback(base_url)
    http.headers.update(JSON)
    adapter = HTTPAdapter(max_retries=Retry(
        total=3, connect=3, read=0, status=2, backoff_factor=0.2, status_forcelist=(502, 503, 504),
        allowed_methods={"GET"}, raise_on_status=False)) if retry_reads else HTTPAdapter(max_retries=0)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def poll(http: requests.Session, url: str, timeout: float, timeline: Timeline) -> Sample:
    """GET `url` once and record the status, or the kind of failure, on the timeline.

    Each poll opens a fresh connection: a kept-alive one would pin every poll to one load balancer
    node (and one DNS answer), hiding the nodes that do not route to a healthy target yet.
    """
    sent = timeline.now()
    try:
        response = http.get(url, timeout=(min(timeout, 3.05), timeout), allow_redirects=False,
                            headers={"Connection": "close"})
    except requests.RequestException as error:  # e.g. a body cut off by a task killed mid-response
        return timeline.record(None, type(error).__name__, sent)
    response.close()
    return timeline.record(response.status_code, None, sent)
