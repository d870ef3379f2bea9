"""W9015: a service whose tasks log to a group that CloudFormation may create after the service.

Lesson: the awslogs driver writes to an existing log group, and a task whose group does not exist
yet fails to start ("ResourceInitializationError ... The specified log group does not exist").
When the task definition writes the group's name out instead of `!Ref`-ing it, nothing orders the
service after the group. The service scheduler retries its tasks, so the deploy usually recovers once
the group exists, but the first tasks fail, and a deployment circuit breaker counts those failures.
`DependsOn` the group (or `!Ref` it). A custom resource that runs the task once is E9005.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402


class ServiceAwslogsGroupOrder(CloudFormationLintRule):
    id = "W9015"
    shortdesc = "ECS service may start before the awslogs group its tasks write to"
    description = (
        "A log group named as text does not order the service after it: its first tasks fail to "
        "start until the group exists; DependsOn the group or Ref it."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"
    tags = ["resources", "ecs", "logs", "project"]

    def match(self, cfn):
        _, unordered = lessons.awslogs_groups(cfn)
        return [
            RuleMatch(["Resources", runner], (
                f"{runner} runs {task}, which logs to {group} by name: DependsOn {group}, or its first "
                f"tasks fail to start until the group exists"))
            for runner, task, group in sorted(unordered)
            if lessons.resource_type(cfn, runner) == "AWS::ECS::Service"
        ]
