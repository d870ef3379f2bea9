"""E9009: a secret in plaintext.

Lesson: a container `Environment` value is stored in the task definition in clear text, readable by
anyone who may describe task definitions, and a `NoEcho` parameter passed into it is no longer masked.
Give containers secrets through `Secrets` (`ValueFrom` a Secrets Manager secret or SSM SecureString),
which the execution role reads at task start. A `NoEcho` parameter with a `Default` ships its secret
inside the template itself.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
"""
import pathlib
import re
import sys

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# cfn-lint loads rule files by path, not as a package: put the shared helper within reach.
if (_HERE := str(pathlib.Path(__file__).resolve().parent)) not in sys.path:
    sys.path.append(_HERE)
import _cfn_lessons as lessons  # noqa: E402

SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|TOKEN", re.IGNORECASE)


class PlaintextSecret(CloudFormationLintRule):
    id = "E9009"
    shortdesc = "Secret in a container environment variable or in a NoEcho parameter's Default"
    description = (
        "Secret-looking environment variables set from literals or NoEcho parameters are stored in "
        "clear text; use container Secrets. NoEcho parameters must not have a Default."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"
    tags = ["resources", "ecs", "parameters", "security", "project"]

    def match(self, cfn):
        parameters = cfn.get_parameters_valid()
        hidden = {name for name, p in parameters.items() if str(p.get("NoEcho", "")).lower() == "true"}
        matches = [
            RuleMatch(["Parameters", name, "Default"], f"NoEcho parameter {name} has a Default: the secret is in the template")
            for name in sorted(hidden) if "Default" in parameters[name]
        ]
        for task in cfn.get_resources("AWS::ECS::TaskDefinition"):
            for index, container in lessons.containers(cfn, task):
                for position, variable in enumerate(container.get("Environment") or []):
                    if not (isinstance(variable, dict) and SECRET_NAME.search(str(variable.get("Name", "")))):
                        continue
                    source = _plaintext_source(variable.get("Value"), hidden)
                    if source:
                        matches.append(RuleMatch(
                            ["Resources", task, "Properties", "ContainerDefinitions", index, "Environment", position],
                            f"{variable['Name']} of container {container.get('Name')} in {task} is {source} "
                            f"in plaintext; pass it through Secrets"))
        return matches


def _plaintext_source(value, hidden):
    if isinstance(value, (str, int, float)) and str(value):
        return "a literal"
    leaked = lessons.parameter_refs(value) & hidden
    if leaked:
        return f"NoEcho parameter {', '.join(sorted(leaked))}"
    return None
