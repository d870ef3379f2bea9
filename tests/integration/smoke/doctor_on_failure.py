"""When a smoke test fails against --stack-name, the doctor's diagnosis closes the run.

Printed once at the end (after pytest's own summary of the failures) and saved as
<report dir>/doctor-<stack>.txt, while the stack still holds its evidence.
"""
import pathlib

from tools import doctor


def register(config) -> None:
    """Diagnose on failure, only when the suite runs against a stack (conftest's pytest_configure calls this)."""
    stack_name = config.getoption("stack_name")
    if stack_name:
        config.pluginmanager.register(
            DoctorOnFailure(stack_name, config.getoption("region"), pathlib.Path(config.getoption("report_dir"))),
            "smoke-doctor")


class DoctorOnFailure:
    def __init__(self, stack_name, region, report_dir, diagnose=doctor.diagnose):
        self.stack_name, self.region, self.report_dir, self.diagnose = stack_name, region, report_dir, diagnose
        self.failed = set()  # node ids: a test failing in call and teardown counts once

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.failed:
            return
        terminalreporter.section(f"doctor: {self.stack_name} ({len(self.failed)} test(s) failed)")
        for line in self.report().splitlines():
            terminalreporter.write_line(line)

    def report(self) -> str:
        try:
            _, text = self.diagnose(self.stack_name, self.region)
        except Exception as error:  # noqa: BLE001 - a broken diagnosis must not hide the failures it explains
            return f"doctor: could not diagnose {self.stack_name}: {type(error).__name__}: {error}"
        path = self.report_dir / doctor.REPORT_NAME.format(stack=self.stack_name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
        except OSError as error:
            return f"{text}\n(not saved: {error})"
        return f"{text}\nsaved: {path}"
