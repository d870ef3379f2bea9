"""The parts of the Lambda runtime the task runner uses: its code loaded from a file, its context and the passing
of time."""
import importlib.util
import time
from unittest import mock

import urllib3

from tests.support.template import HANDLER

RESPONSE_SCALE = 4


def load_handler(name="task_runner", path=HANDLER):
    """A handler (lambda/task_runner.py unless told), loaded from the file CloudFormation deploys ('lambda' is no
    importable name)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_handler_with_shorter_response_settings():
    """The handler loaded again with its response timeout and backoff written RESPONSE_SCALE times shorter.

    The same code derives RESPONSE_SECONDS from them, so a wait on the real clock proves the derivation
    in a fraction of the production worst case (the derivation is linear in both settings).
    """
    timeout, retry = urllib3.Timeout, urllib3.Retry
    with mock.patch.object(urllib3, "Timeout", lambda total: timeout(total=total / RESPONSE_SCALE)), \
            mock.patch.object(urllib3, "Retry", lambda backoff_factor, **kwargs: retry(
                backoff_factor=backoff_factor / RESPONSE_SCALE, **kwargs)):
        return load_handler("task_runner_fast_response")


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
