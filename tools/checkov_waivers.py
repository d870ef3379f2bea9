"""checkov's waivers in stack.yml, checked: each one states a reason and waives a finding checkov still reports.

    python tools/checkov_waivers.py [TEMPLATE]     (with requirements/checkov.txt; tox -e checkov runs its tests)

A waiver is a `Metadata: checkov: skip:` entry next to its resource, with a one-line comment: the reason.
checkov itself accepts one without a comment (it reports "No comment provided") and keeps one whose check
has passed since; neither is allowed here. Whether a waived check would still fail is known only by running
checkov without the waivers: the template is read with checkov's own CloudFormation parser, every
resource's checkov/bridgecrew Metadata is dropped, and checkov scans that copy in-process. A skip checkov
honours that is not such a Metadata entry (a `# checkov:skip=` comment) is reported too: its reason would
not stand next to the resource's other waivers.
"""
from __future__ import annotations

import argparse
import copy
import json
import pathlib
import sys
import tempfile
from dataclasses import dataclass

from checkov.cloudformation.parser import parse
from checkov.cloudformation.runner import Runner
from checkov.runner_filter import RunnerFilter

ROOT = pathlib.Path(__file__).resolve().parents[1]
STACK = ROOT / "stack.yml"
WAIVER_KEYS = ("checkov", "bridgecrew")  # both are read by checkov's CloudFormation runner
MIN_REASON_WORDS = 8  # a fact and what follows from it; "not needed" or "accepted risk" is not one


@dataclass(frozen=True)
class Waiver:
    check_id: str
    resource: str
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        return self.check_id, self.resource


def waivers(template: dict) -> list[Waiver]:
    found = []
    for name, body in (template.get("Resources") or {}).items():
        metadata = body.get("Metadata") if isinstance(body, dict) else None
        for key in WAIVER_KEYS:
            entries = ((metadata or {}).get(key) or {}).get("skip") or []
            for entry in entries:
                found.append(Waiver(str(entry.get("id", "")), name, str(entry.get("comment") or "").strip()))
    return found


def without_waivers(template: dict) -> dict:
    bare = copy.deepcopy(template)
    for body in (bare.get("Resources") or {}).values():
        metadata = body.get("Metadata") if isinstance(body, dict) else None
        if isinstance(metadata, dict):
            for key in WAIVER_KEYS:
                metadata.pop(key, None)
    return bare


def scan(path: pathlib.Path) -> dict[str, set[tuple[str, str]]]:
    """checkov's verdicts on one template: {"failed"|"passed"|"skipped": {(check id, logical id)}}."""
    report = Runner().run(root_folder=None, files=[str(path)],
                          runner_filter=RunnerFilter(framework=["cloudformation"], show_progress_bar=False))
    if report.parsing_errors:
        raise ValueError(f"checkov could not parse {path}")

    def keys(records):
        return {(record.check_id, record.resource.rsplit(".", 1)[-1]) for record in records}

    return {"failed": keys(report.failed_checks), "passed": keys(report.passed_checks),
            "skipped": keys(report.skipped_checks)}


def reason_problem(reason: str) -> str | None:
    if not reason or reason == "No comment provided":
        return "has no reason"
    if "\n" in reason:
        return "has a reason over several lines (write one line: the fact it rests on)"
    if len(reason.split()) < MIN_REASON_WORDS:
        return f"has a reason too short to state the fact it rests on: {reason!r}"
    return None


def problems(path: pathlib.Path = STACK) -> tuple[list[str], list[Waiver]]:
    """What is wrong with the template's waivers (nothing: []), and the waivers."""
    template, _ = parse(str(path))
    found = waivers(template)
    wrong = []
    for waiver in found:
        if not waiver.check_id:
            wrong.append(f"{waiver.resource}: a waiver without an id (checkov ignores it)")
        elif (issue := reason_problem(waiver.reason)) is not None:
            wrong.append(f"{waiver.resource}: the waiver of {waiver.check_id} {issue}")

    with tempfile.TemporaryDirectory() as scratch:
        bare = pathlib.Path(scratch, path.stem + ".json")
        bare.write_text(json.dumps(without_waivers(template)))
        would_fail = scan(bare)["failed"]
    verdicts = scan(path)
    waived = {waiver.key for waiver in found}

    for check_id, name in sorted(waived - would_fail):
        wrong.append(f"{name}: stale waiver of {check_id}: the check passes without it, remove the waiver")
    for check_id, name in sorted(verdicts["skipped"] - waived):
        wrong.append(f"{name}: {check_id} is skipped, but not by a Metadata waiver with a reason "
                     "(a `# checkov:skip=` comment?): write it in the resource's Metadata")
    for check_id, name in sorted(verdicts["failed"]):
        wrong.append(f"{name}: {check_id} fails: fix it, or waive it in the resource's Metadata with the reason")
    return wrong, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", type=pathlib.Path, default=STACK)
    args = parser.parse_args(argv)
    wrong, found = problems(args.template)
    for line in wrong:
        print(line)
    if wrong:
        return 1
    print(f"{args.template.name}: checkov waivers: {len(found)}, each with a reason and each for a check "
          "that fails without it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
