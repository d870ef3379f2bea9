"""A change set as a person reads it, and the guard that refuses to replace or remove stateful resources.

Both the live deploy (from DescribeChangeSet) and the offline plan (predicted from the resource schemas) build
`Change` objects, so they print the same plan and apply the same guard.
"""
from __future__ import annotations

import re
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
# What CloudFormation's "AWS::RDS::DBInstance" reference page says about the update of properties the resource schema
# lists as conditionally create-only (change sets mark them Conditional even where the page promises an update in
# place: cloudformation-coverage-roadmap#1788), so a refusal says what the user weighs: the page gives MultiAZ
# "Update requires: No interruption" and these others no "Update requires" line at all.
DOCUMENTED = {
    ("AWS::RDS::DBInstance", "MultiAZ"): 'the AWS::RDS::DBInstance reference says "Update requires: No interruption"',
    **{("AWS::RDS::DBInstance", name): "the AWS::RDS::DBInstance reference gives it no \"Update requires\" line"
       for name in ("AutoMinorVersionUpgrade", "BackupRetentionPeriod", "DBParameterGroupName",
                    "PreferredMaintenanceWindow")},
}
ALLOWANCE = re.compile(r"(?P<id>[A-Za-z][A-Za-z0-9]*|\*)(?::(?P<cause>[A-Za-z][A-Za-z0-9]*))?")


@dataclass(frozen=True)
class Allowance:
    """`--allow-replacement` ID (any replacement or removal of that resource), ID:PROPERTY (a replacement caused by
    that property alone, or with other allowed ones), or *:PROPERTY (that property on any stateful resource: a GitHub
    label holds 50 characters, too few for some ID:PROPERTY pairs)."""
    logical_id: str
    cause: str = ""

    @classmethod
    def parse(cls, text: str) -> Allowance:
        found = ALLOWANCE.fullmatch(text)
        if not found or (found["id"] == "*" and not found["cause"]):
            raise ValueError(f"{text!r} is not LOGICAL_ID, LOGICAL_ID:PROPERTY or *:PROPERTY")
        return cls(found["id"], found["cause"] or "")

    def covers(self, change: Change) -> bool:
        """Whether this allowance alone names the change's resource as a whole."""
        return not self.cause and self.logical_id == change.logical_id

    def names_cause_of(self, change: Change) -> bool:
        return bool(self.cause) and self.logical_id in (change.logical_id, "*")


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

    @property
    def recreating(self) -> tuple[str, ...]:
        """The properties that make it a replacement (RequiresRecreation Always or Conditionally), each once."""
        return tuple(dict.fromkeys(cause.name for cause in self.causes if cause.recreates))


@dataclass(frozen=True)
class Refusal:
    change: Change
    allowed: tuple[str, ...] = ()   # the causes an ID:PROPERTY allowance named; the others stop it

    @property
    def missing(self) -> tuple[str, ...]:
        """The causing properties no allowance named."""
        return tuple(name for name in self.change.recreating if name not in self.allowed)

    def explain(self) -> str:
        change = self.change
        what = {"Remove": "removed", UNDECIDED: "changed in a way decided only at execution (Dynamic)"}.get(
            change.action, "replaced" if change.replacement == "True" else "possibly replaced (Conditional)")
        causing = [c.describe() for c in change.causes if c.recreates]
        because = f" because of {', '.join(causing)}" if causing else ""
        documented = [f"{name}: {DOCUMENTED[change.resource_type, name]}" for name in change.recreating
                      if (change.resource_type, name) in DOCUMENTED]
        documented_text = f" ({'; '.join(documented)})" if documented else ""
        allowed = (f" The allowance names {', '.join(self.allowed)}, not {', '.join(self.missing)}."
                   if self.allowed else "")
        return (f"{change.logical_id} ({change.resource_type}) would be {what}{because}{documented_text}: "
                f"{STATEFUL[change.resource_type]}.{allowed} To accept this, run again with "
                f"--allow-replacement {self.suggestion()}")

    def suggestion(self) -> str:
        """The narrowest allowance that lets it through: each causing property when the change is a replacement by
        property, else the whole resource (a removal has no property)."""
        change = self.change
        if change.action == "Modify" and change.recreating:
            return " ".join(f"{change.logical_id}:{name}" for name in change.recreating)
        return change.logical_id


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


def guard(changes: list[Change], allowed=()) -> list[Refusal]:
    """The stateful resources this plan would replace or remove that no allowance lets through: ID allows any
    replacement or removal of that resource; ID:PROPERTY (or *:PROPERTY) a replacement only when every property
    causing it is named. A removal or a change decided at execution has no property: only ID allows it."""
    allowances = [Allowance.parse(text) for text in allowed]
    refusals = []
    for change in changes:
        if change.resource_type not in STATEFUL or not change.endangers:
            continue
        if any(allowance.covers(change) for allowance in allowances):
            continue
        named = {allowance.cause for allowance in allowances if allowance.names_cause_of(change)}
        if change.action == "Modify" and change.recreating and set(change.recreating) <= named:
            continue
        refusals.append(Refusal(change, tuple(name for name in change.recreating if name in named)))
    return refusals


def unused(changes: list[Change], allowed) -> list[str]:
    """The allowances that name nothing this plan would replace or remove (a typo, or a change that went away)."""
    endangered = [change for change in changes if change.endangers]
    return [text for text, allowance in ((text, Allowance.parse(text)) for text in allowed)
            if not any(allowance.covers(change) or (allowance.names_cause_of(change) and allowance.cause in
                                                     change.recreating) for change in endangered)]


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
