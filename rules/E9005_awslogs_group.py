"""E9005: a container's awslogs group that the stack does not create, or creates after a one-off task runs.

Lesson: the awslogs driver writes to an existing log group; a task whose group does not exist fails
to start ("ResourceInitializationError ... The specified log group does not exist"). Name a
`AWS::Logs::LogGroup` of the stack (best with `Ref`, which also orders the creation). A custom
resource that runs the task once (a migration) fails the deploy if it runs before the group exists:
when the name is written out, it must `DependsOn` the group. Services retry their tasks, so the same
gap for a service is only a warning (W9015). `awslogs-create-group: "true"` is accepted: ECS then
creates the group itself. Each branch of an `Fn::If` is checked; a name that cannot be resolved
offline (a parameter from a parent stack, an import) is left alone.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402


class AwslogsGroup(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "awslogs group not created by the stack, or created after a one-off task runs"
    description = (
        "Tasks fail to start when their awslogs group does not exist: name a log group of the stack "
        "and create it before a custom resource runs the task."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"
    tags = ["resources", "ecs", "logs", "project"]

    def match(self, cfn):
        missing, unordered = lessons.awslogs_groups(cfn)
        matches = [
            RuleMatch(path, (
                f"Container {container} logs to a group this stack does not create; "
                f"the task will not start. Use !Ref to an AWS::Logs::LogGroup"))
            for path, container in missing
        ]
        for runner, task, group in sorted(unordered):
            if lessons.resource_type(cfn, runner) != "AWS::ECS::Service":
                matches.append(RuleMatch(["Resources", runner], (
                    f"{runner} runs {task} once, which logs to {group}: it must DependsOn {group}, "
                    f"or the task fails to start and the deploy with it")))
        return matches
