"""A small client for the todobackend API that only ever deletes the items it created."""
import re
import uuid
from urllib.parse import urljoin, urlsplit

import requests

_ITEM_PATH = re.compile(r"^/todos/\d+$")


class TodoClient:
    def __init__(self, http, base_url: str):
        self.http, self.base_url = http, base_url
        self.created: list[str] = []  # item URLs this client created and has not deleted yet

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

    def create(self, **fields):
        fields.setdefault("title", f"smoke test {uuid.uuid4()}")
        response = self.http.post(self.url("/todos"), json=fields, timeout=10)
        if response.status_code == 201 and "Location" in response.headers:
            self.created.append(self.on_target(response.headers["Location"]))
        return response

    def delete(self, item_url: str):
        """DELETE one item. Refuses anything but /todos/<id>: DELETE /todos empties the whole table."""
        if not _ITEM_PATH.match(urlsplit(item_url).path):
            raise ValueError(f"refusing to DELETE {item_url!r}: the suite deletes single items only")
        response = self.http.delete(self.on_target(item_url), timeout=10)
        if response.status_code in (204, 404) and item_url in self.created:
            self.created.remove(item_url)
        return response

    def clean_up(self) -> list[str]:
        """Delete every item still recorded as created; returns what could not be deleted."""
        for item_url in list(self.created):
            try:
                self.delete(item_url)
            except requests.RequestException:
                pass  # keep cleaning the rest; what is left is reported
        return list(self.created)
