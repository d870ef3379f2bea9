"""Check a Key=Value parameter file (dev.cfg) against the parameters of a CloudFormation template.

The file is used as `aws cloudformation deploy --parameter-overrides $(cat dev.cfg)`, so the shell
splits it into words and expands globs. Hence the format: one `Key=Value` per line, blank lines allowed,
no comments (`#` would reach CloudFormation as a parameter), no whitespace, quotes or glob characters
(`*?[`) anywhere in a line. Every value must fit its parameter's Type, AllowedPattern, AllowedValues,
MinLength/MaxLength and MinValue/MaxValue; every parameter without a Default must be given; NoEcho
parameters never belong in the file. Subnet lists that feed a DB subnet group or a load balancer need
at least two subnets (two Availability Zones; which zone each subnet is in can only be checked online).

    python tools/check_dev_cfg.py [--template stack.yml] [dev.cfg ...]

Prints every problem as `file:line: message` (`file: message` when no line is at fault) and exits 1
if there is any. An AllowedPattern that Python's `re` cannot read (CloudFormation patterns are Java
regular expressions, e.g. `\\p{Alnum}`) is reported as unchecked but does not fail the check.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
from dataclasses import dataclass

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parent.parent

KEY = re.compile(r"[A-Za-z0-9]+")
SHELL_UNSAFE = re.compile(r"""[\s"'*?\[]""")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# Shapes of the parameter types that can be checked offline.
TYPE_SHAPES = {
    "AWS::EC2::VPC::Id": r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})",
    "AWS::EC2::Subnet::Id": r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})",
    "AWS::EC2::SecurityGroup::Id": r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})",
    "AWS::EC2::Image::Id": r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})",
    "AWS::EC2::Instance::Id": r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})",
    "AWS::EC2::Volume::Id": r"vol-(?:[0-9a-f]{8}|[0-9a-f]{17})",
    # A Region's zone (us-east-1a), a Local Zone (us-west-2-lax-1a) or a Wavelength Zone (us-east-1-wl1-bos-wlz-1).
    "AWS::EC2::AvailabilityZone::Name": r"[a-z]{2}(?:-[a-z]+)+-\d(?:[a-z]|-[a-z]{3}-\d[a-z]|-wl\d-[a-z]{3}-wlz-\d)",
    "AWS::Route53::HostedZone::Id": r"Z[A-Z0-9]{1,31}",
    "AWS::SSM::Parameter::Name": r"[A-Za-z0-9_.\-/]+",
    "Number": NUMBER.pattern,
}
SSM_VALUE = re.compile(r"AWS::SSM::Parameter::Value<.+>")
# Resource properties that need subnets in at least two Availability Zones.
MULTI_AZ_SUBNETS = {
    "AWS::RDS::DBSubnetGroup": "SubnetIds",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Subnets",
}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str
    blocking: bool = True  # False: a value that could not be checked offline, not one known to be wrong

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def parse(text: str, path: str) -> tuple[dict[str, tuple[int, str]], list[Problem]]:
    """Key -> (line number, value) for every well-formed line, and a problem for every other one."""
    values: dict[str, tuple[int, str]] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        problem = _line_problem(line, values)
        if problem:
            problems.append(Problem(path, number, problem))
        elif line:
            key, value = line.split("=", 1)
            values[key] = (number, value)
    return values, problems


def _line_problem(line: str, seen: dict[str, tuple[int, str]]) -> str | None:
    if not line:
        return None
    if line.lstrip().startswith("#"):
        return "comments are not allowed: $(cat dev.cfg) would pass them to CloudFormation as words"
    unsafe = SHELL_UNSAFE.search(line)
    if unsafe:
        return f"{unsafe.group()!r} in line: $(cat dev.cfg) would split or expand it; no spaces, quotes or *?["
    if "=" not in line:
        return "expected Key=Value"
    key = line.split("=", 1)[0]
    if not key:
        return "empty key before '='"
    if not KEY.fullmatch(key):
        return f"{key!r} is not a parameter name (letters and digits only)"
    if key in seen:
        return f"{key} is already set on line {seen[key][0]}"
    return None


def check(text: str, path: str, template: dict) -> list[Problem]:
    values, problems = parse(text, path)
    parameters = template.get("Parameters", {})
    for key, (number, value) in values.items():
        if key not in parameters:
            problems.append(Problem(path, number, f"{key} is not a parameter of the template"))
            continue
        problems += [Problem(path, number, f"{key}: {message}")
                     for message in value_problems(value, parameters[key], needs_two_subnets(template, key))]
        unreadable = _pattern_error(parameters[key].get("AllowedPattern"))
        if unreadable:
            problems.append(Problem(path, number, (
                f"{key}: AllowedPattern {parameters[key]['AllowedPattern']} cannot be checked offline, it is not a "
                f"Python regular expression ({unreadable}); CloudFormation checks it at deploy time"), blocking=False))
    for name in sorted(set(parameters) - set(values)):
        # A NoEcho parameter is passed at deploy time, never from this file.
        if "Default" not in parameters[name] and not _is_true(parameters[name].get("NoEcho")):
            problems.append(Problem(path, None, f"{name} has no Default and must be set"))
    return sorted(problems, key=lambda p: (p.line or 0, p.message))


def value_problems(value: str, parameter: dict, two_subnets: bool = False) -> list[str]:
    kind = str(parameter.get("Type", "String"))
    if _is_true(parameter.get("NoEcho")):
        return ["NoEcho parameter: keep its value out of this file (pass it at deploy time or generate it)"]
    is_list = kind.startswith("List<") or kind == "CommaDelimitedList"
    items = value.split(",") if is_list else [value]
    item_type = kind[len("List<"):-1] if kind.startswith("List<") else kind
    problems = []
    for item in items:
        problems += _item_problems(item, item_type, parameter)
    if not is_list:
        problems += _length_problems(value, parameter)
    if two_subnets and len(items) < 2:
        problems.append("needs at least two subnets in different Availability Zones (DB subnet group, load balancer)")
    return problems


def _item_problems(item: str, item_type: str, parameter: dict) -> list[str]:
    if SSM_VALUE.fullmatch(item_type):
        # The file names the SSM parameter; CloudFormation resolves its value at deploy time.
        item_type = "AWS::SSM::Parameter::Name"
    shape = TYPE_SHAPES.get(item_type)
    if shape and not re.fullmatch(shape, item):
        return [f"{item!r} is not a valid {item_type}"]
    problems = []
    pattern = parameter.get("AllowedPattern")
    if pattern is not None and not _pattern_error(pattern) and not re.fullmatch(str(pattern), item):
        problems.append(f"{item!r} does not match AllowedPattern {pattern}")
    allowed = parameter.get("AllowedValues")
    if allowed is not None and item not in [_as_text(v) for v in allowed]:
        problems.append(f"{item!r} is not one of {', '.join(_as_text(v) for v in allowed)}")
    if item_type == "Number":
        problems += _range_problems(float(item), parameter)
    return problems


def _pattern_error(pattern) -> str | None:
    """Why Python cannot read an AllowedPattern (a Java-only construct), None if it can or there is none."""
    if pattern is None:
        return None
    try:
        re.compile(str(pattern))
    except re.error as error:
        return str(error)
    return None


def _range_problems(number: float, parameter: dict) -> list[str]:
    low, high = parameter.get("MinValue"), parameter.get("MaxValue")
    if low is not None and number < float(low):
        return [f"{number:g} is below MinValue {low}"]
    if high is not None and number > float(high):
        return [f"{number:g} is above MaxValue {high}"]
    return []


def _length_problems(value: str, parameter: dict) -> list[str]:
    low, high = parameter.get("MinLength"), parameter.get("MaxLength")
    if low is not None and len(value) < int(low):
        return [f"is {len(value)} characters long, MinLength is {low}"]
    if high is not None and len(value) > int(high):
        return [f"is {len(value)} characters long, MaxLength is {high}"]
    return []


def needs_two_subnets(template: dict, parameter: str) -> bool:
    return any(
        isinstance(body, dict) and body.get("Type") in MULTI_AZ_SUBNETS
        and (body.get("Properties") or {}).get(MULTI_AZ_SUBNETS[body["Type"]]) == {"Ref": parameter}
        for body in (template.get("Resources") or {}).values()
    )


def _is_true(value) -> bool:
    return str(value).lower() == "true"


def _as_text(value) -> str:
    """A YAML scalar as CloudFormation compares it: true/false in lower case, numbers as written."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def load_template(path: pathlib.Path) -> dict:
    template, errors = decode(str(path))
    if errors or not isinstance(template, dict):
        raise SystemExit(f"{path}: does not parse as a template: {[str(e) for e in errors]}")
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", default=[os.path.relpath(ROOT / "dev.cfg")],
                        help="parameter files (default: dev.cfg)")
    parser.add_argument("--template", default=os.path.relpath(ROOT / "stack.yml"), help="template (default: stack.yml)")
    args = parser.parse_args(argv)
    template = load_template(pathlib.Path(args.template))
    problems = []
    for name in args.files:
        try:
            text = pathlib.Path(name).read_text()
        except OSError as error:
            problems.append(Problem(name, None, f"cannot read: {error.strerror}"))
            continue
        problems += check(text, name, template)
    for problem in problems:
        print(problem, file=sys.stderr)
    if any(problem.blocking for problem in problems):
        return 1
    print(f"{', '.join(args.files)}: parameters fit {args.template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
