"""Print how long cfn-lint takes on stack.yml with and without the project rules in rules/.

    python tools/lint_timing.py [--runs 7] [--template stack.yml]

Runs cfn-lint in process the way the lint env does (regions and checks from .cfnlintrc), alternating
the two configurations --runs times after a warm-up, and prints the median of each. The difference is
close to the noise, so it also prints the time the project rules' own checks take on stack.yml.
A report, not a gate: timings depend on the machine.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

from cfnlint.api import lint
from cfnlint.config import ConfigMixIn, ManualArgs
from cfnlint.decode import decode_str
from cfnlint.helpers import load_plugins
from cfnlint.template import Template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "rules")


def settings() -> dict:
    """Regions and included checks as cfn-lint reads them from the project's .cfnlintrc."""
    os.chdir(ROOT)
    config = ConfigMixIn(cli_args=[])
    return {"regions": config.regions, "include_checks": config.include_checks}


def timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


def whole_lint(text: str, common: dict, runs: int) -> dict:
    configs = {
        "cfn-lint alone": ManualArgs(**common),
        "with project rules": ManualArgs(**common, append_rules=[RULES]),
    }
    samples = {name: [] for name in configs}
    # From an empty directory, so .cfnlintrc adds nothing to either configuration.
    with tempfile.TemporaryDirectory() as empty:
        os.chdir(empty)
        for run in range(runs + 1):
            for name, config in configs.items():
                seconds = timed(lint, text, config=config)
                if run:  # the first round warms caches up
                    samples[name].append(seconds)
    return {name: statistics.median(values) for name, values in samples.items()}


def project_rule_checks(text: str, regions: list) -> dict:
    """Seconds each project rule's match() takes on the parsed template."""
    template, _ = decode_str(text)
    cfn = Template(None, template, regions)
    costs = {}
    for rule in sorted(load_plugins(RULES), key=lambda rule: rule.id):
        rule.configure()
        costs[rule.id] = timed(rule.match, cfn)
    return costs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs each way (default: 7)")
    parser.add_argument("--template", default=os.path.join(ROOT, "stack.yml"), type=os.path.abspath,
                        help="template to lint (default: stack.yml)")
    args = parser.parse_args(argv)
    with open(args.template) as template:
        text = template.read()
    common = settings()
    medians = whole_lint(text, common, args.runs)
    for name, seconds in medians.items():
        print(f"{name:>22}: {seconds:.3f} s (median of {args.runs})")
    base, with_rules = medians.values()
    print(f"{'difference':>22}: {with_rules - base:+.3f} s ({(with_rules / base - 1) * 100:+.1f} %, target <= +30 %)")
    costs = project_rule_checks(text, common["regions"])
    detail = ", ".join(f"{rule_id} {seconds * 1000:.1f}" for rule_id, seconds in costs.items())
    print(f"{'project rules checks':>22}: {sum(costs.values()) * 1000:.1f} ms ({detail} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
