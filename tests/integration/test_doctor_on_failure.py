"""The smoke suite's hook that prints and saves the doctor's diagnosis when a test fails against a stack."""
import types

import pytest

from tests.integration.smoke import doctor_on_failure
from tests.integration.smoke.doctor_on_failure import DoctorOnFailure

pytestmark = pytest.mark.selftest


class Terminal:
    def __init__(self):
        self.lines = []

    def section(self, title):
        self.lines.append(f"== {title} ==")

    def write_line(self, line):
        self.lines.append(line)


def outcome(failed, nodeid="tests/integration/test_api.py::test_x"):
    return types.SimpleNamespace(failed=failed, nodeid=nodeid)


def hook(tmp_path, diagnose):
    return DoctorOnFailure("todobackend-dev", "eu-west-1", tmp_path / "reports", diagnose=diagnose)


def test_a_failed_test_prints_and_saves_the_diagnosis_once(tmp_path):
    asked = []

    def diagnose(stack_name, region):
        asked.append((stack_name, region))
        return 1, "PROBLEM: Health checks time out [stack todobackend-dev (eu-west-1): UPDATE_COMPLETE]\nread in 1.2 s"

    plugin, terminal = hook(tmp_path, diagnose), Terminal()
    for failed, nodeid in ((False, "t.py::a"), (True, "t.py::b"), (True, "t.py::b"), (True, "t.py::c")):
        plugin.pytest_runtest_logreport(outcome(failed, nodeid))
    plugin.pytest_terminal_summary(terminal)
    saved = tmp_path / "reports" / "doctor-todobackend-dev.txt"
    assert asked == [("todobackend-dev", "eu-west-1")]
    assert terminal.lines == ["== doctor: todobackend-dev (2 test(s) failed) ==",
                              "PROBLEM: Health checks time out [stack todobackend-dev (eu-west-1): UPDATE_COMPLETE]",
                              "read in 1.2 s", f"saved: {saved}"]
    assert saved.read_text().startswith("PROBLEM: Health checks time out")


def test_a_passing_run_asks_the_doctor_nothing(tmp_path):
    plugin, terminal = hook(tmp_path, diagnose=lambda *_: pytest.fail("the doctor was asked")), Terminal()
    plugin.pytest_runtest_logreport(outcome(False))
    plugin.pytest_terminal_summary(terminal)
    assert terminal.lines == []


def test_a_doctor_that_crashes_does_not_hide_the_failures(tmp_path):
    def diagnose(*_):
        raise RuntimeError("boom")

    plugin, terminal = hook(tmp_path, diagnose), Terminal()
    plugin.pytest_runtest_logreport(outcome(True))
    plugin.pytest_terminal_summary(terminal)
    assert terminal.lines[1] == "doctor: could not diagnose todobackend-dev: RuntimeError: boom"


@pytest.mark.parametrize("stack_name, registered", [("todobackend-dev", True), (None, False)])
def test_registered_only_against_a_stack(stack_name, registered):
    plugins = {}
    options = {"stack_name": stack_name, "region": None, "report_dir": "reports"}
    config = types.SimpleNamespace(getoption=options.get,
                                   pluginmanager=types.SimpleNamespace(register=lambda p, name: plugins.update({name: p})))
    doctor_on_failure.register(config)
    assert ("smoke-doctor" in plugins) is registered
