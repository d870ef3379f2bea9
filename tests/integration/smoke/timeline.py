"""What a target answered, and when: the record every readiness wait and probe keeps."""
import dataclasses
import itertools
import time


@dataclasses.dataclass(frozen=True)
class Sample:
    at: float                 # seconds since the timeline started
    status: int | None        # HTTP status, or None when the request failed
    error: str | None = None  # exception class name when the request failed
    duration: float = 0.0

    @property
    def label(self) -> str:
        return str(self.status) if self.status is not None else self.error

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Timeline:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self.started = clock()
        self.samples: list[Sample] = []

    def now(self) -> float:
        return self._clock()

    def record(self, status, error=None, sent=None) -> Sample:
        now = self._clock()
        sent = now if sent is None else sent
        sample = Sample(round(sent - self.started, 3), status, error, round(now - sent, 3))
        self.samples.append(sample)
        return sample

    def failures(self) -> list[Sample]:
        return [sample for sample in self.samples if not sample.ok]

    def runs(self) -> list[tuple[str, list[Sample]]]:
        """Consecutive samples with the same answer, in order."""
        return [(label, list(group))
                for label, group in itertools.groupby(self.samples, key=lambda s: s.label)]

    def summary(self) -> str:
        """One line a reader takes in at a glance, e.g. `503 x4 (0.0-1.5 s) -> 200 x3 (2.0-3.0 s)`.

        Each run spans from its first request sent to its last answer (or failure); requests that took
        SLOW s or more add the slowest one's time: `ReadTimeout x1 (0.0-10.0 s; slowest 10.0 s)`.
        """
        if not self.samples:
            return "no requests"
        return " -> ".join(_run_summary(label, group) for label, group in self.runs())


SLOW = 1.0  # seconds: a request this long is worth a reader's attention in a summary


def _run_summary(label: str, group: list[Sample]) -> str:
    ended = max(sample.at + sample.duration for sample in group)
    slowest = max(sample.duration for sample in group)
    slow = f"; slowest {slowest:.1f} s" if slowest >= SLOW else ""
    return f"{label} x{len(group)} ({group[0].at:.1f}-{ended:.1f} s{slow})"
