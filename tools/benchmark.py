"""Print how long each tox env of the gate takes, and its slowest tests, so a regression shows.

    python tools/benchmark.py [--envs lint,checkov,unit,integration] [--slowest 8] [--lint-timing-runs 3]

Runs `tox run -e ENV` for each env (pytest envs with --durations), one after the other, and prints
each env's wall time, its CPU time (user + sys of tox and everything it ran: on a shared machine
wall time is noisy, CPU time much less so), the slowest tests, then cfn-lint's own timing report
(tools/lint_timing.py, with the lint env's Python). A report, not a gate: nothing here fails on a
number; it exits non-zero only when an env itself fails. Needs tox, like `tox run`.
"""
import argparse
import dataclasses
import os
import re
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTEST_ENVS = {"checkov", "unit", "integration"}  # the lint env passes its arguments to cfn-lint
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S.*)$")


@dataclasses.dataclass
class EnvRun:
    env: str
    wall: float
    cpu: float
    returncode: int
    output: str

    def slowest(self, count: int) -> list:
        return slowest_tests(self.output)[:count]


def slowest_tests(output: str) -> list:
    """(seconds, phase, test id) from pytest's --durations section, slowest first."""
    found = [(float(m[1]), m[2], m[3]) for m in map(DURATION.match, output.splitlines()) if m]
    return sorted(found, key=lambda entry: -entry[0])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_env(env: str, slowest: int) -> EnvRun:
    command = ["tox", "run", "-e", env]
    if env in PYTEST_ENVS:
        command += ["--", f"--durations={slowest}"]
    print(f"running {' '.join(command)} ...", file=sys.stderr, flush=True)
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return EnvRun(env, time.perf_counter() - started, children_cpu() - cpu, done.returncode,
                  done.stdout + done.stderr)


def table(runs: list) -> str:
    lines = ["| env | wall s | CPU s | result |", "|-----|-------:|------:|--------|"]
    for run in runs:
        lines.append(f"| {run.env} | {run.wall:.1f} | {run.cpu:.1f} | {'ok' if run.returncode == 0 else 'FAILED'} |")
    lines.append(f"| total | {sum(r.wall for r in runs):.1f} | {sum(r.cpu for r in runs):.1f} | |")
    return "\n".join(lines)


def lint_timing(runs: int) -> str:
    python = os.path.join(ROOT, ".tox", "lint", "bin", "python")
    done = subprocess.run([python, os.path.join(ROOT, "tools", "lint_timing.py"), "--runs", str(runs)],
                          cwd=ROOT, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else f"lint_timing failed:\n{done.stdout}{done.stderr}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", default="lint,checkov,unit,integration", help="comma-separated tox envs")
    parser.add_argument("--slowest", type=int, default=8, help="slowest tests shown per env (default 8)")
    parser.add_argument("--lint-timing-runs", type=int, default=3,
                        help="runs of tools/lint_timing.py after the envs (0: skip it; default 3)")
    args = parser.parse_args(argv)
    runs = [run_env(env, args.slowest) for env in args.envs.split(",")]
    print(table(runs))
    for run in runs:
        if run.returncode:
            print(f"\n{run.env} FAILED; its output ends:\n" + "\n".join(run.output.splitlines()[-30:]))
        for seconds, phase, test in run.slowest(args.slowest):
            print(f"  {run.env:<12} {seconds:6.2f} s {phase:<8} {test}")
    if args.lint_timing_runs and os.path.exists(os.path.join(ROOT, ".tox", "lint")):
        print("\ncfn-lint on stack.yml (tools/lint_timing.py):")
        print(lint_timing(args.lint_timing_runs), end="")
    return 1 if any(run.returncode for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
