"""E9010: a task-runner custom resource without capacity, or a service that does not wait for it.

Lesson: a custom resource that runs an ECS task (its properties name a `Cluster` or `ClusterArn` and
a `TaskDefinition` or `TaskDefinitionArn`) needs container instances in that cluster, or `run_task`
has nowhere to place the task and the deploy fails. It must `DependsOn` the Auto Scaling group that
provides the cluster's capacity. And a service on the same cluster must `DependsOn` such a task (the
database migration), or new application tasks start against an unmigrated database. A task runner
that itself comes after the service (a post-deploy task) is left alone.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

CLUSTER = "AWS::ECS::Cluster"
CAPACITY = "AWS::AutoScaling::AutoScalingGroup"


class TaskRunnerOrdering(CloudFormationLintRule):
    id = "E9010"
    shortdesc = "Task-runner custom resource not after the cluster's capacity, or service not after it"
    description = (
        "A custom resource that runs an ECS task must DependsOn the cluster's Auto Scaling group, and "
        "services on that cluster must DependsOn it (migrations before new tasks)."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html"
    tags = ["resources", "ecs", "cloudformation", "project"]

    def match(self, cfn):
        matches = []
        for runner, keys in lessons.task_runners(cfn).items():
            clusters = lessons.targets(cfn, runner, "Properties", keys["Cluster"], types=(CLUSTER,))
            capacity = [
                group for group in cfn.get_resources(CAPACITY)
                if any(lessons.ordered_after(cfn, group, cluster) for cluster in clusters)
            ]
            if capacity and not any(lessons.ordered_after(cfn, runner, group) for group in capacity):
                matches.append(RuleMatch(["Resources", runner], (
                    f"{runner} runs a task on {', '.join(clusters)} but does not DependsOn "
                    f"{' or '.join(capacity)}: run_task may find no container instance")))
            for service in self._services_on_same_cluster(cfn, runner, keys["Cluster"]):
                if not lessons.ordered_after(cfn, runner, service) and not lessons.ordered_after(cfn, service, runner):
                    matches.append(RuleMatch(["Resources", service], (
                        f"{service} must DependsOn {runner}, which runs a task (the migration) on its cluster")))
        return matches

    @staticmethod
    def _services_on_same_cluster(cfn, runner, cluster_key):
        """Services naming the runner's cluster (its `cluster_key` input): the same value, or the same
        cluster resource."""
        value = lessons.properties(cfn, runner)[cluster_key]
        resources = set(lessons.targets(cfn, runner, "Properties", cluster_key))
        return [
            service for service in cfn.get_resources("AWS::ECS::Service")
            if lessons.properties(cfn, service).get("Cluster") == value
            or (resources and set(lessons.targets(cfn, service, "Properties", "Cluster")) == resources)
        ]
