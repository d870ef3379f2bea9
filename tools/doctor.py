"""Explain a deployed stack's failed deploy or failing service, most likely cause first, in one screen.

    python tools/doctor.py --stack-name NAME [--region R] [--format text|json]
    tox -e doctor -- --stack-name NAME [--region R] [--format json]

Reads (never changes) the stack's events, MigrateTask's reason and task, the ECS service's deployments
and events, recently stopped tasks and their log tails, target health, container instances and the
Auto Scaling group. Honours the usual AWS configuration (profiles, AWS_REGION, AWS_ENDPOINT_URL, ...).
Exit 0: nothing wrong found; 1: problems reported; 2: the stack cannot be read (one line on stderr).
Secrets are masked in everything printed.
"""
import argparse
import pathlib
import sys
import time

if __package__ in (None, ""):  # run as a script: make `tools` importable from the repository root
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402

from tools.diagnosis import causes, readers, render  # noqa: E402
from tools.diagnosis.aws import Clients, StackUnreadable  # noqa: E402
from tools.diagnosis.masking import mask  # noqa: E402

OK, PROBLEMS, UNREADABLE = 0, 1, 2
REPORT_NAME = "doctor-{stack}.txt"  # where the smoke suite and tools/taskcat_smoke.py save a diagnosis


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser.parse_args(argv)


def examine(stack_name: str, region: str | None = None, session: boto3.Session | None = None):
    """(evidence, findings most likely first, seconds taken, AWS calls made); raises StackUnreadable."""
    started = time.monotonic()
    try:
        clients = Clients(session or boto3.Session(region_name=region))
    except botocore.exceptions.BotoCoreError as error:  # e.g. a profile that does not exist
        raise StackUnreadable(f"cannot use the AWS configuration: {error}") from None
    evidence = readers.read(clients, stack_name)
    return evidence, causes.diagnose(evidence), time.monotonic() - started, clients.calls


def diagnose(stack_name: str, region: str | None = None, output_format: str = "text",
             session: boto3.Session | None = None) -> tuple[int, str]:
    """(exit code, report); the report of an unreadable stack is its one-line reason."""
    try:
        evidence, findings, seconds, calls = examine(stack_name, region, session)
    except StackUnreadable as error:
        return UNREADABLE, f"doctor: {mask(str(error))}"
    write = render.as_json if output_format == "json" else render.as_text
    return (PROBLEMS if findings else OK), write(evidence, findings, seconds, calls)


def main(argv=None) -> int:
    args = parse(argv)
    if sys.stderr.isatty():
        print(f"doctor: reading stack {args.stack_name} ...", file=sys.stderr, flush=True)
    code, report = diagnose(args.stack_name, args.region, args.format)
    print(report, file=sys.stderr if code == UNREADABLE else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
