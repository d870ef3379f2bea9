"""A continuous probe: GET one URL every `interval` s on a background thread, recording each answer."""
import threading

from .http import poll
from .timeline import Timeline


class Probe:
    """Use as a context manager around the change being watched; read `timeline` afterwards.

    A probe that stopped early would make a deployment look clean, so `coverage_problem()` says
    whether the samples span the whole time the probe was meant to run.
    """

    def __init__(self, http, url: str, interval: float = 0.25, timeout: float = 5.0):
        self.timeline = Timeline()
        self.interval, self.timeout = interval, timeout
        self._http, self._url = http, url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smoke-probe", daemon=True)
        self.died: str | None = None  # why the probe thread stopped before it was told to
        self.entered = self.exited = None  # timeline clock, seconds since it started

    def _run(self):
        try:
            while True:
                sent = self.timeline.now()
                poll(self._http, self._url, self.timeout, self.timeline)
                if self._stop.wait(max(0.0, sent + self.interval - self.timeline.now())):
                    return
        except Exception as error:  # noqa: BLE001 - reported by coverage_problem(), not lost in a thread
            self.died = f"{type(error).__name__}: {error}"

    def _elapsed(self) -> float:
        return self.timeline.now() - self.timeline.started

    def __enter__(self) -> "Probe":
        self.entered = self._elapsed()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.exited = self._elapsed()
        self._stop.set()
        self._thread.join()

    def coverage_problem(self) -> str | None:
        """Why the samples do not cover the probed period, or None when they do.

        Samples are sent every `interval` s unless a request takes longer (up to `timeout` s), so no
        stretch without a sent request, from entering to exiting, may exceed that plus a second.
        """
        duration = self.exited - self.entered
        count = len(self.timeline.samples)
        expected = int(duration / self.interval)
        if self.died:
            return (f"the probe stopped after {count} samples in {duration:.1f} s (expected about "
                    f"{expected}): {self.died}")
        sent_at = [self.entered, *(sample.at for sample in self.timeline.samples), self.exited]
        longest = max(later - earlier for earlier, later in zip(sent_at, sent_at[1:]))
        if longest > self.interval + self.timeout + 1.0:
            return (f"the probe went {longest:.1f} s without a request ({count} samples in {duration:.1f} s, "
                    f"expected about {expected}): its timeline does not cover the whole change")
        return None
