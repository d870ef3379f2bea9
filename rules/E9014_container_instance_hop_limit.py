"""E9014: ECS container instances whose IMDSv2 hop limit lets bridge-mode containers take the instance role.

Lesson: a container in `bridge` network mode (the default on Linux) reaches the instance metadata
service through the docker0 bridge, one network hop more than the host. With
`HttpPutResponseHopLimit` above 1 its IMDSv2 token request is answered, and the container can read
the instance role's credentials (ECS, ECR, everything the instances may do), whatever its task role.
With a hop limit of 1 and `HttpTokens: required`, only the host (the ECS agent uses the host network)
gets tokens. See also "Amazon EC2 container instance security considerations for Amazon ECS".
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

CLUSTER = "AWS::ECS::Cluster"
BRIDGE_MODES = ("bridge", "default")


class ContainerInstanceHopLimit(CloudFormationLintRule):
    id = "E9014"
    shortdesc = "ECS container instances with an IMDS hop limit above 1 while bridge-mode tasks run on them"
    description = (
        "With HttpPutResponseHopLimit > 1, containers in bridge or default network mode get IMDSv2 tokens "
        "and can read the instance role's credentials."
    )
    source_url = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html"
    tags = ["resources", "ec2", "ecs", "security", "project"]

    def match(self, cfn):
        matches = []
        for launch in cfn.get_resources("AWS::EC2::LaunchTemplate"):
            data = lessons.properties(cfn, launch).get("LaunchTemplateData")
            options = data.get("MetadataOptions") if isinstance(data, dict) else None
            if not isinstance(options, dict):
                continue
            path = ["Resources", launch, "Properties", "LaunchTemplateData", "MetadataOptions", "HttpPutResponseHopLimit"]
            for value_path, value in lessons.alternatives(options.get("HttpPutResponseHopLimit"), tuple(path)):
                hops = None if isinstance(value, bool) else lessons.as_int(value)
                if hops is None or hops <= 1:
                    continue
                tasks = _bridge_tasks_on(cfn, launch)
                if tasks:
                    matches.append(RuleMatch(value_path, (
                        f"Hop limit {hops} on {launch}'s ECS container instances: containers of "
                        f"{', '.join(tasks)} (bridge network mode) can take the instance role's credentials; "
                        f"set HttpPutResponseHopLimit: 1")))
        return matches


def _bridge_tasks_on(cfn, launch):
    """Task definitions in bridge or default network mode that run in a cluster the instances join."""
    clusters = [c for c in cfn.get_resources(CLUSTER) if lessons.ordered_after(cfn, launch, c)]
    # Services name Cluster and TaskDefinition; task runners may name them ClusterArn, TaskDefinitionArn.
    runners = {name: {"Cluster": "Cluster", "TaskDefinition": "TaskDefinition"}
               for name in cfn.get_resources("AWS::ECS::Service")}
    runners.update(lessons.task_runners(cfn))
    found = []
    for runner, keys in runners.items():
        if not set(lessons.targets(cfn, runner, "Properties", keys["Cluster"], types=(CLUSTER,))) & set(clusters):
            continue
        for task in lessons.targets(cfn, runner, "Properties", keys["TaskDefinition"],
                                    types=("AWS::ECS::TaskDefinition",)):
            mode = lessons.properties(cfn, task).get("NetworkMode", "bridge")
            if isinstance(mode, str) and mode in BRIDGE_MODES and task not in found:
                found.append(task)
    return found
