"""Predict, without AWS, the change set CloudFormation would compute between two versions of a stack.

Each resource is compared property by property, resolved with each version's parameters. A changed property that
the type's schema lists as create-only replaces the resource (RequiresRecreation Always, Replacement True); adding
or removing one does too, even when the value it stands for stays the same ("Understand update behaviors of stack
resources"). One the schema lists as conditionally create-only may replace (Conditionally), as change sets mark it
(cloudformation-coverage-roadmap#1788).

A replaced resource gets a new physical id, and CloudFormation points the resources that refer to it at the
replacement ("Understand update behaviors of stack resources"); the new value is known only during the update, so a
create-only property holding it is a Dynamic change and the dependent's Replacement is Conditional (DescribeChangeSet,
ResourceChange.Replacement: "Always" with "Dynamic" evaluation). The same holds for an attribute (GetAtt) of a
resource modified in place. Here such a cause carries RequiresRecreation Conditionally: plan.Cause has no
Evaluation, and the plan and guard read the same either way.

A renamed logical id is a Remove and an Add, and the new resource has a new physical id: a property that referred
to the old one changes for certain (Replacement True when it is create-only).
"""
from __future__ import annotations

from dataclasses import dataclass

from tools.deployment.evaluate import NO_VALUE, Evaluated, Produced, Text, Unknown, as_text
from tools.deployment.plan import Cause, Change
from tools.deployment.schemas import update_behaviour


@dataclass(frozen=True)
class Delta:
    """One way a value differs between the versions. Uncertain: it may not differ at all once deployed."""
    certain: bool
    produced_by: str = ""   # the Resource or Resource.Attribute whose new value it waits for
    reason: str = ""        # why it is uncertain, when no resource explains it


@dataclass(frozen=True)
class Prediction:
    changes: list[Change]
    notes: list[str]        # what could not be decided offline, one line each


def predict(before: Evaluated, after: Evaluated) -> Prediction:
    return _Predictor(before, after).run()


class _Predictor:
    def __init__(self, before: Evaluated, after: Evaluated):
        self.before, self.after = before, after
        self.changed_parameters = after.changed_parameters(before)
        self.planned: dict[str, Change | None] = {}
        self.notes: list[str] = []

    def run(self) -> Prediction:
        changes: list[Change] = []
        for logical_id in self.after.resources:
            changes += self._changes_of(logical_id)
        for logical_id, resource in self.before.resources.items():
            if logical_id not in self.after.resources:
                changes.append(Change("Remove", logical_id, resource.type))
        return Prediction(changes, list(dict.fromkeys(self.notes)))

    def _changes_of(self, logical_id: str) -> list[Change]:
        old, new = self.before.resources.get(logical_id), self.after.resources.get(logical_id)
        if old is not None and old.type != new.type:
            # CloudFormation refuses to update a resource's type; a new logical id is the way, so show it as one.
            return [Change("Remove", logical_id, old.type), Change("Add", logical_id, new.type)]
        change = self._planned(logical_id)
        return [change] if change else []

    def _planned(self, logical_id: str) -> Change | None:
        """The change to one resource, found after the changes of the resources it takes values from."""
        if logical_id not in self.planned:
            self.planned[logical_id] = None  # a reference cycle (CloudFormation refuses those) reads as unchanged
            self.planned[logical_id] = self._plan(logical_id)
        return self.planned[logical_id]

    def _plan(self, logical_id: str) -> Change | None:
        old, new = self.before.resources.get(logical_id), self.after.resources.get(logical_id)
        if new is None:
            return None
        if old is None or old.type != new.type:
            return Change("Add", logical_id, new.type)
        behaviour = update_behaviour(new.type)
        if not behaviour.known:
            self.notes.append(f"{logical_id}: cfn-lint has no schema for {new.type}; any change may replace it")
        causes: list[Cause] = []
        for name in dict.fromkeys([*old.properties, *new.properties]):
            causes += self._property_causes(logical_id, name, behaviour, old, new)
        if self._compare(old.metadata, new.metadata):
            causes.append(Cause("Metadata", "Never", "DirectModification"))
        if not causes:
            return None
        recreations = {cause.recreation for cause in causes}
        replacement = ("True" if "Always" in recreations else
                       "Conditional" if "Conditionally" in recreations else "False")
        return Change("Modify", logical_id, new.type, replacement, tuple(causes))

    def _property_causes(self, logical_id, name, behaviour, old, new) -> list[Cause]:
        before, after = old.properties.get(name, NO_VALUE), new.properties.get(name, NO_VALUE)
        deltas = self._compare(before, after)
        if not deltas:
            return []
        recreation = self._recreation(name, behaviour, before, after, deltas)
        for delta in deltas:
            if delta.reason and recreation != "Never":
                self.notes.append(f"{logical_id}.{name}: {delta.reason}; counted as a possible replacement")
        causes = []
        written_before, written_after = old.template.get(name), new.template.get(name)
        if written_before != written_after:
            causes.append(Cause(name, recreation, "DirectModification"))
        referenced = self.before.names_in(written_before) | self.after.names_in(written_after)
        for parameter in sorted(self.changed_parameters & referenced):
            causes.append(Cause(name, recreation, "ParameterReference", parameter))
        for entity in dict.fromkeys(delta.produced_by for delta in deltas if delta.produced_by):
            causes.append(Cause(name, "Conditionally" if recreation != "Never" else "Never",
                                "ResourceReference", entity))
        if not causes:  # an unknown value that differs without an edit of its own
            causes.append(Cause(name, recreation, "DirectModification"))
        return causes

    def _recreation(self, name, behaviour, before, after, deltas) -> str:
        if not behaviour.known:
            return "Conditionally"
        create_only = self._deltas_at(name, behaviour.create_only, before, after)
        if create_only:
            return "Always" if any(delta.certain for delta in create_only) else "Conditionally"
        if self._deltas_at(name, behaviour.conditional, before, after):
            return "Conditionally"
        return "Never"

    def _deltas_at(self, name, paths, before, after) -> list[Delta]:
        found = []
        for path in paths:
            if path[0] == name:
                found += self._compare(_at(before, path[1:]), _at(after, path[1:]))
        return found

    def _compare(self, before, after) -> list[Delta]:
        """How two resolved values differ: nothing, for certain, or only perhaps."""
        if isinstance(before, Produced) or isinstance(after, Produced):
            return self._compare_produced(before, after)
        if isinstance(before, Unknown) or isinstance(after, Unknown):
            if before == after:
                return []
            unknown = after if isinstance(after, Unknown) else before
            return [Delta(False, reason=unknown.reason)]
        if isinstance(before, Text) and isinstance(after, Text) and len(before.parts) == len(after.parts):
            return self._compare_all(zip(before.parts, after.parts))
        if isinstance(before, Text) or isinstance(after, Text):
            text = after if isinstance(after, Text) else before
            markers = [part for part in text.parts if not isinstance(part, str)]
            return [delta for marker in markers for delta in self._compare(marker, marker)] + [Delta(True)]
        if isinstance(before, dict) and isinstance(after, dict):
            return self._compare_all((before.get(key, NO_VALUE), after.get(key, NO_VALUE))
                                     for key in dict.fromkeys([*before, *after]))
        if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            return self._compare_all(zip(before, after))
        return [] if as_text(before) == as_text(after) else [Delta(True)]

    def _compare_all(self, pairs) -> list[Delta]:
        return [delta for before, after in pairs for delta in self._compare(before, after)]

    def _compare_produced(self, before, after) -> list[Delta]:
        if before != after:
            if isinstance(before, Unknown) or isinstance(after, Unknown):
                unknown = after if isinstance(after, Unknown) else before
                return [Delta(False, reason=unknown.reason)]
            # Another resource's id or attribute, or a literal swapped for one: a new value for certain.
            return [Delta(True)]
        change = self._planned(after.logical_id)
        if change is not None and change.action == "Add":
            return [Delta(True)]  # the same logical id for a resource of another type: a new resource
        if change is None or change.action != "Modify":
            return []
        if change.replaces or (after.attribute and change.replacement == "False"):
            # A replacement has a new id and attributes; a modified resource may have new attributes.
            return [Delta(False, produced_by=after.entity)]
        return []


def _at(value, path: tuple[str, ...]):
    """The values a nested create-only path points at ("*" is every item of a list); a marker stands for itself."""
    if not path or not isinstance(value, (dict, list)):
        return value
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(value, list):
        return [_at(item, rest) for item in value]
    if isinstance(value, dict):
        return _at(value.get(head, NO_VALUE), rest)
    return NO_VALUE

