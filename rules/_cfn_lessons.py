"""Template questions the project rules share, answered with cfn-lint's own template graph.

cfn-lint imports only `[A-Za-z1-9]*.py` from a rules directory, so this module (leading underscore) is
never mistaken for a rule. cfn-lint loads rule files by path, not as a package, so each rule module
puts this directory on `sys.path` before importing it.
It must not define or import any CloudFormationLintRule subclass: cfn-lint would instantiate it once
per rule module and stop with a DuplicateRuleError.
"""
from __future__ import annotations

import ast
import functools
import re
import sys
from typing import Any, Iterator

import networkx

CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
EPHEMERAL_PORTS = (32768, 60999)
NO_VALUE = {"Ref": "AWS::NoValue"}

_PYTHON_RUNTIME = re.compile(r"python(\d+)\.(\d+)")
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def is_custom_resource(resource_type: str) -> bool:
    return resource_type == CUSTOM_RESOURCE or resource_type.startswith("Custom::")


def properties(cfn, name: str) -> dict:
    value = cfn.template["Resources"][name].get("Properties", {})
    return value if isinstance(value, dict) else {}


def resource_type(cfn, name: str) -> str | None:
    body = cfn.template.get("Resources", {}).get(name)
    return body.get("Type") if isinstance(body, dict) else None


def depends_on(cfn, name: str) -> list[str]:
    """The logical ids in a resource's DependsOn attribute, whatever shape it has."""
    value = cfn.template["Resources"][name].get("DependsOn", [])
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [item for item in values if isinstance(item, str)]


def targets(cfn, name: str, *path: Any, types: tuple[str, ...] = ()) -> list[str]:
    """Resources that Ref/GetAtt/Sub under Resources/<name>/<path...> point at (graph edges)."""
    if cfn.graph is None or name not in cfn.graph.graph:
        return []
    found = []
    for _, target, data in cfn.graph.graph.out_edges(name, data=True):
        if data.get("label") == "DependsOn":
            continue
        if list(data["source_paths"][: len(path)]) != list(path):
            continue
        if types and resource_type(cfn, target) not in types:
            continue
        if target not in found:
            found.append(target)
    return found


def ordered_after(cfn, name: str, other: str) -> bool:
    """True if CloudFormation creates `other` before `name`: a DependsOn or reference path leads there."""
    graph = cfn.graph.graph if cfn.graph is not None else None
    if graph is None or name not in graph or other not in graph:
        return False
    return networkx.has_path(graph, name, other)


def alternatives(value: Any, path: tuple = ()) -> Iterator[tuple[list, Any]]:
    """(path, value) for each concrete value a property may take: both branches of every Fn::If,
    nested ones too, never AWS::NoValue. Branch paths extend `path` as cfn-lint's graph records them."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        branches = value["Fn::If"]
        if isinstance(branches, list) and len(branches) == 3:
            for index in (1, 2):
                yield from alternatives(branches[index], (*path, "Fn::If", index))
        return
    if value != NO_VALUE:
        yield list(path), value


def items(value: Any, path: tuple = ()) -> Iterator[tuple[list, Any]]:
    """(path, item) for each item of a list property, through Fn::If around the list and around items."""
    for list_path, concrete in alternatives(value, path):
        if isinstance(concrete, list):
            for index, item in enumerate(concrete):
                yield from alternatives(item, (*list_path, index))


def template_text(value: Any) -> str | None:
    """A literal, Fn::Sub or Fn::Join string as text (`${X}` kept), None for anything more dynamic."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        join = value.get("Fn::Join")
        if isinstance(join, list) and len(join) == 2 and isinstance(join[0], str) and isinstance(join[1], list):
            texts = [template_text(part) for part in join[1]]
            return None if None in texts else join[0].join(texts)
        sub = value.get("Fn::Sub")
        if isinstance(sub, str):
            return sub
        if isinstance(sub, list) and sub and isinstance(sub[0], str) and not (len(sub) > 1 and sub[1]):
            return sub[0]
        if isinstance(value.get("Ref"), str):
            return "${" + value["Ref"] + "}"
    return None


def name_key(value: Any) -> str | None:
    """A hashable key for a name that may be an intrinsic function: `!Ref X` and `!Sub ${X}` give the
    same key, other intrinsics their repr; None when there is no name. Property values may be
    cfn-lint's unhashable dict_node, so rules compare names through this, never the values."""
    if value is None:
        return None
    text = template_text(value)
    return text if text is not None else repr(value)


def parameter_refs(value: Any) -> set[str]:
    """Names a value reaches through Ref or ${Name} in Fn::Sub (parameters and resources alike)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    found.update(v.strip() for v in _SUB_VARIABLE.findall(text))
                found |= parameter_refs(inner[1:] if isinstance(inner, list) else [])
            else:
                found |= parameter_refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= parameter_refs(inner)
    return found


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def containers(cfn, task_definition: str) -> Iterator[tuple[list, dict]]:
    """(path from the template root, definition) for each container, on every Fn::If branch."""
    path = ("Resources", task_definition, "Properties", "ContainerDefinitions")
    for container_path, container in items(properties(cfn, task_definition).get("ContainerDefinitions"), path):
        if isinstance(container, dict):
            yield container_path, container


def services_running(cfn, task_definition: str) -> list[str]:
    """ECS services whose TaskDefinition is this task definition."""
    return [
        name for name in cfn.get_resources("AWS::ECS::Service")
        if task_definition in targets(cfn, name, "Properties", "TaskDefinition")
    ]


def service_task_definition(cfn, service: str) -> str | None:
    found = targets(cfn, service, "Properties", "TaskDefinition", types=("AWS::ECS::TaskDefinition",))
    return found[0] if found else None


# How a task-running custom resource may name its inputs: its handler reads whatever keys it chose.
RUNNER_KEYS = {"Cluster": ("Cluster", "ClusterArn"), "TaskDefinition": ("TaskDefinition", "TaskDefinitionArn")}


def task_runners(cfn) -> dict[str, dict[str, str]]:
    """Custom resources that run an ECS task: their properties name a cluster and a task definition
    (Cluster or ClusterArn, TaskDefinition or TaskDefinitionArn). Each maps to the keys it uses:
    {"Cluster": "ClusterArn", "TaskDefinition": "TaskDefinitionArn"}."""
    found = {}
    for name, body in cfn.get_resources().items():
        if not is_custom_resource(body["Type"]):
            continue
        props = properties(cfn, name)
        keys = {role: next((key for key in choices if key in props), None) for role, choices in RUNNER_KEYS.items()}
        if None not in keys.values():
            found[name] = keys
    return found


def condition_scenarios(cfn, names) -> list[dict[str, bool]] | None:
    """Every combination of the named conditions the template allows, from cfn-lint's own solver (as its
    rules enumerate them): [{}] when there are none, None when one cannot be evaluated (not defined)."""
    names = sorted(set(names))
    if not names:
        return [{}]
    defined = cfn.template.get("Conditions")
    if not isinstance(defined, dict) or any(name not in defined for name in names):
        return None
    return list(cfn.conditions.build_scenarios({name: {True, False} for name in names})) or None


def conditions_on(cfn, path) -> dict[str, set[bool]]:
    """The conditions under which a template path is in effect: its resource's Condition and the Fn::If
    branches around it ({name: {True}} on the true branch)."""
    return cfn.get_conditions_from_path(cfn.template, list(path))


def holds(conditions: dict[str, set[bool]], scenario: dict[str, bool]) -> bool:
    return all(scenario[name] in values for name, values in conditions.items() if name in scenario)


def listeners_forwarding_to(cfn, target_group: str) -> list[str]:
    types = ("AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule")
    return [
        name for name in cfn.get_resources(list(types))
        if target_group in targets(cfn, name, "Properties")
    ]


def load_balancers_of(cfn, target_group: str) -> list[str]:
    """Load balancers whose listeners (directly, or through a listener rule's listener) forward here."""
    found = []
    for listener in listeners_forwarding_to(cfn, target_group):
        if resource_type(cfn, listener) == "AWS::ElasticLoadBalancingV2::ListenerRule":
            parents = targets(cfn, listener, "Properties", "ListenerArn")
        else:
            parents = [listener]
        for parent in parents:
            for balancer in targets(cfn, parent, "Properties", "LoadBalancerArn"):
                if balancer not in found:
                    found.append(balancer)
    return found


def awslogs_groups(cfn) -> tuple[list[tuple[list, str]], set[tuple[str, str, str]]]:
    """Where containers' awslogs groups stand: (missing, unordered).

    missing: (path, container name) for each awslogs-group (on each Fn::If branch) that names no log
    group of the stack; unordered: (runner, task definition, group) for each service or task-running
    custom resource that CloudFormation may create before a group its task logs to.
    A name that cannot be resolved offline (a parameter from a parent stack, an import, a GetAtt)
    is neither; so is a group that ECS creates itself (`awslogs-create-group: "true"`)."""
    names = _log_group_names(cfn)
    parameters = set(cfn.template.get("Parameters") or {})
    missing, unordered = [], set()
    runner_keys = task_runners(cfn)
    for task in cfn.get_resources("AWS::ECS::TaskDefinition"):
        runners = services_running(cfn, task) + [
            name for name, keys in runner_keys.items()
            if task in targets(cfn, name, "Properties", keys["TaskDefinition"])
        ]
        for path, container in containers(cfn, task):
            config = container.get("LogConfiguration")
            options = config.get("Options") if isinstance(config, dict) else None
            if not isinstance(options, dict) or config.get("LogDriver") != "awslogs" or "awslogs-group" not in options:
                continue
            if str(options.get("awslogs-create-group", "")).lower() == "true":
                continue
            path = [*path, "LogConfiguration", "Options", "awslogs-group"]
            for branch_path, value in alternatives(options["awslogs-group"], tuple(path)):
                text = template_text(value)
                group = names.get(text) if text is not None else None
                if group is None:
                    if text is not None and not parameter_refs(value) & parameters:
                        missing.append((branch_path, name_key(container.get("Name"))))
                    continue
                unordered |= {(runner, task, group) for runner in runners if not ordered_after(cfn, runner, group)}
    return missing, unordered


def _log_group_names(cfn) -> dict[str, str]:
    """How a container can name each log group of the stack: `${Id}` (a Ref) or its LogGroupName."""
    names = {}
    for name in cfn.get_resources("AWS::Logs::LogGroup"):
        names["${" + name + "}"] = name
        text = template_text(properties(cfn, name).get("LogGroupName"))
        if text is not None:
            names[text] = name
    return names


def inline_python(cfn) -> Iterator[tuple[str, dict, str]]:
    """(function, properties, code) for each Lambda function with inline code on a Python runtime."""
    for name in cfn.get_resources("AWS::Lambda::Function"):
        props = properties(cfn, name)
        code = props["Code"].get("ZipFile") if isinstance(props.get("Code"), dict) else None
        if isinstance(code, str) and str(props.get("Runtime", "")).startswith("python"):
            yield name, props, code


@functools.lru_cache(maxsize=16)
def compile_inline(code: str) -> tuple[ast.Module | None, str | None]:
    """The module Lambda would import as index.py, or why it does not compile.

    Compiling, not only parsing, also catches `return` outside a function or a repeated argument.
    Cached: E9008 and W9011 both ask for the same code in one lint run (callers only read the module)."""
    try:
        module = ast.parse(code, filename="index.py")
        compile(module, "index.py", "exec")
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        return None, f"{getattr(error, 'msg', error)}" + (f", line {line} of the code" if line else "")
    return module, None


def newer_than_linter(runtime: str) -> bool:
    """True for a Python runtime whose syntax this interpreter may not know (python3.14 on 3.11)."""
    found = _PYTHON_RUNTIME.fullmatch(runtime)
    return bool(found) and (int(found[1]), int(found[2])) > sys.version_info[:2]
