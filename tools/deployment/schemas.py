"""Which properties of a resource type an update can only change by replacing the resource, from the resource
schemas cfn-lint ships (the CloudFormation registry's `createOnlyProperties` and `conditionalCreateOnlyProperties`)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from cfnlint.schema._exceptions import ResourceNotFoundError

# The create-only lists belong to a type, not a region; regions differ in which types they offer,
# and us-east-1 offers them all.
SCHEMA_REGION = "us-east-1"


@dataclass(frozen=True)
class UpdateBehaviour:
    create_only: tuple[tuple[str, ...], ...]   # property paths, e.g. ("DBName",) or ("Foo", "*", "Bar")
    conditional: tuple[tuple[str, ...], ...]   # may or may not replace: the schema cannot say in advance
    known: bool = True                         # False: no schema for this type, every change may replace


@lru_cache(maxsize=None)
def update_behaviour(resource_type: str) -> UpdateBehaviour:
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    except ResourceNotFoundError:
        return UpdateBehaviour((), (), known=False)
    return UpdateBehaviour(_paths(schema.get("createOnlyProperties")),
                           _paths(schema.get("conditionalCreateOnlyProperties")))


def _paths(pointers) -> tuple[tuple[str, ...], ...]:
    """JSON pointers under /properties as tuples of segments ("~1" is "/", "~0" is "~" in a JSON pointer)."""
    paths = []
    for pointer in pointers or ():
        segments = str(pointer).split("/")[1:]
        if segments[:1] == ["properties"] and len(segments) > 1:
            paths.append(tuple(s.replace("~1", "/").replace("~0", "~") for s in segments[1:]))
    return tuple(paths)
