"""A change set as a person reads it, and the guard that refuses to replace or remove stateful resources.

Both the live deploy (from DescribeChangeSet) and the offline plan (predicted from the resource schemas) build
`Change` objects, so they print the same plan and apply the same guard.
"""
from __future__ import annotations

from dataclasses import dataclass

# What a replacement or removal of each stateful type does to what users keep. CloudFormation creates the
# replacement first, then deletes the old resource ("Update behaviors of stack resources").
STATEFUL = {
    "AWS::RDS::DBInstance": "a new, empty database with a new endpoint; the old data survives only in the "
                            "final snapshot (DeletionPolicy/UpdateReplacePolicy Snapshot)",
    "AWS::SecretsManager::Secret": "a new generated value that the running database and tasks do not have "
                                   "(a new password the database was never given)",
}


@dataclass(frozen=True)
class Cause:
    """One reason a resource changes: DescribeChangeSet's ResourceChangeDetail, flattened."""
    name: str                # the property (Target.Name) or attribute (Target.Attribute) that changes
    recreation: str          # Never | Conditionally | Always (Target.RequiresRecreation)
    source: str = ""         # ChangeSource: ParameterReference, ResourceReference, DirectModification, ...
    entity: str = ""         # CausingEntity: the parameter, or Resource.Attribute, that caused it

    def describe(self) -> str:
        why = f" ({self.source} {self.entity})" if self.entity else ""
        return f"{self.name}{why}"


@dataclass(frozen=True)
class Change:
    action: str              # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""    # True | False | Conditional for Modify; empty otherwise
    causes: tuple[Cause, ...] = ()

    @property
    def replaces(self) -> bool:
        return self.action == "Modify" and self.replacement in ("True", "Conditional")


@dataclass(frozen=True)
class Refusal:
    change: Change

    def explain(self) -> str:
        change = self.change
        what = "removed" if change.action == "Remove" else (
            "replaced" if change.replacement == "True" else "possibly replaced (Conditional)")
        causing = [c.describe() for c in change.causes if c.recreation in ("Always", "Conditionally")]
        because = f" because of {', '.join(causing)}" if causing else ""
        return (f"{change.logical_id} ({change.resource_type}) would be {what}{because}: "
                f"{STATEFUL[change.resource_type]}. "
                f"To accept this, run again with --allow-replacement {change.logical_id}")


def from_change_set(changes: list[dict]) -> list[Change]:
    """DescribeChangeSet's `Changes` (all pages concatenated) as Change objects."""
    planned = []
    for change in changes:
        resource = change.get("ResourceChange")
        if change.get("Type") != "Resource" or not resource:
            continue
        causes = tuple(
            Cause(name=detail.get("Target", {}).get("Name") or detail.get("Target", {}).get("Attribute", ""),
                  recreation=detail.get("Target", {}).get("RequiresRecreation", "Never"),
                  source=detail.get("ChangeSource", ""), entity=detail.get("CausingEntity", ""))
            for detail in resource.get("Details", []))
        planned.append(Change(action=resource.get("Action", ""), logical_id=resource["LogicalResourceId"],
                              resource_type=resource.get("ResourceType", ""),
                              replacement=resource.get("Replacement", ""), causes=causes))
    return planned


def guard(changes: list[Change], allowed: set[str] | frozenset[str] = frozenset()) -> list[Refusal]:
    """The stateful resources this plan would replace or remove and nobody allowed by name."""
    return [Refusal(change) for change in changes
            if change.resource_type in STATEFUL and change.logical_id not in allowed
            and (change.action == "Remove" or change.replaces)]


def render(changes: list[Change]) -> str:
    """One line per change: action, logical id, type, replacement, and what causes it."""
    if not changes:
        return "no changes"
    lines = []
    for change in changes:
        replacement = f"replace={change.replacement}" if change.action == "Modify" else ""
        causes = ", ".join(dict.fromkeys(c.describe() for c in change.causes))
        lines.append("  ".join(part for part in (
            f"{change.action:<7}", f"{change.logical_id:<40}", f"{change.resource_type:<44}",
            f"{replacement:<19}", causes) if part).rstrip())
    return "\n".join(lines)
