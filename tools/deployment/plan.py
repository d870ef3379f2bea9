"""A change set as a person reads it, and the guard that refuses to replace or remove stateful resources.

Both the live deploy (from DescribeChangeSet) and the offline plan (predicted from the resource schemas) build
`Change` objects, so they print the same plan and apply the same guard.
"""
from __future__ import annotations

from dataclasses import dataclass

# The types whose replacement or removal loses what users keep, and what it does to it. CloudFormation creates
# the replacement first, then deletes the old resource ("Update behaviors of stack resources"); a Replacement of
# Conditional may replace, so the guard treats it as True. The first two are stack.yml's own; the others are the
# stores a team adds to a template like this one (a cache, a queue or a log group is not on the list: replacing one
# loses nothing a user asked to keep, or only logs that expire anyway). Not here either, although their
# replacement changes an address: the load balancer (a new DNS name for PublicURL), which no property of
# stack.yml can replace without a template change a reviewer sees.
STATEFUL = {
    "AWS::RDS::DBInstance": "a new, empty database with a new endpoint; the old data survives only in the "
                            "final snapshot (UpdateReplacePolicy/DeletionPolicy Snapshot), and the site comes back "
                            "without it",
    "AWS::SecretsManager::Secret": "a new generated value that the running database and tasks do not have "
                                   "(for the DB password secret: a password the database was never given)",
    "AWS::RDS::DBCluster": "a new, empty cluster with new endpoints; the old data survives only in a snapshot",
    "AWS::DynamoDB::Table": "a new, empty table; the items stay only in a backup, if there is one",
    "AWS::S3::Bucket": "a new, empty bucket under another name; the objects stay behind (or go, with the bucket)",
    "AWS::EFS::FileSystem": "a new, empty file system; the files stay only in a backup, if there is one",
}
# CloudFormation decides some changes only when it executes them; on a stateful resource that may be a replacement.
UNDECIDED = "Dynamic"


@dataclass(frozen=True)
class Cause:
    """One reason a resource changes: DescribeChangeSet's ResourceChangeDetail, flattened."""
    name: str                # the property (Target.Name) or attribute (Target.Attribute) that changes
    recreation: str          # Never | Conditionally | Always (Target.RequiresRecreation)
    source: str = ""         # ChangeSource: ParameterReference, ResourceReference, DirectModification, ...
    entity: str = ""         # CausingEntity: the parameter, or Resource.Attribute, that caused it

    @property
    def recreates(self) -> bool:
        return self.recreation in ("Always", "Conditionally")

    def describe(self) -> str:
        """e.g. `DBSubnetGroupName [Conditionally] (ResourceReference ApplicationDatabaseSubnetGroup)`."""
        forced = f" [{self.recreation}]" if self.recreates else ""
        why = f" ({self.source} {self.entity})" if self.entity else ""
        return f"{self.name}{forced}{why}"


@dataclass(frozen=True)
class Change:
    action: str              # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""    # True | False | Conditional for Modify; empty otherwise
    causes: tuple[Cause, ...] = ()
    policy: str = ""         # PolicyAction: what happens to the old resource (Delete, Snapshot, ReplaceAndRetain, ...)

    @property
    def replaces(self) -> bool:
        return self.action == "Modify" and self.replacement in ("True", "Conditional")

    @property
    def endangers(self) -> bool:
        """Replaced, possibly replaced, removed, or decided only at execution."""
        return self.replaces or self.action in ("Remove", UNDECIDED)


@dataclass(frozen=True)
class Refusal:
    change: Change

    def explain(self) -> str:
        change = self.change
        what = {"Remove": "removed", UNDECIDED: "changed in a way decided only at execution (Dynamic)"}.get(
            change.action, "replaced" if change.replacement == "True" else "possibly replaced (Conditional)")
        causing = [c.describe() for c in change.causes if c.recreates]
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
                              replacement=resource.get("Replacement", ""), causes=causes,
                              policy=resource.get("PolicyAction", "")))
    return planned


def guard(changes: list[Change], allowed: set[str] | frozenset[str] = frozenset()) -> list[Refusal]:
    """The stateful resources this plan would replace or remove and nobody allowed by name."""
    return [Refusal(change) for change in changes
            if change.resource_type in STATEFUL and change.logical_id not in allowed and change.endangers]


def render(changes: list[Change]) -> str:
    """A count by action, then one line per change: action, logical id, type, replacement, and what causes it."""
    if not changes:
        return "no changes"
    counts = {}
    for change in changes:
        key = f"{change.action} (replace)" if change.replaces else change.action
        counts[key] = counts.get(key, 0) + 1
    lines = [f"{len(changes)} change(s): " + ", ".join(f"{count} {key}" for key, count in counts.items())]
    id_width = max(len(change.logical_id) for change in changes)
    type_width = max(len(change.resource_type) for change in changes)
    for change in changes:
        replacement = f"replace={change.replacement}" if change.action == "Modify" and change.replacement else ""
        causes = ", ".join(dict.fromkeys(c.describe() for c in change.causes))
        policy = f"policy={change.policy}" if change.policy and change.endangers else ""
        lines.append("  ".join(part for part in (
            f"{change.action:<6}", f"{change.logical_id:<{id_width}}", f"{change.resource_type:<{type_width}}",
            f"{replacement:<17}", causes, policy) if part).rstrip())
    return "\n".join(lines)
