"""The CI workflow and taskcat config keep the promises docs/smoke-suite.md makes about them."""
import configparser
import fnmatch
import pathlib

import pytest
import yaml

from tools import doctor, taskcat_smoke

pytestmark = pytest.mark.selftest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKFLOW = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())


def steps(job):
    return WORKFLOW["jobs"][job]["steps"]


def test_pull_requests_run_the_offline_gate():
    assert "pull_request" in WORKFLOW[True]  # PyYAML reads the key `on` as True
    assert {"run": "tox run"} in steps("offline")
    assert "if" not in WORKFLOW["jobs"]["offline"]


def test_the_live_job_runs_on_main_only_with_an_oidc_role_and_always_cleans_up():
    live = WORKFLOW["jobs"]["live"]
    assert live["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert live["permissions"]["id-token"] == "write"
    uses = [step.get("uses", "") for step in live["steps"]]
    assert any(use.startswith("aws-actions/configure-aws-credentials@") for use in uses)
    assert {"name": "Deploy with taskcat, run the smoke suite, delete the stack",
            "run": 'tox -e taskcat-smoke -- --run-id "$SMOKE_RUN_ID"'} in live["steps"]
    cleanup = [step for step in live["steps"] if "delete-stack" in step.get("run", "")]
    assert cleanup and cleanup[0]["if"] == "always()"


def test_the_clean_up_deletes_only_this_runs_stacks_and_waits_for_each():
    live = WORKFLOW["jobs"]["live"]
    assert "github.run_id" in live["env"]["SMOKE_RUN_ID"] and "github.run_attempt" in live["env"]["SMOKE_RUN_ID"]
    [cleanup] = [step["run"] for step in live["steps"] if "delete-stack" in step.get("run", "")]
    # The tag tools/taskcat_smoke.py puts on every stack it creates, with this run's value.
    assert f"Tags[?Key=='{taskcat_smoke.RUN_TAG}' && Value=='${{SMOKE_RUN_ID}}']" in cleanup
    assert "list-stacks" not in cleanup and "starts_with" not in cleanup  # no account-wide prefix match
    assert "aws cloudformation wait stack-delete-complete" in cleanup
    assert 'exit "$failed"' in cleanup  # a stack that will not delete fails the job


def test_the_live_job_keeps_the_doctors_diagnosis_of_a_failed_stack():
    """tools/taskcat_smoke.py saves it under reports/ before deleting the stack; the job uploads it whatever happened."""
    saved = f"{taskcat_smoke.REPORTS}/{doctor.REPORT_NAME.format(stack='tCaT-todobackend-aws-default-1a2b')}"
    uploads = [step for step in steps("live") if step.get("uses", "").startswith("actions/upload-artifact@")
               and fnmatch.fnmatch(saved, step["with"]["path"])]
    assert [step["with"]["name"] for step in uploads] == ["doctor-reports"]
    assert uploads[0]["if"] == "always()"
    run = next(i for i, step in enumerate(steps("live")) if "taskcat-smoke" in step.get("run", ""))
    assert steps("live").index(uploads[0]) > run


def test_the_live_job_documents_what_the_account_needs():
    header = (ROOT / ".github/workflows/ci.yml").read_text().split("\nname:")[0]
    assert "MaxSessionDuration must be at least 7200" in header
    credentials = next(step for step in steps("live") if step.get("uses", "").startswith("aws-actions/"))
    assert credentials["with"]["role-duration-seconds"] == 7200
    assert "ApplicationImageTag" in header and "`latest`" in header


def test_tox_runs_the_suite_by_default_and_keeps_the_live_envs_out():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert [env.strip() for env in tox["tox"]["env_list"].split(",")] == ["lint", "unit", "integration"]
    assert tox["testenv:smoke"]["commands"].strip() == "pytest tests/integration {posargs}"
    # Live, with the user's own AWS configuration (not the fake credentials), and unbuffered output for CI logs.
    assert [line.strip() for line in tox["testenv:smoke"]["set_env"].strip().splitlines()] == ["PYTHONUNBUFFERED = 1"]
    # The stand-in only when asked for: `tox -e smoke` without a target is a usage error.
    assert tox["testenv:integration"]["commands"].strip() == (
        "pytest tests/integration --standin -n 2 --dist worksteal {posargs}")


def test_the_doctor_env_reads_with_the_users_own_aws_configuration():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    env = tox["testenv:doctor"]
    assert env["set_env"].strip() == ""  # not the fake credentials every other env gets
    assert env["pass_env"].split() == ["AWS_*"]
    assert env["commands"].strip() == "python tools/doctor.py {posargs}"


def test_taskcat_config_holds_no_account_specific_parameters():
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    parameters = config["tests"]["default"].get("parameters", {}) | config["project"].get("parameters", {})
    assert not {"VpcId", "ApplicationSubnets"} & set(parameters)
    assert (ROOT / config["project"]["template"]).is_file()
    assert ".taskcat_overrides.yml" in (ROOT / ".gitignore").read_text().split()
