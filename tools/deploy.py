"""Deploy stack.yml with a plan: offline checks, upload, change set, a plan to read, a guard on stateful
resources, execution with live events, then the doctor on failure or the smoke suite on request.

    python tools/deploy.py --stack-name NAME [--config dev.cfg] [--region R] [--bucket B] [--yes]
                           [--allow-replacement ID[:PROPERTY] ...] [--smoke] [--update] [--tag KEY=VALUE ...]
    python tools/deploy.py --plan-offline --base GIT_REF [--config dev.cfg] [--template stack.yml]
                           [--allow-replacement ID[:PROPERTY] ...]
    tox -e deploy -- ...   (the user's own AWS configuration: profiles, AWS_REGION, AWS_ENDPOINT_URL, ...)

Exit 0: deployed, or nothing to change; 1: the deploy or the smoke run failed (or was not executed);
2: unusable input (a check finding, no credentials, unreadable file, missing stack, unusable bucket);
3: refused by the guard (a stateful resource would be replaced or removed; see --allow-replacement).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import uuid

if __package__ in (None, ""):  # run as a script: make `tools` importable from the repository root
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

from tools import doctor  # noqa: E402
from tools.deployment import changeset, checks, events, plan, upload  # noqa: E402
from tools.deployment.errors import Unusable, one_line  # noqa: E402

DEPLOYED, FAILED, UNUSABLE, REFUSED = 0, 1, 2, 3
ROOT = pathlib.Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"  # the doctor's report of a failed deploy is saved here (CI uploads it)
# Throttling is retried by botocore first (standard mode, with backoff); the event stream backs off on top.
CONFIG = botocore.config.Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard"})
# The live suite, as `tox -e smoke` runs it: with a target, only the live tests are collected (conftest LIVE_SUITE).
SMOKE = [sys.executable, "-m", "pytest", "tests/integration", "-p", "no:cacheprovider"]


def say(line: str = ""):
    print(line, flush=True)  # flushed: progress must reach a CI log as it happens


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--stack-name", help="the stack to create or update")
    parser.add_argument("--config", type=pathlib.Path, default=ROOT / "dev.cfg",
                        help="Key=Value parameter file (default: dev.cfg)")
    parser.add_argument("--template", type=pathlib.Path,
                        help="template (default: stack.yml; with --plan-offline, the one at the top of the config's "
                             "checkout); cfn-lint reads the .cfnlintrc beside it")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--bucket", help="an existing S3 bucket in the stack's region for the template (default: "
                                         f"{upload.BUCKET_NAME}, created on first use)")
    parser.add_argument("--yes", action="store_true", help="execute without asking (CI); needed without a terminal")
    parser.add_argument("--allow-replacement", nargs="+", default=[], metavar="ID[:PROPERTY]", type=allowance,
                        help="let the guard pass a stateful resource's replacement or removal (ID), or only a "
                             "replacement that these properties cause (ID:PROPERTY, *:PROPERTY)")
    parser.add_argument("--smoke", action="store_true", help="after a deploy, run the smoke suite against the stack")
    parser.add_argument("--update", action="store_true", help="only update: a missing stack is an error")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                        help="stack tag (repeatable); without any, an update keeps the stack's tags")
    parser.add_argument("--plan-offline", action="store_true",
                        help="predict the plan from the change since --base, without AWS (pull requests)")
    parser.add_argument("--base", metavar="GIT_REF", help="with --plan-offline: the git ref to compare with")
    args = parser.parse_args(argv)
    if args.plan_offline and not args.base:
        parser.error("--plan-offline needs --base GIT_REF")
    if not args.plan_offline and not args.stack_name:
        parser.error("--stack-name is required (or --plan-offline --base GIT_REF)")
    if any("=" not in tag or tag.startswith("=") for tag in args.tag):
        parser.error("--tag takes KEY=VALUE")
    if args.template is None and not args.plan_offline:
        args.template = ROOT / "stack.yml"
    return args


def allowance(text: str) -> str:
    try:
        plan.Allowance.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


# What only a live deploy uses: the offline plan reads git, never AWS, so these would be silently ignored.
LIVE_ONLY = {"stack_name": "--stack-name", "region": "--region", "bucket": "--bucket", "yes": "--yes",
             "smoke": "--smoke", "update": "--update", "tag": "--tag"}


def plan_offline(args) -> int:
    ignored = [option for name, option in LIVE_ONLY.items() if getattr(args, name)]
    if ignored:
        print(f"deploy: --plan-offline does not use {', '.join(ignored)} (it predicts from git, without AWS)",
              file=sys.stderr, flush=True)
        return UNUSABLE
    from tools.deployment import offline  # only this mode needs it
    return offline.run(args.base, args.config, frozenset(args.allow_replacement), template=args.template)


def main(argv=None) -> int:
    args = parse(argv)
    if args.plan_offline:
        return plan_offline(args)
    if args.base:
        print("deploy: --base is for --plan-offline (a live deploy compares with the deployed stack)",
              file=sys.stderr, flush=True)
        return UNUSABLE
    try:
        return deploy(args, lambda: boto3.Session(region_name=args.region))
    except Unusable as error:
        print(f"deploy: {error}", file=sys.stderr, flush=True)
        return UNUSABLE
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        # After the change set exists: say what failed, once; the stack is as CloudFormation left it.
        print(f"deploy: {one_line(error, f'deploying stack {args.stack_name}')}", file=sys.stderr, flush=True)
        return FAILED


def deploy(args, new_session) -> int:
    template, text = checks.load(args.template, args.config)
    say(f"checking {args.config.name} and {args.template.name} offline ...")
    found = checks.problems(args.template, template, args.config, text)
    if found:
        for line in found:
            print(line, file=sys.stderr)
        raise Unusable(f"{len(found)} finding(s) in the offline checks: nothing was sent to AWS")
    session = new_session()
    region = session.region_name
    if not region:
        raise Unusable("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    change_set = None
    try:
        try:
            account = session.client("sts", config=CONFIG).get_caller_identity()["Account"]
            cfn = session.client("cloudformation", config=CONFIG)
            change_set_type, existed = changeset.kind(cfn, args.stack_name, args.update)
            url = upload.upload(session.client("s3", config=CONFIG), args.template, args.stack_name, account,
                                region, args.bucket, say)
            change_set = changeset.ChangeSet(cfn, args.stack_name, change_set_type, existed)
            change_set.create(url, checks.parameters(text, template, updating=existed), tags(args.tag))
            say(f"change set {change_set_type} for stack {args.stack_name} in {region}: waiting for CloudFormation ...")
            ready = change_set.wait()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise Unusable(one_line(error, f"preparing stack {args.stack_name} in {region}")) from None
        if ready:
            return review_and_execute(args, session, cfn, change_set, region)
        say("no changes")
        change_set.discard()
    except KeyboardInterrupt:
        if change_set is None or change_set.arn is None or change_set.executed:
            raise
        change_set.discard()
        print("\ndeploy: interrupted before execution; the change set was deleted, nothing changed",
              file=sys.stderr, flush=True)
        return FAILED
    # A re-run to verify a deployment is exactly when --smoke is asked for.
    return smoke(args.stack_name, region) if args.smoke else DEPLOYED


def tags(pairs: list[str]) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in (pair.split("=", 1) for pair in pairs)]


def review_and_execute(args, session, cfn, change_set, region) -> int:
    changes = plan.from_change_set(change_set.changes())
    say(plan.render(changes))
    allowed = frozenset(args.allow_replacement)
    for text in sorted(plan.unused(changes, allowed)):
        say(f"note: --allow-replacement {text}: this change set neither replaces nor removes that")
    refusals = plan.guard(changes, allowed)
    if refusals:
        for refusal in refusals:
            print(f"REFUSED: {refusal.explain()}", file=sys.stderr, flush=True)
        change_set.discard()
        print(f"deploy: refused ({len(refusals)} stateful resource(s)); the change set was deleted, nothing changed",
              file=sys.stderr, flush=True)
        return REFUSED
    if not confirmed(args, change_set):
        return FAILED
    token = f"deploy-{uuid.uuid4()}"
    stream = events.EventStream(cfn, change_set.stack_id, args.stack_name, token,
                                events.newest_event_id(cfn, change_set.stack_id), say)
    change_set.execute(token)
    say(f"executing {change_set.arn}")
    try:
        final = stream.follow()
    except KeyboardInterrupt:
        print(stopped_watching(args.stack_name, region, change_set.type), file=sys.stderr, flush=True)
        return FAILED
    if "ROLLBACK" in final or final.endswith("_FAILED"):
        return explain_failure(args.stack_name, region, session, final)
    say(f"{args.stack_name}: {final}")
    for output in cfn.describe_stacks(StackName=change_set.stack_id)["Stacks"][0].get("Outputs", []):
        say(f"  {output['OutputKey']}: {output['OutputValue']}")
    return smoke(args.stack_name, region) if args.smoke else DEPLOYED


def confirmed(args, change_set) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        change_set.discard()
        raise Unusable("not a terminal to ask on: pass --yes to execute the change set (it was deleted)")
    answer = input(f"Execute this change set on {args.stack_name}? [y/N] ").strip().lower()
    if answer in ("y", "yes"):
        return True
    change_set.discard()
    say("not executed; the change set was deleted")
    return False


def stopped_watching(stack_name: str, region: str, change_set_type: str) -> str:
    cancel = (f"aws cloudformation cancel-update-stack --stack-name {stack_name} --region {region}"
              if change_set_type == "UPDATE" else
              f"aws cloudformation delete-stack --stack-name {stack_name} --region {region}")
    return (f"\nstopped watching; the {change_set_type.lower()} goes on in CloudFormation (not cancelled).\n"
            f"  follow: aws cloudformation describe-stack-events --stack-name {stack_name} --region {region}\n"
            f"  cancel: {cancel}")


def explain_failure(stack_name: str, region: str, session, final: str) -> int:
    print(f"deploy: {stack_name} ended {final}; the doctor's diagnosis follows", file=sys.stderr, flush=True)
    _, report = doctor.diagnose(stack_name, region, session=session)
    say(report)
    saved = REPORTS / doctor.REPORT_NAME.format(stack=stack_name)
    saved.parent.mkdir(exist_ok=True)
    saved.write_text(report + "\n")
    say(f"(saved as {os.path.relpath(saved)})")
    return FAILED


def smoke(stack_name: str, region: str) -> int:
    command = [*SMOKE, "--stack-name", stack_name, "--region", region]
    say(f"smoke suite: {' '.join(command[1:])}")
    run = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False)
    return DEPLOYED if run.returncode == 0 else FAILED


if __name__ == "__main__":
    sys.exit(main())
