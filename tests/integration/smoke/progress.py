"""Progress lines while the suite waits, so a five-minute wait does not look hung (and a CI log stays short)."""
import collections

from .timeline import Timeline


class ProgressLine:
    """A progress callback for the waits: `write(line)` after the first answer, then at most every `every` s.

    The line says what came back so far and how much of the deadline is used, e.g.
    `waiting for http://alb/ to be ready: 12 s of 300 s - 503 x5, ConnectionError x1`. One instance can
    follow successive waits: each new timeline starts its lines afresh.
    """

    def __init__(self, write, what: str, every: float):
        self.write, self.what, self.every = write, what, every
        self._timeline = None
        self._last = None  # elapsed seconds at the last line written for that timeline

    def __call__(self, timeline: Timeline, deadline: float) -> None:
        if timeline is not self._timeline:
            self._timeline, self._last = timeline, None
        elapsed = timeline.now() - timeline.started
        if self._last is not None and elapsed - self._last < self.every:
            return
        self._last = elapsed
        counts = collections.Counter(sample.label for sample in timeline.samples)  # in order of first answer
        answers = ", ".join(f"{label} x{count}" for label, count in counts.items())
        self.write(f"{self.what}: {elapsed:.0f} s of {deadline:g} s - {answers}")
