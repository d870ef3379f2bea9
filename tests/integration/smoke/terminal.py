"""Lines the suite writes between test results while a test waits (progress), as they happen.

pytest's stdout is block-buffered when it is not a terminal (CI logs, `| tee`): a line written without a
flush reaches the reader when the buffer fills or the run ends, so every line here is flushed, whatever
PYTHONUNBUFFERED says.
"""
import contextlib
import os

import pytest


class TerminalLines:
    """A pytest plugin: `write(line)` puts a line in the terminal now, also while output is captured.

    Without -v, pytest writes a test file's name and then a letter per result on one line; lines written in
    between break that line. The file name is written again once, before the next result, not after every line.
    """

    def __init__(self, config):
        self._config = config
        self._interrupted = False  # lines written since the last result

    @property
    def _reporter(self):
        return self._config.pluginmanager.get_plugin("terminalreporter")  # None with -p no:terminal

    def write(self, line: str) -> None:
        reporter = self._reporter
        if reporter is None:
            return
        capture = self._config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)
            reporter.flush()
        self._interrupted = True

    @pytest.hookimpl(tryfirst=True)  # before the terminal reporter writes the result's letter
    def pytest_runtest_logreport(self, report):
        reporter = self._reporter
        if self._interrupted and reporter is not None and reporter.verbosity <= 0 and reporter.currentfspath is None:
            path = self._config.rootpath / report.nodeid.split("::")[0]
            reporter.write(os.path.relpath(path, reporter.startpath) + " ")
            reporter.currentfspath = path
        self._interrupted = False
