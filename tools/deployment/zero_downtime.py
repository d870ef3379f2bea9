"""Run a command (a deploy) while probing the stack's site; any answer that is not 2xx fails the run.

    python -m tools.deployment.zero_downtime --stack-name NAME [--region R] [--report-dir reports] -- COMMAND ...
    python -m tools.deployment.zero_downtime --public-url URL -- COMMAND ...

Waits until the site answers 200 three times in a row, then GETs /todos four times a second (the smoke suite's
rolling-deploy probe, tests/integration/smoke/probe.py) for as long as COMMAND runs. Prints the probe's timeline
and writes it as a plot (upgrade-probe.png). Exit: COMMAND's own exit code when it failed; otherwise 1 when any
answer was not 2xx or the probe did not cover the whole command, 0 when the site stayed up throughout.
CI runs the upgrade of the previous release with it (.github/workflows/ci.yml, job live).
"""
from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

if __package__ in (None, ""):  # run as a script: make `tools` and `tests` importable from the repository root
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from tests.integration.smoke import http as smoke_http  # noqa: E402
from tests.integration.smoke.probe import Probe  # noqa: E402
from tests.integration.smoke.readiness import NotReady, wait_until_ready  # noqa: E402
from tests.integration.smoke.target import TargetError, from_stack, from_url  # noqa: E402

PLOT = "upgrade-probe.png"


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="probe this stack's PublicURL output")
    where.add_argument("--public-url", help="probe this load balancer URL")
    parser.add_argument("--region")
    parser.add_argument("--report-dir", type=pathlib.Path, default=pathlib.Path("reports"))
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="seconds to wait for three 200s first")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between probe requests")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...: what to run while probing")
    args = parser.parse_args(argv)
    args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not args.command:
        parser.error("give the command to run after --")
    return args


def probed(base_url: str, run, *, interval: float = 0.25, ready_timeout: float = 300.0, timeout: float = 5.0,
           report_dir: pathlib.Path | None = None) -> int:
    """`run()` (returns an exit code) while `base_url`/todos is probed; the exit code described above."""
    http = smoke_http.session(base_url)
    try:
        wait_until_ready(http, base_url + "/", deadline=ready_timeout, interval=min(2.0, max(interval, 0.1)),
                         consecutive=3, timeout=timeout)
    except NotReady as error:
        print(f"zero-downtime probe: the site was not up before the change: {error.diagnosis}", file=sys.stderr)
        return 1
    probe = Probe(http, base_url + "/todos", interval=interval, timeout=timeout)
    with probe:
        code = run()
    timeline = probe.timeline
    print(f"zero-downtime probe: {len(timeline.samples)} requests, {len(timeline.failures())} not 2xx: "
          f"{timeline.summary()}", flush=True)
    if report_dir is not None and timeline.samples:
        from tests.integration.smoke.report import plot  # matplotlib: only when a plot is asked for
        print(f"zero-downtime probe: plot {plot(timeline, report_dir / PLOT, 'upgrade')}")
    if code:
        return code
    problem = probe.coverage_problem()
    if problem:
        print(f"zero-downtime probe: {problem}", file=sys.stderr)
        return 1
    return 1 if timeline.failures() else 0


def main(argv=None) -> int:
    args = parse(argv)
    try:
        target = from_stack(args.stack_name, args.region) if args.stack_name else from_url(args.public_url, "--public-url")
    except TargetError as error:
        print(f"zero-downtime probe: {error}", file=sys.stderr)
        return 2
    return probed(target.base_url, lambda: subprocess.run(args.command, check=False).returncode,
                  interval=args.interval, ready_timeout=args.ready_timeout, report_dir=args.report_dir)


if __name__ == "__main__":
    sys.exit(main())
