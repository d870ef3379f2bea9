"""tools/taskcat_smoke.py, offline: what it refuses before deploying, and how it judges each stack."""
import argparse
import shutil
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
def test_each_stack_is_judged_by_its_status_then_the_suite(tmp_path, tox, status, expected):
    args = argparse.Namespace(tox=shutil.which(tox), project_root=tmp_path, pytest_args=[])
    assert taskcat_smoke.smoke(stack(status), args) == expected
