"""E9013: a container Memory or MemoryReservation below Docker's 6 MiB minimum.

Lesson: the Docker 20.10.0 or later daemon reserves a minimum of 6 MiB of memory for a container and
refuses to create one with less ("CannotCreateContainerError ... Minimum memory reservation allowed
is 6MB"). ECS passes the task definition's values through, so the task never starts: a one-off task
fails its deploy, a service keeps replacing tasks, and a container that waits for it never starts.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

MINIMUM_MIB = 6


class ContainerMemoryMinimum(CloudFormationLintRule):
    id = "E9013"
    shortdesc = "Container Memory or MemoryReservation below Docker's 6 MiB minimum"
    description = (
        "Docker 20.10 and later refuse to create a container with less than 6 MiB of memory: "
        "the task never starts."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
    tags = ["resources", "ecs", "project"]

    def match(self, cfn):
        matches = []
        for task in cfn.get_resources("AWS::ECS::TaskDefinition"):
            for path, container in lessons.containers(cfn, task):
                for key in ("Memory", "MemoryReservation"):
                    for value_path, value in lessons.alternatives(container.get(key), (*path, key)):
                        mib = None if isinstance(value, bool) else lessons.as_int(value)
                        if mib is not None and 0 < mib < MINIMUM_MIB:
                            matches.append(RuleMatch(value_path, (
                                f"{key} {mib} MiB of container {lessons.name_key(container.get('Name'))} in "
                                f"{task}: Docker refuses less than {MINIMUM_MIB} MiB and the task never starts")))
        return matches
