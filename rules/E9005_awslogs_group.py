"""E9005: a container's awslogs group that the stack does not create, or creates too late.

Lesson: the awslogs driver writes to an existing log group; a task whose group does not exist fails
to start ("ResourceInitializationError ... The specified log group does not exist"). Name a
`AWS::Logs::LogGroup` of the stack (best with `Ref`, which also orders the creation), and when the
name is written out, make every service or custom resource that runs the task `DependsOn` the group.
`awslogs-create-group: "true"` is accepted: ECS then creates the group itself. Each branch of an
`Fn::If` is checked; a name built in a way that cannot be resolved offline is left alone.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
"""
import pathlib
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

LOG_GROUP = "AWS::Logs::LogGroup"


class AwslogsGroup(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "awslogs group not created by the stack before the tasks run"
    description = (
        "Tasks fail to start when their awslogs group does not exist: name a log group of the stack "
        "and create it before anything runs the task."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"
    tags = ["resources", "ecs", "logs", "project"]

    def match(self, cfn):
        matches = []
        unordered = set()
        names = _log_group_names(cfn)
        for task in cfn.get_resources("AWS::ECS::TaskDefinition"):
            runners = lessons.services_running(cfn, task) + [
                name for name in lessons.task_runners(cfn)
                if task in lessons.targets(cfn, name, "Properties", "TaskDefinition")
            ]
            for path, container in lessons.containers(cfn, task):
                config = container.get("LogConfiguration")
                options = config.get("Options") if isinstance(config, dict) else None
                if not isinstance(options, dict) or config.get("LogDriver") != "awslogs" or "awslogs-group" not in options:
                    continue
                if str(options.get("awslogs-create-group", "")).lower() == "true":
                    continue
                path = [*path, "LogConfiguration", "Options", "awslogs-group"]
                for branch_path, value in lessons.alternatives(options["awslogs-group"], tuple(path)):
                    text = lessons.template_text(value)
                    if text is None:
                        continue  # cannot be decided without deploying
                    group = names.get(text)
                    if group is None:
                        matches.append(RuleMatch(branch_path, (
                            f"Container {container.get('Name')} logs to a group this stack does not create; "
                            f"the task will not start. Use !Ref to an AWS::Logs::LogGroup")))
                        continue
                    unordered |= {
                        (runner, task, group) for runner in runners if not lessons.ordered_after(cfn, runner, group)
                    }
        for runner, task, group in sorted(unordered):
            matches.append(RuleMatch(["Resources", runner], (
                f"{runner} runs {task}, which logs to {group}: it must DependsOn {group}")))
        return matches


def _log_group_names(cfn):
    """How a container can name each log group of the stack: `${Id}` (a Ref) or its LogGroupName."""
    names = {}
    for name, body in cfn.get_resources(LOG_GROUP).items():
        names["${" + name + "}"] = name
        text = lessons.template_text((body.get("Properties") or {}).get("LogGroupName"))
        if text is not None:
            names[text] = name
    return names
