"""The parts of the Lambda runtime the task runner uses: its context and the passing of time."""
import time


class LambdaContext:
    """Remaining time of an invocation that started now and may last `seconds`, read on `clock`."""

    log_stream_name = "2026/11/26/[$LATEST]0123456789abcdef"  # what the book used as PhysicalResourceId

    def __init__(self, seconds, clock=time.monotonic):
        self._clock = clock
        self._deadline = clock() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - self._clock()) * 1000)


class FakeClock:
    """A clock that only moves when the handler sleeps on it."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
