"""Read stack.yml the way CloudFormation sees it, for tests that check the template's contracts."""
import functools
import pathlib
import re

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parents[2]
STACK = ROOT / "stack.yml"
HANDLER = ROOT / "lambda" / "task_runner.py"
DRAINER = ROOT / "lambda" / "capacity_drainer.py"
DEV_CFG = ROOT / "dev.cfg"

_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}")


@functools.lru_cache(maxsize=None)
def load(path=STACK) -> dict:
    """The template as plain dicts and lists, short-form tags (!Ref, !Sub...) turned into long form."""
    template, errors = decode(str(path))
    if errors:
        raise AssertionError(f"{path} does not parse: {[str(e) for e in errors]}")
    return template


def resource(name: str, template=None) -> dict:
    return (template or load())["Resources"][name]


def resources_of_type(resource_type: str, template=None) -> dict:
    return {
        name: body
        for name, body in (template or load())["Resources"].items()
        if body["Type"] == resource_type
    }


def depends_on(name: str, template=None) -> set:
    value = resource(name, template).get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def references(value) -> set:
    """Logical ids and parameters a value points at through Ref, Fn::GetAtt or Fn::Sub."""
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(_SUB_VARIABLE.findall(text))
                if isinstance(inner, list):
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def container(task_definition: str, name: str, template=None) -> dict:
    containers = resource(task_definition, template)["Properties"]["ContainerDefinitions"]
    matches = [c for c in containers if c["Name"] == name]
    assert matches, f"{task_definition} has no container {name!r}"
    return matches[0]
