"""E9003: a short-lived container left essential in a task definition that a service runs.

Lesson: `Essential` defaults to true, and when an essential container stops ECS stops the whole task.
A container that runs a one-off command and exits (collectstatic, migrate) therefore takes the task
down every time it finishes: the service replaces the task forever and the deploy never stabilises.
Mark such containers `Essential: false` (and let the long-running container wait for them with a
container `DependsOn` condition of SUCCESS).

A container counts as short-lived when it is not the service's load-balanced container, maps no ports,
and either another container waits for it to finish (`Condition: SUCCESS` or `COMPLETE`) or its
command or entry point names a one-off command (rule option `commands`, default below) in its last
shell step: `migrate --check && exec celery worker` ends in a long-running process. The task's only
essential container is never reported: a task needs one, so it cannot be set to false.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_environment
"""
import pathlib
import re
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

ONE_OFF_COMMANDS = ["collectstatic", "migrate", "compilemessages", "loaddata"]
SHELL_STEP_SEPARATOR = re.compile(r"&&|\|\||;|\n")


class ShortLivedContainerEssential(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "Short-lived container left Essential in a service's task definition"
    description = (
        "Essential defaults to true: when a one-off container exits, ECS stops the whole task "
        "and the service keeps replacing it."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"
    tags = ["resources", "ecs", "project"]

    def __init__(self):
        super().__init__()
        self.config_definition = {
            "commands": {"default": ONE_OFF_COMMANDS, "type": "list", "itemtype": "string"},
        }

    def match(self, cfn):
        matches = []
        for task in cfn.get_resources("AWS::ECS::TaskDefinition"):
            services = lessons.services_running(cfn, task)
            if not services:
                continue
            # Names may be intrinsic functions (`!Ref ContainerName`): compared by lessons.name_key.
            balanced = {
                lessons.name_key(entry.get("ContainerName"))
                for service in services
                for _, entry in lessons.items(lessons.properties(cfn, service).get("LoadBalancers"))
                if isinstance(entry, dict)
            }
            awaited = self._awaited_until_exit(cfn, task)
            essential = [(path, c) for path, c in lessons.containers(cfn, task) if _is_essential(c)]
            # Counted by name: the same container may appear on both branches of an Fn::If.
            names = {lessons.name_key(c.get("Name")) for _, c in essential}
            for path, container in essential if len(names) > 1 else []:
                name = lessons.name_key(container.get("Name"))
                if name is None or name in balanced or container.get("PortMappings"):
                    continue
                if not (name in awaited or self._runs_one_off_command(container)):
                    continue
                matches.append(RuleMatch(path + ["Essential"] if "Essential" in container else path, (
                    f"Container {name} in {task} exits after its work but is essential "
                    f"(the default): ECS stops the task {', '.join(services)} runs; set Essential: false")))
        return matches

    @staticmethod
    def _awaited_until_exit(cfn, task):
        return {
            lessons.name_key(dependency.get("ContainerName"))
            for _, container in lessons.containers(cfn, task)
            for _, dependency in lessons.items(container.get("DependsOn"))
            if isinstance(dependency, dict) and dependency.get("Condition") in ("SUCCESS", "COMPLETE")
        }

    def _runs_one_off_command(self, container):
        """True if the last step of the container's command line names a one-off command."""
        words = [
            item for key in ("EntryPoint", "Command")
            for item in (container.get(key) if isinstance(container.get(key), list) else [])
            if isinstance(item, str)
        ]
        last_step = SHELL_STEP_SEPARATOR.split(" ".join(words))[-1]
        return any(word in self.config["commands"] for word in last_step.split())


def _is_essential(container):
    """Only a container known to be essential: `Essential: !Ref Param` cannot be decided."""
    return str(container.get("Essential", True)).lower() == "true"
