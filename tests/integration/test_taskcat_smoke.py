"""tools/taskcat_smoke.py, offline: what it refuses before deploying, how it judges each stack, and
main() end to end with a fake taskcat (injected into sys.modules) and a fake tox on PATH."""
import argparse
import os
import shutil
import sys
import types

import pytest

from tools import taskcat_smoke

pytestmark = pytest.mark.selftest


@pytest.fixture
def project(tmp_path):
    (tmp_path / ".taskcat.yml").write_text("project:\n  name: todobackend-aws\n")
    return tmp_path


def refused(argv, capsys) -> str:
    with pytest.raises(SystemExit) as raised:
        taskcat_smoke.main(argv)
    assert raised.value.code == 2
    return capsys.readouterr().err


def test_missing_config_is_refused(tmp_path, capsys):
    assert "no .taskcat.yml in" in refused(["--project-root", str(tmp_path)], capsys)


def test_missing_overrides_are_refused_with_an_example(project, capsys):
    error = refused(["--project-root", str(project)], capsys)
    assert "no .taskcat_overrides.yml" in error and "VpcId: vpc-" in error


@pytest.mark.parametrize("content, message", [
    ("VpcId: vpc-1\n", "has no ApplicationSubnets"),
    ("ApplicationSubnets: subnet-a,subnet-b\n", "has no VpcId"),
    ("- VpcId\n", "must map parameter names to values"),
    ("VpcId: [unclosed\n", "is not valid YAML"),
])
def test_incomplete_overrides_are_refused(project, capsys, content, message):
    (project / ".taskcat_overrides.yml").write_text(content)
    assert message in refused(["--project-root", str(project)], capsys)


def test_missing_tox_is_refused(project, capsys, monkeypatch):
    (project / ".taskcat_overrides.yml").write_text("VpcId: vpc-1\nApplicationSubnets: subnet-a,subnet-b\n")
    monkeypatch.setenv("PATH", str(project))
    assert "tox is not on PATH" in refused(["--project-root", str(project)], capsys)


def test_smoke_command_runs_the_suite_in_the_smoke_env_against_the_stack():
    assert taskcat_smoke.smoke_command("tox", "tCaT-todobackend-aws-default-1a2b", "us-east-1", ["-x"]) == [
        "tox", "-e", "smoke", "--", "--stack-name", "tCaT-todobackend-aws-default-1a2b",
        "--region", "us-east-1", "-x"]


def stack(status="CREATE_COMPLETE"):
    return types.SimpleNamespace(name="tCaT-todobackend-aws-default-1a2b", status=status,
                                 status_reason="Resource ApplicationDatabase failed",
                                 region=types.SimpleNamespace(name="us-east-1"))


@pytest.mark.parametrize("tox, status, expected", [
    ("true", "CREATE_COMPLETE", None),
    ("false", "CREATE_COMPLETE", "tCaT-todobackend-aws-default-1a2b (us-east-1): smoke suite exit code 1"),
    ("true", "CREATE_FAILED", "tCaT-todobackend-aws-default-1a2b (us-east-1): CREATE_FAILED Resource "
                              "ApplicationDatabase failed"),
])
def test_each_stack_is_judged_by_its_status_then_the_suite(tmp_path, fake_doctor, tox, status, expected):
    args = argparse.Namespace(tox=shutil.which(tox), project_root=tmp_path, pytest_args=[])
    assert taskcat_smoke.smoke(stack(status), args) == expected
    diagnosed = fake_doctor.read_text().splitlines() if fake_doctor.exists() else []
    # A failed stack or suite is diagnosed, a passing one is not.
    assert diagnosed == ([] if expected is None else
                         ["doctor --stack-name tCaT-todobackend-aws-default-1a2b --region us-east-1"])


def test_the_diagnosis_is_printed_and_saved_under_reports(tmp_path, fake_doctor, capsys):
    path = taskcat_smoke.diagnose(stack("CREATE_FAILED"), tmp_path)
    assert path == tmp_path / "reports" / "doctor-tCaT-todobackend-aws-default-1a2b.txt"
    assert path.read_text() == "PROBLEM: fake diagnosis of tCaT-todobackend-aws-default-1a2b\n"
    assert "PROBLEM: fake diagnosis of tCaT-todobackend-aws-default-1a2b" in capsys.readouterr().err


def test_the_real_doctor_command_runs_tools_doctor_in_this_interpreter():
    assert taskcat_smoke.doctor_command("tCaT-x", "eu-west-1") == [
        sys.executable, str(taskcat_smoke.ROOT / "tools" / "doctor.py"), "--stack-name", "tCaT-x", "--region",
        "eu-west-1"]


def test_unknown_options_go_to_the_smoke_suite_in_order(project, monkeypatch):
    (project / ".taskcat_overrides.yml").write_text("VpcId: vpc-1\nApplicationSubnets: subnet-a,subnet-b\n")
    monkeypatch.setenv("PATH", str(fake_tox(project)))
    args = taskcat_smoke.parse(["--passive-only", "--ready-timeout", "600", "--project-root", str(project),
                                "--regions", "us-east-1", "-x"])
    assert args.pytest_args == ["--passive-only", "--ready-timeout", "600", "-x"]
    assert (args.regions, args.project_root) == ("us-east-1", project)
    assert args.run_id  # a fresh one when not given


def test_a_taskcat_without_the_settings_it_changes_is_refused():
    with pytest.raises(RuntimeError, match="CFNTest has no dont_wait_for_delete, _extra_tags"):
        taskcat_smoke.prepared(object(), "tag")


class FakeStack:
    """A taskcat stack; `client` answers describe_stacks the way CloudFormation would after the clean-up."""

    def __init__(self, name, status="CREATE_COMPLETE", left_as="DELETE_COMPLETE"):
        self.name, self.status, self.status_reason = name, status, "Resource ApplicationDatabase failed"
        self.id = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1"
        self.region = types.SimpleNamespace(name="us-east-1")
        self.left_as, self.cleaned_up = left_as, False
        self.client = types.SimpleNamespace(describe_stacks=self._describe)

    def _describe(self, StackName):
        assert StackName == self.id
        status = self.left_as if self.cleaned_up else self.status
        return {"Stacks": [{"StackName": self.name, "StackStatus": status,
                            "StackStatusReason": "The following resource(s) failed to delete: [Vpc]"}]}


class FakeCFNTest:
    """taskcat.testing.CFNTest as tools/taskcat_smoke.py uses it; records what it was asked to do."""
    stacks: list = []
    cleanup_error = None
    made: list = []

    def __init__(self, project_root, regions):
        self.project_root, self.regions = project_root, regions
        self.dont_wait_for_delete, self._extra_tags = True, []
        self.waited_for_delete = self.cleaned_up = None

    @classmethod
    def from_file(cls, project_root, regions):
        cls.made.append(cls(project_root, regions))
        return cls.made[-1]

    def __enter__(self):
        self.waited_for_delete = not self.dont_wait_for_delete
        return self.stacks

    def __exit__(self, *exc):
        with open(os.environ["DOCTOR_LOG"], "a") as log:
            log.write("stacks deleted\n")
        self.cleaned_up = True
        for stack in self.stacks:
            stack.cleaned_up = True
        if self.cleanup_error:
            raise self.cleanup_error


class FakeTestingModule(types.ModuleType):
    """Records the working directory at the moment CFNTest is imported from it."""
    imported_in = None

    def __getattr__(self, name):
        if name != "CFNTest":
            raise AttributeError(name)
        FakeTestingModule.imported_in = os.getcwd()
        return FakeCFNTest


def fake_tox(directory):
    """A `tox` that logs its arguments and fails for stacks named *bad*."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    tox = bin_dir / "tox"
    tox.write_text('#!/bin/sh\necho "$@" >> "$TOX_LOG"\ncase "$*" in *bad*) exit 1;; esac\n')
    tox.chmod(0o755)
    return bin_dir


@pytest.fixture
def fake_doctor(tmp_path, monkeypatch):
    """tools/doctor.py replaced by a script that logs its arguments (to the file returned) and prints a verdict."""
    log = tmp_path / "doctor.log"
    script = tmp_path / "doctor"
    script.write_text(f'#!/bin/sh\necho "doctor $*" >> "{log}"\necho "PROBLEM: fake diagnosis of $2"\nexit 1\n')
    script.chmod(0o755)
    monkeypatch.setattr(taskcat_smoke, "DOCTOR", [str(script)])
    return log


@pytest.fixture
def fake_taskcat(project, monkeypatch, tmp_path, fake_doctor):
    (project / ".taskcat_overrides.yml").write_text("VpcId: vpc-1\nApplicationSubnets: subnet-a,subnet-b\n")
    monkeypatch.setenv("PATH", str(fake_tox(tmp_path)))
    monkeypatch.setenv("TOX_LOG", str(tmp_path / "tox.log"))
    monkeypatch.setenv("DOCTOR_LOG", str(fake_doctor))
    monkeypatch.chdir(tmp_path / "bin")  # not the project: main() must move there itself
    tag = types.SimpleNamespace
    monkeypatch.setitem(sys.modules, "taskcat", types.ModuleType("taskcat"))
    monkeypatch.setitem(sys.modules, "taskcat._dataclasses",
                        types.SimpleNamespace(Tag=lambda d: tag(key=d["Key"], value=d["Value"])))
    monkeypatch.setitem(sys.modules, "taskcat.testing", FakeTestingModule("taskcat.testing"))
    monkeypatch.setattr(FakeCFNTest, "made", [])
    monkeypatch.setattr(FakeTestingModule, "imported_in", None)
    return tmp_path / "tox.log"


def run_main(project, stacks, *options, cleanup_error=None, monkeypatch):
    monkeypatch.setattr(FakeCFNTest, "stacks", stacks)
    monkeypatch.setattr(FakeCFNTest, "cleanup_error", cleanup_error)
    return taskcat_smoke.main(["--project-root", str(project), "--run-id", "run-7", *options])


def test_main_runs_the_suite_once_per_deployed_stack_and_counts_every_failure(project, fake_taskcat, tmp_path,
                                                                               monkeypatch, capsys):
    stacks = [FakeStack("tCaT-todobackend-aws-good"), FakeStack("tCaT-todobackend-aws-bad"),
              FakeStack("tCaT-todobackend-aws-failed", status="CREATE_FAILED")]
    assert run_main(project, stacks, "--regions", "us-east-1", "--passive-only", monkeypatch=monkeypatch) == 1
    assert fake_taskcat.read_text().splitlines() == [
        f"-e smoke -- --stack-name tCaT-todobackend-aws-{name} --region us-east-1 --passive-only"
        for name in ("good", "bad")]
    errors = capsys.readouterr().err
    assert "FAILED tCaT-todobackend-aws-bad (us-east-1): smoke suite exit code 1" in errors
    assert "FAILED tCaT-todobackend-aws-failed (us-east-1): CREATE_FAILED Resource" in errors
    assert len([line for line in errors.splitlines() if line.startswith("FAILED ")]) == 2
    [test] = FakeCFNTest.made
    assert (test.project_root, test.regions) == (str(project), "us-east-1")
    assert (tmp_path / "doctor.log").read_text().splitlines() == [
        "doctor --stack-name tCaT-todobackend-aws-bad --region us-east-1",
        "doctor --stack-name tCaT-todobackend-aws-failed --region us-east-1",
        "stacks deleted"]
    assert (project / "reports" / "doctor-tCaT-todobackend-aws-failed.txt").is_file()


def test_main_waits_for_deletion_tags_the_stacks_and_reads_overrides_from_the_project(project, fake_taskcat,
                                                                                      monkeypatch, capsys):
    assert run_main(project, [FakeStack("tCaT-todobackend-aws-good")], monkeypatch=monkeypatch) == 0
    [test] = FakeCFNTest.made
    assert test.waited_for_delete and test.cleaned_up
    assert [(tag.key, tag.value) for tag in test._extra_tags] == [("smoke-run-id", "run-7")]
    # taskcat reads .taskcat_overrides.yml from the working directory it is imported in.
    assert FakeTestingModule.imported_in == str(project)
    assert "stacks are tagged smoke-run-id=run-7" in capsys.readouterr().out


def test_a_stack_left_undeleted_fails_the_run(project, fake_taskcat, monkeypatch, capsys):
    stacks = [FakeStack("tCaT-todobackend-aws-good", left_as="DELETE_FAILED")]
    assert run_main(project, stacks, monkeypatch=monkeypatch) == 1
    assert ("FAILED tCaT-todobackend-aws-good (us-east-1): not deleted: DELETE_FAILED The following "
            "resource(s) failed to delete: [Vpc]") in capsys.readouterr().err


def test_undeleted_stacks_are_reported_even_when_taskcats_clean_up_raises(project, fake_taskcat, monkeypatch,
                                                                          capsys):
    stacks = [FakeStack("tCaT-todobackend-aws-good", left_as="DELETE_IN_PROGRESS")]
    with pytest.raises(RuntimeError, match="One or more stacks failed"):
        run_main(project, stacks, cleanup_error=RuntimeError("One or more stacks failed to create"),
                 monkeypatch=monkeypatch)
    assert "not deleted: DELETE_IN_PROGRESS" in capsys.readouterr().err


def test_check_install_reports_what_the_installed_taskcat_lacks(fake_taskcat, monkeypatch, capsys):
    def constructor(template, dont_wait_for_delete=True):
        pass

    monkeypatch.setattr(FakeCFNTest, "__init__", constructor)
    assert taskcat_smoke.main(["--check-install"]) == 1
    assert capsys.readouterr().out == "taskcat's CFNTest lacks _extra_tags\n"
    assert FakeCFNTest.made == [], "nothing is deployed"


def test_check_install_passes_with_every_setting(fake_taskcat, monkeypatch, capsys):
    def constructor(template, dont_wait_for_delete=True, _extra_tags=None):
        pass

    monkeypatch.setattr(FakeCFNTest, "__init__", constructor)
    assert taskcat_smoke.main(["--check-install"]) == 0
    assert capsys.readouterr().out == "taskcat offers what this script uses\n"
