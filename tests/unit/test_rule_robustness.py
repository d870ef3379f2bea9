"""No project rule raises, whatever shape a template's values take.

Real templates write almost any property as an intrinsic function (`!Ref ContainerName`,
`!ImportValue ...`, `Fn::If` around a list or an item) and linted templates are often wrong
(a number where a list belongs). A rule that raises turns a user's lint red with cfn-lint's E0002,
so every rule must stay silent when it cannot decide.

Generated cases: stack.yml and every rule fixture, each mutated by replacing values with each SHAPE:
- depth sweep: for each depth below `Properties` (0 = Properties itself), every value at that depth in
  every resource at once, so the values above stay intact and lead the rules down to the odd one;
- per resource type: every property of the resources of one type at once, the others intact;
- resource attributes (DependsOn, Condition) and parameter attributes (Type, NoEcho, Default).
Values inside intrinsic functions are replaced whole, not entered (their insides are cfn-lint's to check).

Fast by design: templates are decoded once, rules loaded once, and each mutation builds one cfn-lint
Template and calls each rule's match() in process, as cfn-lint's runner does (no cfn-lint run per case).
"""
import functools
import pathlib
import re

import pytest
from cfnlint.decode import decode_str
from cfnlint.helpers import load_plugins
from cfnlint.template import Template

from tests.support.template import ROOT, STACK

RULES = sorted(load_plugins(str(ROOT / "rules")), key=lambda rule: rule.id)
for _rule in RULES:
    _rule.configure()
FIXTURES = pathlib.Path(__file__).parent / "rule_fixtures"
SOURCES = [STACK, *sorted(FIXTURES.glob("*.yml"))]

# A rule reads only the resource types it names (and custom resources): the others are left out of
# the per-type cases, which are the costly part (one cfn-lint Template each).
RULE_TYPES = {found for path in (ROOT / "rules").glob("*.py")
              for found in re.findall(r'"(AWS::\w+::\w+)"', path.read_text())}
# Added to each mutated template, so the shapes refer to things that exist.
PARAMETER, CONDITION = "RobustnessShape", "RobustnessCondition"
INTRINSIC_KEYS = ("Ref", "Condition")


# Each shape replaces one value (`original`, in resource `resource`): intrinsic functions, nested ones,
# and wrong types.
SHAPES = {
    "Ref": lambda original, resource: {"Ref": PARAMETER},
    "Fn::Sub": lambda original, resource: {"Fn::Sub": ["${Name}-x", {"Name": {"Ref": PARAMETER}}]},
    "Fn::If": lambda original, resource: {"Fn::If": [CONDITION, original, {"Ref": "AWS::NoValue"}]},
    "Fn::ImportValue": lambda original, resource: {"Fn::ImportValue": {"Fn::Sub": "${%s}-export" % PARAMETER}},
    "Fn::GetAtt": lambda original, resource: {"Fn::GetAtt": [resource, "Arn"]},
    "nested": lambda original, resource: {
        "Fn::Join": ["", [{"Fn::If": [CONDITION, {"Ref": PARAMETER}, {"Fn::ImportValue": "x"}]}, "-y"]]},
    "int": lambda original, resource: 7,
    "list": lambda original, resource: ["x", 1, {"Ref": PARAMETER}],
    "dict": lambda original, resource: {"Unexpected": {"Ref": PARAMETER}},
    "null": lambda original, resource: None,
    "bool": lambda original, resource: True,
}


def plain(value):
    """A copy as plain dicts, lists and strings (cfn-lint's decoded nodes are slow to copy)."""
    if isinstance(value, dict):
        return {str(key): plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    return str(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=None)
def decoded(path):
    template, errors = decode_str(path.read_text())
    assert template is not None, errors
    return plain(template)


def is_intrinsic(value):
    return isinstance(value, dict) and len(value) == 1 and (
        next(iter(value)).startswith("Fn::") or next(iter(value)) in INTRINSIC_KEYS)


def children(value):
    """(key, child) of a dict or list that the walk may enter: never the inside of an intrinsic."""
    if is_intrinsic(value):
        return []
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return list(enumerate(value))
    return []


def paths_by_depth(properties):
    """Paths below Properties, grouped by depth (1 = a property, 2 = its items or keys...)."""
    found, level = [], [((), properties)]
    while level:
        level = [((*path, key), child) for path, value in level for key, child in children(value)]
        if level:
            found.append([path for path, _ in level])
    return found


def get(value, path):
    for key in path:
        value = value[key]
    return value


def replaced(template, changes):
    """A copy of the template with each (path from the root, shape name) replaced by that shape.

    Only the resources and parameters that change are copied; the condition the Fn::If shapes use
    is added only when a shape uses it (cfn-lint solves conditions with sympy, the costly part)."""
    mutated = {**template, "Parameters": {**(template.get("Parameters") or {}), PARAMETER: {"Type": "String"}}}
    if any(shape in ("Fn::If", "nested") for _, shape in changes):
        mutated["Conditions"] = {**(template.get("Conditions") or {}),
                                 CONDITION: {"Fn::Equals": [{"Ref": PARAMETER}, "yes"]}}
    copied = set()
    for path, shape in changes:
        section, name = path[0], path[1]
        if (section, name) not in copied:
            mutated[section] = dict(mutated[section])
            mutated[section][name] = plain(mutated[section][name])
            copied.add((section, name))
        parent = get(mutated, path[:-1])
        parent[path[-1]] = SHAPES[shape](parent[path[-1]], name)
    return mutated


def mutations(template):
    """(description, changes) for every generated case of one template."""
    resources = {n: b for n, b in (template.get("Resources") or {}).items() if isinstance(b, dict)}
    depths, by_type = {}, {}
    for name, body in resources.items():
        properties = body.get("Properties")
        if properties is None:
            continue
        depths.setdefault(0, []).append(("Resources", name, "Properties"))
        for depth, paths in enumerate(paths_by_depth(properties), start=1):
            depths.setdefault(depth, []).extend(("Resources", name, "Properties", *p) for p in paths)
        kind = body.get("Type")
        if kind in RULE_TYPES or str(kind).startswith("Custom::"):
            by_type.setdefault(kind, []).extend(
                ("Resources", name, "Properties", key) for key in (properties if isinstance(properties, dict) else []))
    attributes = [("Resources", name, key) for name, body in resources.items()
                  for key in ("DependsOn", "Condition") if key in body]
    parameters = [("Parameters", name, key) for name, body in (template.get("Parameters") or {}).items()
                  for key in ("Type", "NoEcho", "Default") if isinstance(body, dict) and key in body]
    for shape in SHAPES:
        for depth, paths in sorted(depths.items()):
            yield f"every value at depth {depth} -> {shape}", [(path, shape) for path in paths]
        # One resource type at a time: the other resources stay intact and lead the rules there.
        for resource_type, paths in by_type.items():
            if paths:
                yield f"every property of each {resource_type} -> {shape}", [(path, shape) for path in paths]
        if attributes or parameters:
            yield f"resource and parameter attributes -> {shape}", [(path, shape) for path in attributes + parameters]


def crashes(template):
    """(case, rule id, error) for every rule that raises on a generated case.

    cfn-lint builds its Template from every shape here; if it ever refuses one, that case is reported
    too (rule id "Template"), so the cases cannot silently stop reaching the rules."""
    found = []
    for description, changes in mutations(template):
        try:
            cfn = Template("mutated.yml", replaced(template, changes), ["us-east-1"])
        except Exception as error:  # noqa: BLE001 - reported, not skipped
            found.append((description, "Template", f"{type(error).__name__}: {error}"))
            continue
        for rule in RULES:
            try:
                rule.match(cfn)
            except Exception as error:  # noqa: BLE001 - what cfn-lint would report as E0002
                found.append((description, rule.id, f"{type(error).__name__}: {error}"))
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_no_rule_raises_on_any_value_shape(source):
    found = crashes(decoded(source))
    assert not found, f"{len(found)} crashes, first: " + "; ".join(map(str, found[:5]))


def test_the_generator_reaches_deep_values_and_every_shape():
    """The cases cover what the rules read: container names under a list under a property."""
    cases = dict(mutations(decoded(STACK)))
    load_balancer_name = ("Resources", "ApplicationService", "Properties", "LoadBalancers", 0, "ContainerName")
    shapes_there = {shape for changes in cases.values() for path, shape in changes if path == load_balancer_name}
    assert shapes_there == set(SHAPES)
    mutated = replaced(decoded(STACK), [(load_balancer_name, "Fn::If")])
    assert get(mutated, load_balancer_name)["Fn::If"][1] == "todobackend"
    assert get(decoded(STACK), load_balancer_name) == "todobackend"  # the source is never changed


def test_a_rule_that_hashes_an_intrinsic_name_is_caught():
    """The check itself can fail: a rule putting container names in a set raises on `!Ref Name`."""
    class HashesNames:
        id = "E9999"

        @staticmethod
        def match(cfn):
            return {c.get("Name") for body in cfn.get_resources("AWS::ECS::TaskDefinition").values()
                    for c in (body.get("Properties") or {}).get("ContainerDefinitions") or [] if isinstance(c, dict)}

    RULES.append(HashesNames())
    try:
        found = crashes(decoded(FIXTURES / "E9003_intrinsic_names.yml"))
    finally:
        RULES.pop()
    assert {rule_id for _, rule_id, _ in found} == {"E9999"}
    assert any("unhashable" in error for _, _, error in found)
