"""A template's resources as far as they can be known offline: parameters, Conditions and intrinsic functions resolved.

What only a deploy knows stays a marker: `Produced` for a resource's Ref or GetAtt, `Unknown` for an SSM parameter
value, an Availability Zone lookup, another stack's export or an undecidable condition. Two markers are the same
value when they come from the same expression, so an SSM parameter named alike in both versions is no change.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

NO_VALUE = object()  # AWS::NoValue: the property or list item is left out
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::Partition", "AWS::Region", "AWS::StackId",
                     "AWS::StackName", "AWS::URLSuffix"}
SSM_VALUE = re.compile(r"AWS::SSM::Parameter::Value<.+>")
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Produced:
    """A value the deployed resource gives: its Ref (no attribute) or an attribute (GetAtt)."""
    logical_id: str
    attribute: str = ""

    @property
    def entity(self) -> str:
        return f"{self.logical_id}.{self.attribute}" if self.attribute else self.logical_id


@dataclass(frozen=True)
class Unknown:
    """A value known only at deploy time. `key` is the expression it comes from; `reason` says why it is unknown."""
    key: str
    reason: str = field(compare=False, repr=False)


@dataclass(frozen=True)
class Text:
    """A string built (Fn::Sub, Fn::Join) from literal parts and markers."""
    parts: tuple


@dataclass(frozen=True)
class Resource:
    type: str
    template: dict      # Properties as written, for telling a template edit from a parameter change
    properties: dict    # Properties resolved
    metadata: object


class Evaluated:
    """One version of the stack: a template and the parameter values it is deployed with."""

    def __init__(self, template: dict, values: dict[str, str]):
        self.parameters = {str(name): _parameter(str(name), spec if isinstance(spec, dict) else {}, values)
                           for name, spec in _section(template, "Parameters").items()}
        self.mappings = _section(template, "Mappings")
        self._condition_bodies = _section(template, "Conditions")
        self._conditions: dict[str, bool | None] = {}
        self.resources: dict[str, Resource] = {}
        for logical_id, body in _section(template, "Resources").items():
            if not isinstance(body, dict):
                continue
            # A resource whose condition cannot be decided is kept: the guard would rather see it than miss it.
            if "Condition" in body and self.condition(body["Condition"]) is False:
                continue
            written = body.get("Properties") if isinstance(body.get("Properties"), dict) else {}
            properties = self.value(written)
            if not isinstance(properties, dict):  # Properties that are one intrinsic: compared as one value
                written, properties = {"Properties": written}, {"Properties": properties}
            self.resources[str(logical_id)] = Resource(type=str(body.get("Type", "")), template=written,
                                                       properties=properties, metadata=self.value(body.get("Metadata")))

    def changed_parameters(self, other: Evaluated) -> set[str]:
        return {name for name in self.parameters.keys() & other.parameters.keys()
                if self.parameters[name] != other.parameters[name]}

    def names_in(self, written, seen_conditions=frozenset()) -> set[str]:
        """Every name a written value refers to: Ref, Fn::Sub variables, and through Fn::If its condition's."""
        names: set[str] = set()
        if isinstance(written, dict):
            for key, inner in written.items():
                if key == "Ref" and isinstance(inner, str):
                    names.add(inner)
                elif key == "Fn::Sub":
                    text = inner[0] if isinstance(inner, list) and inner else inner
                    names |= {match[1] for match in SUB_VARIABLE.finditer(str(text))}
                elif key in ("Fn::If", "Condition"):
                    condition = inner[0] if isinstance(inner, list) and inner else inner
                    if isinstance(condition, str) and condition not in seen_conditions:
                        names |= self.names_in(self._condition_bodies.get(condition),
                                               seen_conditions | {condition})
                names |= self.names_in(inner, seen_conditions)
        elif isinstance(written, list):
            for inner in written:
                names |= self.names_in(inner, seen_conditions)
        return names

    def condition(self, name) -> bool | None:
        """True or False, None when it depends on something only a deploy knows."""
        name = str(name)
        if name not in self._conditions:
            self._conditions[name] = None  # a condition that refers to itself stays undecided
            self._conditions[name] = self._truth(self._condition_bodies.get(name))
        return self._conditions[name]

    def _truth(self, expression) -> bool | None:
        if not (isinstance(expression, dict) and len(expression) == 1):
            return None
        (function, arguments), = expression.items()
        arguments = arguments if isinstance(arguments, list) else [arguments]
        if function == "Condition":
            return self.condition(arguments[0])
        if function == "Fn::Equals" and len(arguments) == 2:
            left, right = (self.value(argument) for argument in arguments)
            return as_text(left) == as_text(right) if known(left) and known(right) else None
        truths = [self._truth(argument) for argument in arguments]
        if function == "Fn::Not" and len(truths) == 1:
            return None if truths[0] is None else not truths[0]
        if function in ("Fn::And", "Fn::Or"):
            decisive = function == "Fn::Or"  # True decides an Or, False an And
            if decisive in truths:
                return decisive
            return None if None in truths else not decisive
        return None

    def value(self, expression):
        if isinstance(expression, dict):
            if len(expression) == 1:
                (key, arguments), = expression.items()
                if key == "Ref":
                    return self._ref(str(arguments))
                if key.startswith("Fn::"):
                    return self._function(key, arguments)
            resolved = {str(key): self.value(inner) for key, inner in expression.items()}
            return {key: inner for key, inner in resolved.items() if inner is not NO_VALUE}
        if isinstance(expression, list):
            return [item for item in (self.value(inner) for inner in expression) if item is not NO_VALUE]
        if isinstance(expression, str):
            return str(expression)  # cfn-lint's str_node as a plain str
        return expression

    def _ref(self, name: str):
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return Unknown(f"pseudo:{name}", f"{name} is known at deploy time")
        return Produced(name)

    def _function(self, function: str, arguments):
        handler = {"Fn::GetAtt": self._getatt, "Fn::Sub": self._sub, "Fn::Join": self._join,
                   "Fn::Select": self._select, "Fn::Split": self._split, "Fn::If": self._if,
                   "Fn::FindInMap": self._findinmap, "Fn::GetAZs": self._getazs, "Fn::ImportValue": self._importvalue,
                   "Fn::Base64": self._base64}.get(function)
        if handler is not None:
            try:
                return handler(arguments)
            except (TypeError, ValueError, IndexError, KeyError, AttributeError):
                pass  # a malformed call: compared as written below
        resolved = self.value(arguments)
        return Unknown(f"{function}:{key_of(resolved)}", f"{function} is not evaluated offline")

    def _getatt(self, arguments):
        target = arguments.split(".", 1) if isinstance(arguments, str) else arguments
        logical_id, attribute = target
        return Produced(str(logical_id), str(as_text(self.value(attribute))))

    def _sub(self, arguments):
        text, variables = (arguments, {}) if isinstance(arguments, str) else arguments
        parts: list = []
        position = 0
        for match in SUB_VARIABLE.finditer(str(text)):
            parts.append(text[position:match.start()])
            name = match[1]
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")  # ${!Literal} is written out as ${Literal}
            elif name in variables:
                parts.append(self.value(variables[name]))
            elif "." in name and not name.startswith("AWS::"):
                parts.append(self._getatt(name))
            else:
                parts.append(self._ref(name))
            position = match.end()
        parts.append(text[position:])
        return joined(parts)

    def _join(self, arguments):
        delimiter, items = arguments
        items = self.value(items)
        if not isinstance(items, list):
            return Unknown(f"Fn::Join:{key_of([delimiter, items])}", f"Fn::Join of {describe(items)}")
        parts: list = []
        for index, item in enumerate(items):
            parts += [str(delimiter), item] if index else [item]
        return joined(parts)

    def _select(self, arguments):
        index, items = (self.value(argument) for argument in arguments)
        if isinstance(items, list) and known(index):
            return items[int(as_text(index))]
        return Unknown(f"Fn::Select:{key_of([index, items])}", f"Fn::Select from {describe(items)}")

    def _split(self, arguments):
        delimiter, source = (self.value(argument) for argument in arguments)
        if isinstance(source, str):
            return source.split(str(delimiter))
        return Unknown(f"Fn::Split:{key_of([delimiter, source])}", f"Fn::Split of {describe(source)}")

    def _if(self, arguments):
        name, when_true, when_false = arguments
        truth = self.condition(name)
        if truth is None:
            branches = [self.value(when_true), self.value(when_false)]
            return Unknown(f"Fn::If:{name}:{key_of(branches)}", f"condition {name} is decided at deploy time")
        return self.value(when_true if truth else when_false)

    def _findinmap(self, arguments):
        names = [self.value(argument) for argument in arguments[:3]]
        if all(isinstance(name, str) for name in names):
            return self.value(self.mappings[names[0]][names[1]][names[2]])
        return Unknown(f"Fn::FindInMap:{key_of(names)}", f"Fn::FindInMap with {describe(names)}")

    def _getazs(self, arguments):
        region = self.value(arguments)
        return Unknown(f"Fn::GetAZs:{key_of(region)}", "Fn::GetAZs is looked up at deploy time")

    def _importvalue(self, arguments):
        name = self.value(arguments)
        return Unknown(f"Fn::ImportValue:{key_of(name)}",
                       f"Fn::ImportValue {describe(name)} is another stack's export, read at deploy time")

    def _base64(self, arguments):
        return self.value(arguments)  # two encodings differ exactly when what they encode does


def _parameter(name: str, spec: dict, values: dict[str, str]):
    if name in values:
        text = values[name]
    elif "Default" in spec:
        default = as_text(spec["Default"])
        text = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    else:
        return Unknown(f"parameter:{name}", f"{name} is given at deploy time (no Default, not in the file)")
    kind = str(spec.get("Type", "String"))
    if SSM_VALUE.fullmatch(kind):
        return Unknown(f"ssm:{text}", f"{name} is read from the SSM parameter {text} at deploy time")
    if kind.startswith("List<") or kind == "CommaDelimitedList":
        return text.split(",")
    return text


def _section(template: dict, name: str) -> dict:
    section = template.get(name)
    return section if isinstance(section, dict) else {}


def joined(parts: list):
    """Literal parts merged; a plain str when nothing is left unknown."""
    merged: list = []
    for part in parts:
        for piece in (part.parts if isinstance(part, Text) else [part]):
            if isinstance(piece, (str, int, float, bool)) and merged and isinstance(merged[-1], str):
                merged[-1] += as_text(piece)
            elif isinstance(piece, (str, int, float, bool)):
                merged.append(as_text(piece))
            elif piece == "" or piece is NO_VALUE:
                continue
            else:
                merged.append(piece)
    if all(isinstance(piece, str) for piece in merged):
        return "".join(merged)
    return Text(tuple(merged))


def known(value) -> bool:
    if isinstance(value, dict):
        return all(known(inner) for inner in value.values())
    if isinstance(value, list):
        return all(known(inner) for inner in value)
    return not isinstance(value, (Produced, Unknown, Text))


def as_text(value):
    """Scalars as CloudFormation compares them: true/false in lower case, numbers as written; lists item by item."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list):
        return [as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: as_text(inner) for key, inner in value.items()}
    return value


def key_of(value) -> str:
    return json.dumps(as_text(value), sort_keys=True, default=repr)


def describe(value) -> str:
    if isinstance(value, Produced):
        return value.entity
    if isinstance(value, Unknown):
        return value.key
    return key_of(value)

