"""Deploy stack.yml with taskcat, run the smoke suite against every stack it created, then delete them.

    tox -e taskcat-smoke [-- [--regions us-east-1] [--run-id ID] [SMOKE SUITE OPTIONS...]]
    python tools/taskcat_smoke.py --check-install     (offline: the installed taskcat has what this uses)

Options this script does not know (e.g. --passive-only, -x) go to the smoke suite, in order.
Needs AWS credentials, tox on PATH (the suite runs in tox's `smoke` env) and .taskcat_overrides.yml with
VpcId and ApplicationSubnets. When a stack fails to create or the suite fails, tools/doctor.py diagnoses
the stack before it is deleted (deletion destroys the evidence): printed, and saved as
reports/doctor-<stack>.txt. Every stack is tagged smoke-run-id=ID, so a clean-up after a cancelled run
can delete this run's stacks and nobody else's. The stacks are deleted however the run ends (taskcat's
test object is a context manager that cleans up on exit), and the script waits for the deletion. Exits 1
if a stack failed to deploy, the suite failed, or a stack was not deleted.
"""
import argparse
import inspect
import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import yaml

if __package__ in (None, ""):  # run as a script: make `tools` importable from the repository root
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from tools import doctor  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
OVERRIDES = ".taskcat_overrides.yml"
REQUIRED_OVERRIDES = ("VpcId", "ApplicationSubnets")
RUN_TAG = "smoke-run-id"
# What this script changes on taskcat's CFNTest (0.9.58): it neither waits for deletion nor tags stacks
# by default, and from_file() offers neither.
CFNTEST_SETTINGS = ("dont_wait_for_delete", "_extra_tags")
# The doctor runs in this interpreter (it needs boto3 only), as its own process: a crash in it cannot
# stop the clean-up, and a hang is cut short.
DOCTOR = [sys.executable, str(ROOT / "tools" / "doctor.py")]
DOCTOR_TIMEOUT = 300
REPORTS = "reports"


def project_problems(root: pathlib.Path) -> list[str]:
    """What is missing before a deploy could work; checked offline, before taskcat touches AWS."""
    if not (root / ".taskcat.yml").is_file():
        return [f"no .taskcat.yml in {root}"]
    overrides = root / OVERRIDES
    example = "VpcId: vpc-0123456789abcdef0\nApplicationSubnets: subnet-aaaa,subnet-bbbb"
    if not overrides.is_file():
        return [f"no {OVERRIDES} in {root}: create it with your VPC and two subnets, e.g.\n{example}"]
    try:
        values = yaml.safe_load(overrides.read_text())
    except yaml.YAMLError as error:
        return [f"{OVERRIDES} is not valid YAML: {error}"]
    if not isinstance(values, dict):
        return [f"{OVERRIDES} must map parameter names to values, e.g.\n{example}"]
    return [f"{OVERRIDES} has no {key}" for key in REQUIRED_OVERRIDES if not values.get(key)]


def smoke_command(tox: str, stack_name: str, region: str, pytest_args: list[str]) -> list[str]:
    return [tox, "-e", "smoke", "--", "--stack-name", stack_name, "--region", region, *pytest_args]


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False,
                                     epilog="Any other option goes to the smoke suite (tox -e smoke -- --smoke-help).")
    parser.add_argument("--project-root", type=pathlib.Path, default=ROOT)
    parser.add_argument("--regions", default="ALL", help="comma-separated subset of .taskcat.yml's regions")
    parser.add_argument("--run-id", default=None,
                        help=f"value of the {RUN_TAG} tag on every stack (default: a fresh one)")
    parser.add_argument("--check-install", action="store_true",
                        help="only check, offline, that the installed taskcat offers what this script changes")
    args, args.pytest_args = parser.parse_known_args(argv)
    if args.check_install:
        return args
    args.run_id = args.run_id or uuid.uuid4().hex
    args.project_root = args.project_root.resolve()
    problems = project_problems(args.project_root)
    if problems:
        parser.error("\n".join(problems))
    args.tox = shutil.which("tox")
    if args.tox is None:
        parser.error("tox is not on PATH: the smoke suite runs in tox's smoke env (pip install tox)")
    return args


def prepared(test, run_tag):
    """`test`, set to wait for its stacks' deletion and to tag them with `run_tag`."""
    missing = [name for name in CFNTEST_SETTINGS if not hasattr(test, name)]
    if missing:
        raise RuntimeError(f"taskcat's CFNTest has no {', '.join(missing)}: this script is written for "
                           "taskcat 0.9.58 (requirements/taskcat.txt)")
    test.dont_wait_for_delete = False
    test._extra_tags = [*test._extra_tags, run_tag]
    return test


def missing_settings(cfn_test_class) -> list[str]:
    """The CFNTest settings this script changes that the installed taskcat's constructor does not take."""
    parameters = inspect.signature(cfn_test_class).parameters
    return [name for name in CFNTEST_SETTINGS if name not in parameters]


def _where(stack) -> str:
    return f"{stack.name} ({stack.region.name})"


def smoke(stack, args) -> str | None:
    """Run the suite against one deployed stack; a failure message, or None. A failed stack is diagnosed."""
    if stack.status != "CREATE_COMPLETE":
        diagnose(stack, args.project_root)
        return f"{_where(stack)}: {stack.status} {stack.status_reason}"
    run = subprocess.run(smoke_command(args.tox, stack.name, stack.region.name, args.pytest_args),
                         cwd=args.project_root, check=False)
    if run.returncode:
        diagnose(stack, args.project_root)
        return f"{_where(stack)}: smoke suite exit code {run.returncode}"
    return None


def doctor_command(stack_name: str, region: str) -> list[str]:
    return [*DOCTOR, "--stack-name", stack_name, "--region", region]


def diagnose(stack, project_root: pathlib.Path) -> pathlib.Path:
    """The doctor's report on a failed stack, printed and saved while the stack still exists."""
    path = project_root / REPORTS / doctor.REPORT_NAME.format(stack=stack.name)
    try:
        run = subprocess.run(doctor_command(stack.name, stack.region.name), cwd=project_root, capture_output=True,
                             text=True, timeout=DOCTOR_TIMEOUT, check=False)
        report = (run.stdout + run.stderr).strip()
    except subprocess.TimeoutExpired:
        report = f"doctor: no diagnosis of {stack.name} within {DOCTOR_TIMEOUT} s"
    path.parent.mkdir(exist_ok=True)
    path.write_text(report + "\n")
    print(f"diagnosis of {_where(stack)} (saved as {path}):\n{report}", file=sys.stderr, flush=True)
    return path


def not_deleted(stacks) -> list[str]:
    """Stacks CloudFormation does not report DELETE_COMPLETE, asked directly: taskcat's own status
    shows a deleted stack that had failed to create as OUT_OF_ORDER_EVENT."""
    problems = []
    for stack in stacks:
        try:
            [described] = stack.client.describe_stacks(StackName=stack.id)["Stacks"]
        except Exception as error:  # noqa: BLE001 - reported, so it cannot hide taskcat's own error
            problems.append(f"{_where(stack)}: deletion not confirmed: {error}")
            continue
        if described["StackStatus"] != "DELETE_COMPLETE":
            problems.append(f"{_where(stack)}: not deleted: {described['StackStatus']} "
                            f"{described.get('StackStatusReason', '')}".rstrip())
    return problems


def main(argv=None) -> int:
    args = parse(argv)
    # taskcat reads .taskcat_overrides.yml from the working directory, fixed when it is imported.
    os.chdir(args.project_root)
    # Only in the taskcat env; argument errors come first.
    from taskcat._dataclasses import Tag
    from taskcat.testing import CFNTest

    if args.check_install:
        missing = missing_settings(CFNTest)
        print(f"taskcat's CFNTest lacks {', '.join(missing)}" if missing else "taskcat offers what this script uses")
        return 1 if missing else 0
    test = CFNTest.from_file(project_root=str(args.project_root), regions=args.regions)
    prepared(test, Tag({"Key": RUN_TAG, "Value": args.run_id}))
    print(f"stacks are tagged {RUN_TAG}={args.run_id}", flush=True)
    failures, stacks = [], []
    try:
        with test as stacks:
            for stack in stacks:
                failure = smoke(stack, args)
                if failure:  # printed now: taskcat's clean-up may raise on the way out of the `with`
                    print(f"FAILED {failure}", file=sys.stderr, flush=True)
                    failures.append(failure)
    finally:
        for failure in not_deleted(stacks):
            print(f"FAILED {failure}", file=sys.stderr, flush=True)
            failures.append(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
