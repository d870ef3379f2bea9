"""Progress lines while the suite waits, so a five-minute wait does not look hung (and a CI log stays short)."""
import collections

from .timeline import Timeline


class ProgressLine:
    """A progress callback for the waits: `write(line)` after the first answer, then once per `every` s.

    The line says what came back so far and how much of the deadline is used, e.g.
    `waiting for http://alb/ to be ready: 12 s of 300 s - 503 x5, ConnectionError x1`. Lines are due at
    0, every, 2 x every... seconds into the wait, each written with the first answer after it is due: a slow
    first answer does not push every later line back. One instance can follow successive waits: each new
    timeline starts its lines afresh.
    """

    def __init__(self, write, what: str, every: float):
        self.write, self.what, self.every = write, what, every
        self._timeline = None
        self._due = 0.0  # elapsed seconds from which the next line may be written

    def __call__(self, timeline: Timeline, deadline: float) -> None:
        if timeline is not self._timeline:
            self._timeline, self._due = timeline, 0.0
        elapsed = timeline.now() - timeline.started
        if elapsed < self._due:
            return
        if self.every:
            self._due = (elapsed // self.every + 1) * self.every
        counts = collections.Counter(sample.label for sample in timeline.samples)  # in order of first answer
        answers = ", ".join(f"{label} x{count}" for label, count in counts.items())
        self.write(f"{self.what}: {elapsed:.0f} s of {deadline:g} s - {answers}")
