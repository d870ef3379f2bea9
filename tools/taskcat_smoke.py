"""Deploy stack.yml with taskcat, run the smoke suite against every stack it created, then delete them.

    tox exec -e taskcat -- python tools/taskcat_smoke.py [--regions us-east-1] [-- PYTEST_ARGS...]

Needs AWS credentials, tox on PATH (the suite runs in tox's `smoke` env) and .taskcat_overrides.yml with
VpcId and ApplicationSubnets. The stacks are deleted however the run ends: taskcat's test object is a
context manager that cleans up on exit. Exits 1 if a stack failed to deploy or the suite failed.
"""
import argparse
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
OVERRIDES = ".taskcat_overrides.yml"
REQUIRED_OVERRIDES = ("VpcId", "ApplicationSubnets")


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-root", type=pathlib.Path, default=ROOT)
    parser.add_argument("--regions", default="ALL", help="comma-separated subset of .taskcat.yml's regions")
    parser.add_argument("pytest_args", nargs="*", help="passed to the smoke suite (after --)")
    args = parser.parse_args(argv)
    problems = project_problems(args.project_root)
    if problems:
        parser.error("\n".join(problems))
    args.tox = shutil.which("tox")
    if args.tox is None:
        parser.error("tox is not on PATH: the smoke suite runs in tox's smoke env (pip install tox)")
    return args


def smoke(stack, args) -> str | None:
    """Run the suite against one deployed stack; a failure message, or None."""
    where = f"{stack.name} ({stack.region.name})"
    if stack.status != "CREATE_COMPLETE":
        return f"{where}: {stack.status} {stack.status_reason}"
    run = subprocess.run(smoke_command(args.tox, stack.name, stack.region.name, args.pytest_args),
                         cwd=args.project_root, check=False)
    return f"{where}: smoke suite exit code {run.returncode}" if run.returncode else None


def main(argv=None) -> int:
    args = parse(argv)
    from taskcat.testing import CFNTest  # only in the taskcat env; argument errors come first

    failures = 0
    with CFNTest.from_file(project_root=str(args.project_root), regions=args.regions) as stacks:
        for stack in stacks:
            failure = smoke(stack, args)
            if failure:  # printed now: taskcat's clean-up may raise on the way out of the `with`
                print(f"FAILED {failure}", file=sys.stderr)
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
