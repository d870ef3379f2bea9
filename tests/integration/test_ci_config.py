"""The CI workflow and taskcat config keep the promises docs/smoke-suite.md makes about them."""
import configparser
import fnmatch
import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.support.git_repo import commit, git, new_repository
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
    assert [env.strip() for env in tox["tox"]["env_list"].split(",")] == ["lint", "checkov", "unit", "integration"]
    assert tox["testenv:smoke"]["commands"].strip() == "pytest tests/integration {posargs}"
    # Live, with the user's own AWS configuration (not the fake credentials), and unbuffered output for CI logs.
    assert [line.strip() for line in tox["testenv:smoke"]["set_env"].strip().splitlines()] == ["PYTHONUNBUFFERED = 1"]
    # The stand-in only when asked for: `tox -e smoke` without a target is a usage error.
    assert tox["testenv:integration"]["commands"].strip() == (
        "pytest tests/integration --standin -n 2 --dist worksteal {posargs}")


def test_checkovs_sarif_reaches_code_scanning_also_after_a_red_gate():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    command = tox["testenv:checkov"]["commands"]
    written = command.split("--output-file-path console,")[1].split()[0]
    assert "--output sarif" in command and "--skip-download" in command
    [upload] = [step for step in steps("offline") if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"] == {"sarif_file": written, "category": "checkov"}
    assert upload["if"].startswith("always() && ") and "head.repo.full_name == github.repository" in upload["if"]
    assert WORKFLOW["jobs"]["offline"]["permissions"] == {"contents": "read", "security-events": "write"}
    assert steps("offline").index(upload) > steps("offline").index({"run": "tox run"})


def test_the_doctor_env_reads_with_the_users_own_aws_configuration():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    env = tox["testenv:doctor"]
    assert env["set_env"].strip() == ""  # not the fake credentials every other env gets
    assert env["pass_env"].split() == ["AWS_*"]
    assert env["commands"].strip() == "python tools/doctor.py {posargs}"


def test_the_deploy_env_uses_the_users_own_aws_configuration():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    env = tox["testenv:deploy"]
    assert env["set_env"].strip() == ""
    assert env["pass_env"].split() == ["AWS_*"]
    assert env["commands"].strip() == "python tools/deploy.py {posargs}"
    # --smoke runs the suite in the same environment: it needs the suite's requirements too.
    assert set((ROOT / "requirements/deploy.txt").read_text().split()) >= {"-r", "lint.txt", "integration.txt"}


def test_taskcat_config_holds_no_account_specific_parameters():
    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    parameters = config["tests"]["default"].get("parameters", {}) | config["project"].get("parameters", {})
    assert not {"VpcId", "ApplicationSubnets"} & set(parameters)
    assert (ROOT / config["project"]["template"]).is_file()
    assert ".taskcat_overrides.yml" in (ROOT / ".gitignore").read_text().split()


def test_pull_requests_get_the_offline_plan_against_their_base_branch():
    plan = WORKFLOW["jobs"]["plan"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    checkout = next(step for step in plan["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # origin/<base> must exist to be compared with
    [step] = [step for step in plan["steps"] if "tox -e plan" in step.get("run", "")]
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"  # through the environment, never pasted into the script
    # Labelling a pull request re-runs the workflow, so a maintainer's allow-replacement label takes effect.
    assert {"labeled", "unlabeled"} <= set(WORKFLOW[True]["pull_request"]["types"])
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    env = tox["testenv:plan"]
    assert env["commands"].strip() == "python tools/deploy.py --plan-offline {posargs}"
    assert "set_env" not in env and "pass_env" not in env  # the fake credentials: the plan never reaches AWS


@pytest.mark.parametrize("labels, allowed", [
    ([], []),
    (["bug", "allow-replacement:ApplicationDatabase", "allow-replacement:", "allow-replacement:DatabaseSecret"],
     ["--allow-replacement", "ApplicationDatabase", "DatabaseSecret"]),
    (["two words", "allow-replacement:*"], ["--allow-replacement", "*"]),
    # A cause: passed as one argument, whatever it holds (tools/deploy.py refuses what is no ID[:PROPERTY]).
    (["allow-replacement:ApplicationDatabase:MultiAZ", "allow-replacement:*:AutoMinorVersionUpgrade",
      "allow-replacement:$(touch pwned) ;x"],
     ["--allow-replacement", "ApplicationDatabase:MultiAZ", "*:AutoMinorVersionUpgrade", "$(touch pwned) ;x"]),
])
def test_the_plan_step_allows_exactly_the_labelled_replacements(tmp_path, labels, allowed):
    """The step's own script, run with a stand-in tox that records its arguments."""
    [step] = [step for step in WORKFLOW["jobs"]["plan"]["steps"] if "tox -e plan" in step.get("run", "")]
    (tmp_path / "tox").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$RECORD"\n')
    (tmp_path / "tox").chmod(0o755)
    (tmp_path / "python").symlink_to(sys.executable)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "RECORD": str(tmp_path / "args"), "BASE_REF": "main",
           "LABELS": json.dumps(labels)}
    (tmp_path / "*").write_text("")  # an unquoted * would expand to the files here
    subprocess.run(["bash", "-e", "-c", step["run"]], env=env, check=True, cwd=tmp_path)
    assert (tmp_path / "args").read_text().splitlines() == ["-e", "plan", "--", "--base", "origin/main", *allowed]
    assert not (tmp_path / "pwned").exists()


def test_the_live_job_tests_the_upgrade_from_the_previous_release_under_the_probe():
    live = steps("live")
    names = [step.get("name", "") for step in live]
    assert live[0]["with"]["fetch-depth"] == 0  # tags and the first parent
    [previous] = [step for step in live if step.get("id") == "previous"]
    assert previous["env"]["BEFORE"] == "${{ github.event.before }}"  # through the environment, never pasted
    [deployed] = [step for step in live if step.get("id") == "previous-deployed"]
    assert deployed["run"].startswith("tox -e deploy -- ")
    assert '--template "$RUNNER_TEMP/previous/stack.yml"' in deployed["run"]
    [upgrade] = [step for step in live if step.get("id") == "upgrade"]
    probe, update = upgrade["run"].split(" -- python tools/deploy.py ")
    assert probe.startswith("tox exec -e deploy -- python -m tools.deployment.zero_downtime --stack-name")
    assert "--update" in update.split() and "--yes" in update.split()
    # The guard stays on: only what a commit's Allow-Replacement trailer names (step `allowed`) gets through.
    assert update.count("--allow-replacement") == 1 and update.endswith("${ALLOWED:+--allow-replacement $ALLOWED}")
    assert upgrade["env"] == {"ALLOWED": "${{ steps.allowed.outputs.ids }}"}
    for step in (deployed, upgrade):  # tagged from creation on, so the clean-up finds the stack
        assert f'--tag "{taskcat_smoke.RUN_TAG}=$SMOKE_RUN_ID"' in step["run"]
    [smoke] = [step for step in live if step.get("name") == "Run the smoke suite against the updated stack"]
    assert smoke["run"].startswith('tox -e smoke -- --stack-name "$UPGRADE_STACK"')
    # Each step needs the one before it, none runs after a cancel, and a failed fresh deploy does not skip them.
    assert previous["if"] == "${{ !cancelled() }}"
    assert deployed["if"] == "${{ !cancelled() && steps.previous.outcome == 'success' }}"
    assert upgrade["if"] == ("${{ !cancelled() && steps.previous-deployed.outcome == 'success' && "
                             "steps.allowed.outcome == 'success' }}")
    assert smoke["if"] == "${{ !cancelled() && steps.upgrade.outcome == 'success' }}"
    cleanup = next(i for i, step in enumerate(live) if "delete-stack" in step.get("run", ""))
    assert names.index(previous["name"]) < names.index(deployed["name"]) < names.index(upgrade["name"]) \
        < names.index(smoke["name"]) < cleanup


def commits(repo, *messages):
    """A new repository with one commit per message, each with its own dev.cfg; the ids, oldest first."""
    new_repository(repo)
    return [commit(repo, message, {"dev.cfg": f"VpcId=vpc-old\nApplicationDesiredCount={number}\n"})
            for number, message in enumerate(messages)]


def previous_release(tmp_path, repo, before):
    """The `previous` step's own script; the commit it chose (its output) and what it wrote."""
    [step] = [step for step in steps("live") if step.get("id") == "previous"]
    runner_temp = tmp_path / f"runner-{len(list(tmp_path.iterdir()))}"
    runner_temp.mkdir()
    output = runner_temp / "github_output"
    env = {"PATH": "/usr/bin:/bin", "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(output),
           "VPC_ID": "vpc-ci", "APPLICATION_SUBNETS": "subnet-a,subnet-b", "BEFORE": before}
    subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, check=True, capture_output=True)
    assert (runner_temp / "current.cfg").read_text().startswith("ApplicationDesiredCount=")
    return output.read_text().split("=", 1)[1].strip(), (runner_temp / "previous.cfg").read_text()


ZEROS = "0" * 40


def test_the_previous_release_is_the_last_tag_else_the_push_base_else_the_first_parent(tmp_path):
    repo = tmp_path / "repo"
    first, second, third, fourth = commits(repo, "one", "two", "three", "four")
    # No tag: the commit main was at before a push of three commits, so all three are tested.
    chosen, written = previous_release(tmp_path, repo, first)
    assert chosen == first
    assert written == "ApplicationDesiredCount=0\nVpcId=vpc-ci\nApplicationSubnets=subnet-a,subnet-b\n" \
                      "ApplicationImageTag=latest\n"
    # Not a real commit (a new branch: all zeros), unknown to the clone, not an ancestor, or nothing at all:
    # the first parent.
    for before in (ZEROS, "1" * 40, fourth, ""):
        assert previous_release(tmp_path, repo, before)[0] == third, before
    git(repo, "checkout", "-q", "-b", "forced", first)
    rewritten = commit(repo, "force-pushed away", {"other": "x"})
    git(repo, "checkout", "-q", "-")
    assert previous_release(tmp_path, repo, rewritten)[0] == third  # a force push: not an ancestor
    # A tag before this commit wins over both.
    git(repo, "tag", "v1", second)
    assert previous_release(tmp_path, repo, first)[0] == second


def test_the_trailer_scan_covers_the_whole_push(tmp_path):
    """The `allowed` step reads trailers over the same range the upgrade deploys: every commit of the push."""
    repo = tmp_path / "repo"
    before, *_ = commits(repo, "main before the push", "pushed 1\n\nAllow-Replacement: ApplicationDatabase:MultiAZ",
                         "pushed 2", "pushed 3")
    chosen, _ = previous_release(tmp_path, repo, before)
    [allowed] = [step for step in steps("live") if step.get("id") == "allowed"]
    output = tmp_path / "allowed_output"
    env = {"PATH": "/usr/bin:/bin", "PREVIOUS": chosen, "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-o", "pipefail", "-c", allowed["run"]], cwd=repo, env=env, check=True)
    assert output.read_text() == "ids=ApplicationDatabase:MultiAZ \n"


def test_the_upgrade_allows_exactly_the_replacements_commit_trailers_name(tmp_path):
    """The `allowed` step's own script on a throwaway repository: trailers since the previous release only."""
    [allowed] = [step for step in steps("live") if step.get("id") == "allowed"]
    new_repository(tmp_path)
    messages = ["release\n\nAllow-Replacement: OldOne",  # before the previous release: not this upgrade's
                "plain change",
                "engine policy\n\nAllow-Replacement: ApplicationDatabase\nAllow-Replacement: DatabaseSecret",
                "odd trailers\n\nAllow-Replacement: ApplicationDatabase, $(touch pwned)\nSigned-off-by: x <x@y.z>",
                "causes\n\nAllow-Replacement: ApplicationDatabase:AutoMinorVersionUpgrade\n"
                "Allow-Replacement: *:MultiAZ, Db:$(touch pwned), Db:A:B, :DBName, Db:"]
    for message in messages:
        commit(tmp_path, message)
    previous = git(tmp_path, "rev-parse", "HEAD~4")
    output = tmp_path / "github_output"
    env = {"PATH": "/usr/bin:/bin", "PREVIOUS": previous, "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-o", "pipefail", "-c", allowed["run"]], cwd=tmp_path, env=env, check=True)
    assert output.read_text().split("=", 1)[1].split() == [
        "ApplicationDatabase", "ApplicationDatabase:AutoMinorVersionUpgrade", "DatabaseSecret"]
    assert not (tmp_path / "pwned").exists()


def test_an_upgrade_without_trailers_allows_nothing(tmp_path):
    [allowed] = [step for step in steps("live") if step.get("id") == "allowed"]
    new_repository(tmp_path)
    for message in ("release", "change"):
        commit(tmp_path, message)
    output = tmp_path / "github_output"
    env = {"PATH": "/usr/bin:/bin", "PREVIOUS": "HEAD~1", "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-o", "pipefail", "-c", allowed["run"]], cwd=tmp_path, env=env, check=True)
    assert output.read_text() == "ids=\n"
