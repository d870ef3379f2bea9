"""A continuous probe: GET one URL every `interval` s on a background thread, recording each answer."""
import threading

from .http import poll
from .timeline import Timeline


class Probe:
    """Use as a context manager around the change being watched; read `timeline` afterwards."""

    def __init__(self, http, url: str, interval: float = 0.25, timeout: float = 5.0):
        self.timeline = Timeline()
        self._http, self._url, self._interval, self._timeout = http, url, interval, timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smoke-probe", daemon=True)

    def _run(self):
        while True:
            sent = self.timeline.now()
            poll(self._http, self._url, self._timeout, self.timeline)
            if self._stop.wait(max(0.0, sent + self._interval - self.timeline.now())):
                return

    def __enter__(self) -> "Probe":
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
